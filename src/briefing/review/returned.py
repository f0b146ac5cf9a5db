"""A returned DOCX, read back as the official left it.

What Briefing wrote into it (writers/fields.py) says which edition it is and
where each field's text lay; what the official's client did to it is read as
WordprocessingML has it, whichever client it was:

- the document's body as paragraphs of *chunks*: stretches of text, each with
  the content controls and bookmarks around it, the comments anchored on it,
  and whether it is a tracked insertion or deletion not yet accepted (with
  its author and date); text inside a field's result (the contents, page
  numbers) is known as such, since Word and LibreOffice rewrite it;
- the comments (comments.xml), with author, date and text.

Each field of the map is then found: by its content control's tag (Word keeps
them), else by its bookmark (LibreOffice 7 drops the tags, keeps bookmarks),
else by its text as built (a field whose anchors went with a copy and paste),
else it is named as not found.
"""

from __future__ import annotations

import difflib
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from briefing.changes.redline import AUTHOR as REDLINE_AUTHOR
from briefing.errors import BuildFailed, Problem
from briefing.writers.fields import NAMESPACE, OBJECT

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MAX_PART_BYTES = 64 * 2**20  # a part larger than this is no official's edit
MAX_PARTS = 2_000
SIMILAR = 0.6  # how alike a paragraph must be to stand for a field whose anchors are lost
WINDOW = 400  # paragraphs after the field found before, where a lost one is looked for
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_blank_text=False)


def w(name: str) -> str:
    return f"{{{W}}}{name}"


@dataclass(frozen=True)
class Change:
    """A tracked change not yet accepted: `kind` is "insertion" or "deletion"."""

    kind: str
    author: str
    date: str
    number: str  # its w:id, to tell two changes apart


@dataclass
class Chunk:
    text: str
    change: Change | None = None
    tags: frozenset[str] = frozenset()
    bookmarks: frozenset[str] = frozenset()
    comments: frozenset[str] = frozenset()
    in_field: bool = False  # in a field's result (contents, page numbers)
    note: str = ""  # the id of the footnote referenced here


@dataclass
class Paragraph:
    chunks: list[Chunk] = field(default_factory=list)


@dataclass(frozen=True)
class Comment:
    number: str
    author: str
    date: str
    text: str


@dataclass(frozen=True)
class Mark:
    """One field's place in the edition as built (an entry of the map)."""

    tag: str
    bookmark: str
    address: str
    group: str
    whole: bool
    text: str


@dataclass
class Found:
    """Where a mark is in the returned file, and how it was found: "tag",
    "bookmark" or "text"; `chunks` are its text, (paragraph, chunk) `at`."""

    mark: Mark
    how: str
    chunks: list[Chunk]
    at: tuple[int, int]

    def text(self, *, accept: bool = False) -> str:
        """The field's text with the pending tracked changes undone, or accepted."""
        return "".join(c.text for c in self.chunks
                       if c.change is None or c.change.kind == ("insertion" if accept
                                                                else "deletion"))


@dataclass
class Returned:
    path: Path
    brief: str
    language: str
    document: str
    name: str
    digest: str
    marks: list[Mark]
    outline: list[str]  # the built paragraphs' text outside the fields (OBJECT for each)
    outline_marks: list[list[str]]  # the tags in each of those paragraphs
    paragraphs: list[Paragraph]
    comments: dict[str, Comment]
    built_notes: list[tuple[str, str]] | None  # (tag of the field referring, text); None:
    # a map written before notes were kept
    notes: dict[str, str]  # footnote id -> its text as returned (tracked changes accepted)
    built_furniture: set[str] | None  # the page headers' and footers' lines as built
    furniture: set[str]  # ... as returned
    found: dict[str, Found] = field(default_factory=dict)  # tag -> where
    lost: list[Mark] = field(default_factory=list)


def read_returned(path: Path, shown_as: str) -> Returned:
    """Read `path`; a file that is no DOCX Briefing wrote is a placed problem."""
    def refuse(why: str, expected: str) -> BuildFailed:
        return BuildFailed([Problem(shown_as, 1, 1, why, expected=expected)])

    try:
        with zipfile.ZipFile(path) as package:
            names = package.namelist()
            if len(names) > MAX_PARTS:
                raise refuse(f"holds {len(names)} parts", "a Word document")
            parts = {name: _read(package, name) for name in names
                     if name in ("word/document.xml", "word/comments.xml", "word/footnotes.xml")
                     or re.fullmatch(r"word/(header|footer)\d*\.xml", name)
                     or (name.startswith("customXml/item") and "Props" not in name)}
    except (OSError, zipfile.BadZipFile) as err:
        raise refuse(f"is not a readable .docx ({err})", "the DOCX as the official "
                     "returned it, saved by Word or LibreOffice") from None
    if parts.get("word/document.xml") is None:
        raise refuse("is not a Word document (no word/document.xml)",
                     "a .docx Briefing built")
    edition = next((root for name, data in sorted(parts.items())
                    if name.startswith("customXml/") and data is not None
                    and (root := _parse(data)) is not None
                    and root.tag == f"{{{NAMESPACE}}}edition"), None)
    if edition is None:
        raise refuse("carries no Briefing edition map: it was not built by Briefing, or "
                     "the client that saved it dropped the map",
                     "a DOCX from output/ (built by this version of Briefing), as returned")
    body = _parse(parts["word/document.xml"])
    if body is None:
        raise refuse("has a word/document.xml that is not XML", "a Word document")
    n = f"{{{NAMESPACE}}}"
    marks = [Mark(e.get("tag", ""), e.get("bookmark", ""), e.get("address", ""),
                  e.get("group", ""), e.get("whole") == "1", e.text or "")
             for e in edition.iterfind(f"{n}fields/{n}field")]
    outline, outline_marks = [], []
    for p in edition.iterfind(f"{n}text/{n}p"):
        text = p.text or ""
        tags = []
        for f in p:
            text += OBJECT + (f.tail or "")
            tags.append(f.get("tag", ""))
        outline.append(text)
        outline_marks.append(tags)
    returned = Returned(path, edition.get("brief", ""), edition.get("language", ""),
                        edition.get("document", ""), edition.get("name", ""),
                        edition.get("digest", ""), marks, outline, outline_marks,
                        _Walker().paragraphs(body), _comments(parts.get("word/comments.xml")),
                        None if edition.find(f"{n}notes") is None else
                        [(note.get("tag", ""), note.text or "")
                         for note in edition.iterfind(f"{n}notes/{n}note")],
                        _footnotes(parts.get("word/footnotes.xml")),
                        None if edition.find(f"{n}furniture") is None else
                        {p.text or "" for p in edition.iterfind(f"{n}furniture/{n}p")},
                        _furniture(parts))
    _locate(returned)
    return returned


def _read(package: zipfile.ZipFile, name: str) -> bytes | None:
    info = package.getinfo(name)
    if info.file_size > MAX_PART_BYTES:
        return None
    with package.open(info) as stream:
        return stream.read(MAX_PART_BYTES + 1)[:MAX_PART_BYTES]


def _parse(data: bytes) -> etree._Element | None:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return None


class _Walker:
    """The body as paragraphs of chunks, in document order."""

    def __init__(self) -> None:
        self.out: list[Paragraph] = []
        self.bookmarks: dict[str, str] = {}  # open bookmark id -> name
        self.comments: set[str] = set()  # open comment ranges
        self.fields = 0  # how deep in field results
        self.field_states: list[str] = []

    def paragraphs(self, document: etree._Element) -> list[Paragraph]:
        body = document.find(w("body"))
        if body is not None:
            self.walk(body, frozenset(), None)
        return self.out

    def walk(self, element: etree._Element, tags: frozenset[str], change: Change | None) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            if tag == w("p"):
                self.out.append(Paragraph())
                self.walk(child, tags, change)
            elif tag == w("sdt"):
                value = child.find(f"{w('sdtPr')}/{w('tag')}")
                inner = tags | {value.get(w("val"), "")} if value is not None else tags
                if element.tag != w("body") and element.tag != w("tc"):  # inline: where it
                    self.chunk("", inner, change)  # is, even when it is empty
                content = child.find(w("sdtContent"))
                if content is not None:
                    self.walk(content, inner, change)
            elif tag in (w("ins"), w("del"), w("moveTo"), w("moveFrom")):
                kind = "insertion" if tag in (w("ins"), w("moveTo")) else "deletion"
                if child.get(w("author"), "") == REDLINE_AUTHOR:
                    # A redline's own changes (`briefing changes --format redline`)
                    # are the edition as built: its insertions are its text, its
                    # deletions were the previous version's. Only an official's
                    # changes are reviewed.
                    if kind == "insertion":
                        self.walk(child, tags, change)
                    continue
                self.walk(child, tags, Change(kind, child.get(w("author"), ""),
                                              _date(child.get(w("date"), "")),
                                              child.get(w("id"), "")))
            elif tag == w("bookmarkStart"):
                self.bookmarks[child.get(w("id"), "")] = child.get(w("name"), "")
                self.chunk("", tags, change)
            elif tag == w("bookmarkEnd"):
                self.bookmarks.pop(child.get(w("id"), ""), None)
            elif tag == w("commentRangeStart"):
                self.comments.add(child.get(w("id"), ""))
            elif tag == w("commentRangeEnd"):
                self.comments.discard(child.get(w("id"), ""))
            elif tag == w("r"):
                self.run(child, tags, change)
            elif tag in (w("pPr"), w("rPr"), w("sdtPr"), w("sectPr"), w("tblPr"), w("tcPr"),
                         w("trPr"), w("tblGrid")):
                continue
            elif tag == w("fldSimple"):
                self.fields += 1
                self.walk(child, tags, change)
                self.fields -= 1
            else:  # tables, rows, cells, links, smart tags, custom XML: their content
                self.walk(child, tags, change)

    def run(self, run: etree._Element, tags: frozenset[str], change: Change | None) -> None:
        for node in run:
            tag = node.tag
            if tag == w("fldChar"):
                kind = node.get(w("fldCharType"))
                if kind == "begin":
                    self.field_states.append("code")
                elif kind == "separate" and self.field_states:
                    self.field_states[-1] = "result"
                elif kind == "end" and self.field_states:
                    self.field_states.pop()
            elif tag == w("commentReference"):
                self.chunk("", tags, change, comments={node.get(w("id"), "")})
            elif tag == w("footnoteReference"):
                self.chunk("", tags, change)
                self.out[-1].chunks[-1].note = node.get(w("id"), "")
            elif self.field_states and self.field_states[-1] == "code":
                continue
            elif tag in (w("t"), w("delText")):
                self.chunk(node.text or "", tags, change)
            elif tag == w("tab"):
                self.chunk("\t", tags, change)
            elif tag in (w("br"), w("cr")):
                self.chunk("\n", tags, change)
            elif tag == w("noBreakHyphen"):
                self.chunk("\u2011", tags, change)
            # w:softHyphen is no character of the text, as the map has it (writers/fields.py)

    def chunk(self, text: str, tags: frozenset[str], change: Change | None,
              comments: set[str] = frozenset()) -> None:
        if not self.out:
            self.out.append(Paragraph())
        in_field = self.fields > 0 or "result" in self.field_states
        self.out[-1].chunks.append(Chunk(text, change, tags, frozenset(self.bookmarks.values()),
                                         frozenset(self.comments | set(comments)), in_field))


def _date(stamp: str) -> str:
    """A w:date as written, or "" for none: LibreOffice writes a comment made
    without one as `0-00-00T00:00:00Z`."""
    return stamp if re.match(r"[1-9]\d{3}-\d\d-\d\d", stamp) else ""


def _furniture(parts: dict[str, bytes | None]) -> set[str]:
    """Every paragraph's text in the page headers and footers, as the map has it."""
    found = set()
    for name, data in parts.items():
        root = _parse(data) if data and re.fullmatch(r"word/(header|footer)\d*\.xml", name) \
            else None
        if root is None:
            continue
        walker = _Walker()
        walker.walk(root, frozenset(), None)
        for paragraph in walker.out:
            text = " ".join("".join(c.text for c in paragraph.chunks if not c.in_field and not (
                c.change and c.change.kind == "deletion")).split())
            if text:
                found.add(text)
    return found


def _footnotes(data: bytes | None) -> dict[str, str]:
    """Each footnote's text as returned, pending tracked changes accepted."""
    root = _parse(data) if data else None
    if root is None:
        return {}
    found = {}
    for note in root.iter(w("footnote")):
        if note.get(w("type"), "normal") != "normal":
            continue
        walker = _Walker()  # the body's own walker: no-break hyphens, tabs, breaks too
        walker.walk(note, frozenset(), None)
        lines = ["".join(c.text for c in paragraph.chunks
                         if not (c.change and c.change.kind == "deletion"))
                 for paragraph in walker.out]
        found[note.get(w("id"), "")] = "\n".join(lines).strip()
    return found


def _comments(data: bytes | None) -> dict[str, Comment]:
    root = _parse(data) if data else None
    if root is None:
        return {}
    found = {}
    for comment in root.iter(w("comment")):
        text = "\n".join("".join(t.text or "" for t in p.iter(w("t")))
                         for p in comment.iter(w("p")))
        number = comment.get(w("id"), "")
        found[number] = Comment(number, comment.get(w("author"), ""),
                                _date(comment.get(w("date"), "")), text.strip())
    return found


# -- finding each mark ------------------------------------------------------------------

def _locate(returned: Returned) -> None:
    """Each mark by tag, else bookmark; then the rest by their text, between the
    marks found around them."""
    by_tag: dict[str, list[tuple[int, int, Chunk]]] = {}
    by_bookmark: dict[str, list[tuple[int, int, Chunk]]] = {}
    for p, paragraph in enumerate(returned.paragraphs):
        for c, chunk in enumerate(paragraph.chunks):
            for tag in chunk.tags:
                by_tag.setdefault(tag, []).append((p, c, chunk))
            for name in chunk.bookmarks:
                by_bookmark.setdefault(name, []).append((p, c, chunk))
    claimed: set[tuple[int, int]] = set()
    for mark in returned.marks:
        # Both anchors together: a link in a field is inside its bookmark only
        # (writers/fields.py), and text typed at a field's edge may be inside one only.
        places = sorted({place[:2]: place for place in [*by_tag.get(mark.tag, []),
                                                         *by_bookmark.get(mark.bookmark, [])]
                         }.values(), key=lambda place: place[:2])
        if places:
            how = "tag" if mark.tag in by_tag else "bookmark"
            returned.found[mark.tag] = Found(mark, how, [chunk for _, _, chunk in places],
                                             places[0][:2])
            claimed |= {place[:2] for place in places}
    for index, mark in enumerate(returned.marks):
        if mark.tag in returned.found:
            continue
        low = _bound(returned, index, -1)
        high = _bound(returned, index, 1)
        place = _by_text(returned, mark, low, high, claimed)
        if place is None:
            returned.lost.append(mark)
        else:
            returned.found[mark.tag] = place
            claimed |= {(place.at[0], c) for c in range(len(returned.paragraphs[place.at[0]]
                                                            .chunks))} if mark.whole else set()


def _bound(returned: Returned, index: int, step: int) -> int:
    """The paragraph of the nearest mark found before (or after) mark `index`."""
    i = index + step
    while 0 <= i < len(returned.marks):
        found = returned.found.get(returned.marks[i].tag)
        if found is not None:
            return found.at[0]
        i += step
    return -1 if step < 0 else len(returned.paragraphs)


def _by_text(returned: Returned, mark: Mark, low: int, high: int,
             claimed: set[tuple[int, int]]) -> Found | None:
    """A mark whose anchors are gone: its paragraph, if it was all of one and one
    paragraph between its neighbours is that text (or, for a paragraph, the
    most alike); else its exact text within one."""
    start = max(low, 0)
    candidates = range(start, min(high + 1, len(returned.paragraphs), start + WINDOW))
    best, best_ratio = None, 0.0
    for p in candidates:
        paragraph = returned.paragraphs[p]
        free = [c for i, c in enumerate(paragraph.chunks) if (p, i) not in claimed
                and not c.in_field]
        accepted = "".join(c.text for c in free if not c.change or c.change.kind == "insertion")
        if mark.whole:
            if accepted.strip() == mark.text.strip():
                return Found(mark, "text", free, (p, 0))
            matcher = difflib.SequenceMatcher(None, accepted, mark.text, autojunk=False)
            if matcher.real_quick_ratio() < SIMILAR or matcher.quick_ratio() < SIMILAR:
                continue
            ratio = matcher.ratio()
            if accepted.strip() and ratio > best_ratio:
                best, best_ratio = (p, free), ratio
        elif mark.text and mark.text in accepted:
            return Found(mark, "text", [Chunk(mark.text)], (p, 0))
    if best is not None and best_ratio >= SIMILAR:
        return Found(mark, "text", best[1], (best[0], 0))
    return None


def outside(returned: Returned) -> Iterator[tuple[str, list[str]]]:
    """The returned body's paragraphs as text outside the fields found (OBJECT
    for each field), with the tags of the fields in each; field results and
    empty paragraphs left out, as the map leaves them out."""
    owner: dict[int, str] = {}  # id(chunk) -> the tag of the field it shows
    inline: dict[int, list[tuple[str, str]]] = {}  # paragraph -> (text, tag) found by text
    for found in returned.found.values():
        if found.how == "text" and not found.mark.whole:
            inline.setdefault(found.at[0], []).append((found.mark.text, found.mark.tag))
            continue
        for chunk in found.chunks:
            owner.setdefault(id(chunk), found.mark.tag)
    for p, paragraph in enumerate(returned.paragraphs):
        text, tags, previous = "", [], None
        for chunk in paragraph.chunks:
            tag = owner.get(id(chunk))
            if tag is not None:
                if tag != previous:
                    text += OBJECT
                    tags.append(tag)
                previous = tag
                continue
            previous = None
            if chunk.in_field or (chunk.change and chunk.change.kind == "deletion"):
                continue
            text += chunk.text
        for piece, tag in inline.get(p, []):
            if piece in text:
                text = text.replace(piece, OBJECT, 1)
                tags.append(tag)
        if text.strip():
            yield text, tags
