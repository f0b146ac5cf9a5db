"""The PDF's stylesheet, checked before anything is rendered.

WeasyPrint logs the declarations it ignores (and the build fails on any log
line), but a stylesheet that does not parse as its author meant, such as a
block whose `}` is missing, swallows the rest of the file without a word and
gives an unstyled PDF. Here such mistakes are placed at their line; so is
what WeasyPrint logs while it parses the stylesheet, for `check` to find it
as the build would.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import tinycss2

from briefing.errors import Problem
from briefing.files import ASSET_FOLDERS, STYLESHEET, ProjectFiles, Unreadable

EXPECTED = "valid CSS: every `{` closed by its `}`, rules not nested"


def stylesheet_problems(root: Path) -> list[Problem]:
    files = ProjectFiles(root)
    try:
        text = files.read(files.path(STYLESHEET)).decode("utf-8")
    except Unreadable as err:
        return [Problem(STYLESHEET, 1, 1, f"the stylesheet {err.why}", expected=err.expected)]
    except UnicodeDecodeError:
        return [Problem(STYLESHEET, 1, 1, "the stylesheet is not UTF-8 text",
                        expected="a UTF-8 encoded stylesheet")]
    problems = []
    for rule in tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True):
        if rule.type == "error":
            problems.append(Problem(STYLESHEET, rule.source_line, rule.source_column,
                                    f"CSS syntax: {rule.message}", expected=EXPECTED))
        elif rule.type == "qualified-rule":
            problems += _nested(rule, "".join(t.serialize() for t in rule.prelude).strip())
        elif rule.type == "at-rule" and rule.lower_at_keyword == "import":
            # WeasyPrint names no file in what it logs of an imported sheet, so
            # its mistakes could not be placed; and every check reads print.css.
            problems.append(Problem(STYLESHEET, rule.source_line, rule.source_column,
                                    "`@import` is not supported: print.css is the one "
                                    "stylesheet of the PDF",
                                    expected="the imported rules written into print.css"))
    return problems


def _nested(rule: tinycss2.ast.QualifiedRule, selector: str) -> list[Problem]:
    """A rule inside a rule: the outer block lost its `}`."""
    for item in tinycss2.parse_blocks_contents(rule.content, skip_comments=True,
                                                skip_whitespace=True):
        if item.type == "qualified-rule":
            return [Problem(STYLESHEET, rule.source_line, rule.source_column,
                            f"the block of `{selector}` is not closed before the rule at "
                            f"{item.source_line}:{item.source_column} (a `}}` is missing?)",
                            expected=EXPECTED)]
    return []


# -- what WeasyPrint itself says of the stylesheet -----------------------------------------

def stylesheet_warnings(root: Path, with_fonts: bool) -> list[Problem]:
    """What WeasyPrint says when it parses print.css (an ignored declaration, a
    resource outside the project), placed at its line and column: what `check`
    reports, so that it passes only what `build` can lay out. The @font-face
    rules are loaded `with_fonts` only: fonts missing or damaged are reported
    by the fonts' own check, at the font."""
    from weasyprint import CSS  # only here: `check` imports no other writer's code
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import FatalURLFetchingError

    from briefing.writers.fetcher import ProjectFetcher

    files = ProjectFiles(root)
    try:
        text = files.read(files.path(STYLESHEET)).decode("utf-8")
    except (Unreadable, UnicodeDecodeError):
        return []  # stylesheet_problems says so
    fetcher = ProjectFetcher([root / folder for folder in ASSET_FOLDERS])
    base = (root / STYLESHEET).resolve().as_uri()
    with weasyprint_messages() as messages:
        try:
            CSS(string=text, base_url=base, url_fetcher=fetcher,
                font_config=FontConfiguration() if with_fonts else None)
        except FatalURLFetchingError as err:
            messages.append(str(err.__cause__ or err))
    return [Problem(STYLESHEET, *position(message, True), f"WeasyPrint: {message}")
            for message in messages]


POSITION = re.compile(r" at (\d+):(\d+)\b")  # WeasyPrint's "Ignored `x` at 12:3, ..."


def position(message: str, in_stylesheet: bool) -> tuple[int, int]:
    """Where in print.css a message belongs: the line and column it names when it
    was logged while print.css was parsed, else the file's start."""
    found = POSITION.search(message) if in_stylesheet else None
    return (int(found[1]), int(found[2])) if found else (1, 1)


_COLLECTING = threading.Lock()  # the logger is the process's: one collection at a time


@contextmanager
def weasyprint_messages() -> Iterator[list[str]]:
    """Collect everything WeasyPrint logs at WARNING or above; other threads
    wait meanwhile (the preview server checks in several), so that no message
    lands in another's list."""
    with _COLLECTING, _collected() as messages:
        yield messages


@contextmanager
def _collected() -> Iterator[list[str]]:
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("weasyprint")
    handler = Collect(logging.WARNING)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
