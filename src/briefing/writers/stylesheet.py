"""The PDF's stylesheet, checked before anything is rendered.

WeasyPrint logs the declarations it ignores (and the build fails on any log
line), but a stylesheet that does not parse as its author meant, such as a
block whose `}` is missing, swallows the rest of the file without a word and
gives an unstyled PDF. Here such mistakes are placed at their line.
"""

from __future__ import annotations

from pathlib import Path

import tinycss2

from briefing.errors import Problem
from briefing.files import STYLESHEET, ProjectFiles, Unreadable

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
