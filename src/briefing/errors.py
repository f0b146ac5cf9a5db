"""The errors users see.

Every mistake an editor can make in content or templates becomes a `Problem`
with a place in a file. Problems are collected, never raised one by one, and
reach the user together as a `BuildFailed`. Any other exception that escapes
is a bug in Briefing, and the CLI shows it as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from briefing.files import ProjectFiles


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake, placed as `path:line:col: field: message (expected ...)`."""

    path: str
    line: int
    col: int
    message: str
    field: str = ""
    expected: str = ""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        if self.expected:
            what += f" (expected {self.expected})"
        return shown(f"{where}: {what}")


def shown(text: str) -> str:
    """`text` safe for a terminal: control characters, bidi overrides and line
    separators from content are written as escapes, never passed through."""
    return "".join(_escape(char) for char in text)


def _escape(char: str) -> str:
    import unicodedata

    if char in "\t" or not (unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")
                            or char in "\x7f"):
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class BuildFailed(Exception):
    """Content, templates or rendering went wrong in ways the user can fix."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class Problems:
    """A collector: stages add problems as they find them, and report them together."""

    def __init__(self, where: Path | ProjectFiles) -> None:
        self.files = ProjectFiles.of(where)
        self.root = self.files.root
        self.items: list[Problem] = []

    def add(
        self,
        file: Path,
        line: int,
        col: int,
        message: str,
        field: str = "",
        expected: str = "",
    ) -> None:
        self.items.append(Problem(self.relative(file), line, col, message, field, expected))

    def relative(self, file: Path) -> str:
        """The project-relative name of `file` itself (a symlink is named, not followed)."""
        return self.files.relative(file)


class UsageError(Exception):
    """The command line asked for something that does not exist (exit code 2)."""
