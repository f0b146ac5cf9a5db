"""What an edition is made from, frozen: the source files, as a reproducible
tar, and the build manifest that records the edition and what made it; and
the rendering of an edition's files from them, through the build's own
workers and writers.

The build manifest (data/build-manifest.json, and inside every PDF) is the
edition's own record: who and what it is (`edition`: identifier, slug, date,
version, reference, title, marking, languages, publisher), which files it
holds (`outputs`), the digest of every source file, and the tool, code and
environment that made it (archive/provenance.py). `verify` checks bag-info,
the folder's name and the files against it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import tarfile

from briefing import __version__
from briefing.archive.bag import clean
from briefing.archive.provenance import distributions, environment
from briefing.content.load import Loaded
from briefing.content.text import Text
from briefing.errors import BuildFailed, Problem, UsageError
from briefing.files import BRIEFS, FONT_SUMS, LOCK, ProjectFiles
from briefing.orchestration.cache import code_digest
from briefing.orchestration.validate import Validation
from briefing.orchestration.workers import Job, RenderOptions, render_all
from briefing.writers.registry import WRITERS, Attachment

SOURCE_TAR = "source.tar"
MANIFEST = "build-manifest.json"
SOURCE = "source"  # data/source/: the same files as the tar, for those who distrust attachments
SHARED_SOURCE = (FONT_SUMS, LOCK)
# What verify inflates of an archived PDF's attachments, at most: an edition's
# source is a few MiB (content files are at most 2 MiB, assets 20 MiB), its
# manifest a few KiB; a PDF whose attachments inflate further is refused
# unread, so a compressed bomb costs neither memory nor time.
SOURCE_LIMIT = 256 << 20
MANIFEST_LIMIT = 16 << 20
FORMATS = ("pdfa", "docx")  # what an edition holds of each language and document


def source_files(loaded: Loaded, slug: str) -> dict[str, bytes]:
    """Exactly what a brief's editions are made from, by path in the project:
    also what its change annex reads of the previous version (changes/annex.py),
    so that the edition's own source rebuilds the annex."""
    from briefing.changes.annex import files as annex_files

    files = loaded.files
    names = set(loaded.dependencies(slug)) | set(SHARED_SOURCE) | set(files.templates())
    if loaded.project is not None:
        names |= set(annex_files(files.root, loaded.project, slug))
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


def source_digest(files: dict[str, bytes]) -> str:
    """One digest of the whole source (bag-info's Source-Digest)."""
    return hashlib.sha256(source_tar(files, 0)).hexdigest()


def version_name(date: str, slug: str, version: int) -> str:
    return f"{date}_{slug}_v{version}"


def version_record(validation: Validation, slug: str, version: int) -> dict[str, object]:
    """Who and what an edition is, from its source: the manifest's `edition`."""
    brief = validation.brief(slug)
    first = brief.languages[0]
    return {
        "identifier": version_name(brief.date.iso(), slug, version),
        "slug": slug,
        "date": brief.date.iso(),
        "version": version,
        "reference": clean(brief.reference),
        "title": _in(brief.title, first),
        "marking": _in(brief.marking, first),
        "languages": list(brief.languages),
        "publisher": _in(validation.project.publisher.name, first),
    }


def output_names(validation: Validation, slug: str) -> list[str]:
    """The files an edition holds: each format of each language and document."""
    return sorted(f"{edition.name}.{WRITERS[fmt].suffix}"
                  for edition in validation.editions(slug) for fmt in FORMATS)


def build_manifest(project: ProjectFiles, record: dict[str, object], files: dict[str, bytes],
                   outputs: list[str], changes: dict[str, bytes] | None = None) -> bytes:
    """The edition's record: the edition, its files, its source, what made it
    (and the digests of its change record against the version before, if any).
    The same source and environment always give the same bytes."""
    manifest: dict[str, object] = {
        "tool": f"Briefing {__version__}",
        "code_sha256": code_digest(),
        "edition": record,
        "outputs": sorted(outputs),
        "source_sha256": {name: hashlib.sha256(data).hexdigest()
                          for name, data in sorted(files.items())},
        "environment": environment(project),
    }
    if changes:
        manifest["changes_sha256"] = {name: hashlib.sha256(data).hexdigest()
                                      for name, data in sorted(changes.items())}
    return (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()


def render_edition(validation: Validation, slug: str, files: dict[str, bytes],
                   manifest: bytes, options: RenderOptions) -> dict[str, bytes]:
    """The PDF/A and DOCX of every language and document, by file name, each
    PDF carrying the source and `manifest` and named by the edition."""
    project = validation.project
    brief = project.brief(slug)
    day = int(dt.datetime.combine(brief.date.first_day, dt.time(), dt.UTC).timestamp())
    tar = source_tar(files, day)
    if len(tar) > SOURCE_LIMIT:
        raise BuildFailed([Problem(f"{BRIEFS}/{slug}.yaml", 1, 1, f"its source is "
                                   f"{len(tar) >> 20} MiB, more than an archived PDF carries",
                                   expected=f"at most {SOURCE_LIMIT >> 20} MiB of source")])
    attachments = (
        Attachment(SOURCE_TAR, tar, "the source this file was built from"),
        Attachment(MANIFEST, manifest, "how this file was built", relationship="Supplement"),
    )
    work = []
    for edition in validation.editions(slug):
        if edition.draft:
            raise UsageError(f"{edition.name} has untranslated text; drafts are not published")
        work.append(Job(edition, FORMATS, attachments))
    record = json.loads(manifest)["edition"]
    out: dict[str, bytes] = {}
    problems = []
    for job, outputs, trouble in render_all(project, work, options.jobs, options.limits):
        problems += trouble
        for fmt, data, _ in outputs:
            out[f"{job.edition.name}.{WRITERS[fmt].suffix}"] = (
                _identified(data, record) if fmt == "pdfa" else data)
    if problems:
        raise BuildFailed(problems)
    return out


def _identified(pdf: bytes, record: dict[str, object]) -> bytes:
    """The archival PDF named by its edition: identifier and version in the Info
    dictionary and in the XMP (dc:identifier, xmpMM:VersionID, both predefined
    for PDF/A). Saved as the writer saves it: deterministic, XMP first."""
    import pikepdf

    identifier, version = str(record["identifier"]), str(record["version"])
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.docinfo[pikepdf.Name.Identifier] = identifier
        document.docinfo[pikepdf.Name.Version] = version
        with document.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
            xmp["dc:identifier"] = identifier
            xmp["xmpMM:VersionID"] = version
        document.save(out, object_stream_mode=pikepdf.ObjectStreamMode.disable,
                      stream_decode_level=pikepdf.StreamDecodeLevel.none,
                      deterministic_id=True)
    return out.getvalue()


def dependencies(found: dict[str, str] | None = None) -> str:
    """The installed versions that shape the bytes most, for bag-info.txt: of
    this installation, or (`found`) of an edition's record, for verify."""
    wanted = ("weasyprint", "python-docx", "pydyf", "fonttools", "babel", "jinja2", "pikepdf",
              "pyhanko")
    found = distributions() if found is None else found
    return ", ".join(f"{name}=={found[name]}" for name in wanted if name in found)


def _in(text: Text, language: str) -> str:
    return clean(text.in_language(language) or "")
