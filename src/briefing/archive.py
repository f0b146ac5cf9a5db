"""Archive editions: publish a brief as a dated, immutable BagIt bag, and verify one.

An edition is `output/archive/<date>_<slug>_v<N>/`, a BagIt 1.0 bag whose
`data/` holds the PDF/A-3u and DOCX of every language and document, the
exact source they were built from (`data/source/`) and a build manifest.
Each PDF/A also carries that source (as one tar) and the manifest inside it,
so a single PDF can be rebuilt and compared years later (`verify`).
Editions are written under a temporary name, made read-only and renamed
into place: they appear whole or not at all, and nothing ever rewrites one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import stat
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from briefing import __version__
from briefing.cache import code_digest
from briefing.errors import BuildFailed, UsageError
from briefing.load import Loaded, gather
from briefing.output import exclusive, sync_folder, write_atomically

ARCHIVE = "output/archive"
REGISTER = "register.csv"
SOURCE_TAR = "source.tar"
MANIFEST = "build-manifest.json"
SHARED_SOURCE = ("fonts/SHA256SUMS", "requirements.lock")
_EDITION = re.compile(r"^(\d{4}-\d{2}-\d{2})_([a-z0-9][a-z0-9-]*)_v(\d+)$")


@dataclass(frozen=True)
class Published:
    path: Path
    version: int
    new: bool  # False: the latest edition already has this exact source


# --- the source of an edition ---------------------------------------------------------

def source_files(root: Path, loaded: Loaded, slug: str) -> dict[str, bytes]:
    """Exactly what a brief's editions are made from, by path in the project."""
    names = set(loaded.dependencies(slug)) | set(SHARED_SOURCE)
    names |= {p.relative_to(root).as_posix() for p in (root / "templates").rglob("*")
              if p.is_file()}
    return {name: (root / name).read_bytes() for name in sorted(names)
            if (root / name).is_file()}


def source_tar(files: dict[str, bytes], day: int) -> bytes:
    """A byte-reproducible tar: sorted names, fixed times, owners and modes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(files[name]), day, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[name]))
    return buffer.getvalue()


def build_manifest(root: Path, slug: str, files: dict[str, bytes]) -> bytes:
    """What made the edition: tool, code and dependency versions, source digests."""
    manifest = {
        "tool": f"Briefing {__version__}",
        "code_sha256": code_digest(),
        "brief": slug,
        "packages": _locked(files),
        "source_sha256": {name: hashlib.sha256(data).hexdigest()
                          for name, data in sorted(files.items())},
    }
    return (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()


# --- rendering an edition's files -------------------------------------------------------

def render_edition(root: Path, loaded: Loaded, slug: str, files: dict[str, bytes]
                   ) -> dict[str, bytes]:
    """The PDF/A and DOCX of every language and document, by file name."""
    from briefing.pipeline import fallback_language
    from briefing.render.docx import write_docx
    from briefing.render.html import Edition, environment, render_html
    from briefing.render.pdf import Embedded, write_pdf

    project = loaded.project
    brief = project.brief(slug)
    day = int(_epoch(brief.date.first_day))
    embedded = [
        Embedded(SOURCE_TAR, source_tar(files, day), "the source this file was built from"),
        Embedded(MANIFEST, build_manifest(root, slug, files), "how this file was built",
                 relationship="Supplement"),
    ]
    env = environment(root)
    out: dict[str, bytes] = {}
    for language in brief.languages:
        for kind in brief.documents:
            edition = Edition(brief, language, fallback_language(project, brief, language), kind)
            if edition.draft:
                raise UsageError(f"{edition.name} has untranslated text; drafts are not "
                                 "published")
            html = render_html(env, project, edition)
            out[f"{edition.name}.pdf"] = write_pdf(html, edition, root, embedded)
            out[f"{edition.name}.docx"] = write_docx(html, edition, root)
    return out


# --- publishing ---------------------------------------------------------------------------

def publish(root: Path, slug: str) -> Published:
    """Freeze the brief's current source into a new edition, unless unchanged."""
    import bagit

    with exclusive(root):
        loaded = gather(root)
        if slug not in loaded.brief_files:
            raise UsageError(f"no brief `{slug}`")
        problems = loaded.blame(slug)
        if problems or not loaded.has_brief(slug):
            raise BuildFailed(problems)
        brief = loaded.project.brief(slug)
        files = source_files(root, loaded, slug)
        digest = hashlib.sha256(source_tar(files, 0)).hexdigest()
        archive = root / ARCHIVE
        previous = editions(archive, slug)
        if previous and _bag_info(previous[-1]).get("Source-Digest") == digest:
            return Published(previous[-1], _version(previous[-1]), new=False)
        version = _version(previous[-1]) + 1 if previous else 1
        name = f"{brief.date.iso()}_{slug}_v{version}"
        outputs = render_edition(root, loaded, slug, files)

        archive.mkdir(parents=True, exist_ok=True)
        _remove_incoming(archive)
        incoming = Path(tempfile.mkdtemp(prefix=".incoming-", dir=archive)) / name
        payload = incoming
        for file_name, data in outputs.items():
            _write(payload / file_name, data)
        for path, data in files.items():
            _write(payload / "source" / path, data)
        _write(payload / MANIFEST, build_manifest(root, slug, files))
        publisher = loaded.project.publisher.name
        bagit.make_bag(str(incoming), {
            "Source-Organization": publisher.in_language(brief.languages[0]) or "",
            "External-Description": brief.title.in_language(brief.languages[0]) or "",
            "External-Identifier": brief.reference,
            "Brief-Slug": slug,
            "Brief-Date": brief.date.iso(),
            "Edition-Version": str(version),
            "Languages": " ".join(brief.languages),
            "Marking": brief.marking.in_language(brief.languages[0]) or "",
            "Briefing-Version": __version__,
            "Dependencies": _dependencies(files),
            "Source-Digest": digest,
            "Supersedes": previous[-1].name if previous else "",
        }, checksums=["sha256", "sha512"])
        _freeze(incoming)
        os.rename(incoming, archive / name)  # atomic; fails if the name were taken
        os.rmdir(incoming.parent)
        sync_folder(archive)
        write_register(archive)
        return Published(archive / name, version, new=True)


def editions(archive: Path, slug: str | None = None) -> list[Path]:
    found = [p for p in archive.iterdir() if p.is_dir() and _EDITION.match(p.name)
             and (slug is None or _EDITION.match(p.name).group(2) == slug)] \
        if archive.is_dir() else []
    return sorted(found, key=lambda p: (_EDITION.match(p.name).group(2), _version(p)))


def write_register(archive: Path) -> None:
    """register.csv: one row per edition, made afresh from the bags themselves."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["date", "slug", "version", "languages", "marking", "files", "supersedes"])
    for edition in editions(archive):
        info = _bag_info(edition)
        manifest = (edition / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines()
        files = [f"{path.removeprefix('data/')}={digest}" for digest, path in
                 (line.split(maxsplit=1) for line in manifest)
                 if not path.startswith("data/source/")]
        writer.writerow([info.get("Brief-Date"), info.get("Brief-Slug"),
                         info.get("Edition-Version"), info.get("Languages"), info.get("Marking"),
                         " ".join(files), info.get("Supersedes")])
    write_atomically(archive / REGISTER, buffer.getvalue().encode("utf-8"))


# --- verifying ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    name: str
    ok: bool
    why: str

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'FAILED'}  {self.name}: {self.why}"


def verify(root: Path, target: Path) -> list[Verdict]:
    """Fixity of an edition (or one archived PDF), then a rebuild from its own
    source compared byte for byte with what was archived."""
    if target.is_dir():
        return _verify_edition(root, target)
    if target.suffix.lower() == ".pdf" and target.is_file():
        return _verify_pdf(root, target)
    raise UsageError(f"{target} is neither an edition folder nor a PDF")


def _verify_edition(root: Path, edition: Path) -> list[Verdict]:
    import bagit

    try:
        bagit.Bag(str(edition))
    except bagit.BagError as err:
        return [Verdict(edition.name, False, f"not a readable BagIt bag: {err}")]
    verdicts = fixity(edition)
    data = edition / "data"
    source = {p.relative_to(data / "source").as_posix(): p.read_bytes()
              for p in sorted((data / "source").rglob("*")) if p.is_file()}
    slug = _bag_info(edition).get("Brief-Slug", "")
    archived = {p.name: p.read_bytes() for p in data.iterdir()
                if p.suffix in (".pdf", ".docx")}
    manifest = (data / MANIFEST).read_bytes() if (data / MANIFEST).is_file() else b"{}"
    return verdicts + _compare_rebuild(root, slug, source, archived, manifest)


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


def _verify_pdf(root: Path, pdf_path: Path) -> list[Verdict]:
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
                            attached[MANIFEST])


def _compare_rebuild(root: Path, slug: str, source: dict[str, bytes],
                     archived: dict[str, bytes], manifest: bytes) -> list[Verdict]:
    with tempfile.TemporaryDirectory(prefix="briefing-verify-") as temp:
        project = Path(temp)
        for name, data in source.items():
            if name.startswith("/") or ".." in Path(name).parts:
                return [Verdict(name, False, "unsafe path in the source snapshot")]
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).write_bytes(data)
        missing = _fonts_for(root, project, source.get("fonts/SHA256SUMS", b""))
        if missing:
            return [Verdict("fonts/SHA256SUMS", False, missing)]
        loaded = gather(project)
        if slug not in loaded.brief_files or loaded.blame(slug):
            return [Verdict(f"source/content/briefs/{slug}.yaml", False,
                            "the source snapshot does not load")]
        if source_files(project, loaded, slug) != source:
            return [Verdict("source", False, "the snapshot is not the complete source of the "
                                             "brief (files added, changed or missing)")]
        rebuilt = render_edition(project, loaded, slug, source)
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
    (project / "fonts").mkdir(exist_ok=True)
    for line in sums.decode().splitlines():
        digest, name = line.split(maxsplit=1)
        font = root / "fonts" / name.strip()
        if not font.is_file() or hashlib.sha256(font.read_bytes()).hexdigest() != digest:
            return f"font {name.strip()} of this installation differs from the edition's"
        shutil.copy(font, project / "fonts" / font.name)
    return ""


# --- helpers ------------------------------------------------------------------------------

def _bag_info(edition: Path) -> dict[str, str]:
    info: dict[str, str] = {}
    text = (edition / "bag-info.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if ":" in line and not line.startswith((" ", "\t")):
            key, _, value = line.partition(":")
            info[key.strip()] = value.strip()
    return info


def _version(edition: Path) -> int:
    return int(_EDITION.match(edition.name).group(3))


def _dependencies(files: dict[str, bytes]) -> str:
    wanted = ("weasyprint", "python-docx", "pydyf", "fonttools", "babel", "jinja2")
    found = _locked(files)
    return ", ".join(f"{name}=={found[name]}" for name in wanted if name in found)


def _locked(files: dict[str, bytes]) -> dict[str, str]:
    """Package versions pinned in the snapshot's lock file."""
    lock = files.get("requirements.lock", b"").decode()
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", lock, flags=re.M))


def _epoch(day: object) -> float:
    import datetime as dt

    return dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _freeze(folder: Path) -> None:
    """Read-only for everyone: a published edition is not to be edited."""
    for path in sorted(folder.rglob("*"), reverse=True):
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
                   | (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH if path.is_dir() else 0))
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
    folder.chmod(0o555)


def _remove_incoming(archive: Path) -> None:
    """Half-made editions of a killed publish: never visible, removed here."""
    for stale in archive.glob(".incoming-*"):
        for path in stale.rglob("*"):
            path.chmod(0o700 if path.is_dir() else 0o600)
        stale.chmod(0o700)
        shutil.rmtree(stale)

