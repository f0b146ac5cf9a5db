"""Publishing: freeze a brief's current source into a new, immutable edition.

An edition is `output/archive/<date>_<slug>_v<N>/`, a BagIt bag whose
`data/` holds the PDF/A-3u and DOCX of every language and document, the
exact source they were built from (`data/source/`) and a build manifest.
Each PDF/A also carries that source (as one tar) and the manifest inside it,
so a single PDF can be rebuilt and compared years later (archive/verify.py).
Editions are written under a temporary name, made read-only and renamed
into place: they appear whole or not at all, and nothing ever rewrites one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from briefing import __version__
from briefing.archive.snapshot import (
    MANIFEST,
    build_manifest,
    dependencies,
    render_edition,
    source_files,
    source_tar,
)
from briefing.build.output import exclusive, sync_folder, write_atomically
from briefing.build.validate import validate_content
from briefing.build.workers import RenderOptions
from briefing.errors import BuildFailed
from briefing.files import ARCHIVE

REGISTER = "register.csv"
_EDITION = re.compile(r"^(\d{4}-\d{2}-\d{2})_([a-z0-9][a-z0-9-]*)_v(\d+)$")


@dataclass(frozen=True)
class Published:
    path: Path
    version: int
    new: bool  # False: the latest edition already has this exact source


def publish(root: Path, slug: str, options: RenderOptions | None = None) -> Published:
    """Freeze the brief's current source into a new edition, unless unchanged.

    The brief is validated and rendered exactly as `build` does it: the same
    validation, the same limited workers, the same writers."""
    import bagit

    with exclusive(root):
        validation = validate_content(root, [slug])
        if validation.failed:
            raise BuildFailed(validation.failed[slug])
        loaded = validation.loaded
        brief = validation.brief(slug)
        files = source_files(root, loaded, slug)
        digest = hashlib.sha256(source_tar(files, 0)).hexdigest()
        archive = root / ARCHIVE
        previous = editions(archive, slug)
        if previous and bag_info(previous[-1]).get("Source-Digest") == digest:
            return Published(previous[-1], _version(previous[-1]), new=False)
        version = _version(previous[-1]) + 1 if previous else 1
        name = f"{brief.date.iso()}_{slug}_v{version}"
        outputs = render_edition(validation, slug, files, options or RenderOptions())

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
            "Dependencies": dependencies(files),
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
        info = bag_info(edition)
        manifest = (edition / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines()
        files = [f"{path.removeprefix('data/')}={digest}" for digest, path in
                 (line.split(maxsplit=1) for line in manifest)
                 if not path.startswith("data/source/")]
        writer.writerow([info.get("Brief-Date"), info.get("Brief-Slug"),
                         info.get("Edition-Version"), info.get("Languages"), info.get("Marking"),
                         " ".join(files), info.get("Supersedes")])
    write_atomically(archive / REGISTER, buffer.getvalue().encode("utf-8"))



def bag_info(edition: Path) -> dict[str, str]:
    """The fields of an edition's bag-info.txt."""
    info: dict[str, str] = {}
    text = (edition / "bag-info.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if ":" in line and not line.startswith((" ", "\t")):
            key, _, value = line.partition(":")
            info[key.strip()] = value.strip()
    return info


def _version(edition: Path) -> int:
    return int(_EDITION.match(edition.name).group(3))


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

