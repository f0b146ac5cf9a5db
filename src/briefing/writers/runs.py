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

from briefing.render.typography import NOBREAK
from briefing.writers.subset import FOOTNOTE

_SPACE = re.compile(r"[ \t\n\r\f]+")


class Unsupported(Exception):
    """An element the DOCX writer cannot map: `why` (default: its tag is
    unknown), and what it would take instead."""

    def __init__(self, element: HtmlElement, why: str = "", expected: str = "") -> None:
        self.element = element
        self.why = why
        self.expected = expected


@dataclass(frozen=True)
class RunStyle:
    bold: bool = False
    italic: bool = False
    link: str | None = None
    fallback: str | None = None  # the language of untranslated text, shown highlighted
    lang: str | None = None  # the HTML `lang` of the passage, where one is stated
    field: str | None = None  # the content field the text shows (writers/fields.py)
    nobreak: bool = False  # <span class="nobreak">: its hyphens are no-break ones


@dataclass(frozen=True)
class Piece:
    """A stretch of inline content: text, a line break (`<br>`: text "\\n" and
    `br`, so that a text that is one newline stays a space), a field (PAGE,
    NUMPAGES), an image, or a footnote (`note`: the pieces of its text, which
    Word keeps apart)."""

    text: str
    style: RunStyle
    field: str | None = None
    image: HtmlElement | None = None
    note: tuple[Piece, ...] | None = None
    br: bool = False

    @property
    def solid(self) -> bool:
        """Fields, images and footnotes are kept whole by whitespace collapsing."""
        return self.field is not None or self.image is not None or self.note is not None


def inline(element: HtmlElement, style: RunStyle, skip: tuple[str, ...] = ()) -> Iterator[Piece]:
    """The pieces of an element's inline content, in order."""
    return pieces(element.text, list(element), style, skip)


def pieces(text: str | None, children: list[HtmlElement], style: RunStyle,
           skip: tuple[str, ...] = ()) -> Iterator[Piece]:
    """The pieces of `text` followed by `children` (each with its tail), in order.

    A loop over an explicit stack, not recursion: however deep the markup is
    nested, the writer never runs out of stack."""
    if text:
        yield Piece(text, style)
    # Each frame: the children still to read, their style, and the tail (with its
    # style) to give once they are all read.
    stack: list[tuple[Iterator[HtmlElement], RunStyle, str | None, RunStyle]] = [
        (iter(children), style, None, style)]
    while stack:
        items, current, _, _ = stack[-1]
        child = next(items, None)
        if child is None:
            _, _, tail, outer = stack.pop()
            if tail:
                yield Piece(tail, outer)
            continue
        inner = _container(child, current, skip)
        if inner is not None:  # an element with content of its own: read it next
            if child.text:
                yield Piece(child.text, inner)
            stack.append((iter(child), inner, child.tail, current))
            continue
        if not isinstance(child.tag, str) or child.tag in skip:
            pass
        elif child.tag == "br":
            yield Piece("\n", current, br=True)
        elif child.tag == "img":
            yield Piece("", current, image=child)
        elif child.tag == "span" and "page-number" in child.classes:
            yield Piece("", current, field="PAGE")
        elif child.tag == "span" and "page-count" in child.classes:
            yield Piece("", current, field="NUMPAGES")
        elif child.tag == "span" and FOOTNOTE in child.classes:
            # A note's text starts afresh: not bold, italic or linked as its call is.
            note = RunStyle(fallback=current.fallback, lang=current.lang)
            yield Piece("", current, note=tuple(pieces(child.text, list(child), note, skip)))
        else:
            raise Unsupported(child)
        if child.tail:
            yield Piece(child.tail, current)


def with_language(element: HtmlElement, style: RunStyle) -> RunStyle:
    """The style of an element's content as its `lang` and `fallback` class say."""
    if element.get("lang"):
        style = replace(style, lang=element.get("lang"))
    if "fallback" in element.classes:
        style = replace(style, fallback=element.get("lang", ""))
    return style


def _container(child: HtmlElement, style: RunStyle, skip: tuple[str, ...]) -> RunStyle | None:
    """The style of a formatting element's content; None for anything else."""
    inner = _formatting(child, style, skip)
    return None if inner is None else with_language(child, inner)


def _formatting(child: HtmlElement, style: RunStyle, skip: tuple[str, ...]) -> RunStyle | None:
    tag = child.tag
    if not isinstance(tag, str) or tag in skip:
        return None
    if tag in ("strong", "b"):
        return replace(style, bold=True)
    if tag in ("em", "i"):
        return replace(style, italic=True)
    if tag == "a":
        href = child.get("href", "")
        return replace(style, link=href if href.startswith(("https://", "http://", "#")) else None)
    if tag == "span" and NOBREAK in child.classes:
        return replace(style, nobreak=True)
    if tag == "span" and not {"page-number", "page-count", FOOTNOTE} & set(child.classes):
        return replace(style, field=child.get("data-field")) if child.get("data-field") \
            else style
    return None


def collapsed(pieces: list[Piece]) -> list[Piece]:
    """Collapse whitespace as CSS `white-space: normal` does, across pieces."""
    out: list[Piece] = []
    at_space = True  # a paragraph starts as if after a space: leading spaces go
    for piece in pieces:
        if piece.solid:
            out.append(piece)
            at_space = False
            continue
        if piece.br:
            trim_end(out)
            out.append(piece)
            at_space = True
            continue
        text = _SPACE.sub(" ", piece.text)
        if at_space:
            text = text.lstrip(" ")
        if text and out and _joins(out[-1], piece):  # one run, one link: not one per <span>
            out[-1] = replace(out[-1], text=out[-1].text + text)
            at_space = text.endswith(" ")
        elif text:
            out.append(replace(piece, text=text))
            at_space = text.endswith(" ")
    trim_end(out)
    return [piece for piece in out if piece.text or piece.solid]


def _joins(before: Piece, piece: Piece) -> bool:
    """Whether `piece` continues the text of `before` in the same run."""
    return not (before.solid or before.br) and before.style == piece.style


def trim_end(pieces: list[Piece]) -> None:
    if pieces and not pieces[-1].solid:
        pieces[-1] = replace(pieces[-1], text=pieces[-1].text.rstrip(" "))


def collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


DOTTED_I = {"az", "tr"}  # languages whose i capitalises as İ and ı as I


def in_caps(text: str, language: str) -> str:
    """Text for a paragraph in a caps style (w:caps). Word and LibreOffice
    capitalise as English does whatever the language: Azerbaijani and Turkish
    `i` would show as I, not İ. So for those languages the capitals are
    written out as the language has them; the others keep their text and let
    the style capitalise."""
    if language.partition("-")[0].lower() not in DOTTED_I:
        return text
    return text.replace("i", "\u0130").replace("\u0131", "I").upper()
