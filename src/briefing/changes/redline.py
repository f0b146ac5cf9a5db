"""A redline DOCX: the new version of a brief's report with what changed since
the previous version as Word's own tracked changes (`w:ins`, `w:del`), so an
official can accept or reject each in Word or LibreOffice.

How: both versions are rendered to DOCX by the build's own workers and writer
(without their change annex), from the same templates, so their paragraphs
line up. The blocks of both bodies (each paragraph, and each table row as
one block) are aligned by their text with difflib (its junk heuristic off);
a block only in the new version is marked inserted, one only in the old
version is copied in, marked deleted, and a block changed in place gets its
changed words: added words are the new version's own runs wrapped in
`w:ins` (split at word boundaries, keeping their formatting, links and
content controls), removed words a `w:del` run beside them. The contents
field is left as the new version has it (Word updates it). Every change is by
"Briefing" on the new version's issue date, so the same two versions give
the same bytes. Why this route and not the semantic comparison or another
tool: docs/changes.md.
"""

from __future__ import annotations

import copy
import difflib
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace

from lxml import etree

from briefing.content.model import Project
from briefing.errors import BuildFailed
from briefing.files import ProjectFiles
from briefing.writers.wordml import SETTINGS_ORDER

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
AUTHOR = "Briefing"
DOCUMENT = "word/document.xml"
_WORDS = re.compile(r"\s+|[^\s]+")
SETTINGS = "word/settings.xml"
# What comes before w:trackRevisions in w:settings (ECMA-376 Part 1, CT_Settings).
BEFORE_TRACKING = frozenset(SETTINGS_ORDER[:SETTINGS_ORDER.index("trackRevisions")])


def q(name: str) -> str:
    return f"{{{W}}}{name}"


# -- rendering the two versions ------------------------------------------------------------


def render_docx(design: ProjectFiles, project: Project, slug: str, language: str) -> bytes:
    """The report of brief `slug` in `language` as the build writes its DOCX,
    without a change annex, laid out with the templates, theme and fonts of
    `design` (an old version's content in today's design: only the content
    differs between the two)."""
    from briefing.orchestration.workers import Job, Limits, render_all
    from briefing.render.edition import editions

    project = replace(project, files=design)
    brief = project.brief(slug)
    edition = next(e for e in editions(project, brief, (language,)) if e.kind == "report")
    for _, outputs, problems in render_all(project, [Job(edition, ("docx",))], 1,
                                           Limits(), annex=False):
        if problems:
            raise BuildFailed(problems)
        return outputs[0][1]
    raise AssertionError("render_all yields one outcome per job")


def redline(old: Project, new: Project, slug: str, language: str | None = None) -> bytes:
    """The new version's report DOCX with the changes since `old` tracked, both
    laid out with the new version's templates."""
    brief = new.brief(slug)
    language = language or brief.languages[0]
    before = render_docx(new.files, old, slug, language)
    after = render_docx(new.files, new, slug, language)
    return tracked(before, after, f"{brief.date.first_day.isoformat()}T00:00:00Z")


# -- comparing two DOCX files ---------------------------------------------------------------


def tracked(before: bytes, after: bytes, date: str) -> bytes:
    """`after` with its differences from `before` as tracked changes."""
    with zipfile.ZipFile(io.BytesIO(before)) as package:
        old = etree.fromstring(package.read(DOCUMENT))
    with zipfile.ZipFile(io.BytesIO(after)) as package:
        parts = {info: package.read(info.filename) for info in package.infolist()}
    info = next(info for info in parts if info.filename == DOCUMENT)
    new = etree.fromstring(parts[info])
    _Marker(date).compare(old, new)
    parts[info] = etree.tostring(new, xml_declaration=True, encoding="UTF-8", standalone=True)
    settings = next((info for info in parts if info.filename == SETTINGS), None)
    if settings is not None:
        parts[settings] = _tracking(parts[settings])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for item, data in parts.items():
            package.writestr(item, data)
    return out.getvalue()


def _tracking(data: bytes) -> bytes:
    """word/settings.xml with Track Changes on, so an official's own edits of
    the redline are tracked too (w:trackRevisions, in the schema's order)."""
    settings = etree.fromstring(data)
    if settings.find(q("trackRevisions")) is not None:
        return data
    track = etree.Element(q("trackRevisions"))
    before = [child for child in settings if etree.QName(child).localname in BEFORE_TRACKING]
    if before:
        before[-1].addnext(track)
    else:
        settings.insert(0, track)
    return etree.tostring(settings, xml_declaration=True, encoding="UTF-8", standalone=True)


@dataclass
class _Block:
    element: etree._Element  # a w:p, or a w:tr
    text: str

    @property
    def row(self) -> bool:
        return self.element.tag == q("tr")


def blocks(document: etree._Element) -> list[_Block]:
    """The body's paragraphs and table rows in reading order; the contents
    (styles TOC...) left out, since Word makes them again."""
    body = document.find(q("body"))
    assert body is not None
    return list(_blocks(body))


def _blocks(container: etree._Element) -> Iterator[_Block]:
    """Paragraphs, and rows of tables; a table that frames others (the key
    facts' box) is read through, its own paragraphs and its tables' rows."""
    for element in container:
        if element.tag == q("p") and not _style(element).startswith("TOC"):
            yield _Block(element, paragraph_text(element))
        elif element.tag == q("tbl"):
            for row in element.findall(q("tr")):
                cells = row.findall(q("tc"))
                if any(cell.find(q("tbl")) is not None for cell in cells):
                    for cell in cells:
                        yield from _blocks(cell)
                    continue
                yield _Block(row, "\t".join("\n".join(paragraph_text(p) for p in
                                                      cell.findall(q("p"))) for cell in cells))


def _style(paragraph: etree._Element) -> str:
    style = paragraph.find(f"{q('pPr')}/{q('pStyle')}")
    return style.get(q("val"), "") if style is not None else ""


def paragraph_text(paragraph: etree._Element) -> str:
    return "".join(text for _, text in _runs(paragraph))


def _runs(element: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """The runs of a paragraph in order, each with its text (not those
    already tracked: a paragraph is marked once)."""
    for run in element.iter(q("r")):
        if any(parent.tag in (q("ins"), q("del")) for parent in run.iterancestors()):
            continue
        yield run, "".join(t.text or "" for t in run.findall(q("t")))


class _Marker:
    def __init__(self, date: str) -> None:
        self.date = date
        self.next_id = 900000  # far from the writer's bookmark and content control ids

    def mark(self, kind: str) -> etree._Element:
        element = etree.Element(q(kind))
        element.set(q("id"), str(self.next_id))
        element.set(q("author"), AUTHOR)
        element.set(q("date"), self.date)
        self.next_id += 1
        return element

    def compare(self, old: etree._Element, new: etree._Element) -> None:
        before, after = blocks(old), blocks(new)
        matcher = difflib.SequenceMatcher(None, [b.text for b in before],
                                          [b.text for b in after], autojunk=False)
        for op, a1, a2, b1, b2 in matcher.get_opcodes():
            if op == "equal":
                continue
            olds, news = before[a1:a2], after[b1:b2]
            paired = min(len(olds), len(news)) if op == "replace" else 0
            for gone, now in zip(olds[:paired], news[:paired], strict=True):
                if gone.row == now.row:
                    self.changed(gone, now)
                else:
                    self.deleted(gone, before_block=now)
                    self.inserted(now)
            for now in news[paired:]:
                self.inserted(now)
            anchor = after[b2] if b2 < len(after) else None
            last = after[b2 - 1] if b2 > 0 else None
            for gone in olds[paired:]:
                self.deleted(gone, before_block=anchor, after_block=last)

    # -- a block changed in place: its words ----------------------------------------------

    def changed(self, old: _Block, new: _Block) -> None:
        if not new.row:
            self.words(new.element, old.text)
            return
        old_cells, new_cells = old.element.findall(q("tc")), new.element.findall(q("tc"))
        for n, cell in enumerate(new_cells):
            olds = old_cells[n].findall(q("p")) if n < len(old_cells) else []
            for m, paragraph in enumerate(cell.findall(q("p"))):
                before = paragraph_text(olds[m]) if m < len(olds) else ""
                if before != paragraph_text(paragraph):
                    self.words(paragraph, before)

    def words(self, paragraph: etree._Element, before: str) -> None:
        """Mark the words of `paragraph` added since `before`, and put the
        removed words where they stood."""
        after = paragraph_text(paragraph)
        a, b = _WORDS.findall(before), _WORDS.findall(after)
        added: list[tuple[int, int]] = []
        removed: list[tuple[int, str]] = []
        offsets = [0]
        for token in b:
            offsets.append(offsets[-1] + len(token))
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for op, a1, a2, b1, b2 in matcher.get_opcodes():
            if op == "equal":
                continue
            if a2 > a1:
                removed.append((offsets[b1], "".join(a[a1:a2])))
            if b2 > b1:
                added.append((offsets[b1], offsets[b2]))
        cuts = sorted({at for span in added for at in span} | {at for at, _ in removed})
        runs = self.split(paragraph, cuts)
        for start, end in added:
            for run, at, text in runs:
                if text and start <= at and at + len(text) <= end:
                    self.wrap(run, "ins")
        for at, text in reversed(removed):
            self.put_removed(paragraph, runs, at, text)

    def split(self, paragraph: etree._Element, cuts: list[int]
              ) -> list[tuple[etree._Element, int, str]]:
        """The paragraph's runs split at the character offsets `cuts` (a run
        with anything but one text is not split), with their offsets."""
        out: list[tuple[etree._Element, int, str]] = []
        at = 0
        for run, text in list(_runs(paragraph)):
            inside = [cut - at for cut in cuts if at < cut < at + len(text)]
            texts = run.findall(q("t"))
            if inside and len(texts) == 1 and len(run) == len(texts) + (
                    run.find(q("rPr")) is not None):
                pieces = [text[i:j] for i, j in zip([0, *inside], [*inside, len(text)],
                                                    strict=True)]
                current = run
                for n, piece in enumerate(pieces):
                    if n:
                        made = copy.deepcopy(run)
                        current.addnext(made)
                        current = made
                    _set_text(current.find(q("t")), piece)
                    out.append((current, at, piece))
                    at += len(piece)
            else:
                out.append((run, at, text))
                at += len(text)
        return out

    def put_removed(self, paragraph: etree._Element, runs: list[tuple[etree._Element, int, str]],
                    at: int, text: str) -> None:
        following = next((run for run, start, said in runs if start >= at and said), None)
        preceding = next((run for run, start, said in reversed(runs)
                          if start + len(said) <= at and said), None)
        like = following if following is not None else preceding
        removed = etree.Element(q("r"))
        if like is not None and like.find(q("rPr")) is not None:
            removed.append(copy.deepcopy(like.find(q("rPr"))))
        deleted = etree.SubElement(removed, q("delText"))
        deleted.text = text
        deleted.set(XML_SPACE, "preserve")
        mark = self.mark("del")
        mark.append(removed)
        if following is not None:
            _outermost(following).addprevious(mark)
        elif preceding is not None:
            _outermost(preceding).addnext(mark)
        else:
            paragraph.append(mark)

    def wrap(self, run: etree._Element, kind: str) -> None:
        mark = self.mark(kind)
        run.addprevious(mark)
        mark.append(run)

    # -- whole blocks ---------------------------------------------------------------------

    def inserted(self, block: _Block) -> None:
        paragraphs = list(block.element.iter(q("p")))  # a row's, or the paragraph
        if block.row:
            self.mark_row(block.element, "ins")
        for paragraph in paragraphs:
            for run, _ in list(_runs(paragraph)):
                self.wrap(run, "ins")
            self.mark_paragraph(paragraph, "ins")

    def deleted(self, block: _Block, before_block: _Block | None = None,
                after_block: _Block | None = None) -> None:
        """A copy of the old block, marked deleted, put where it stood: before
        the next block kept (or after the last), as a row where rows are."""
        element = copy.deepcopy(block.element)
        _plain(element)
        if block.row:
            self.mark_row(element, "del")
        for paragraph in element.iter(q("p")):
            for run, _ in list(_runs(paragraph)):
                for text in run.findall(q("t")):
                    text.tag = q("delText")
                    text.set(XML_SPACE, "preserve")
                self.wrap(run, "del")
            self.mark_paragraph(paragraph, "del")
        if before_block is not None and before_block.row == block.row:
            before_block.element.addprevious(element)
        elif after_block is not None and after_block.row == block.row:
            after_block.element.addnext(element)
        else:
            if block.row:  # a row with no row beside it: its text as a deleted paragraph
                paragraph = etree.Element(q("p"))
                for mark in element.iter(q("del")):
                    if mark.getparent().tag != q("rPr") and mark.getparent().tag != q("trPr"):
                        paragraph.append(copy.deepcopy(mark))
                self.mark_paragraph(paragraph, "del")
                element = paragraph
            if before_block is not None:  # a paragraph between rows: beside the table
                _beside(before_block.element).addprevious(element)
            elif after_block is not None:
                _beside(after_block.element).addnext(element)

    def mark_paragraph(self, paragraph: etree._Element, kind: str) -> None:
        """The paragraph mark itself inserted or deleted (w:pPr/w:rPr/w:ins)."""
        properties = paragraph.find(q("pPr"))
        if properties is None:
            properties = etree.Element(q("pPr"))
            paragraph.insert(0, properties)
        run_properties = properties.find(q("rPr"))
        if run_properties is None:
            run_properties = etree.Element(q("rPr"))
            later = [child for child in properties
                     if child.tag in (q("sectPr"), q("pPrChange"))]
            if later:
                later[0].addprevious(run_properties)
            else:
                properties.append(run_properties)
        run_properties.insert(0, self.mark(kind))

    def mark_row(self, row: etree._Element, kind: str) -> None:
        properties = row.find(q("trPr"))
        if properties is None:
            properties = etree.Element(q("trPr"))
            exceptions = row.find(q("tblPrEx"))
            if exceptions is not None:
                exceptions.addnext(properties)
            else:
                row.insert(0, properties)
        change = properties.find(q("trPrChange"))
        if change is not None:
            change.addprevious(self.mark(kind))
        else:
            properties.append(self.mark(kind))


def _set_text(element: etree._Element | None, text: str) -> None:
    assert element is not None
    element.text = text
    element.set(XML_SPACE, "preserve")


def _outermost(run: etree._Element) -> etree._Element:
    """A run, or the w:ins wrapping it: where a removed word goes beside it."""
    parent = run.getparent()
    return parent if parent is not None and parent.tag == q("ins") else run


def _beside(element: etree._Element) -> etree._Element:
    """Where a paragraph can stand beside `element`: itself, or for a row the
    outermost table holding it."""
    while element.tag == q("tr") or element.getparent().tag not in (q("body"), q("tc")):
        element = element.getparent()
    return element


def _plain(element: etree._Element) -> None:
    """A copied old block made safe in the new document: no bookmarks or
    content controls (their ids are the old file's), no links, notes or
    pictures (they point into the old file's parts)."""
    for found in list(element.iter(q("bookmarkStart"), q("bookmarkEnd"))):
        found.getparent().remove(found)
    for wrapper in list(element.iter(q("sdt"), q("hyperlink"), q("smartTag"))):
        content = wrapper.find(q("sdtContent")) if wrapper.tag == q("sdt") else wrapper
        parent = wrapper.getparent()
        for child in list(content if content is not None else []):
            if child.tag not in (q("sdtPr"), q("sdtEndPr")):
                wrapper.addprevious(child)
        parent.remove(wrapper)
    for run in list(element.iter(q("r"))):
        if any(run.find(q(name)) is not None for name in
               ("footnoteReference", "endnoteReference", "drawing", "object", "pict",
                "fldChar", "instrText")):
            run.getparent().remove(run)
    for field in list(element.iter(q("fldSimple"))):
        for child in list(field):
            field.addprevious(child)
        field.getparent().remove(field)
