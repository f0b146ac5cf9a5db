"""Verifying an edition: fixity against its manifests, then a rebuild from its
own embedded source, compared byte for byte with what was archived."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from briefing.archive.publish import bag_info
from briefing.archive.snapshot import (
    MANIFEST,
    SOURCE_TAR,
    build_manifest,
    render_edition,
    source_files,
)
from briefing.build.validate import validate_content
from briefing.build.workers import RenderOptions
from briefing.errors import BuildFailed, UsageError
from briefing.files import FONT_SUMS, FONTS


@dataclass(frozen=True)
class Verdict:
    name: str
    ok: bool
    why: str

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'FAILED'}  {self.name}: {self.why}"


def verify(root: Path, target: Path, options: RenderOptions | None = None) -> list[Verdict]:
    """Fixity of an edition (or one archived PDF), then a rebuild from its own
    source compared byte for byte with what was archived."""
    options = options or RenderOptions()
    if target.is_dir():
        return _verify_edition(root, target, options)
    if target.suffix.lower() == ".pdf" and target.is_file():
        return _verify_pdf(root, target, options)
    raise UsageError(f"{target} is neither an edition folder nor a PDF")


def _verify_edition(root: Path, edition: Path, options: RenderOptions) -> list[Verdict]:
    import bagit

    try:
        bagit.Bag(str(edition))
    except bagit.BagError as err:
        return [Verdict(edition.name, False, f"not a readable BagIt bag: {err}")]
    verdicts = fixity(edition)
    data = edition / "data"
    source = {p.relative_to(data / "source").as_posix(): p.read_bytes()
              for p in sorted((data / "source").rglob("*")) if p.is_file()}
    slug = bag_info(edition).get("Brief-Slug", "")
    archived = {p.name: p.read_bytes() for p in data.iterdir()
                if p.suffix in (".pdf", ".docx")}
    manifest = (data / MANIFEST).read_bytes() if (data / MANIFEST).is_file() else b"{}"
    return verdicts + _compare_rebuild(root, slug, source, archived, manifest, options)


def fixity(edition: Path) -> list[Verdict]:
    """Every file against every manifest of the bag: changed, missing, unlisted.
    (bagit-python stops at the first summary error; an archivist needs each file.)"""
    verdicts = []
    listed: set[str] = set()
    for manifest in sorted(edition.glob("*manifest-*.txt")):
        algorithm = manifest.stem.rsplit("-", 1)[1]
        for line in manifest.read_text(encoding="utf-8").splitlines():
            expected, _, name = line.partition(" ")
            name = name.strip()
            listed.add(name)
            path = edition / name
            if not path.is_file():
                verdicts.append(Verdict(name, False, f"missing (listed in {manifest.name})"))
            elif hashlib.new(algorithm, path.read_bytes()).hexdigest() != expected:
                verdicts.append(Verdict(name, False, f"{algorithm} differs from {manifest.name}"))
    for path in sorted(edition.rglob("*")):
        name = path.relative_to(edition).as_posix()
        if path.is_file() and name not in listed and not name.startswith("tagmanifest-"):
            verdicts.append(Verdict(name, False, "not listed in the bag's manifests"))
    return list(dict.fromkeys(verdicts))


def _verify_pdf(root: Path, pdf_path: Path, options: RenderOptions) -> list[Verdict]:
    import pikepdf

    try:
        with pikepdf.open(pdf_path) as pdf:
            attached = {name: spec.get_file().read_bytes()
                        for name, spec in pdf.attachments.items()}
    except pikepdf.PdfError as err:
        return [Verdict(pdf_path.name, False, f"not a readable PDF: {err}")]
    if SOURCE_TAR not in attached or MANIFEST not in attached:
        return [Verdict(pdf_path.name, False, "carries no embedded source; not an archived PDF")]
    slug = json.loads(attached[MANIFEST]).get("brief", "")
    with tarfile.open(fileobj=io.BytesIO(attached[SOURCE_TAR])) as tar:
        source = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    return _compare_rebuild(root, slug, source, {pdf_path.name: pdf_path.read_bytes()},
                            attached[MANIFEST], options)


def _compare_rebuild(root: Path, slug: str, source: dict[str, bytes],
                     archived: dict[str, bytes], manifest: bytes, options: RenderOptions
                     ) -> list[Verdict]:
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
        try:
            rebuilt = render_edition(validation, slug, source, options)
        except BuildFailed as failed:
            return [Verdict(f"source/content/briefs/{slug}.yaml", False,
                            f"the source snapshot does not render: {failed.problems[0]}")]
    verdicts = []
    for name, data in sorted(archived.items()):
        if name not in rebuilt:
            verdicts.append(Verdict(name, False, "the source does not make such a file"))
        elif rebuilt[name] != data:
            then = json.loads(manifest).get("code_sha256")
            now = json.loads(build_manifest(root, slug, source)).get("code_sha256")
            why = "" if then == now else (
                " (this Briefing's code differs from the one that built it: verify with "
                f"{json.loads(manifest).get('tool', 'the same version')})")
            verdicts.append(Verdict(name, False, f"differs from its rebuild from the source{why}"))
        else:
            verdicts.append(Verdict(name, True, "identical to its rebuild from the source"))
    return verdicts


def _fonts_for(root: Path, project: Path, sums: bytes) -> str:
    """Copy the fonts the snapshot names from this installation, if they match."""
    (project / FONTS).mkdir(exist_ok=True)
    for line in sums.decode().splitlines():
        digest, name = line.split(maxsplit=1)
        font = root / FONTS / name.strip()
        if not font.is_file() or hashlib.sha256(font.read_bytes()).hexdigest() != digest:
            return f"font {name.strip()} of this installation differs from the edition's"
        shutil.copy(font, project / FONTS / font.name)
    return ""


