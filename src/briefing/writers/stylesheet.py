"""The PDF's stylesheet, checked before anything is rendered.

WeasyPrint logs the declarations it ignores (and the build fails on any log
line), but a stylesheet that does not parse as its author meant, such as a
block whose `}` is missing, swallows the rest of the file without a word and
gives an unstyled PDF. So does a comment whose `*/` is missing: it runs on
to the end of the file, or to the end of a later comment, and every rule in
between is silently gone. Here such mistakes are placed at their line (a
comment's at its `/*`); so is what WeasyPrint logs while it parses the
stylesheet, for `check` to find it as the build would.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import tinycss2

from briefing.errors import Problem
from briefing.files import ASSET_FOLDERS, STYLESHEET, ProjectFiles, Unreadable

EXPECTED = "valid CSS: every `{` closed by its `}`, rules not nested"


def stylesheet_problems(files: ProjectFiles) -> list[Problem]:
    try:
        text = files.read(files.path(STYLESHEET)).decode("utf-8")
    except Unreadable as err:
        return [Problem(STYLESHEET, 1, 1, f"the stylesheet {err.why}", expected=err.expected)]
    except UnicodeDecodeError:
        return [Problem(STYLESHEET, 1, 1, "the stylesheet is not UTF-8 text",
                        expected="a UTF-8 encoded stylesheet")]
    problems = _swallowed(text)
    rules = tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True)
    if not rules and not problems:
        problems.append(Problem(STYLESHEET, 1, 1, "the stylesheet has no rules: the PDF would "
                                "come out unstyled", expected="the rules of print.css"))
    for rule in rules:
        if rule.type == "error":
            problems.append(Problem(STYLESHEET, rule.source_line, rule.source_column,
                                    f"CSS syntax: {rule.message}", expected=EXPECTED))
        elif rule.type == "qualified-rule":
            problems += _nested(rule, "".join(t.serialize() for t in rule.prelude).strip())
        elif rule.type == "at-rule" and rule.lower_at_keyword == "page":
            problems += _page_geometry(rule)
        elif rule.type == "at-rule" and rule.lower_at_keyword == "import":
            # WeasyPrint names no file in what it logs of an imported sheet, so
            # its mistakes could not be placed; and every check reads print.css.
            problems.append(Problem(STYLESHEET, rule.source_line, rule.source_column,
                                    "`@import` is not supported: print.css is the one "
                                    "stylesheet of the PDF",
                                    expected="the imported rules written into print.css"))
    return problems


COMMENT_EXPECTED = "every `/*` closed by its `*/`"


def _swallowed(text: str) -> list[Problem]:
    """Comments that hide rules a `*/` was missing for: one never closed, and
    one holding rules that is either most of the file or holds another `/*`
    (a comment that ran on into the next). A comment of a few rules set
    aside on purpose is fine."""
    problems = []
    substance = len("".join(text.split())) or 1
    tokens = tinycss2.parse_component_value_list(text)
    for token in tokens:
        if token.type != "comment":
            continue
        where = (STYLESHEET, token.source_line, token.source_column)
        end = token.source_line + token.value.count("\n")
        if token is tokens[-1] and _unclosed(text, token):
            problems.append(Problem(*where, "this comment is never closed: it hides the rest "
                                    f"of the stylesheet (to line {end})",
                                    expected=COMMENT_EXPECTED))
        elif _holds_rules(token.value) and (
                "/*" in token.value or len("".join(token.value.split())) * 2 > substance):
            problems.append(Problem(*where, f"this comment runs on to line {end} and hides the "
                                    "rules in between (a `*/` is missing?)",
                                    expected=COMMENT_EXPECTED))
    return problems


def _unclosed(text: str, last: tinycss2.ast.Comment) -> bool:
    """Whether the file's last token is a comment with no `*/` (tinycss2 ends an
    unclosed one at the end of the file and says nothing). Its value is read
    from the text with line ends made `\\n`, as tinycss2 reads it."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return text.endswith("/*" + last.value)


def _holds_rules(text: str) -> bool:
    """Whether text, read as CSS, has a rule with a declaration in it."""
    for rule in tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True):
        content = getattr(rule, "content", None) or []
        if any(item.type == "declaration" for item in tinycss2.parse_blocks_contents(
                content, skip_comments=True, skip_whitespace=True)):
            return True
    return False


GEOMETRY = re.compile(r"size|margin(-(top|right|bottom|left))?")


def _page_geometry(rule: tinycss2.ast.AtRule) -> list[Problem]:
    """The paper and its margins are theme.yaml's `page`, for every format: an
    @page size or margin here would set the PDF apart from the DOCX in silence."""
    return [Problem(STYLESHEET, item.source_line, item.source_column,
                    f"`{item.name}` in @page: the page's size and margins are set in "
                    "templates/theme.yaml, for the PDF and the DOCX alike",
                    expected="`page:` in templates/theme.yaml (size, top, right, bottom, left)")
            for item in tinycss2.parse_blocks_contents(rule.content or [], skip_comments=True,
                                                        skip_whitespace=True)
            if item.type == "declaration" and GEOMETRY.fullmatch(item.lower_name)]


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

def stylesheet_warnings(files: ProjectFiles, with_fonts: bool) -> list[Problem]:
    """What WeasyPrint says when it parses print.css (an ignored declaration, a
    resource outside the project), placed at its line and column: what `check`
    reports, so that it passes only what `build` can lay out. The @font-face
    rules are loaded `with_fonts` only: fonts missing or damaged are reported
    by the fonts' own check, at the font."""
    from weasyprint import CSS  # only here: `check` imports no other writer's code
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import FatalURLFetchingError

    from briefing.writers.fetcher import ProjectFetcher

    try:
        text = files.read(files.path(STYLESHEET)).decode("utf-8")
    except (Unreadable, UnicodeDecodeError):
        return []  # stylesheet_problems says so
    fetcher = ProjectFetcher([files.path(folder) for folder in ASSET_FOLDERS])
    base = files.path(STYLESHEET).resolve().as_uri()
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
