"""The change annex of a brief's documents: what changed since its previous
published version, worked out once in the build's own process and handed to
every edition (the annex at the end of the report, the note's one-line
pointer, the change bars in the margin of the changed passages).

The previous version is the latest published version of the brief whose
content differs from the brief as it is now (compare.py finds a change): so
the working folder after an edit is compared with the last version, and
right after `publish` made version 2 from it (the two are the same), the
documents still say what changed since version 1, as version 2's own archived
PDF/A does.

What the annex reads of the previous version (its `content/` and catalogs,
under `archive/<edition>/data/source/`) is part of what an edition is made
from: the build cache's fingerprint (so publishing a version rebuilds what it
changes), and the source an archived edition carries (so that `verify`
rebuilds the same annex from the PDF's own attachment, with no archive).
A brief says `change_annex: false` to have none of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from briefing.changes.compare import Changes, compare, trimmed
from briefing.changes.report import Since
from briefing.changes.wording import Wording, sentences
from briefing.content.dates import PartialDate
from briefing.content.model import Project
from briefing.content.text import Prose, Text
from briefing.errors import BuildFailed, Problem
from briefing.files import ARCHIVE, CATALOGS, CONTENT
from briefing.render.layout import FURNITURE
from briefing.versions import MANIFEST

# What of a previous version the annex reads: the comparison's inputs.
READ = (CONTENT, CATALOGS)
CHANGED = "changed"  # the class a change bar's element gets (print.css, screen.css)
# The name of a record, where a change shows when none of its changed fields is text.
NAMES = ("title", "label", "name", "place", "topic", "caption", "text", "by")


@dataclass(frozen=True)
class Annex:
    """A brief's changes since its previous published version."""

    changes: Changes
    since: Since
    edition: Path  # the previous version's folder in archive/
    files: tuple[str, ...]  # what of it the annex read, project-relative
    _marks: dict[str, dict[str, tuple[str, ...] | None]] = field(
        default_factory=dict, compare=False, repr=False)

    def title(self, wording: Wording) -> str:
        if self.since.version is None:  # a git revision (`briefing changes --since REV`)
            return wording.title(wording.label("change_since_revision",
                                               revision=self.since.revision or ""))
        return wording.label("annex_title", number=str(self.since.version),
                             date=self.date(wording))

    def date(self, wording: Wording) -> str:
        if not self.since.date:
            return ""
        return PartialDate.parse(self.since.date).format(wording.locale)

    def pointer(self, wording: Wording) -> str:
        """`3 changes since 12 May 2026`, in the language's plural form."""
        from babel import Locale

        count = len(self.changes)
        form = Locale.parse(wording.locale).plural_form(count)
        key = f"annex_pointer_{form}"
        if key not in wording.labels:
            key = "annex_pointer_other"
        return wording.label(key, count=str(count), date=self.date(wording))

    def view(self, language: str, anchor: str) -> Any:
        """What templates get as `changes` in an edition of `language`."""
        from briefing.render.view import Node

        wording = Wording(self.changes, language)
        groups = []
        prose = False
        for heading, said in sentences(self.changes, language):
            items = []
            for sentence in said:
                paragraphs = tuple(tuple(Node("piece", {"kind": kind, "text": text})
                                         for kind, text in trimmed(paragraph))
                                   for paragraph in sentence.paragraphs)
                prose = prose or bool(paragraphs)
                items.append(Node("change", {"text": sentence.text, "paragraphs": paragraphs}))
            groups.append(Node("change_group", {"heading": heading, "changes": tuple(items)}))
        return Node("changes", {
            "anchor": anchor,
            "title": self.title(wording),
            "count": len(self.changes),
            "pointer": self.pointer(wording),
            "version": self.since.version,
            "date": self.date(wording),
            "groups": tuple(groups),
            "legend": prose,  # whether changed words are marked (and need saying how)
        })

    def marks(self, project: Project, language: str) -> dict[str, tuple[str, ...] | None]:
        """The field addresses (render/fields.py) of the changed passages in the
        edition of `language`, each with the words added to it (a prose field:
        only its blocks holding those get a bar) or None (the whole field)."""
        if language in self._marks:
            return self._marks[language]
        from briefing.render.fields import address

        scoped = project.for_brief(self.changes.slug)
        wording = Wording(self.changes, language)
        found: dict[str, tuple[str, ...] | None] = {}
        for change in self.changes.changes:
            if change.new is None:
                continue
            for text, words in _changed_texts(change, wording):
                at = address(scoped, text, language)
                if at is None:
                    continue
                if words is None or found.get(at, ()) is None:
                    found[at] = None
                else:
                    found[at] = (*found.get(at, ()), *words)  # type: ignore[misc]
        self._marks[language] = found
        return found


def _changed_texts(change: Any, wording: Wording
                   ) -> Iterator[tuple[Text, tuple[str, ...] | None]]:
    """The texts of the new version that show a change, each with the words
    added to it when only some of its paragraphs changed."""
    if change.kind == "added":
        yield from ((text, None) for text in _texts(change.new))
        return
    shown = False
    for found in change.fields:
        if isinstance(found.new, Prose) and isinstance(found.old, Prose):
            words = tuple(piece for paragraph in
                          _paragraphs(wording.text(found.old), wording.text(found.new))
                          for piece in paragraph)
            yield found.new, words or None
            shown = True
            continue
        for text in _texts(found.new):
            yield text, None
            shown = True
    if not shown:  # a date, an amount, a choice: the record's name shows it
        for name in NAMES:
            value = getattr(change.new, name, None)
            if isinstance(value, Text):
                yield value, None
                break


def _paragraphs(old: str, new: str) -> list[tuple[str, ...]]:
    from briefing.changes.compare import paragraphs_changed

    return [tuple(text.strip() for kind, text in paragraph if kind == "added" and text.strip())
            for paragraph in paragraphs_changed(old, new)]


def _texts(value: Any) -> Iterator[Text]:
    if isinstance(value, Text):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name))
    elif isinstance(value, tuple):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)


# -- which version, once per process -------------------------------------------------

_MEMO: dict[tuple[str, str], tuple[Project, tuple[str, ...], Annex | None]] = {}


def annex(root: Path, project: Project, slug: str) -> Annex | None:
    """Brief `slug`'s annex against its previous published version, or None
    (no such version, or the brief says `change_annex: false`). Raises
    BuildFailed, placed in the archive, when that version cannot be read."""
    from briefing.archive.publish import versions

    brief = next((brief for brief in project.briefs if brief.slug == slug), None)
    if brief is None or not brief.change_annex:  # no such brief: its render says so
        return None
    found = tuple(path.name for path in versions(root / ARCHIVE, slug))
    key = (str(root.resolve()), slug)
    known = _MEMO.get(key)
    if known is not None and known[0] is project and known[1] == found:
        return known[2]
    made = _previous(root, project, slug)
    if len(_MEMO) > 64:
        _MEMO.clear()
    _MEMO[key] = (project, found, made)
    return made


def _previous(root: Path, project: Project, slug: str) -> Annex | None:
    from briefing.archive.publish import versions
    from briefing.versions import archived

    for edition in reversed(versions(root / ARCHIVE, slug)):
        version = archived(root, edition, slug)
        changes = compare(version.project, project, slug)
        if len(changes):
            since = Since(version.number, version.date, edition.name)
            return Annex(changes, since, edition, tuple(_read(root, edition)))
    return None


def _read(root: Path, edition: Path) -> Iterator[str]:
    """The previous version's files the annex reads, project-relative: its
    source as loaded, and the manifest that source is checked against."""
    if (edition / MANIFEST).is_file():
        yield (edition / MANIFEST).relative_to(root).as_posix()
    source = edition / "data" / "source"
    for folder in READ:
        base = source / folder
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    yield path.relative_to(root).as_posix()


def annexes(root: Path, project: Project, slugs: list[str]
            ) -> tuple[dict[str, Annex | None], dict[str, list[Problem]]]:
    """The annex of each brief, and the problems of those whose previous
    version cannot be read (such a brief fails, as a broken file would)."""
    made: dict[str, Annex | None] = {}
    problems: dict[str, list[Problem]] = {}
    for slug in slugs:
        try:
            made[slug] = annex(root, project, slug)
        except BuildFailed as failed:
            problems[slug] = failed.problems
    return made, problems


def files(root: Path, project: Project, slug: str) -> tuple[str, ...]:
    """What an edition of brief `slug` reads of its previous version (for the
    cache's fingerprint and the archived source); () if it has no annex or
    that version cannot be read (the build then reports why)."""
    try:
        found = annex(root, project, slug)
    except BuildFailed:
        return ()
    return found.files if found else ()


# -- change bars -----------------------------------------------------------------------

_TOKEN = re.compile(r"<!--.*?-->|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>|[^<]+|<", re.S)
_FIELD = re.compile(r'\sdata-field="([^"]*)"')
_BARRED = {"p", "li", "h1", "h2", "h3", "dt", "dd", "figcaption", "blockquote", "tr"}
_CELLS = {"td", "th"}
_HOLDERS = {"ul", "ol", "table", "dl"}  # a bar goes on their items
_ITEMS = {"li", "tr", "dt", "dd"}
_NONWORD = re.compile(r"\W+")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
         "source", "track", "wbr"}


def bars(html: str, marks: Mapping[str, tuple[str, ...] | None]) -> str:
    """`html` with class `changed` on the block holding each changed field: a
    table cell's row; a list's or table's items (prose makes those); of a
    prose field that changed in part, only the blocks holding added words."""
    if not marks:
        return html
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    pending: list[tuple[int, int, tuple[str, ...], list[str]]] = []  # depth, target, words, text
    inside: list[tuple[int, tuple[str, ...] | None]] = []  # marked lists and tables: depth, words
    chosen: set[int] = set()
    term: int | None = None  # the last <dt>
    furniture: list[int] = []  # open running headers and footers: depth
    for token in _TOKEN.findall(html):
        if token.startswith("</"):
            tag = token[2:].strip(" >").lower()
            while stack:
                if stack.pop()[0] == tag:
                    break
            while furniture and furniture[-1] > len(stack):
                furniture.pop()
            while pending and pending[-1][0] > len(stack):
                _, target, words, text = pending.pop()
                said = _plain(unescape("".join(text)))
                if any(_plain(word) in said for word in words if _plain(word).strip()):
                    chosen.add(target)
            while inside and inside[-1][0] > len(stack):
                inside.pop()
        elif token.startswith("<") and len(token) > 1 and not token.startswith("<!"):
            name = re.match(r"<\s*([A-Za-z0-9]+)", token)
            tag = name.group(1).lower() if name else ""
            opens = tag not in _VOID and not token.endswith("/>")
            if opens:
                stack.append((tag, len(out)))
                if FURNITURE & set(_classes(token)):
                    furniture.append(len(stack))
            if tag == "dt":
                term = len(out)
            # A field the running header repeats on every page (the title) gets
            # its bar where it stands in the text, not beside every header.
            at = None if furniture else _FIELD.search(token)
            found: tuple[str, ...] | bool | None = marks[at.group(1)] \
                if at and at.group(1) in marks else False
            if found is False and opens and inside and tag in _ITEMS:
                found = inside[-1][1]  # an item of a marked list or table
            if found is not False and opens and tag in _HOLDERS:
                inside.append((len(stack), found))  # type: ignore[arg-type]
            elif found is not False:
                target = _target(stack if opens else [*stack, (tag, len(out))])
                if opens and tag == "dd" and target == stack[-1][1] and term is not None:
                    target = term  # a term and its definition: one bar, beside the term
                if target is not None and found is None:
                    chosen.add(target)
                elif target is not None and opens:
                    pending.append((len(stack), target, found, []))  # type: ignore[arg-type]
        else:
            for _, _, _, text in pending:
                text.append(token)
        out.append(token)
    for index in chosen:
        out[index] = _with_class(out[index])
    return "".join(out)


def _plain(text: str) -> str:
    """Words only: prose's source and its HTML read alike (no `*`, no tags)."""
    return " " + " ".join(_NONWORD.sub(" ", text).split()) + " "


def _target(stack: list[tuple[str, int]]) -> int | None:
    """The element a change bar goes on: the nearest block (a cell's row)."""
    for tag, index in reversed(stack):
        if tag in _BARRED:
            return index
        if tag in _CELLS:
            continue
    return None


def _classes(tag: str) -> list[str]:
    found = re.search(r'\sclass="([^"]*)"', tag)
    return found.group(1).split() if found else []


def _with_class(tag: str) -> str:
    found = re.search(r'\sclass="([^"]*)"', tag)
    if found:
        classes = found.group(1).split()
        if CHANGED in classes:
            return tag
        return f'{tag[:found.start(1)]}{" ".join([*classes, CHANGED])}{tag[found.end(1):]}'
    name = re.match(r"<\s*[A-Za-z0-9]+", tag)
    assert name is not None
    return f'{tag[:name.end()]} class="{CHANGED}"{tag[name.end():]}'
