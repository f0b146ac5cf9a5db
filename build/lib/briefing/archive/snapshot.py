"""What an edition is made from, frozen: the source files, as a reproducible
tar, and the build manifest that says what made it; and the rendering of an
edition's files from them, through the build's own workers and writers."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

from briefing import __version__
from briefing.build.cache import code_digest
from briefing.build.validate import Validation
from briefing.build.workers import Job, RenderOptions, render_all
from briefing.content.load import Loaded
from briefing.errors import BuildFailed, UsageError
from briefing.files import FONT_SUMS, LOCK, ProjectFiles
from briefing.writers.registry import WRITERS, Attachment

SOURCE_TAR = "source.tar"
MANIFEST = "build-manifest.json"
SHARED_SOURCE = (FONT_SUMS, LOCK)
FORMATS = ("pdfa", "docx")  # what an edition holds of each language and document


def source_files(root: Path, loaded: Loaded, slug: str) -> dict[str, bytes]:
    """Exactly what a brief's editions are made from, by path in the project."""
    files = ProjectFiles(root)
    names = set(loaded.dependencies(slug)) | set(SHARED_SOURCE) | set(files.templates())
    return {name: files.read(files.path(name), limit=1 << 30) for name in sorted(names)
            if files.path(name).is_file()}


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


def render_edition(validation: Validation, slug: str, files: dict[str, bytes],
                   options: RenderOptions) -> dict[str, bytes]:
    """The PDF/A and DOCX of every language and document, by file name."""
    root, project = validation.root, validation.project
    brief = project.brief(slug)
    day = int(dt.datetime.combine(brief.date.first_day, dt.time(), dt.UTC).timestamp())
    attachments = (
        Attachment(SOURCE_TAR, source_tar(files, day), "the source this file was built from"),
        Attachment(MANIFEST, build_manifest(root, slug, files), "how this file was built",
                   relationship="Supplement"),
    )
    work = []
    for edition in validation.editions(slug):
        if edition.draft:
            raise UsageError(f"{edition.name} has untranslated text; drafts are not published")
        work.append(Job(edition, FORMATS, attachments))
    out: dict[str, bytes] = {}
    problems = []
    for job, outputs, trouble in render_all(root, project, work, options.jobs, options.limits):
        problems += trouble
        for fmt, data, _ in outputs:
            out[f"{job.edition.name}.{WRITERS[fmt].suffix}"] = data
    if problems:
        raise BuildFailed(problems)
    return out


def _locked(files: dict[str, bytes]) -> dict[str, str]:
    """Package versions pinned in the snapshot's lock file."""
    lock = files.get(LOCK, b"").decode()
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", lock, flags=re.M))


def dependencies(files: dict[str, bytes]) -> str:
    """The versions that shape the bytes most, for bag-info.txt."""
    wanted = ("weasyprint", "python-docx", "pydyf", "fonttools", "babel", "jinja2")
    found = _locked(files)
    return ", ".join(f"{name}=={found[name]}" for name in wanted if name in found)
