"""Prose fields: the CommonMark dialect editors write, and its HTML.

Prose is running text inside a section the template already titles, so
headings, images, code and rules are not part of it, raw HTML is off and
links must be https. What the dialect allows but the writers cannot show
faithfully (lists nested deeper than Word's list styles go) is refused when
the content is loaded, placed at the field.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

# Word's reference styles have three list levels (List Bullet, List Bullet 2, 3).
MAX_LIST_DEPTH = 3

_PROSE = MarkdownIt("commonmark", {"html": False}).disable([
    "heading", "lheading", "image", "code", "fence", "backticks", "hr",
    "html_block", "html_inline",
])
_PROSE.validateLink = lambda url: url.startswith("https://")  # type: ignore[method-assign]


def render_prose(text: str) -> str:
    """The HTML of one prose field."""
    return _PROSE.render(text)


def render_prose_inline(text: str) -> str:
    """The HTML of a prose field that is one paragraph, without the paragraph
    (for table cells); any other prose as `render_prose` gives it."""
    tokens = _PROSE.parse(text)
    if [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]:
        return _PROSE.renderer.render(tokens[1].children or [], _PROSE.options, {})
    return _PROSE.renderer.render(tokens, _PROSE.options, {})


def prose_problem(text: str) -> str | None:
    """Why `text` cannot be shown the same in every format, or None."""
    depth = 0
    for token in _PROSE.parse(text):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
            if depth > MAX_LIST_DEPTH:
                return (f"a list nested {depth} deep on line {(token.map or [0])[0] + 1} of "
                        f"the text (expected lists nested at most {MAX_LIST_DEPTH} deep)")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
    return None
