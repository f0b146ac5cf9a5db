"""Versions of a project, loaded side by side: the working folder, a published
version's `data/source/`, or a git revision of the project folder.

Each version is read with the loader every command uses (`content.load.gather`),
so an old version is checked exactly as the current one is; a mistake in it is
reported at its own file, named by the version (`archive/<edition>/data/source/
content/briefs/x.yaml:3:5: ...`, `git HEAD~2: content/briefs/x.yaml:3:5: ...`).
A git revision is materialised with `git archive` into a private temporary
folder that is removed before the version is returned (the loaded model keeps
no file open), so two versions live in one process without touching the
working folder.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from briefing.archive.publish import VERSION_NAME, version_of, versions
from briefing.archive.snapshot import SOURCE
from briefing.content.load import Loaded, gather
from briefing.content.model import Project
from briefing.errors import BuildFailed, Problem, UsageError
from briefing.files import ARCHIVE, CATALOGS, CONTENT

# What a version's comparison reads: the content and the catalogs' words.
READ = (CONTENT, CATALOGS)
GIT_TIMEOUT = 120
# What a version's project is loaded from (content/load.py reads nothing else).
LOADED = (CONTENT, CATALOGS)
MANIFEST = "manifest-sha256.txt"  # the bag's payload manifest a version's source is checked by


@dataclass(frozen=True)
class Version:
    """One version of a project, loaded: `label` says which, for people."""

    label: str  # "the working folder", "version 2 (2026-11-20)", "git revision HEAD"
    project: Project
    edition: Path | None = None  # the published version's folder, if it is one
    number: int | None = None  # its version number
    date: str | None = None  # its brief's issue date (ISO), for a published version


def working(root: Path, slug: str) -> Version:
    """The project as it is in its folder now."""
    return Version("the working folder", _checked(gather(root), slug, ""))


def published(root: Path, slug: str, number: int | None = None) -> Version | None:
    """Published version `number` of brief `slug` (the latest without one), read
    from its own `data/source/`; None if the brief has no published version."""
    found = versions(root / ARCHIVE, slug)
    if number is not None:
        found = [path for path in found if version_of(path) == number]
        if not found:
            have = ", ".join(str(version_of(p)) for p in versions(root / ARCHIVE, slug))
            raise UsageError(f"brief {slug!r} has no published version {number} in "
                             f"{ARCHIVE}/ (it has: {have or 'none'})")
    if not found:
        return None
    return archived(root, found[-1], slug)


def archived(root: Path, edition: Path, slug: str) -> Version:
    """A published version, read from the source it was built from."""
    source = edition / "data" / SOURCE
    try:
        where = edition.relative_to(root).as_posix()
    except ValueError:
        where = str(edition)
    match = VERSION_NAME.match(edition.name)
    number = int(match.group(3)) if match else None
    label = f"version {number} ({match.group(1)})" if match else edition.name
    if not source.is_dir():
        raise BuildFailed([Problem(f"{where}/data/{SOURCE}", 1, 1, "is missing: the "
                                   "published version's source cannot be read",
                                   expected="the source every edition carries")])
    _intact(edition, where)
    project = _checked(gather(source, past=True), slug, f"{where}/data/{SOURCE}/")
    return Version(label, project, edition, number, match.group(1) if match else None)


class Untrusted(BuildFailed):
    """A published version whose source is not what its bag's manifest says."""


def _intact(edition: Path, where: str) -> None:
    """Refuse a published version whose source as loaded (its `content/` and
    catalogs under `data/source/`) differs from its bag's payload manifest
    (manifest-sha256.txt): a file changed, missing or not listed. Only those
    small files are read; `briefing verify` checks the rest of the bag. (So a
    version's source carried inside a later one, with that manifest, is
    checked the same way when the later one is rebuilt; that copy holds the
    manifest but is no whole bag, which is why the manifest is read here and
    not through bagit.)"""
    prefixes = tuple(f"data/{SOURCE}/{folder}/" for folder in LOADED)
    listed: dict[str, str] = {}
    problem = ""
    try:
        with (edition / MANIFEST).open(encoding="utf-8") as lines:
            for line in lines:
                digest, _, name = line.rstrip("\r\n").partition(" ")
                name = _unescaped(name.lstrip(" *"))
                if name.startswith(prefixes):
                    listed[name] = digest.lower()
    except (OSError, UnicodeDecodeError) as err:
        problem = f"{MANIFEST}: {getattr(err, 'strerror', None) or err}"
    found = set()
    if not problem:
        for path in sorted(path for folder in LOADED
                           for path in (edition / "data" / SOURCE / folder).rglob("*")):
            name = path.relative_to(edition).as_posix()
            if path.is_symlink() or (path.is_file() and name not in listed):
                problem = f"{name}: not listed in the bag's {MANIFEST}"
                break
            if path.is_file():
                found.add(name)
                with path.open("rb") as handle:
                    if hashlib.file_digest(handle, "sha256").hexdigest() != listed[name]:
                        problem = f"{name}: differs from its digest in the bag's {MANIFEST}"
                        break
    if not problem and (missing := sorted(set(listed) - found)):
        problem = f"{missing[0]}: missing (listed in the bag's {MANIFEST})"
    if problem:
        name, _, what = problem.partition(": ")
        raise Untrusted([Problem(f"{where}/{name}", 1, 1, f"{what}: the published "
                                 "version has been changed since it was published, and is "
                                 "not compared with",
                                 expected=f"{where} as published (`briefing verify` "
                                          "says what else differs)")])


def _unescaped(name: str) -> str:
    """A manifest's path as bagit writes it (RFC 8493 2.1.3: CR, LF and % encoded)."""
    return name.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def revision(root: Path, slug: str, rev: str) -> Version:
    """The project folder as git revision `rev` has it, materialised in a private
    temporary folder that is always removed."""
    top, prefix = _git_work_tree(root)
    commit = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options",
                  f"{rev}^{{commit}}")
    if commit is None:
        raise UsageError(f"--since {rev}: not a revision of the git repository at {top}")
    commit = commit.decode().strip()
    folder = Path(tempfile.mkdtemp(prefix="briefing-version-"))
    try:
        tar = _git(top, "archive", "--format=tar", f"{commit}:{prefix}" if prefix
                   else commit, "--", *READ)
        if tar is None:  # none of the paths existed at that revision
            raise UsageError(f"--since {rev}: the revision has no {CONTENT}/ in "
                             f"{prefix or './'}")
        with tarfile.open(fileobj=io.BytesIO(tar), mode="r:") as archive:
            archive.extractall(folder, filter="data")
        project = _checked(gather(folder, past=True), slug, f"git {rev}: ", folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return Version(f"git revision {rev} ({commit[:12]})", project)


def snapshot(files: dict[str, bytes], slug: str, label: str) -> Version:
    """A version from its source files by project path (an edition's source as
    publish holds it), materialised in a private temporary folder that is
    always removed."""
    folder = Path(tempfile.mkdtemp(prefix="briefing-version-"))
    try:
        for name, data in files.items():
            path = folder / name
            if name.startswith("/") or ".." in Path(name).parts:
                raise UsageError(f"{label}: unsafe path {name!r} in the source")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        project = _checked(gather(folder, past=True), slug, f"{label}: ")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return Version(label, project)


def _checked(loaded: Loaded, slug: str, prefix: str, where: Path | None = None) -> Project:
    """The loaded project if brief `slug` is there and sound, else every
    mistake that concerns it, each named by the version (`prefix`)."""
    problems = [_named(problem, prefix) for problem in (
        loaded.blame(slug) if slug in loaded.brief_files else loaded.problems)]
    if problems or loaded.project is None:
        raise BuildFailed(problems or [_named(p, prefix) for p in loaded.problems])
    if slug not in loaded.brief_files:  # asked of a version from before the brief
        raise UsageError(f"there is no brief {slug!r} in {prefix.rstrip(': /') or 'the project'}"
                         ": nothing to compare it with")
    return loaded.project


def _named(problem: Problem, prefix: str) -> Problem:
    return Problem(f"{prefix}{problem.path}", problem.line, problem.col, problem.message,
                   problem.field, problem.expected)


def _git_work_tree(root: Path) -> tuple[Path, str]:
    """The git work tree holding `root`, and `root`'s path inside it."""
    if shutil.which("git") is None:
        raise UsageError("--since REV needs git, which is not installed")
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside is None or inside.strip() != b"true":
        raise UsageError(f"--since: {root} is not in a git work tree (give a published "
                         "version number instead)")
    top = _git(root, "rev-parse", "--show-toplevel")
    prefix = _git(root, "rev-parse", "--show-prefix")
    assert top is not None and prefix is not None
    return Path(top.decode().strip()), prefix.decode().strip().rstrip("/")


def _git(cwd: Path, *args: str) -> bytes | None:
    """git's output, or None when it says no (an unknown revision, no such path)."""
    done = subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=cwd,
                          capture_output=True, timeout=GIT_TIMEOUT, check=False,
                          stdin=subprocess.DEVNULL)
    return done.stdout if done.returncode == 0 else None
