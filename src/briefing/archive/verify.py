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

`audit` runs steps 1 to 3 (and 4 if asked) on every edition, one line each.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefing.archive import bag
from briefing.archive.provenance import differences, environment
from briefing.archive.publish import (
    REGISTER,
    UNSEALED,
    bag_fields,
    editions,
    register_is_stale,
)
from briefing.archive.seal import first_revision, read_seal
from briefing.archive.snapshot import (
    MANIFEST,
    SOURCE,
    SOURCE_TAR,
    edition_record,
    output_names,
    render_edition,
    source_digest,
    source_files,
)
from briefing.errors import BuildFailed, UsageError
from briefing.files import ARCHIVE, FONT_SUMS, FONTS
from briefing.orchestration.cache import code_digest
from briefing.orchestration.validate import validate_content
from briefing.orchestration.workers import RenderOptions

RECORD_FIELDS = ("identifier", "slug", "date", "version", "reference", "title", "marking",
                 "languages", "publisher")


@dataclass(frozen=True)
class Verdict:
    name: str
    ok: bool
    why: str

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'FAILED'}  {self.name}: {self.why}"


def verify(root: Path, target: Path, options: RenderOptions | None = None,
           trust: list[Any] | None = None) -> list[Verdict]:
    """Every check of an edition (or of one archived PDF), the rebuild included."""
    options = options or RenderOptions()
    if target.is_dir():
        return verify_edition(root, target, options, trust or [])
    if target.suffix.lower() == ".pdf" and target.is_file():
        return _verify_pdf(root, target, options, trust or [])
    raise UsageError(f"{target} is neither an edition folder nor a PDF")


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
                                     archived, options)
    return verdicts


@dataclass(frozen=True)
class Audit:
    editions: list[Verdict]  # one per edition
    register: Verdict | None  # when register.csv disagrees with the bags

    @property
    def ok(self) -> bool:
        return self.register is None and all(v.ok for v in self.editions)


def audit(root: Path, options: RenderOptions, trust: list[Any], rebuild: bool = False
          ) -> Audit:
    """One verdict per edition of the archive (fixity, record, seals; and the
    rebuild if asked), and one for the register if it disagrees with the bags."""
    archive = root / ARCHIVE
    found = []
    for edition in editions(archive):
        verdicts = verify_edition(root, edition, options, trust, rebuild)
        failed = [v.why if v.name == edition.name else f"{v.name}: {v.why}"
                  for v in verdicts if not v.ok]
        sealed = sum(v.why.startswith("sealed by") for v in verdicts)
        checked = "fixity, record, " + (f"{sealed} seal(s)" if sealed else "unsealed") \
            + (", rebuild" if rebuild else "")
        found.append(Verdict(edition.name, not failed, "; ".join(failed) or
                             f"intact ({checked})"))
    register = Verdict(f"{ARCHIVE}/{REGISTER}", False, "does not agree with the editions "
                       "(the next publish writes it afresh from them)") \
        if found and register_is_stale(archive) else None
    return Audit(found, register)


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
        data = path.read_bytes()
        for algorithm, expected in sorted(digests.items()):
            if hashlib.new(algorithm, data).hexdigest() != expected:
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
    try:
        manifest_bytes = (data / MANIFEST).read_bytes()
        manifest = _well_formed(json.loads(manifest_bytes))
    except (OSError, ValueError):
        manifest = None
    if manifest is None:
        return None, [Verdict(f"data/{MANIFEST}", False, "missing or not a build manifest "
                              "this Briefing can read: the edition has no record to check")]
    record = manifest["edition"]
    problems = []
    expected = {*manifest["outputs"], MANIFEST,
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
        if path.is_file():
            source[name] = path.read_bytes()
            if hashlib.sha256(source[name]).hexdigest() != digest:
                problems.append(Verdict(f"data/{SOURCE}/{name}", False,
                                        "differs from its digest in the build manifest"))
    name = str(record.get("identifier"))
    if edition.name != name:
        problems.append(Verdict(edition.name, False, f"the folder's name disagrees with the "
                                f"edition's record: it is {name} (version "
                                f"{record.get('version')})"))
    for label, value in bag_fields(record).items():
        if bag.field(info, label) != value:
            problems.append(Verdict(bag.INFO, False, f"{label} says "
                                    f"{bag.field(info, label)!r}, the edition's record (the "
                                    f"build manifest) says {value!r}"))
    if len(source) == len(manifest["source_sha256"]) \
            and bag.field(info, "Source-Digest") != source_digest(source):
        problems.append(Verdict(bag.INFO, False, "Source-Digest is not the digest of the "
                                "edition's source"))
    problems += _attachments(data, manifest, manifest_bytes, source)
    return manifest, problems or [Verdict("record", True, f"{len(present)} files, bag-info.txt "
                                          "and the folder's name agree with the build "
                                          "manifest")]


def _attachments(data: Path, manifest: dict[str, Any], manifest_bytes: bytes,
                 source: dict[str, bytes]) -> list[Verdict]:
    """Each PDF carries the edition's own manifest and source."""
    import pikepdf

    problems = []
    for name in manifest["outputs"]:
        if not name.endswith(".pdf") or not (data / name).is_file():
            continue
        try:
            attached = _attached(pikepdf, data / name)
        except pikepdf.PdfError as err:
            problems.append(Verdict(f"data/{name}", False, f"not a readable PDF: {err}"))
            continue
        if attached.get(MANIFEST) != manifest_bytes:
            problems.append(Verdict(f"data/{name}", False, f"carries another build manifest "
                                    f"than data/{MANIFEST}"))
        if SOURCE_TAR not in attached or _untar(attached[SOURCE_TAR]) != source:
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
        attached = _attached(pikepdf, pdf_path)
    except pikepdf.PdfError as err:
        return [Verdict(pdf_path.name, False, f"not a readable PDF: {err}")]
    if SOURCE_TAR not in attached or MANIFEST not in attached:
        return [Verdict(pdf_path.name, False, "carries no embedded source; not an archived PDF")]
    try:
        manifest = _well_formed(json.loads(attached[MANIFEST]))
    except ValueError:
        manifest = None
    if manifest is None:
        return [Verdict(pdf_path.name, False, "its build manifest is not one this Briefing "
                                              "can read")]
    data = pdf_path.read_bytes()
    seal = read_seal(data, trust)
    verdicts = [Verdict(pdf_path.name, True, "not sealed") if seal is None else
                Verdict(pdf_path.name, seal.ok, seal.describe() + (
                    f": {'; '.join(seal.problems)}" if seal.problems else
                    ": intact, whole file, certificate trusted"))]
    return verdicts + _compare_rebuild(root, manifest, attached[MANIFEST],
                                       _untar(attached[SOURCE_TAR]), {pdf_path.name: data},
                                       options)


def _compare_rebuild(root: Path, manifest: dict[str, Any], manifest_bytes: bytes,
                     source: dict[str, bytes], archived: dict[str, bytes],
                     options: RenderOptions) -> list[Verdict]:
    """Render the edition again from its own source, in a temporary project with
    this installation's fonts, and compare; the record checked against the source."""
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
        if source_files(project, validation.loaded, slug) != source:
            return [Verdict("source", False, "the snapshot is not the complete source of the "
                                             "brief (files added, changed or missing)")]
        verdicts = _record_against_source(validation, slug, record, manifest)
        try:
            rebuilt = render_edition(validation, slug, source, manifest_bytes, options)
        except BuildFailed as failed:
            return [Verdict(f"source/content/briefs/{slug}.yaml", False,
                            f"the source snapshot does not render: {failed.problems[0]}")]
        now = {"tool": manifest.get("tool"), "code_sha256": code_digest(),
               "environment": environment(project)}
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
    expected = edition_record(validation, slug, version)
    for key in sorted(set(expected) | set(record)):
        if record.get(key) != expected.get(key):
            verdicts.append(Verdict(MANIFEST, False, f"the edition's record says {key} is "
                                    f"{record.get(key)!r}, its source says "
                                    f"{expected.get(key)!r}"))
    if sorted(manifest["outputs"]) != output_names(validation, slug):
        verdicts.append(Verdict(MANIFEST, False, "the edition's record lists other files "
                                "than its source makes"))
    return verdicts


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


def _well_formed(manifest: Any) -> dict[str, Any] | None:
    """The manifest if it has the shape of an edition's record, else None."""
    if isinstance(manifest, dict) and isinstance(manifest.get("edition"), dict) \
            and all(key in manifest["edition"] for key in RECORD_FIELDS) \
            and isinstance(manifest.get("outputs"), list) \
            and all(isinstance(name, str) for name in manifest["outputs"]) \
            and isinstance(manifest.get("source_sha256"), dict):
        return manifest
    return None


def _attached(pikepdf: Any, path: Path) -> dict[str, bytes]:
    with pikepdf.open(path) as pdf:
        return {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}


def _untar(data: bytes) -> dict[str, bytes]:
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    except tarfile.TarError:
        return {}


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
