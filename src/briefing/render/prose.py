"""Prose fields: CommonMark to HTML, with raw HTML off.

Prose is running text inside a section the template already titles, so
headings, images, code and rules are not part of it; links must be https.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

_PROSE = MarkdownIt("commonmark", {"html": False}).disable([
    "heading", "lheading", "image", "code", "fence", "backticks", "hr",
    "html_block", "html_inline",
])
_PROSE.validateLink = lambda url: url.startswith("https://")  # type: ignore[method-assign]


def render_prose(text: str) -> str:
    """The HTML of one prose field."""
    return _PROSE.render(text)
