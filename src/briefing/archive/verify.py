"""Verifying an edition, in four steps, each naming every file it finds wrong:

1. fixity: the bag, read and validated by bagit, and every file against every
   manifest and tag manifest (changed, missing, unlisted);
2. the record: the build manifest is the edition's own record, so the files
   are exactly the ones it lists, bag-info.txt restates it, the folder's name
   is its identifier, and every PDF carries the same manifest and source;
3. the seals: each PDF's seal is intact, covers the whole file, and was made
   by a certificate this installation trusts, as and when bag-info.txt says;
4. the rebuild: the edition's own source, rendered again in a temporary
   folder, gives every PDF (a sealed one's first revision) and DOCX byte for
   byte; if not, which part of this installation differs from the record.

`audit` runs steps 1 to 3 (and 4 if asked) on every edition, one line each,
and holds the archive against its register (archive/register.py): every row's
version present and unchanged (its tag manifest's digest), the chain unbroken,
the rows sealed as their editions are, and no edition without a row. It takes
any folder holding an archive: archive/, a copy, a backup, a transfer.

Whatever verify reads from an archived PDF it reads through a size cap, and
a build manifest of the wrong shape or nested beyond reason is a failed
verdict, never a crash (archive/record.py).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefing.archive import bag, register
from briefing.archive.provenance import differences, environment
from briefing.archive.publish import (
    INCOMING,
    UNSEALED,
    VERSION_NAME,
    agent,
    bag_fields,
    version_of,
    versions,
)
from briefing.archive.record import attachments_of, load_manifest, untar
from briefing.archive.seal import first_revision, read_seal
from briefing.archive.snapshot import (
    MANIFEST,
    MANIFEST_LIMIT,
    SOURCE,
    SOURCE_TAR,
    dependencies,
    output_names,
    render_edition,
    source_digest,
    source_files,
    version_record,
)
from briefing.errors import BuildFailed, UsageError
from briefing.files import ARCHIVE, FONT_SUMS, FONTS
from briefing.orchestration.cache import code_digest
from briefing.orchestration.output import TEMP_SUFFIX
from briefing.orchestration.validate import validate_content
from briefing.orchestration.workers import RenderOptions


@dataclass(frozen=True)
class Verdict:
    name: str
    ok: bool
    why: str

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'FAILED'}  {self.name}: {self.why}"


def verify(root: Path, target: Path, options: RenderOptions | None = None,
           trust: list[Any] | None = None) -> list[Verdict]:
    """Every check of an edition (or of one archived PDF), the rebuild included;
    or, for any other folder, the audit of the archive it holds."""
    options = options or RenderOptions()
    if target.is_dir() and _is_edition(target):
        return verify_edition(root, target, options, trust or [])
    if target.is_dir():
        found = audit(root, options, trust or [], archive=target)
        verdicts = [*found.editions, *([found.register] if found.register else [])]
        return verdicts or [Verdict(target.name, False, "holds no edition and no register: "
                                    "not an archive")]
    if target.suffix.lower() == ".pdf" and target.is_file():
        return _verify_pdf(root, target, options, trust or [])
    raise UsageError(f"{target} is neither an edition folder, an archive nor a PDF")


def _is_edition(folder: Path) -> bool:
    """A version's folder (named as one, or a bag), rather than an archive."""
    return bool(VERSION_NAME.match(folder.name)) or (folder / "bagit.txt").exists() \
        or (folder / "data").is_dir()


def verify_edition(root: Path, edition: Path, options: RenderOptions, trust: list[Any],
                   rebuild: bool = True) -> list[Verdict]:
    import bagit

    try:
        opened = bag.open_bag(edition)
    except (bagit.BagError, OSError, UnicodeDecodeError) as err:
        return [Verdict(edition.name, False, f"not a readable BagIt bag: {err}")]
    verdicts = fixity(edition, opened)
    manifest, found = _record(edition, opened.info)
    verdicts += found
    if manifest is None:
        return verdicts
    verdicts += _seals(edition, opened.info, manifest, trust)
    if rebuild:
        data = edition / "data"
        source = {path.relative_to(data / SOURCE).as_posix(): path.read_bytes()
                  for path in sorted((data / SOURCE).rglob("*")) if path.is_file()}
        archived = {name: (data / name).read_bytes() for name in manifest["outputs"]
                    if (data / name).is_file()}
        verdicts += _compare_rebuild(root, manifest, (data / MANIFEST).read_bytes(), source,
                                     archived, options, opened.info)
        verdicts += _rebuilt_changes(root, edition, manifest, source,
                                     bag.field(opened.info, "Supersedes"))
    return verdicts


def _rebuilt_changes(root: Path, edition: Path, manifest: dict[str, Any],
                     source: dict[str, bytes], supersedes: str) -> list[Verdict]:
    """The change record made again from the edition's source and the source of
    the version it supersedes, beside it, and compared byte for byte
    (docs/changes.md)."""
    from briefing.changes.report import edition_changes

    names, _ = _change_digests(manifest)
    previous = edition.parent / supersedes
    if not names or not VERSION_NAME.match(supersedes) or not previous.is_dir() \
            or previous.is_symlink():
        return []
    record = manifest["edition"]
    try:
        made = edition_changes(root, previous, source, str(record.get("slug", "")))
    except (BuildFailed, UsageError) as failed:
        return [Verdict("data/changes.json", False, f"cannot be made again: {failed}")]
    verdicts = []
    for name in sorted(names):
        if (edition / "data" / name).is_file():
            same = made.get(name) == (edition / "data" / name).read_bytes()
            verdicts.append(Verdict(f"data/{name}", same, ("identical to" if same else
                                    "differs from") + " the change record made again from "
                                    "the two versions' sources"))
    return verdicts


@dataclass(frozen=True)
class Audit:
    editions: list[Verdict]  # one per edition, per missing version, per stray entry
    register: Verdict | None  # when register.csv is damaged or disagrees with the editions

    @property
    def ok(self) -> bool:
        return self.register is None and all(v.ok for v in self.editions)


def audit(root: Path, options: RenderOptions, trust: list[Any], rebuild: bool = False,
          archive: Path | None = None) -> Audit:
    """The archive (archive/, or any folder holding one) held against its
    register: one verdict per version the register lists or the folder holds
    (fixity, record, seals; the rebuild if asked; its row), one per entry that
    is neither, and one for the register if its chain or seals fail."""
    archive = root / ARCHIVE if archive is None else archive
    name = f"{ARCHIVE}/{register.REGISTER}" if archive == root / ARCHIVE \
        else str(archive / register.REGISTER)
    if archive.is_symlink() or (archive.exists() and not archive.is_dir()):
        return Audit([], Verdict(archive.name, False, "is a symbolic link or not a folder: "
                                 "an archive is a real folder, and a link is not followed"))
    present = versions(archive)
    if not present and not (archive / register.REGISTER).exists() and not _strays(archive):
        return Audit([], None)  # nothing published yet
    read = register.read(archive)
    rows: dict[str, register.Row] = {}
    problems = list(read.problems)
    for row in read.rows:
        if row.identifier in rows or not VERSION_NAME.match(row.identifier):
            problems.append(f"line {row.line}: names {row.identifier!r}, "
                            + ("listed before" if row.identifier in rows else
                               "not an edition's name"))
        rows.setdefault(row.identifier, row)
    found = [_audited(root, archive, identifier, rows.get(identifier), read, options, trust,
                      rebuild)
             for identifier in sorted({*filter(VERSION_NAME.match, rows),
                                       *(path.name for path in present)}, key=_edition_order)]
    found += [Verdict(stray.name, False, "not part of the archive, which holds only its "
                      f"editions and {register.REGISTER}" + (
                          " (a bag: a renamed or copied edition?)"
                          if (stray / "bagit.txt").exists() else ""))
              for stray in _strays(archive)]
    sealed = {identifier for identifier in rows if bag.field(
        bag.info(archive / identifier), "Seal").startswith("PAdES")}
    problems += register.seal_problems(read, sealed, trust)
    return Audit(found, Verdict(name, False, "; ".join(problems)) if problems else None)


def _version(identifier: str) -> int:
    match = VERSION_NAME.match(identifier)
    return int(match.group(3)) if match else 0


def _edition_order(identifier: str) -> tuple[str, int, str]:
    match = VERSION_NAME.match(identifier)
    return (match.group(2), int(match.group(3)), identifier) if match else ("", 0, identifier)


def _strays(archive: Path) -> list[Path]:
    """What archive/ holds besides its editions, its register and what a publish
    in progress (or a dead one, which the next removes) leaves."""
    if not archive.is_dir():
        return []
    return [entry for entry in sorted(archive.iterdir())
            if entry.name not in (register.REGISTER, "lost+found")
            and not (VERSION_NAME.match(entry.name) and entry.is_dir() and not entry.is_symlink())
            and not entry.name.startswith(INCOMING)
            and not (entry.name.startswith(f".{register.REGISTER}.")
                     and entry.name.endswith(TEMP_SUFFIX))]


def _audited(root: Path, archive: Path, identifier: str, row: register.Row | None,
             read: register.Register, options: RenderOptions, trust: list[Any],
             rebuild: bool) -> Verdict:
    """One version's line in the audit."""
    edition = archive / identifier
    if row is not None and (not edition.is_dir() or edition.is_symlink()):
        return Verdict(identifier, False, f"missing: the register lists it (line {row.line}); "
                       "the version was deleted, moved or renamed")
    verdicts = verify_edition(root, edition, options, trust, rebuild)
    failed = [v.why if v.name == identifier else f"{v.name}: {v.why}"
              for v in verdicts if not v.ok]
    failed += _against_row(edition, row, read) if row else [
        "not in the register: not published here, or a version renamed to this name"]
    sealed = sum(v.why.startswith("sealed by") for v in verdicts)
    checked = "fixity, record, register, " + (f"{sealed} seal(s)" if sealed else "unsealed") \
        + (", rebuild" if rebuild else "")
    return Verdict(identifier, not failed, "; ".join(failed) or f"intact ({checked})")


def _against_row(edition: Path, row: register.Row, read: register.Register) -> list[str]:
    """The version is what its register row recorded when it was published, and
    the row follows the brief's row before it."""
    problems = []
    now = dict(zip(row.columns, register.described(edition, edition.name, row.columns),
                   strict=False))
    for column, value in now.items():
        if row.values[column] == value:
            continue
        if column == "tag_manifest_sha256":
            problems.append(f"{register.TAG_MANIFEST} is not the one the register recorded "
                            f"(line {row.line}): its tag files (bag-info.txt, the manifests) "
                            "changed after it was published")
        else:
            problems.append(f"the register (line {row.line}) says {column} is "
                            f"{row.values[column]!r}, the edition says {value!r}")
    before = [other for other in read.rows if other.values["slug"] == row.values["slug"]
              and other.line < row.line]
    expected = before[-1].identifier if before else ""
    if row.values["supersedes"] != expected:
        problems.append(f"Supersedes names {row.values['supersedes'] or 'nothing'!r}, but the "
                        f"register's version before it is {expected or 'none'!r}")
    if version_of(edition) != (_version(expected) + 1 if expected else 1):
        problems.append(f"is version {version_of(edition)}, but the register's version "
                        f"before it is {expected or 'none'}")
    return problems


def fixity(edition: Path, opened: Any) -> list[Verdict]:
    """bagit's own validation, then every file against every manifest of the bag,
    as bagit read them: changed, missing, unlisted (bagit-python stops at the
    first summary error; an archivist needs each file)."""
    import bagit

    verdicts = []
    if opened.version_info != (1, 0):
        verdicts.append(Verdict("bagit.txt", False, "BagIt-Version "
                                f"{'.'.join(map(str, opened.version_info))}, not {bag.VERSION}"))
    try:
        opened.validate(processes=1)
        invalid = ""
    except bagit.BagValidationError as err:
        invalid = "; ".join([err.message, *map(str, err.details)])
    listed = set()
    for name, digests in sorted(opened.entries.items()):
        listed.add(name)
        path = edition / name
        if not path.is_file():
            verdicts.append(Verdict(name, False, "missing (listed in the bag's manifests)"))
            continue
        for algorithm, expected in sorted(digests.items()):
            with path.open("rb") as handle:  # a piece at a time, however large
                digest = hashlib.file_digest(handle, algorithm).hexdigest()
            if digest != expected:
                verdicts.append(Verdict(name, False, f"{algorithm} differs from the bag's "
                                        "manifest"))
    for path in sorted(edition.rglob("*")):
        name = path.relative_to(edition).as_posix()
        if (path.is_file() or path.is_symlink()) and name not in listed \
                and not name.startswith("tagmanifest-"):
            verdicts.append(Verdict(name, False, "not listed in the bag's manifests"))
    if invalid and not verdicts:  # bagit saw what the file by file check did not
        verdicts.append(Verdict(edition.name, False, f"bagit: {invalid}"))
    count = sum(1 for name in listed if name.startswith("data/"))
    return list(dict.fromkeys(verdicts)) or [
        Verdict("fixity", True, f"{count} payload files and the tag files match every "
                                "manifest (BagIt 1.0, valid)")]


def _record(edition: Path, info: dict[str, Any]) -> tuple[dict[str, Any] | None,
                                                          list[Verdict]]:
    """The build manifest, and every way the edition disagrees with it."""
    data = edition / "data"
    manifest_bytes, manifest, why = b"", None, "missing"
    try:
        if (data / MANIFEST).stat().st_size > MANIFEST_LIMIT:
            why = f"larger than any build manifest ({MANIFEST_LIMIT >> 20} MiB); not read"
        else:
            manifest_bytes = (data / MANIFEST).read_bytes()
            manifest, why = load_manifest(manifest_bytes)
    except OSError as err:
        why = f"cannot be read: {err.strerror or err}"
    if manifest is None:
        return None, [Verdict(f"data/{MANIFEST}", False, f"{why}: the edition has no record "
                              "this Briefing can check it against")]
    record = manifest["edition"]
    problems = []
    changes, why = _change_digests(manifest)
    if why:
        return None, [Verdict(f"data/{MANIFEST}", False, f"{why}: the edition has no record "
                              "this Briefing can check it against")]
    expected = {*manifest["outputs"], MANIFEST, *changes,
                *(f"{SOURCE}/{name}" for name in manifest["source_sha256"])}
    present = {path.relative_to(data).as_posix() for path in data.rglob("*")
               if path.is_file() or path.is_symlink()}
    problems += [Verdict(f"data/{name}", False, "missing: the build manifest lists it")
                 for name in sorted(expected - present)]
    problems += [Verdict(f"data/{name}", False, "not part of the edition: the build manifest "
                         "lists no such file") for name in sorted(present - expected)]
    problems += [Verdict(item.name, False, "not part of an edition: a bag holds only its "
                         f"tag files ({', '.join(bag.TAG_FILES)}) and data/")
                 for item in sorted(edition.iterdir())
                 if item.name not in (*bag.TAG_FILES, "data")]
    source = {}
    for name, digest in sorted(manifest["source_sha256"].items()):
        path = data / SOURCE / name
        if path.is_file() and not path.is_symlink():
            source[name] = path.read_bytes()
            if hashlib.sha256(source[name]).hexdigest() != digest:
                problems.append(Verdict(f"data/{SOURCE}/{name}", False,
                                        "differs from its digest in the build manifest"))
    for name, digest in sorted(changes.items()):  # the change record (docs/changes.md)
        path = data / name
        if path.is_file() and not path.is_symlink() and hashlib.sha256(
                path.read_bytes()).hexdigest() != digest:
            problems.append(Verdict(f"data/{name}", False,
                                    "differs from its digest in the build manifest"))
    name = str(record.get("identifier"))
    if edition.name != name:
        problems.append(Verdict(edition.name, False, f"the folder's name disagrees with the "
                                f"edition's record: it is {name} (version "
                                f"{record.get('version')})"))
    problems += [Verdict(bag.INFO, False, why) for why in _info_problems(edition, info,
                                                                         manifest)]
    if len(source) == len(manifest["source_sha256"]) \
            and bag.field(info, "Source-Digest") != source_digest(source):
        problems.append(Verdict(bag.INFO, False, "Source-Digest is not the digest of the "
                                "edition's source"))
    problems += _attachments(data, manifest, manifest_bytes, source)
    return manifest, problems or [Verdict("record", True, f"{len(present)} files, bag-info.txt "
                                          "and the folder's name agree with the build "
                                          "manifest")]


def _change_digests(manifest: dict[str, Any]) -> tuple[dict[str, str], str]:
    """The build manifest's digests of the edition's change record (none before
    version 2, and in editions published before the record existed), or why
    they cannot be: only changes.json and changes.txt, each with a digest."""
    from briefing.changes.report import CHANGES_JSON, CHANGES_TXT

    found = manifest.get("changes_sha256", {})
    if not isinstance(found, dict) or not set(found) <= {CHANGES_JSON, CHANGES_TXT} or not all(
            isinstance(digest, str) for digest in found.values()):
        return {}, f"changes_sha256: expected the digests of {CHANGES_JSON} and {CHANGES_TXT}"
    return found, ""


# bag-info.txt holds exactly what publish writes (archive/publish.py), each once
# but the per-PDF seal times; bagit adds Payload-Oxum and checks it itself.
OTHER_FIELDS = ("Payload-Oxum", "Bag-Software-Agent", "Briefing-Version", "Dependencies",
                "Source-Digest", "Supersedes", "Organization-Address", "Seal")
PER_PDF_FIELDS = ("Seal-Time", "Seal-Timestamp")


def _info_problems(edition: Path, info: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """bag-info.txt against the edition's record: each field publish writes says
    what the record says, and no other field is there (an added `Approved-By`
    is caught like a changed `Marking`). Organization-Address is checked
    against the source in the rebuild, a Supersedes against the register in
    the audit, and here against the versions beside it."""
    record = manifest["edition"]
    expected = bag_fields(record)
    problems = [f"{label} says {bag.field(info, label)!r}, the edition's record (the build "
                f"manifest) says {value!r}" for label, value in expected.items()
                if bag.field(info, label) != value]
    known = {*expected, *OTHER_FIELDS, *PER_PDF_FIELDS}
    problems += [f"{label} is not a field Briefing writes: added after publishing"
                 for label in sorted(set(info) - known)]
    problems += [f"{label} is given {len(bag.values(info, label))} times"
                 for label in sorted(set(info) & known - set(PER_PDF_FIELDS))
                 if len(bag.values(info, label)) != 1]
    tool = str(manifest["tool"]).removeprefix("Briefing ")
    distributions = manifest["environment"].get("distributions", {})
    derived = {"Briefing-Version": tool,
               "Bag-Software-Agent": agent(tool, str(distributions.get("bagit", "?"))),
               "Dependencies": dependencies(distributions)}
    problems += [f"{label} says {bag.field(info, label)!r}, the edition's record says "
                 f"{value!r}" for label, value in derived.items()
                 if bag.field(info, label) != value]
    return problems + _supersedes_problems(edition, bag.field(info, "Supersedes"),
                                           int(record["version"]), str(record["slug"]))


def _supersedes_problems(edition: Path, said: str, version: int, slug: str) -> list[str]:
    """Supersedes names the brief's version before this one: of its form, and,
    where the edition sits among others of its brief, one that is there."""
    if version == 1:
        return [f"Supersedes says {said!r}, but version 1 supersedes nothing"] if said else []
    match = VERSION_NAME.match(said)
    if not match or match.group(2) != slug or int(match.group(3)) != version - 1:
        return [f"Supersedes says {said!r}, expected the brief's version {version - 1} "
                f"(<date>_{slug}_v{version - 1})"]
    beside = [path.name for path in versions(edition.parent, slug) if path != edition]
    if beside and said not in beside:
        return [f"Supersedes names {said}, which is not beside it (there: "
                f"{', '.join(beside)})"]
    return []


def _attachments(data: Path, manifest: dict[str, Any], manifest_bytes: bytes,
                 source: dict[str, bytes]) -> list[Verdict]:
    """Each PDF carries the edition's own manifest and source."""
    import pikepdf

    problems = []
    for name in manifest["outputs"]:
        if not name.endswith(".pdf") or not (data / name).is_file():
            continue
        try:
            attached = attachments_of(data / name)
        except pikepdf.PdfError as err:
            problems.append(Verdict(f"data/{name}", False, f"not a readable PDF: {err}"))
            continue
        except ValueError as err:
            problems.append(Verdict(f"data/{name}", False, str(err)))
            continue
        if attached.get(MANIFEST) != manifest_bytes:
            problems.append(Verdict(f"data/{name}", False, f"carries another build manifest "
                                    f"than data/{MANIFEST}"))
        if SOURCE_TAR not in attached or untar(attached[SOURCE_TAR]) != source:
            problems.append(Verdict(f"data/{name}", False, f"carries another source than "
                                    f"data/{SOURCE}/"))
    return problems


def _seals(edition: Path, info: dict[str, Any], manifest: dict[str, Any], trust: list[Any]
           ) -> list[Verdict]:
    """Each PDF's seal, and whether it is the one bag-info.txt records."""
    said = bag.field(info, "Seal")
    sealed = bool(said) and said != UNSEALED
    times = dict(line.rsplit(" ", 1) for line in bag.values(info, "Seal-Time") if " " in line)
    verdicts = []
    for name in manifest["outputs"]:
        path = edition / "data" / name
        if not name.endswith(".pdf") or not path.is_file():
            continue
        seal = read_seal(path.read_bytes(), trust)
        if seal is None:
            verdicts.append(Verdict(name, not sealed, "not sealed, but bag-info.txt says it "
                                    f"was ({said})" if sealed else
                                    "not sealed (no seal key was configured when it was "
                                    "published)"))
            continue
        problems = list(seal.problems)
        if not sealed:
            problems.append("bag-info.txt says the edition is not sealed")
        elif seal.fingerprint not in said:
            problems.append("bag-info.txt names another sealing certificate")
        elif times.get(name) != seal.time:
            problems.append(f"bag-info.txt says it was sealed at {times.get(name, '?')}")
        verdicts.append(Verdict(name, not problems, seal.describe() + (
            f": {'; '.join(problems)}" if problems else
            f": intact, whole file, certificate trusted (SHA-256 {seal.fingerprint})")))
    return verdicts


def _verify_pdf(root: Path, pdf_path: Path, options: RenderOptions, trust: list[Any]
                ) -> list[Verdict]:
    import pikepdf

    try:
        attached = attachments_of(pdf_path)
    except pikepdf.PdfError as err:
        return [Verdict(pdf_path.name, False, f"not a readable PDF: {err}")]
    except ValueError as err:
        return [Verdict(pdf_path.name, False, str(err))]
    if SOURCE_TAR not in attached or MANIFEST not in attached:
        return [Verdict(pdf_path.name, False, "carries no embedded source; not an archived PDF")]
    manifest, why = load_manifest(attached[MANIFEST])
    if manifest is None:
        return [Verdict(pdf_path.name, False, f"its build manifest: {why}")]
    data = pdf_path.read_bytes()
    seal = read_seal(data, trust)
    verdicts = [Verdict(pdf_path.name, True, "not sealed") if seal is None else
                Verdict(pdf_path.name, seal.ok, seal.describe() + (
                    f": {'; '.join(seal.problems)}" if seal.problems else
                    ": intact, whole file, certificate trusted"))]
    return verdicts + _compare_rebuild(root, manifest, attached[MANIFEST],
                                       untar(attached[SOURCE_TAR]), {pdf_path.name: data},
                                       options)


def _compare_rebuild(root: Path, manifest: dict[str, Any], manifest_bytes: bytes,
                     source: dict[str, bytes], archived: dict[str, bytes],
                     options: RenderOptions, info: dict[str, Any] | None = None
                     ) -> list[Verdict]:
    """Render the edition again from its own source, in a temporary project with
    this installation's fonts, and compare; the record (and bag-info's
    Organization-Address, given the bag's `info`) checked against the source."""
    record = manifest["edition"]
    slug = str(record.get("slug", ""))
    with tempfile.TemporaryDirectory(prefix="briefing-verify-") as temp:
        project = Path(temp)
        for name, data in source.items():
            if name.startswith("/") or ".." in Path(name).parts:
                return [Verdict(name, False, "unsafe path in the source snapshot")]
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).write_bytes(data)
        missing = _fonts_for(root, project, source.get(FONT_SUMS, b""))
        if missing:
            return [Verdict(FONT_SUMS, False, missing)]
        try:
            validation = validate_content(project, [slug])
        except UsageError:
            validation = None
        if validation is None or validation.failed:
            return [Verdict(f"source/content/briefs/{slug}.yaml", False,
                            "the source snapshot does not load")]
        if source_files(validation.loaded, slug) != source:
            return [Verdict("source", False, "the snapshot is not the complete source of the "
                                             "brief (files added, changed or missing)")]
        verdicts = _record_against_source(validation, slug, record, manifest)
        if info is not None:
            verdicts += _address_against_source(validation, slug, info)
        try:
            rebuilt = render_edition(validation, slug, source, manifest_bytes, options)
        except BuildFailed as failed:
            return [Verdict(f"source/content/briefs/{slug}.yaml", False,
                            f"the source snapshot does not render: {failed.problems[0]}")]
        now = {"tool": manifest.get("tool"), "code_sha256": code_digest(),
               "environment": environment(validation.files)}
    why = _why_different(manifest, now)
    for name, data in sorted(archived.items()):
        sealed = name.endswith(".pdf") and read_seal(data, []) is not None
        compared = first_revision(data) if sealed else data
        if name not in rebuilt:
            verdicts.append(Verdict(name, False, "the source does not make such a file"))
        elif rebuilt[name] != compared:
            verdicts.append(Verdict(name, False, "differs from its rebuild from the source"
                                    + (" (the sealed file's first revision)" if sealed else "")
                                    + why))
        else:
            verdicts.append(Verdict(name, True, "identical to its rebuild from the source"
                                    + (" (the sealed file's first revision)" if sealed
                                       else "")))
    return verdicts


def _record_against_source(validation: Any, slug: str, record: dict[str, Any],
                           manifest: dict[str, Any]) -> list[Verdict]:
    """The edition's record says what its source says."""
    verdicts = []
    try:
        version = int(record.get("version", 0))
    except (TypeError, ValueError):
        version = 0
    expected = version_record(validation, slug, version)
    for key in sorted(set(expected) | set(record)):
        if record.get(key) != expected.get(key):
            verdicts.append(Verdict(MANIFEST, False, f"the edition's record says {key} is "
                                    f"{record.get(key)!r}, its source says "
                                    f"{expected.get(key)!r}"))
    if sorted(manifest["outputs"]) != output_names(validation, slug):
        verdicts.append(Verdict(MANIFEST, False, "the edition's record lists other files "
                                "than its source makes"))
    return verdicts


def _address_against_source(validation: Any, slug: str, info: dict[str, Any]
                            ) -> list[Verdict]:
    """bag-info's Organization-Address is the publisher's, as the source says."""
    address = validation.project.publisher.address
    expected = bag.clean(address.in_language(validation.brief(slug).languages[0]) or "") \
        if address else ""
    said = bag.field(info, "Organization-Address")
    return [] if said == expected else [Verdict(bag.INFO, False, f"Organization-Address says "
                                                f"{said!r}, the source says {expected!r}")]


def _why_different(manifest: dict[str, Any], now: dict[str, Any]) -> str:
    found = []
    if manifest.get("code_sha256") != now["code_sha256"]:
        found.append(f"Briefing's code differs from the one that built it "
                     f"({manifest.get('tool', 'unknown')})")
    found += differences(manifest.get("environment") or {}, now["environment"])
    if not found:
        return ("; this installation matches the edition's record in every part, so the "
                "file itself is not what was built")
    return f"; this installation differs from the edition's record: {'; '.join(found)}"


def _fonts_for(root: Path, project: Path, sums: bytes) -> str:
    """Copy the fonts the snapshot names from this installation, if they match."""
    (project / FONTS).mkdir(exist_ok=True)
    for line in sums.decode(errors="replace").splitlines():
        if not line.strip():
            continue
        digest, _, name = line.partition(" ")
        font = root / FONTS / Path(name.strip().lstrip("*")).name
        if not font.is_file() or hashlib.sha256(font.read_bytes()).hexdigest() != digest:
            return f"font {name.strip()} of this installation differs from the edition's"
        shutil.copy(font, project / FONTS / font.name)
    return ""
