"""Field marks: which content field each piece of an edition's text comes from.

Every text a template prints from a content field carries the field's
address, `content/briefs/x.yaml#sections[0].title.en` (the project-relative
file, then the field's path in it as editors read it; the language only where
the editor wrote one string per language). The semantic HTML keeps it as a
`data-field` attribute: on the element whose whole text is the field, else on
a `<span>` around it, and for prose on each block the prose made. So the
stages after the HTML can say where a text came from: the typesetting gate
places what it finds at the editor's line, the DOCX marks each field for the
review of a returned file, and `place` turns an address back into a line.

How: the view hands templates each text as a `Field` (a `str` that knows its
address); Jinja's `finalize` prints a field between two noncharacters
(`mark`), which no content may contain; and `settle` turns those marks into
attributes once the template has rendered, dropping them where HTML has no
place for an attribute (inside a tag's attributes, the <title>).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape
from pydantic import BaseModel

from briefing.content.model import Project
from briefing.content.text import Text
from briefing.content.yamlsource import dotted

# Noncharacters (U+FDD0..U+FDEF): content refuses them (content/text.py), so
# in rendered HTML they can only be marks: open, address, separator, text, close.
OPEN, SEP, CLOSE = "\ufdd0", "\ufdd1", "\ufdd2"
ATTRIBUTE = "data-field"


class Field(str):
    """The text of one content field, in one language; `.at` is its address."""

    __slots__ = ("at",)
    at: str

    def __new__(cls, text: str, at: str) -> Field:
        value = super().__new__(cls, text)
        value.at = at
        return value


class FieldMarkup(Markup):
    """A prose field rendered as HTML; `.at` is its address."""

    __slots__ = ("at",)
    at: str

    def __new__(cls, html: str, at: str) -> FieldMarkup:
        value = super().__new__(cls, html)
        value.at = at
        return value


def mark(value: Field | FieldMarkup) -> Markup:
    """How a field prints in `{{ ... }}`: its text (escaped), between marks."""
    return Markup(f"{OPEN}{escape(value.at)}{SEP}") + value + Markup(CLOSE)


# -- where each field was written ----------------------------------------------------

_KNOWN: dict[int, tuple[Project, dict[int, tuple[str, tuple[str | int, ...]]]]] = {}


def addresses(project: Project) -> Mapping[int, tuple[str, tuple[str | int, ...]]]:
    """id(text) -> (project-relative file, path in it), for every text field of
    every record the project loaded from a file; worked out once per project."""
    known = _KNOWN.get(id(project))
    if known is not None and known[0] is project:
        return known[1]
    found: dict[int, tuple[str, tuple[str | int, ...]]] = {}
    for record in _records(project):
        source = project.sources.get(id(record))
        if source is not None:
            file = _relative(source.file, project)
            found.update((key, (file, path)) for key, path in _texts(record, ()))
    _KNOWN.clear()  # one project at a time: a worker renders one project's editions
    _KNOWN[id(project)] = (project, found)
    return found


def address(project: Project, text: Text, language: str) -> str | None:
    """The address of `text` as shown in `language`, or None if it was not
    written in a file (a label made by Briefing, say)."""
    known = addresses(project).get(id(text))
    if known is None:
        return None
    file, path = known
    return f"{file}#{dotted((*path, language) if text.translated else path)}"


def _texts(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[int, tuple[str | int, ...]]]:
    if isinstance(value, Text):
        yield id(value), path
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name), (*path, name))
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from _texts(item, (*path, i))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _texts(item, (*path, key))


def _relative(file: Path, project: Project) -> str:
    """As error messages name it (files.ProjectFiles.relative)."""
    return project.files.relative(file)


def place(project: Project, field: str) -> tuple[str, int, int] | None:
    """An address (`file#path`) as the editor's file, line and column (of the
    nearest value written, if the path goes deeper); None if the project
    loaded no file of that name."""
    file, _, wanted = field.partition("#")
    for record in _records(project):
        source = project.sources.get(id(record))
        if source is not None and _relative(source.file, project) == file:
            return (file, *source.locate(_parsed(wanted)))
    return None


def _records(project: Project) -> list[BaseModel]:
    """The records loaded each from a file of its own."""
    return [project.publisher, *project.briefs, *project.partners.values(),
            *(partner for own in project.local.values() for partner in own.values())]


_PART = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def _parsed(wanted: str) -> tuple[str | int, ...]:
    return tuple(int(index) if index else name for index, name in _PART.findall(wanted))


# -- from marks to attributes ----------------------------------------------------------

# A tag, with quoted attribute values that may hold `>`; a comment; or text.
_TOKEN = re.compile(r"<!--.*?-->|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>|[^<]+|<", re.S)
_MARKED = re.compile(f"{OPEN}([^{SEP}]*){SEP}")
_NO_ATTRIBUTES = {"title", "script", "style", "textarea"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
         "source", "track", "wbr"}


Waiting = tuple[str, int, int, bool]  # a field: address, its two slots, inside a link


def settle(html: str) -> str:
    """The rendered HTML with every field mark made a `data-field` attribute."""
    if OPEN not in html:
        return html
    out: list[str] = []  # the HTML, token by token; "" is a slot a tag may fill
    stack: list[tuple[str, int]] = []  # (tag, index in out) of each open element
    opened: list[tuple[str, int, int]] = []  # (address, slot, depth) of each open field
    # A text field alone in its element marks the element; known when it closes.
    alone: dict[int, Waiting] = {}  # element's index -> the field waiting on it
    raw = False  # inside <title>, <script>...: marks are dropped
    for token in _TOKEN.findall(html):
        if token.startswith("<") and len(token) > 1 and not token.startswith("<!"):
            name = re.match(r"</?\s*([A-Za-z0-9]+)", token)
            tag = name.group(1).lower() if name else ""
            token = _unmarked(token)
            if token.startswith("</"):
                while stack and stack[-1][0] != tag:
                    _closed(out, stack.pop()[1], alone)
                if stack:
                    _closed(out, stack.pop()[1], alone)
                raw = False
            elif tag not in _VOID and not token.endswith("/>"):
                stack.append((tag, len(out)))
                raw = tag in _NO_ATTRIBUTES
            out.append(token)
        elif raw:
            out.append(_unmarked(token))
        else:
            for piece in re.split(f"({OPEN}[^{SEP}]*{SEP}|{CLOSE})", token):
                if piece.startswith(OPEN):
                    opened.append((piece[1:-1], len(out), len(stack)))
                    out.append("")
                elif piece == CLOSE and opened:
                    address, slot, depth = opened.pop()
                    out.append("")
                    _field_closed(out, address, slot, depth, stack, alone)
                elif piece and piece != CLOSE:
                    out.append(piece)
    return "".join(out)


def _field_closed(out: list[str], address: str, slot: int, depth: int,
                  stack: list[tuple[str, int]], alone: dict[int, Waiting]) -> None:
    """A field's text ends: mark the blocks it made, or wait for its element
    to close to see whether the field is all it holds."""
    end = len(out) - 1
    attribute = f' {ATTRIBUTE}="{address}"'
    blocks = _top_level(out[slot + 1:end])
    if blocks is not None:  # prose: each block it made
        for index in blocks:
            out[slot + 1 + index] = _with(out[slot + 1 + index], attribute)
        return
    linked = any(tag == "a" for tag, _ in stack)
    if depth == len(stack) and stack:
        element = stack[-1][1]
        if not "".join(out[element + 1:slot]).strip() and element not in alone:
            alone[element] = (address, slot, end, linked)
            return
    _span(out, address, slot, end, linked)


def _closed(out: list[str], element: int, alone: dict[int, Waiting]) -> None:
    """An element closes: a field waiting on it marks it, if nothing followed."""
    if element not in alone:
        return
    address, slot, end, linked = alone.pop(element)
    if "".join(out[end + 1:]).strip() or ATTRIBUTE in out[element]:
        _span(out, address, slot, end, linked)
    else:
        out[element] = _with(out[element], f' {ATTRIBUTE}="{address}"')


def _span(out: list[str], address: str, slot: int, end: int, linked: bool) -> None:
    """A span around the field's text; none inside a link, where a span of its
    own would be a second link in the PDF (WeasyPrint gives each inline box of
    a link its own annotation): such a field (a number and a title in the
    contents) goes unmarked."""
    if linked:
        return
    out[slot] = f'<span {ATTRIBUTE}="{address}">'
    out[end] = "</span>"


def _top_level(pieces: list[str]) -> list[int] | None:
    """Indices of the top-level start tags, if `pieces` is nothing but whole
    elements (and white space); else None."""
    found, depth = [], 0
    for i, piece in enumerate(pieces):
        if piece.startswith("</"):
            depth -= 1
        elif piece.startswith("<") and len(piece) > 1:
            tag = re.match(r"<\s*([A-Za-z0-9]+)", piece)
            if depth == 0:
                found.append(i)
            if tag and tag.group(1).lower() not in _VOID and not piece.endswith("/>"):
                depth += 1
        elif depth == 0 and piece.strip():
            return None
    return found or None


def _with(tag: str, attribute: str) -> str:
    end = -2 if tag.endswith("/>") else -1
    return tag[:end] + attribute + tag[end:]


def _unmarked(text: str) -> str:
    return _MARKED.sub("", text).replace(CLOSE, "")
