"""The project's folders and files: where everything is, and how it is read.

This is the one module that knows the project's layout and file patterns;
every other stage asks it which briefs, partners, catalogs, templates and
fonts there are, and reads them through `read`, which refuses anything that
is not a regular file inside the project (a symlink leading outside, a
device, a FIFO, a folder) and checks the size before reading a byte.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CONTENT = "content"
BRIEFS = "content/briefs"
PARTNERS = "content/partners"
PUBLISHER = "content/publisher.yaml"
TEMPLATES = "templates"
CATALOGS = "templates/i18n"
ASSETS = "templates/assets"
STYLESHEET = "templates/print.css"
THEME = "templates/theme.yaml"  # the presentation tokens the formats share
REFERENCE_DOCX = "templates/reference.docx"
FONTS = "fonts"
FONT_SUMS = "fonts/SHA256SUMS"
LOCK = "requirements.lock"
SCHEMA = "schema"
OUTPUT = "output"
CACHE = "output/.cache/manifest.json"
# Archive editions live beside output/, never inside it: nothing that cleans or
# rebuilds output/ can reach them (docs/archive.md).
ARCHIVE = "archive"

CONTENT_SUFFIX = ".yaml"
# Files that look like content, in any case (`.YAML`, `.Yml`): each one the
# loader does not read is named with the reason, never silently ignored.
YAML_SUFFIXES = (".yaml", ".yml")
# Everything every output depends on, besides a brief's own content files.
SHARED_INPUTS = (TEMPLATES, FONTS, LOCK)
# The folders WeasyPrint and the DOCX writer may load assets from.
ASSET_FOLDERS = (TEMPLATES, FONTS)
# The folders a saved change in which `watch` and `serve` react to.
WATCHED = (CONTENT, TEMPLATES, FONTS)

MAX_CONTENT_BYTES = 2 * 1024 * 1024
MAX_ASSET_BYTES = 20 * 1024 * 1024


def user_cache(kind: str) -> Path:
    """A folder of this user's cache (`$XDG_CACHE_HOME/briefing/<kind>`, else
    `~/.cache/briefing/<kind>`): what Briefing remembers across projects and
    runs, never inside a project. A relative $XDG_CACHE_HOME is ignored, as
    the XDG specification says (it would put the cache in whatever folder a
    command runs from: inside a project, say)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / "briefing" / kind


def keep_cached(kind: str, name: str, data: bytes, most: int) -> None:
    """Keep `data` as `name` in the user's cache folder of `kind`, written
    whole (a temporary renamed into place), and only the `most` newest files
    there. Never an error: a cache that cannot be written only costs time."""
    folder = user_cache(kind)
    temporary = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".", suffix=".partial",
                                         delete=False) as handle:
            temporary = Path(handle.name)
            handle.write(data)
        os.replace(temporary, folder / name)
        temporary = None
        kept = sorted((path for path in folder.iterdir() if not path.name.startswith(".")),
                      key=lambda path: path.stat().st_mtime_ns, reverse=True)
        for older in kept[most:]:
            older.unlink(missing_ok=True)
    except OSError:
        pass
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def cached(kind: str, name: str) -> bytes | None:
    """What `keep_cached` kept as `name`, if it is there and readable."""
    try:
        return (user_cache(kind) / name).read_bytes()
    except OSError:
        return None


def same_file(info: os.stat_result) -> tuple[int, ...]:
    """What tells one state of a file from another without reading it: the
    same device and inode, size, and modification and change times (a copy
    that keeps the modification time, `cp -p`, still changes the change
    time)."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@dataclass(frozen=True)
class Unread:
    """A file that looks like content but that the loader will not read, and why."""

    path: Path
    why: str
    expected: str


# What makes a folder a Briefing project: the editors' briefs or the template
# authors' theme (a brief's own partners folder may be named `templates`).
MARKERS = (BRIEFS, THEME)


def find_root(start: Path) -> Path | None:
    """The project `start` lies in: the nearest of it and the folders above it
    that holds content/briefs/ or templates/theme.yaml (as git finds its
    repository), or None."""
    for folder in (start, *start.parents):
        if any(_marked(folder / marker) for marker in MARKERS):
            return folder
    return None


def _marked(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # there, but may not be looked into: the command says so, placed
        return True


class Unreadable(Exception):
    """A project file that may not or cannot be read; `why` is for the editor."""

    def __init__(self, path: Path, why: str, expected: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path, self.why, self.expected = path, why, expected


@dataclass(frozen=True)
class ProjectFiles:
    """The files of one project folder, by role."""

    root: Path

    @classmethod
    def of(cls, where: Path | ProjectFiles) -> ProjectFiles:
        """The files object a command made, or one for a bare folder (for the
        entry points a caller may give either: loading, validation)."""
        return where if isinstance(where, ProjectFiles) else cls(where)

    def path(self, relative: str) -> Path:
        return self.root / relative

    def relative(self, path: Path) -> str:
        """`path` as the project-relative name errors and manifests use (a
        symlink is named, not followed)."""
        try:
            return (path.parent.resolve() / path.name).relative_to(
                self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    # -- content ---------------------------------------------------------------------

    def briefs(self) -> dict[str, Path]:
        """slug -> content/briefs/<slug>.yaml, sorted by slug."""
        return self._named(BRIEFS)

    def partners(self) -> dict[str, Path]:
        """id -> content/partners/<id>.yaml, sorted by id."""
        return self._named(PARTNERS)

    def local_partners(self) -> dict[str, dict[str, Path]]:
        """slug -> id -> content/partners/<slug>/<id>.yaml: partners of one brief
        only (a brief brought in with its partners collides with no one's)."""
        briefs = self.briefs()
        base = self.path(PARTNERS)
        return {folder.name: self._named(f"{PARTNERS}/{folder.name}")
                for folder in sorted(base.iterdir()) if folder.name in briefs
                and folder.is_dir() and not folder.is_symlink()} if base.is_dir() else {}

    def catalogs(self) -> dict[str, Path]:
        """language -> templates/i18n/<language>.yaml."""
        return self._named(CATALOGS)

    def unread(self) -> list[Unread]:
        """Every YAML file under content/ or in templates/i18n/ that
        the loader does not read: a suffix other than `.yaml` (`.yml`, `.YAML`),
        or a place it does not look (`content/briefs/drafts/x.yaml`). Hidden
        files and folders (an editor's or a version control's) are left alone."""
        read = {*self.briefs().values(), *self.partners().values(), *self.catalogs().values(),
                self.path(PUBLISHER), *(path for own in self.local_partners().values()
                                        for path in own.values())}
        found = [path for path in self._yaml_like(CONTENT) if path not in read]
        found += [path for path in self.path(CATALOGS).glob("*") if path.suffix.lower()
                  in YAML_SUFFIXES and path not in read]
        return [self._why_unread(path) for path in sorted(set(found))]

    def _yaml_like(self, folder: str) -> list[Path]:
        base = self.path(folder)
        return [path for path in base.rglob("*")
                if path.suffix.lower() in YAML_SUFFIXES and not path.is_dir()
                and not any(part.startswith(".") for part in path.relative_to(base).parts)]

    def _why_unread(self, path: Path) -> Unread:
        """Renamed to `.yaml`, would it be read? Then its suffix is the mistake,
        else its place."""
        folder = self.relative(path.parent)
        if folder in (BRIEFS, PARTNERS, CATALOGS) or (
                folder == CONTENT and path.stem == Path(PUBLISHER).stem):
            return Unread(path, f"`{path.name}` is not read: content files end in "
                          f"{CONTENT_SUFFIX}", f"the file renamed to {path.stem}{CONTENT_SUFFIX}")
        for top in (BRIEFS, PARTNERS):
            if folder.startswith(f"{top}/"):
                return Unread(path, f"`{path.name}` is not read: {top}/ is read without its "
                              "sub-folders", f"the file in {top}/ itself, or outside {CONTENT}/")
        return Unread(path, f"`{path.name}` is not read: {CONTENT}/ holds {Path(PUBLISHER).name}, "
                      f"briefs/ and partners/", f"the file in {BRIEFS}/ or {PARTNERS}/, or "
                      f"outside {CONTENT}/")

    def _named(self, folder: str) -> dict[str, Path]:
        return {path.stem: path for path in sorted(self.path(folder).glob(f"*{CONTENT_SUFFIX}"))}

    # -- what outputs are made from ------------------------------------------------------

    def templates(self) -> list[str]:
        """Every file under templates/, as project-relative names."""
        return self._under(TEMPLATES)

    def fonts(self) -> list[Path]:
        return sorted(self.path(FONTS).glob("*.ttf"))

    def shared_inputs(self) -> list[str]:
        """Every file all outputs depend on: templates, fonts, the lock file."""
        names: list[str] = []
        for top in SHARED_INPUTS:
            names += self._under(top) if self.path(top).is_dir() else (
                [top] if self.path(top).is_file() else [])
        return names

    def inputs(self) -> list[str]:
        """Every file a build reads or checks: all of content/, and the shared inputs."""
        return sorted(set(self._under(CONTENT)) | set(self.shared_inputs())
                      | {self.relative(unread.path) for unread in self.unread()})

    def _under(self, folder: str) -> list[str]:
        base = self.path(folder)
        return sorted(path.relative_to(self.root).as_posix() for path in base.rglob("*")
                      if path.is_file()) if base.is_dir() else []

    # -- outputs -------------------------------------------------------------------------

    @staticmethod
    def output(slug: str, name: str, fmt: str) -> str:
        """output/<slug>/<name>.<suffix>, as a project-relative name."""
        return f"{OUTPUT}/{slug}/{name}.{fmt}"

    # -- reading ---------------------------------------------------------------------------

    def read(self, path: Path, limit: int = MAX_CONTENT_BYTES) -> bytes:
        """The bytes of a regular file inside the project, at most `limit` of them."""
        return read_confined(path, [self.root], limit)

    def digest(self, path: Path, limit: int = MAX_CONTENT_BYTES) -> str:
        """The SHA-256 of what `read` would return (hex). A file is read once
        per process while it stays the same file, unchanged: the fonts, the
        templates and the catalogs are asked for by the build's cache, by every
        remembered verdict and by the font checks."""
        return _digest(path, [self.root], limit)


# (device, inode, size, change and modification times) -> SHA-256 of the file's bytes
_DIGESTS: dict[tuple[int, ...], str] = {}
_KEPT_DIGESTS = 4096


def read_confined(path: Path, roots: list[Path], limit: int) -> bytes:
    """Read `path` if its real location is a regular file inside one of `roots`.

    Opened without blocking (a FIFO does not hang) and checked with fstat
    before anything is read (`/dev/zero` is refused, not read whole).
    """
    with _opened(path, roots, limit) as (fd, _):
        return _read(fd, path, limit)


def _digest(path: Path, roots: list[Path], limit: int) -> str:
    """The SHA-256 of what `read_confined` returns, known without reading the
    file again while it is the same file, unchanged, in this process."""
    with _opened(path, roots, limit) as (fd, info):
        same = same_file(info)
        if same not in _DIGESTS:
            if len(_DIGESTS) >= _KEPT_DIGESTS:
                _DIGESTS.clear()
            _DIGESTS[same] = hashlib.sha256(_read(fd, path, limit)).hexdigest()
        return _DIGESTS[same]


@contextlib.contextmanager
def _opened(path: Path, roots: list[Path], limit: int) -> Iterator[tuple[int, os.stat_result]]:
    """`path` opened, and its status, once it is known to be a regular file
    inside one of `roots` of at most `limit` bytes; an OS error on the way is
    Unreadable."""
    real = path.resolve()
    if not any(real.is_relative_to(root.resolve()) for root in roots):
        raise Unreadable(path, "leads outside the project (a symbolic link?)",
                         "a file inside the project folder")
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise Unreadable(path, "does not exist (a dangling symbolic link?)",
                         "an existing file") from None
    except IsADirectoryError:
        raise Unreadable(path, "is a folder", "a regular file") from None
    except PermissionError:
        raise Unreadable(path, "cannot be read: permission denied",
                         "a file the build may read") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise Unreadable(path, "is a folder", "a regular file")
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(path, "is not a regular file (a device or a pipe)",
                             "a regular file")
        if info.st_size > limit:
            raise Unreadable(path, f"is {info.st_size} bytes", f"at most {limit} bytes")
        yield fd, info
    except OSError as err:
        raise Unreadable(path, f"cannot be read: {err.strerror}", "a readable file") from None
    finally:
        os.close(fd)


def _read(fd: int, path: Path, limit: int) -> bytes:
    chunks = []
    remaining = limit + 1
    while remaining > 0 and (chunk := os.read(fd, min(remaining, 1 << 20))):
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks)
    if len(data) > limit:  # it grew while we read
        raise Unreadable(path, f"is more than {limit} bytes", f"at most {limit} bytes")
    return data
