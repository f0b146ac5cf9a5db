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
user can publish too. A publish that dies leaves no edition, or a complete
one; the next publish removes what a dead one left and writes the register
afresh from the bags.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from briefing import __version__
from briefing.archive import bag
from briefing.archive.seal import KEY, Sealer, Settings, read_seal
from briefing.archive.snapshot import (
    MANIFEST,
    SOURCE,
    build_manifest,
    dependencies,
    edition_record,
    output_names,
    render_edition,
    source_digest,
    source_files,
)
from briefing.errors import BuildFailed, UsageError
from briefing.files import ARCHIVE
from briefing.orchestration.output import TEMP_SUFFIX, exclusive, sync_folder, write_atomically
from briefing.orchestration.validate import validate_content
from briefing.orchestration.workers import RenderOptions

REGISTER = "register.csv"
REGISTER_COLUMNS = ("date", "slug", "version", "reference", "title", "languages", "marking",
                    "seal", "files", "supersedes")
INCOMING = ".incoming-"
EDITION = re.compile(r"^(\d{4}-\d{2}-\d{2})_([a-z0-9][a-z0-9-]*)_v([1-9][0-9]*)$")
UNSEALED = f"none: no seal key was configured ({KEY})"


@dataclass(frozen=True)
class Published:
    path: Path
    version: int
    new: bool  # False: the latest edition already has this exact source
    seal: str  # bag-info's Seal: who sealed it, or that nobody did
    register: str = ""  # why register.csv could not be written ("" when it was)


def publish(root: Path, slug: str, options: RenderOptions | None = None,
            settings: Settings | None = None) -> Published:
    """Freeze the brief's current source into a new edition, unless unchanged.

    The brief is validated and rendered exactly as `build` does it: the same
    validation, the same limited workers, the same writers."""
    settings = Settings.from_environment() if settings is None else settings
    with exclusive(root):
        archive = root / ARCHIVE
        trouble = repair(archive)
        validation = validate_content(root, [slug])
        if validation.failed:
            raise BuildFailed(validation.failed[slug])
        files = source_files(root, validation.loaded, slug)
        digest = source_digest(files)
        previous = editions(archive, slug)
        if previous and bag.field(info := bag.info(previous[-1]), "Source-Digest") == digest:
            return Published(previous[-1], version_of(previous[-1]), False,
                             bag.field(info, "Seal") or UNSEALED, trouble)
        sealer = Sealer(settings) if settings.configured else None  # a wrong key fails now
        version = version_of(previous[-1]) + 1 if previous else 1
        record = edition_record(validation, slug, version)
        manifest = build_manifest(root, record, files, output_names(validation, slug))
        rendered = render_edition(validation, slug, files, manifest, options or RenderOptions())
        fields = bag_fields(record) | {
            "Bag-Software-Agent": f"Briefing {__version__} (bagit.py {_bagit_version()})",
            "Briefing-Version": __version__,
            "Dependencies": dependencies(),
            "Source-Digest": digest,
        }
        if previous:
            fields["Supersedes"] = previous[-1].name
        if address := validation.project.publisher.address:
            fields["Organization-Address"] = address.in_language(validation.brief(slug)
                                                                 .languages[0]) or ""
        fields |= _sealed(sealer, rendered) if sealer else {"Seal": UNSEALED}
        path = _assemble(archive, str(record["identifier"]), rendered, files, manifest, fields)
        return Published(path, version, True, str(fields["Seal"]), _register(archive))


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


def _assemble(archive: Path, name: str, rendered: dict[str, bytes], files: dict[str, bytes],
              manifest: bytes, fields: dict[str, str | list[str]]) -> Path:
    """Write the bag under a hidden name, freeze it, rename it into place."""
    archive.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=INCOMING, dir=archive))
    try:
        os.chmod(incoming, 0o755)
        for file_name, data in rendered.items():
            _write(incoming / file_name, data)
        for path, data in files.items():
            _write(incoming / SOURCE / path, data)
        _write(incoming / MANIFEST, manifest)
        bag.make(incoming, fields)
        _freeze(incoming)
        os.rename(incoming, archive / name)  # atomic; fails if the name were taken
    except BaseException:
        _remove(incoming)
        raise
    sync_folder(archive)
    return archive / name


def editions(archive: Path, slug: str | None = None) -> list[Path]:
    """The editions in the archive (of one brief), by slug and version."""
    found = [path for path in archive.iterdir() if path.is_dir() and not path.is_symlink()
             and (match := EDITION.match(path.name)) and slug in (None, match.group(2))] \
        if archive.is_dir() else []
    return sorted(found, key=lambda path: (EDITION.match(path.name).group(2), version_of(path)))


def version_of(edition: Path) -> int:
    return int(EDITION.match(edition.name).group(3))


def repair(archive: Path) -> str:
    """Tidy what a publish that died left: its hidden folders and temporaries,
    and a register that no longer agrees with the bags. Returns why the register
    could not be written, if it could not."""
    if not archive.is_dir():
        return ""
    for stale in archive.iterdir():
        if stale.name.startswith(INCOMING) and stale.is_dir() and not stale.is_symlink():
            _remove(stale)
        elif stale.name.startswith(f".{REGISTER}.") and stale.name.endswith(TEMP_SUFFIX):
            stale.unlink(missing_ok=True)
    return _register(archive) if editions(archive) and register_is_stale(archive) else ""


def _register(archive: Path) -> str:
    """Write the register; on failure say why (the edition stands, the next
    publish writes the register again)."""
    try:
        write_register(archive)
    except OSError as err:
        return f"could not write {ARCHIVE}/{REGISTER}: {err.strerror or err}"
    return ""


def register(archive: Path) -> bytes:
    """register.csv as the bags say it should be: one row per edition."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REGISTER_COLUMNS)
    for edition in editions(archive):
        writer.writerow([bag.clean(value) for value in _row(edition)])
    return buffer.getvalue().encode("utf-8")


def _row(edition: Path) -> list[str]:
    date, slug, version = EDITION.match(edition.name).groups()
    try:
        opened = bag.open_bag(edition)
    except Exception:  # a damaged bag still gets its row; `verify --all` says what is wrong
        return [date, slug, version, "", "", "", "", "", "", ""]
    info = opened.info
    files = sorted(f"{path.removeprefix('data/')}={digests.get('sha256', '')}"
                   for path, digests in opened.payload_entries().items()
                   if not path.startswith(f"data/{SOURCE}/"))
    seal = bag.field(info, "Seal")
    return [bag.field(info, "Brief-Date"), bag.field(info, "Brief-Slug"),
            bag.field(info, "Edition-Version"), bag.field(info, "Brief-Reference"),
            bag.field(info, "External-Description"), bag.field(info, "Languages"),
            bag.field(info, "Marking"),
            "unsealed" if not seal or seal == UNSEALED else seal.partition(" (")[0],
            " ".join(files), bag.field(info, "Supersedes")]


def read_register(archive: Path) -> list[dict[str, str]]:
    """register.csv's rows, read with the csv module that wrote them."""
    with (archive / REGISTER).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def register_is_stale(archive: Path) -> bool:
    path = archive / REGISTER
    try:
        return path.read_bytes() != register(archive)
    except OSError:
        return True


def write_register(archive: Path) -> None:
    """register.csv: made afresh from the bags themselves."""
    write_atomically(archive / REGISTER, register(archive))


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
    folder.chmod(stat.S_IRWXU)
    for parent, names, _ in os.walk(folder):  # each folder opened before it is entered
        for name in names:
            if not Path(parent, name).is_symlink():
                Path(parent, name).chmod(stat.S_IRWXU)
    shutil.rmtree(folder, ignore_errors=True)


def _bagit_version() -> str:
    import bagit

    return bagit.VERSION
