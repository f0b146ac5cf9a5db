"""The project's folders and files: where everything is, and how it is read.

This is the one module that knows the project's layout and file patterns;
every other stage asks it which briefs, partners, catalogs, templates and
fonts there are, and reads them through `read`, which refuses anything that
is not a regular file inside the project (a symlink leading outside, a
device, a FIFO, a folder) and checks the size before reading a byte.
"""

from __future__ import annotations

import os
import stat
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
MISSPELT_SUFFIXES = (".yml",)  # refused with a message, never silently ignored
# Everything every output depends on, besides a brief's own content files.
SHARED_INPUTS = (TEMPLATES, FONTS, LOCK)
# The folders WeasyPrint and the DOCX writer may load assets from.
ASSET_FOLDERS = (TEMPLATES, FONTS)
# The folders a saved change in which `watch` and `serve` react to.
WATCHED = (CONTENT, TEMPLATES, FONTS)

MAX_CONTENT_BYTES = 2 * 1024 * 1024
MAX_ASSET_BYTES = 20 * 1024 * 1024


class Unreadable(Exception):
    """A project file that may not or cannot be read; `why` is for the editor."""

    def __init__(self, path: Path, why: str, expected: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path, self.why, self.expected = path, why, expected


@dataclass(frozen=True)
class ProjectFiles:
    """The files of one project folder, by role."""

    root: Path

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

    def catalogs(self) -> dict[str, Path]:
        """language -> templates/i18n/<language>.yaml."""
        return self._named(CATALOGS)

    def misspelt(self) -> list[Path]:
        """Content files with a suffix Briefing does not read (`.yml`)."""
        return sorted(path for folder in (BRIEFS, PARTNERS, CATALOGS, CONTENT)
                      for suffix in MISSPELT_SUFFIXES
                      for path in self.path(folder).glob(f"*{suffix}"))

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
                      | {self.relative(path) for path in self.misspelt()})

    def _under(self, folder: str) -> list[str]:
        base = self.path(folder)
        return sorted(path.relative_to(self.root).as_posix() for path in base.rglob("*")
                      if path.is_file()) if base.is_dir() else []

    # -- outputs -------------------------------------------------------------------------

    def output(self, slug: str, name: str, fmt: str) -> str:
        """output/<slug>/<name>.<suffix>, as a project-relative name."""
        return f"{OUTPUT}/{slug}/{name}.{fmt}"

    # -- reading ---------------------------------------------------------------------------

    def read(self, path: Path, limit: int = MAX_CONTENT_BYTES) -> bytes:
        """The bytes of a regular file inside the project, at most `limit` of them."""
        return read_confined(path, [self.root], limit)


def read_confined(path: Path, roots: list[Path], limit: int) -> bytes:
    """Read `path` if its real location is a regular file inside one of `roots`.

    Opened without blocking (a FIFO does not hang) and checked with fstat
    before anything is read (`/dev/zero` is refused, not read whole).
    """
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
        chunks = []
        remaining = limit + 1
        while remaining > 0 and (chunk := os.read(fd, min(remaining, 1 << 20))):
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:  # it grew while we read
            raise Unreadable(path, f"is more than {limit} bytes", f"at most {limit} bytes")
        return data
    except OSError as err:
        raise Unreadable(path, f"cannot be read: {err.strerror}", "a readable file") from None
    finally:
        os.close(fd)
