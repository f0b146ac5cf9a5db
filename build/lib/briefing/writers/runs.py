"""Inline HTML as a list of styled pieces, for Word runs.

Whitespace is collapsed exactly as CSS `white-space: normal` does, across
element boundaries, so that the DOCX shows the same words with the same
spaces as the PDF.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from lxml.html import HtmlElement

_SPACE = re.compile(r"[ \t\n\r\f]+")


class Unsupported(Exception):
    def __init__(self, element: HtmlElement, why: str = "") -> None:
        self.element = element
        self.why = why


@dataclass(frozen=True)
class RunStyle:
    bold: bool = False
    italic: bool = False
    link: str | None = None
    fallback: str | None = None  # the language of untranslated text, shown highlighted


@dataclass(frozen=True)
class Piece:
    """A stretch of inline content: text, a field (PAGE, NUMPAGES) or an image."""

    text: str
    style: RunStyle
    field: str | None = None
    image: HtmlElement | None = None

    @property
    def solid(self) -> bool:
        """Fields and images are kept whole by whitespace collapsing."""
        return self.field is not None or self.image is not None


def inline(element: HtmlElement, style: RunStyle, skip: tuple[str, ...]) -> Iterator[Piece]:
    """The pieces of an element's inline content, in order."""
    if element.text:
        yield Piece(element.text, style)
    for child in element:
        if not isinstance(child.tag, str) or child.tag in skip:
            pass
        elif child.tag == "br":
            yield Piece("\n", style)
        elif child.tag == "img":
            yield Piece("", style, image=child)
        elif child.tag in ("strong", "b"):
            yield from inline(child, replace(style, bold=True), skip)
        elif child.tag in ("em", "i"):
            yield from inline(child, replace(style, italic=True), skip)
        elif child.tag == "a":
            href = child.get("href", "")
            link = href if href.startswith(("https://", "#")) else None
            yield from inline(child, replace(style, link=link), skip)
        elif child.tag == "span" and "page-number" in child.classes:
            yield Piece("", style, field="PAGE")
        elif child.tag == "span" and "page-count" in child.classes:
            yield Piece("", style, field="NUMPAGES")
        elif child.tag == "span" and "fallback" in child.classes:
            yield from inline(child, replace(style, fallback=child.get("lang", "")), skip)
        elif child.tag == "span":
            yield from inline(child, style, skip)
        else:
            raise Unsupported(child)
        if child.tail:
            yield Piece(child.tail, style)


def collapsed(pieces: list[Piece]) -> list[Piece]:
    """Collapse whitespace as CSS `white-space: normal` does, across pieces."""
    out: list[Piece] = []
    at_space = True  # a paragraph starts as if after a space: leading spaces go
    for piece in pieces:
        if piece.solid:
            out.append(piece)
            at_space = False
            continue
        if piece.text == "\n":
            trim_end(out)
            out.append(piece)
            at_space = True
            continue
        text = _SPACE.sub(" ", piece.text)
        if at_space:
            text = text.lstrip(" ")
        if text:
            out.append(replace(piece, text=text))
            at_space = text.endswith(" ")
    trim_end(out)
    return [piece for piece in out if piece.text or piece.solid]


def trim_end(pieces: list[Piece]) -> None:
    if pieces and not pieces[-1].solid:
        pieces[-1] = replace(pieces[-1], text=pieces[-1].text.rstrip(" "))


def collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()
