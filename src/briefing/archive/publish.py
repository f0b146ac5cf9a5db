"""Publishing: freeze a brief's current source into a new, immutable edition.

An edition is `archive/<date>_<slug>_v<N>/`, a BagIt 1.0 bag (archive/bag.py)
whose `data/` holds the PDF/A-3u and DOCX of every language and document,
the exact source they were built from (`data/source/`) and the build
manifest, the edition's own record (archive/snapshot.py). Each PDF/A also
carries that source (as one tar) and the manifest inside it, so that a
single PDF can be rebuilt and compared years later (archive/verify.py), and
is sealed when the organisation configured a key (archive/seal.py).

Atomic: an edition is assembled in a hidden `archive/.incoming-*` folder,
flushed, made read-only, and renamed into place. The rename stays within
archive/, which rename(2) allows even for a read-only folder (it needs write
permission on a moved folder only to change its parent), so an ordinary
user can publish too. The edition's row is added to the register
(archive/register.py) just before the rename: a publish that dies leaves no
edition, or a complete hidden one with its row, which the next publish
renames into place; any other leftover it removes.

archive/ must be a real folder: a link is refused, never followed. Any
failure to write (a full disk, a read-only archive, archive/ being a file)
is an error naming archive/, exit 1, with nothing of the edition left.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from briefing import __version__
from briefing.archive import bag, register
from briefing.archive.seal import KEY, Sealer, Settings, read_seal
from briefing.archive.snapshot import (
    MANIFEST,
    SOURCE,
    build_manifest,
    dependencies,
    output_names,
    render_edition,
    source_digest,
    source_files,
    version_record,
)
from briefing.errors import BuildFailed, Problem, UsageError
from briefing.files import ARCHIVE, OUTPUT
from briefing.orchestration.output import TEMP_SUFFIX, exclusive, sync_folder
from briefing.orchestration.validate import Validation, validate_content
from briefing.orchestration.workers import RenderOptions

INCOMING = ".incoming-"
VERSION_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})_([a-z0-9][a-z0-9-]*)_v([1-9][0-9]*)$")
UNSEALED = f"none: no seal key was configured ({KEY})"


@dataclass(frozen=True)
class Published:
    path: Path
    version: int
    new: bool  # False: the latest edition already has this exact source
    seal: str  # bag-info's Seal: who sealed it, or that nobody did
    supersedes: Path | None = None  # the version before it, if any

    @property
    def date_repeated(self) -> tuple[int, str] | None:
        """(its number, the date) of the version this one supersedes, if both
        carry one issue date: right for a correction, an oversight for a new
        issue, and a published version is never changed."""
        new, old = (VERSION_NAME.match(path.name) if path else None
                    for path in (self.path, self.supersedes))
        if new and old and new.group(1) == old.group(1):
            return int(old.group(3)), old.group(1)
        return None


def publish(root: Path, slug: str, options: RenderOptions | None = None,
            settings: Settings | None = None) -> Published:
    """Freeze the brief's current source into a new edition, unless unchanged.

    The brief is validated and rendered exactly as `build` does it: the same
    validation, the same limited workers, the same writers. archive/ is
    checked and the edition's hidden folder made before the slow rendering,
    so an archive that cannot take an edition says so at once."""
    settings = Settings.from_environment() if settings is None else settings
    with exclusive(root):
        archive = archive_folder(root)
        repair(archive)
        validation = validate_content(root, [slug])
        if validation.failed:
            raise BuildFailed(validation.failed[slug])
        files = source_files(validation.loaded, slug)
        digest = source_digest(files)
        previous = versions(archive, slug)
        if previous and bag.field(info := bag.info(previous[-1]), "Source-Digest") == digest:
            return Published(previous[-1], version_of(previous[-1]), False,
                             bag.field(info, "Seal") or UNSEALED)
        sealer = Sealer(settings) if settings.configured else None  # a wrong key fails now
        _check_register(archive)
        latest = _latest(archive, slug)
        version = version_of(latest) + 1 if latest else 1
        record = version_record(validation, slug, version)
        changes = _changes(root, latest, files, slug)
        manifest = build_manifest(validation.files, record, files,
                                  output_names(validation, slug), changes)
        incoming = _incoming(archive)
        try:
            rendered = render_edition(validation, slug, files, manifest,
                                      options or RenderOptions())
            fields = _bag_info(validation, slug, record, digest, latest)
            fields |= _sealed(sealer, rendered) if sealer else {"Seal": UNSEALED}
            path = _assemble(archive, incoming, str(record["identifier"]),
                             {**rendered, **changes}, files, manifest, fields, sealer)
        finally:
            _discard(archive, incoming)
        return Published(path, version, True, str(fields["Seal"]), latest)


def _changes(root: Path, latest: Path | None, files: dict[str, bytes], slug: str
             ) -> dict[str, bytes]:
    """data/changes.json and changes.txt: what changed since the version before
    (none for version 1), recorded in the build manifest too (docs/changes.md)."""
    from briefing.changes.report import edition_changes

    return edition_changes(root, latest, files, slug) if latest else {}


def _bag_info(validation: Validation, slug: str, record: dict[str, object], digest: str,
              latest: Path | None) -> dict[str, str | list[str]]:
    """Every bag-info.txt field but the seal's: what verify holds each one to."""
    fields: dict[str, str | list[str]] = bag_fields(record) | {
        "Bag-Software-Agent": agent(__version__, _bagit_version()),
        "Briefing-Version": __version__,
        "Dependencies": dependencies(),
        "Source-Digest": digest,
    }
    if latest:
        fields["Supersedes"] = latest.name
    if address := validation.project.publisher.address:
        fields["Organization-Address"] = address.in_language(
            validation.brief(slug).languages[0]) or ""
    return fields


def agent(version: str, bagit_version: str) -> str:
    """bag-info's Bag-Software-Agent, written by publish and checked by verify."""
    return f"Briefing {version} (bagit.py {bagit_version})"


def archive_folder(root: Path) -> Path:
    """archive/, if it is a real folder (or not there yet). A link is refused,
    never followed: wherever it leads (into output/, where `make clean` would
    delete every version), the editions would not be where the project keeps
    them."""
    archive = root / ARCHIVE
    if archive.is_symlink():
        raise refused(f"is a symbolic link (to {os.readlink(archive)}); editions are "
                      "written only into a real folder, never through a link",
                      f"a real folder beside {OUTPUT}/, never inside it")
    if archive.exists() and not archive.is_dir():
        raise refused("is not a folder", f"a folder beside {OUTPUT}/ for the editions")
    return archive


def refused(why: str, expected: str = "", where: str = ARCHIVE) -> BuildFailed:
    """What the archive cannot do, as the error the user sees (exit 1)."""
    return BuildFailed([Problem(where, 1, 1, why, expected=expected)])


def _check_register(archive: Path) -> None:
    """Publish appends to the register only: a register that is missing while
    versions exist is not made afresh from them (that would hide what removed
    it); it must be restored."""
    where = f"{ARCHIVE}/{register.REGISTER}"
    if (archive / register.REGISTER).is_symlink():
        raise refused("is a symbolic link; the register is written only as a file", where=where)
    if versions(archive) and not (archive / register.REGISTER).exists():
        raise refused("is missing, though archive/ holds editions: restore it from a copy "
                      "(publish only adds rows; it does not make a register from the "
                      "editions, which would hide what removed it)", where=where)


def _latest(archive: Path, slug: str) -> Path | None:
    """The brief's latest version, by its folder or its register row: a version
    whose folder went missing keeps its number (and is named by the audit)."""
    names = [path.name for path in versions(archive, slug)]
    names += [row.identifier for row in register.read(archive).rows
              if row.values["slug"] == slug and VERSION_NAME.match(row.identifier)]
    return archive / max(names, key=lambda name: version_of(Path(name))) if names else None


def bag_fields(record: dict[str, object]) -> dict[str, str]:
    """The bag-info.txt fields that restate the edition's record, written by
    publish and checked by verify with this one function."""
    return {
        "Source-Organization": str(record["publisher"]),
        "External-Description": str(record["title"]),
        "External-Identifier": str(record["identifier"]),
        "Bag-Group-Identifier": str(record["slug"]),  # every version of one brief
        "Bagging-Date": str(record["date"]),  # the brief's issue date, never the clock's
        "Brief-Slug": str(record["slug"]),
        "Brief-Date": str(record["date"]),
        "Brief-Reference": str(record["reference"]),
        "Edition-Version": str(record["version"]),
        "Languages": " ".join(str(lang) for lang in record["languages"]),
        "Marking": str(record["marking"]),
    }


def _sealed(sealer: Sealer, rendered: dict[str, bytes]) -> dict[str, str | list[str]]:
    """Seal every PDF (in `rendered`, in place) and say so for bag-info. Each
    seal is read back at once: it must be intact; whom to trust is verify's
    question (the time-stamping service's root may be known only there)."""
    times, stamps = [], []
    trust = [sealer.certificate, *sealer.signer.cert_registry]
    for name in sorted(rendered):
        if name.endswith(".pdf"):
            rendered[name] = sealer.seal(rendered[name])
            seal = read_seal(rendered[name], trust)
            if seal is None or not seal.intact:
                raise UsageError(f"{KEY}: the seal made on {name} does not check: "
                                 + ("; ".join(seal.problems) if seal else "it is missing"))
            times.append(f"{name} {seal.time}")
            if seal.timestamp:
                stamps.append(f"{name} {seal.timestamp}")
    fields: dict[str, str | list[str]] = {
        "Seal": f"PAdES by {sealer.subject} (certificate SHA-256 {sealer.fingerprint})",
        "Seal-Time": times}
    if stamps:
        fields["Seal-Timestamp"] = stamps
    return fields


def _incoming(archive: Path) -> Path:
    """The hidden folder the edition is assembled in, made before rendering."""
    try:
        archive.mkdir(exist_ok=True)
        incoming = Path(tempfile.mkdtemp(prefix=INCOMING, dir=archive))
        os.chmod(incoming, 0o755)
    except OSError as err:
        raise refused(f"cannot be written: {err.strerror or err}; nothing was published",
                      "a folder this user may write to, on a disk with room") from None
    return incoming


def _assemble(archive: Path, incoming: Path, name: str, rendered: dict[str, bytes],
              files: dict[str, bytes], manifest: bytes, fields: dict[str, str | list[str]],
              sealer: Sealer | None) -> Path:
    """Write the bag under a hidden name, freeze it, register it, rename it into
    place. A publish that dies after the register's row and before the rename
    leaves a complete hidden edition the next publish renames (`repair`)."""
    try:
        for file_name, data in rendered.items():
            _write(incoming / file_name, data)
        for path, data in files.items():
            _write(incoming / SOURCE / path, data)
        _write(incoming / MANIFEST, manifest)
        bag.make(incoming, fields)
        _freeze(incoming)
        if archive.is_symlink():
            raise refused("became a symbolic link while publishing; nothing was published")
        if register.is_legacy(archive):
            register.restart(archive, versions(archive), sealer)
        register.append(archive, incoming, name, sealer)
    except OSError as err:
        raise refused(f"cannot hold the edition {name}: {err.strerror or err}; nothing was "
                      "published", "a folder this user may write to, on a disk with room"
                      ) from None
    os.rename(incoming, archive / name)  # atomic; fails if the name were taken
    sync_folder(archive)
    return archive / name


def versions(archive: Path, slug: str | None = None) -> list[Path]:
    """The archived versions (of one brief), by slug and version number. (An
    *edition* is one brief, language and document; a *version* is what
    `publish` freezes of a brief, all its editions at once.)"""
    found = [path for path in archive.iterdir() if path.is_dir() and not path.is_symlink()
             and (match := VERSION_NAME.match(path.name)) and slug in (None, match.group(2))] \
        if archive.is_dir() else []
    return sorted(found, key=lambda path: (VERSION_NAME.match(path.name).group(2),
                                           version_of(path)))


def version_of(edition: Path) -> int:
    return int(VERSION_NAME.match(edition.name).group(3))


def repair(archive: Path) -> None:
    """Tidy what a publish that died left: a complete hidden edition whose
    register row was written is renamed into place (it was published); any
    other hidden folder, and the register's temporaries, are removed. Tidying
    that fails (a read-only archive) is left for the publish to report."""
    if not archive.is_dir():
        return
    missing = {row.values["tag_manifest_sha256"]: row.identifier
               for row in register.read(archive).rows
               if not (archive / row.identifier).exists()}
    with contextlib.suppress(OSError):
        for stale in archive.iterdir():
            if stale.name.startswith(INCOMING) and stale.is_dir() and not stale.is_symlink():
                name = missing.get(_tag_manifest_digest(stale))
                if name and VERSION_NAME.match(name):
                    os.rename(stale, archive / name)
                else:
                    _remove(stale)
            elif stale.name.startswith(f".{register.REGISTER}.") \
                    and stale.name.endswith(TEMP_SUFFIX):
                stale.unlink(missing_ok=True)


def _discard(archive: Path, incoming: Path) -> None:
    """Remove the hidden folder of a publish that failed or was interrupted,
    unless the register already has its row: then it was published, and the
    next publish renames it into place (`repair`)."""
    digest = _tag_manifest_digest(incoming)
    if incoming.is_dir() and (not digest or digest not in {
            row.values["tag_manifest_sha256"] for row in register.read(archive).rows}):
        _remove(incoming)


def _tag_manifest_digest(folder: Path) -> str:
    try:
        return hashlib.sha256((folder / register.TAG_MANIFEST).read_bytes()).hexdigest()
    except OSError:
        return ""


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(data)


def _freeze(folder: Path) -> None:
    """Read-only for everyone, every file and folder, flushed to disk: a
    published edition is not to be edited."""
    for path in [*sorted(folder.rglob("*"), reverse=True), folder]:
        is_dir = path.is_dir()
        path.chmod(0o555 if is_dir else 0o444)
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(folder: Path) -> None:
    """Remove a hidden half-made edition, read-only or not (following no link)."""
    if not folder.is_dir() or folder.is_symlink():
        return
    folder.chmod(stat.S_IRWXU)
    for parent, names, _ in os.walk(folder):  # each folder opened before it is entered
        for name in names:
            if not Path(parent, name).is_symlink():
                Path(parent, name).chmod(stat.S_IRWXU)
    shutil.rmtree(folder, ignore_errors=True)


def _bagit_version() -> str:
    import bagit

    return bagit.VERSION
