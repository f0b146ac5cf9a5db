"""The same HTML -> DOCX, walked element by element into Word constructs.

The writer knows a documented subset of HTML (docs/templates.md). Each block
element becomes one Word paragraph (or table), so the DOCX says exactly what
the PDF says; an element outside the subset is an error naming it, never
silently dropped. A list item or a table cell is read child by child, so its
paragraphs, lists and quotations stay where they stand; each numbered list
counts from its own start; a `<span class="footnote">` becomes a Word
footnote, numbered by Word in one sequence as the PDF numbers its notes.
Styles come by name from templates/reference.docx, with the shared
presentation tokens of templates/theme.yaml put on them first
(writers/wordstyles.py).

What a reader with a screen reader needs is carried over from the HTML
(docs/accessibility.md): every picture's alt text, or Word's mark that it
is decorative (an empty alt); header rows; Word's own heading styles; the
language of the document and of every passage whose `lang` differs; the
title. The contents show the page numbers the PDF of the same edition gives
(`Request.pages`), as the cached results of fields Word updates on opening.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import lxml.html
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_COLOR_INDEX
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.parts.story import StoryPart
from docx.shared import Emu, Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree
from lxml.html import HtmlElement

from briefing import __version__
from briefing.content.prose import MAX_LIST_DEPTH
from briefing.errors import BuildFailed, Problem
from briefing.files import REFERENCE_DOCX, TEMPLATES, ProjectFiles, Unreadable
from briefing.render.layout import (
    CELL_PADDING,
    STACKED,
    col_widths,
    project_metrics,
    short_enough,
)
from briefing.render.theme import load_theme
from briefing.render.typography import NBHY
from briefing.writers import dataurl, fields
from briefing.writers.fontembed import embed_fonts
from briefing.writers.registry import Request
from briefing.writers.runs import (
    Piece,
    RunStyle,
    Unsupported,
    collapse,
    collapsed,
    in_caps,
    inline,
    pieces,
    with_language,
)
from briefing.writers.subset import (
    BLOCK_STYLES,
    CONTAINERS,
    IMAGE_WIDTH_EXPECTED,
    INLINE,
    LISTS,
    SUPPORTED,
    image_width,
)
from briefing.writers.wordml import (
    add_footnote,
    add_text,
    bookmark_name,
    clear_body,
    column_widths,
    describe_picture,
    field,
    field_begin,
    field_char,
    footnote_reference,
    hyphenate,
    new_footnotes,
    new_list,
    number,
    remove_paragraphs,
    reproducible,
    set_language,
    style_numbering,
    truthful_package,
    update_fields_on_open,
)
from briefing.writers.wordstyles import apply_theme

# A definition list sits in a Box: this much narrower than the text, for its margins.
DEFINITIONS_INSET = Mm(10)
TERM_GAP = 3.0  # mm between a term and its definition, as print.css's padding-right
MAX_PROPERTY = 255  # characters in a core property (title, category...): Word's limit
HEADINGS = ("h1", "h2", "h3")
# Word's own styles for footnotes, by their built-in names.
FOOTNOTE_TEXT, FOOTNOTE_REFERENCE = "footnote text", "footnote reference"
ALIGNMENTS = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
              "right": WD_ALIGN_PARAGRAPH.RIGHT}
APPLICATION = f"Briefing {__version__}"  # docProps/app.xml: what wrote the file
HYPERLINK = "Hyperlink"  # Word's character style for links (writers/wordstyles.py)
PX = 9525  # EMU in a CSS pixel (96 to the inch)


MAX_REFERENCE_BYTES = 16 * 2**20  # a reference.docx holds styles, not content
REFERENCE_EXPECTED = ("a .docx saved by Word or LibreOffice, or the one "
                      "tools/make-reference-docx makes")


def reference_document(files: ProjectFiles) -> DocxDocument:
    """templates/reference.docx, read as every project file is (inside the
    project, a regular file, of bounded size); a file that is no Word package
    is a placed problem, not a traceback."""
    try:
        data = files.read(files.path(REFERENCE_DOCX), MAX_REFERENCE_BYTES)
        return Document(io.BytesIO(data))
    except Unreadable as err:
        problem = Problem(REFERENCE_DOCX, 1, 1, f"the Word template {err.why}",
                          expected=err.expected)
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError,
            etree.XMLSyntaxError) as err:
        problem = Problem(REFERENCE_DOCX, 1, 1, f"the Word template is not a usable .docx "
                          f"({type(err).__name__}: {err})", expected=REFERENCE_EXPECTED)
    raise BuildFailed([problem])


# The styles the writer falls back on, so a reference.docx must have them; the
# ones a class names (`cover-title`) are used only where it has them.
REQUIRED_STYLES = frozenset({
    *(name for name in BLOCK_STYLES.values() if name != "Definition Term"),
    "Quote", "Box", "Definition Table", "Brief Table", "Caption", "TOC Heading",
    "Table Heading", "Table Text",
    *(f"{kind}{suffix}" for kind in ("List Number", "List Bullet", "List Continue")
      for suffix in ("", *(f" {level}" for level in range(2, MAX_LIST_DEPTH + 1)))),
})


def reference_problems(files: ProjectFiles) -> list[Problem]:
    """What `check` says about templates/reference.docx: what `build` would,
    a style the writer needs and the file lacks included."""
    try:
        doc = reference_document(files)
    except BuildFailed as failed:
        return failed.problems
    present = {style.name for style in doc.styles}
    return [Problem(REFERENCE_DOCX, 1, 1, f"the Word template has no style `{name}`",
                    expected="every style tools/make-reference-docx makes; add it in Word, "
                    "or start again from that file")
            for name in sorted(REQUIRED_STYLES - present)]


def write_docx(request: Request) -> bytes:
    """Walk the HTML into a DOCX built on reference.docx; same input, same bytes."""
    files, edition = request.files, request.edition
    theme = load_theme(files)
    tree = lxml.html.document_fromstring(request.html)
    doc = reference_document(files)
    fields.push_down(tree.body)  # each field's text a marked span (review of returned files)
    truthful_package(doc, APPLICATION)
    apply_theme(doc, theme)
    clear_body(doc)
    writer = _Writer(doc, _language_tag(tree), files, Mm(theme.lengths.key_facts_term),
                     request.pages)
    try:
        created = writer.properties(tree)
        writer.page_furniture(tree)
        writer.children(tree.body, doc)
    except Unsupported as err:
        what = err.why or f"<{err.element.tag}> is not supported by the DOCX writer"
        raise BuildFailed([Problem(
            f"{TEMPLATES}/{edition.template}", 1, 1,
            f"{what} (while rendering {edition.name}.docx)",
            expected=err.expected or "one of " + ", ".join(sorted(SUPPORTED)))]) from None
    fields.finish(doc, writer.marks, fields.Identity(
        edition.brief.slug, edition.language, edition.kind, edition.name,
        fields.digest(request.html)))
    hyphenate(doc)
    embed_fonts(doc, theme, files)  # last: subset to every character the document shows
    return reproducible(doc, created)


class _Writer:
    def __init__(self, doc: DocxDocument, language: str, files: ProjectFiles,
                 term_width: int, pages: Mapping[str, int]) -> None:
        self.doc = doc
        self.language = language
        self.pages = pages  # the PDF's page of each anchor, for the contents
        self.files = files
        self.templates = files.path(TEMPLATES).resolve()
        self.term_width = term_width  # of a definition list's terms, as print.css has it
        self.style_names = {s.name for s in doc.styles}
        self.style_ids: dict[str, str | None] = {}  # None: the default style
        self.default_style = doc.styles.default(WD_STYLE_TYPE.PARAGRAPH).style_id
        self.bookmarks = 0
        self.pending_ids: list[str] = []
        self.base = RunStyle()
        self.footnotes: StoryPart | None = None  # made with the first footnote
        self.cell_style: str | None = None  # while filling a table cell: its style
        self.footnote_count = 0
        self.caps: dict[str, bool] = {}  # paragraph style name -> whether it capitalises
        self.marks = fields.Marks()  # which runs show which content field

    # -- document level -----------------------------------------------------------

    def properties(self, tree: HtmlElement) -> dt.date:
        """Core properties and language from the HTML head; returns the creation date."""
        meta = {m.get("name"): _property(m.get("content", ""))
                for m in tree.iter("meta") if m.get("name")}
        props = self.doc.core_properties
        props.title = _property(collapse(tree.findtext(".//title") or ""))
        props.subject = meta.get("description", "")
        props.author = meta.get("author", "")
        props.keywords = meta.get("keywords", "")
        props.language = self.language
        props.category = meta.get("marking", "")
        props.identifier = meta.get("reference", "")
        props.content_status = meta.get("status", "")
        props.comments = ""
        props.last_modified_by = meta.get("author", "")
        props.revision = 1
        # Dates come from the HTML's Dublin Core meta, as WeasyPrint takes them for the PDF.
        created = dt.date.fromisoformat(meta["dcterms.created"])
        modified = dt.date.fromisoformat(meta.get("dcterms.modified", meta["dcterms.created"]))
        props.created = dt.datetime.combine(created, dt.time(), dt.UTC)
        props.modified = props.last_printed = dt.datetime.combine(modified, dt.time(), dt.UTC)
        defaults = self.doc.styles.element.find(qn("w:docDefaults"))
        targets = [] if defaults is None else list(defaults.iter(qn("w:rPr")))
        targets += [style.element.get_or_add_rPr() for style in self.doc.styles
                    if style.type in (WD_STYLE_TYPE.PARAGRAPH, WD_STYLE_TYPE.CHARACTER)]
        for r_pr in targets:  # Word spell-checks in the edition's language
            set_language(r_pr, self.language)
        return created

    def page_furniture(self, tree: HtmlElement) -> None:
        """<header>/<footer> of the body -> every page's Word header and footer."""
        section = self.doc.sections[0]
        # A cover page shows the marking only; documents without one need no first page.
        section.different_first_page_header_footer = tree.body.find(
            ".//section[@class='cover']") is not None
        for tag, part, first in (("header", section.header, section.first_page_header),
                                 ("footer", section.footer, section.first_page_footer)):
            element = tree.body.find(tag)
            remove_paragraphs(part)
            remove_paragraphs(first)
            if element is None:
                continue
            default = tag.capitalize()
            for child in element:
                if child.tag != "p":
                    raise Unsupported(child)
                self.paragraph(child, part, self._style(child, default))
            if len(element):  # the cover page shows the marking only
                self.paragraph(element[0], first, self._style(element[0], default))

    # -- blocks -------------------------------------------------------------------

    def block(self, element: HtmlElement, parent: object, list_level: int = 0) -> None:
        tag = element.tag
        if not isinstance(tag, str):  # comments
            return
        if element.get("id"):
            self.pending_ids.append(element.get("id"))
        if tag in BLOCK_STYLES:
            paragraph = self.paragraph(element, parent, self._style(element, BLOCK_STYLES[tag]))
            if tag in HEADINGS:  # never alone at the foot of a page, whatever the style says
                paragraph.paragraph_format.keep_with_next = True
        elif tag == "nav":
            self.contents(element, parent)
        elif tag in CONTAINERS:
            outer = self.base
            self.base = with_language(element, outer)
            self.children(element, parent, list_level,
                          "Quote" if tag == "blockquote" else "Normal")
            self.base = outer
            if "cover" in element.classes:  # the cover is a section of its own
                self.doc.add_section(WD_SECTION.NEW_PAGE).different_first_page_header_footer = False
        elif tag in LISTS:
            self.list_block(element, parent, list_level)
        elif tag == "aside":
            self.box(element, parent)
        elif tag == "dl":
            self.definitions(element, parent)
        elif tag == "table":
            self.table(element, parent)
        elif tag == "img":
            self.picture(self._add_paragraph(parent, "Figure" if "Figure" in self.style_names
                                             else "Normal"), element)
        else:
            raise Unsupported(element)

    def children(self, element: HtmlElement, parent: object, list_level: int = 0,
                 style: str = "Normal") -> None:
        """A container's content in order: its blocks, and the text and inline
        elements between them (which the PDF shows too) as paragraphs of their
        own, in `style`, as its <p>s are. A picture standing alone is a figure;
        the body's header and footer are the pages' (page_furniture)."""
        for part in _flow(element, standalone={"img"}):
            if not isinstance(part, HtmlElement):
                self._flow_paragraph(part, parent, style)
            elif part.tag == "p" and style != "Normal":  # a quotation's paragraphs
                self.paragraph(part, parent, self._style(part, style))
            elif not (element.tag == "body" and part.tag in ("header", "footer")):
                self.block(part, parent, list_level)

    def list_block(self, element: HtmlElement, parent: object, level: int) -> None:
        """<ul>/<ol> -> List Bullet/List Number (2, 3 when nested); each numbered
        list is a numbering instance of its own, from its `start`. In a table
        cell the items keep the cell's paragraph style, numbered as the list
        style numbers, as the PDF sets a cell's list in the cell's type."""
        suffix = f" {level + 1}" if level else ""
        style = ("List Number" if element.tag == "ol" else "List Bullet") + suffix
        num_id = None
        if element.tag == "ol":
            start = element.get("start", "1")
            num_id = new_list(self.doc, self.doc.styles[style],
                              int(start) if start.lstrip("-").isdigit() else 1)
        elif self.cell_style is not None:
            num_id = style_numbering(self.doc.styles[style])
        shown = self.cell_style or style
        for item in element:
            if item.tag != "li":
                raise Unsupported(item)
            self.list_item(item, parent, shown, level, num_id)

    def list_item(self, item: HtmlElement, parent: object, style: str, level: int,
                  num_id: int | None) -> None:
        """An item's children in order: its first paragraph carries the bullet or
        number, later ones continue the item (List Continue), and its lists,
        quotations and tables stand where they are."""
        if item.get("id"):
            self.pending_ids.append(item.get("id"))
        continued = self.cell_style or "List Continue" + (f" {level + 1}" if level else "")
        if continued not in self.style_names:
            continued = "Normal"
        marked = False
        for part in _flow(item):
            if isinstance(part, HtmlElement) and part.tag != "p":
                if not marked:  # the marker goes first, as the PDF draws it
                    self._mark(self._add_paragraph(parent, style), num_id)
                    marked = True
                self.block(part, parent, level + 1)
                continue
            paragraph = self._flow_paragraph(part, parent, continued if marked else style)
            if paragraph is not None and not marked:
                self._mark(paragraph, num_id)
                marked = True
        if not marked:  # an empty item still has its bullet or number
            self._mark(self._add_paragraph(parent, style), num_id)

    def _mark(self, paragraph: Paragraph, num_id: int | None) -> None:
        if num_id is not None:
            number(paragraph, num_id)

    def _flow_paragraph(self, part: HtmlElement | tuple[str | None, list[HtmlElement]],
                        parent: object, style: str) -> Paragraph | None:
        """A <p>, or a stretch of inline content (None when it is only spaces)."""
        if isinstance(part, HtmlElement):
            return self.paragraph(part, parent, self._style(part, style))
        found = collapsed(list(pieces(*part, self.base)))
        return self._paragraph(found, parent, style) if found else None

    def paragraph(self, element: HtmlElement, parent: object, style: str) -> Paragraph:
        found = inline(element, with_language(element, self.base))
        return self._paragraph(collapsed(list(found)), parent, style)

    def _paragraph(self, found: list[Piece], parent: object, style: str) -> Paragraph:
        if self._capitalises(style):
            found = [replace(piece, text=in_caps(piece.text, piece.style.lang or self.language))
                     for piece in found]
        paragraph = self._add_paragraph(parent, style)
        for fragment_id in self.pending_ids:
            self._bookmark(paragraph, fragment_id)
        self.pending_ids = []
        for piece in found:
            start = len(paragraph._p)
            self.run(paragraph, piece)
            self.marks.wrote(paragraph._p, start, piece.style.field)
        return paragraph

    def run(self, paragraph: Paragraph, piece: Piece) -> None:
        text, style = piece.text, piece.style
        if piece.field:
            field(paragraph, piece.field)
            return
        if piece.image is not None:
            self.picture(paragraph, piece.image)
            return
        if piece.note is not None:
            self.footnote(paragraph, piece.note)
            return
        if style.link:
            self._hyperlink(paragraph, text, style, HYPERLINK)
            return
        if style.nobreak:  # a registry number: Word's own no-break hyphens keep it whole
            text = text.replace("-", NBHY)
        for i, line in enumerate(text.split("\n")):
            if i:
                paragraph.add_run().add_break()
            if line:  # U+2011 as Word's own no-break hyphen
                for run in add_text(paragraph, line):
                    self._styled(run, style)

    def _styled(self, run: Run, style: RunStyle) -> None:
        """Bold, italic, untranslated text highlighted, and the passage's
        language where it is not the document's."""
        run.bold = style.bold or None
        run.italic = style.italic or None
        if style.fallback is not None:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        language = style.lang or style.fallback
        if language and language != self.language:
            set_language(run._r.get_or_add_rPr(), language)

    def footnote(self, paragraph: Paragraph, note: tuple[Piece, ...]) -> None:
        """A Word footnote: its number here, its text in the footnotes part."""
        if self.footnotes is None:
            self.footnotes = new_footnotes(self.doc)
        self.footnote_count += 1
        text_style, mark_style = (self.doc.styles[name].style_id if name in self.style_names
                                  else None for name in (FOOTNOTE_TEXT, FOOTNOTE_REFERENCE))
        footnote_reference(paragraph, self.footnote_count, mark_style)
        text = add_footnote(self.footnotes, self.footnote_count, text_style, mark_style)
        for piece in collapsed(list(note)):
            self.run(text, piece)

    def box(self, aside: HtmlElement, parent: object) -> None:
        """<aside> -> a one-cell table in the "Box" style: a framed, shaded panel."""
        table = parent.add_table(rows=1, cols=1)
        table.style = self.doc.styles[self._style(aside, "Box")]
        cell = table.cell(0, 0)
        remove_paragraphs(cell)
        self.children(aside, cell)
        if not cell.paragraphs and not cell.tables:
            cell.add_paragraph()
        if not cell._tc.getchildren()[-1].tag.endswith("}p"):
            cell.add_paragraph()  # Word wants a cell to end with a paragraph
        parent.add_paragraph()

    def definitions(self, dl: HtmlElement, parent: object) -> None:
        """<dl> -> a borderless two-column table: each term beside its definition."""
        pairs: list[list[HtmlElement]] = []
        for child in dl:
            if child.tag == "dt":
                pairs.append([child])
            elif child.tag == "dd" and pairs and len(pairs[-1]) == 1:
                pairs[-1].append(child)
            else:
                raise Unsupported(child)
        stacked = STACKED in dl.classes  # terms too long to stand beside (render/layout.py)
        table = parent.add_table(rows=0, cols=1 if stacked else 2)
        table.style = self.doc.styles[self._style(dl, "Definition Table")]
        if stacked:
            column_widths(table, [self._text_width() - DEFINITIONS_INSET])
            pairs = [[element] for pair in pairs for element in pair]
        else:
            term = self._term_width([pair[0] for pair in pairs], table)
            column_widths(table, [term, self._text_width() - DEFINITIONS_INSET - term])
        for pair in pairs:
            row = table.add_row()
            if not stacked:
                row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
            for cell, element in zip(row.cells, pair, strict=False):
                remove_paragraphs(cell)
                self.paragraph(element, cell, self._style(element, BLOCK_STYLES[element.tag]))
            for cell in row.cells[len(pair):]:
                if not cell.paragraphs:
                    cell.add_paragraph()

    def _term_width(self, terms: list[HtmlElement], table: Table) -> int:
        """The column of a definition list's terms: as print.css sizes the key
        facts' figures, as wide as the widest term set in the term style (plus
        the cell's margins and a gap), between the theme's two widths."""
        theme = load_theme(self.files)
        style = self.doc.styles["Definition Term"] if "Definition Term" in self.style_names \
            else None
        size = style.font.size.pt if style is not None and style.font.size else theme.sizes.body
        measure = project_metrics(self.files)
        widest = max((measure.width(collapse(term.text_content()), size,
                                    theme.fonts.sans.face, bold=True) for term in terms),
                     default=0.0)
        margins = sum(int(w) for w in table.style.element.xpath(
            "./w:tblPr/w:tblCellMar/*[self::w:left or self::w:right]/@w:w")) or 230  # twips
        wanted = Pt(widest) + Mm(TERM_GAP) + margins * 635  # EMU per twip
        least, most = self.term_width, Mm(theme.lengths.key_facts_term_max)
        return int(min(max(wanted, least), max(most, least)))

    def picture(self, paragraph: Paragraph, img: HtmlElement) -> None:
        """<img>: PNG as it is; SVG rasterised at twice its size (Word needs pixels).
        A picture stays on the page of its caption, as a heading before it stays
        on its page; other text before it does not, as in the PDF (Word would
        carry a whole paragraph over, leaving half a page empty)."""
        data, is_svg = _image_source(img, self.templates)
        stated = image_width(img)
        if stated is None:  # validation refuses it, placed; a writer called alone says so
            raise Unsupported(img, f"<img width={img.get('width')!r}> is not a width the "
                              "DOCX writer can size a picture by", IMAGE_WIDTH_EXPECTED)
        size, share = stated
        text_width = self._text_width()
        width = int(text_width * min(size, 100) / 100) if share else Emu(int(size * PX))
        width = min(width, text_width)
        if is_svg:  # at twice the pixels it is shown at
            data = _rasterised(data, max(1, int((width / PX if share else size) * 2)))
        shape = paragraph.add_run().add_picture(io.BytesIO(data), width=width)
        describe_picture(shape._inline, collapse(img.get("alt") or ""), _decorative(img))
        paragraph.paragraph_format.keep_with_next = True

    def _text_width(self) -> int:
        section = self.doc.sections[-1]
        return section.page_width - section.left_margin - section.right_margin

    def _fits_a_page(self, widths: list[int]) -> Callable[[HtmlElement], bool]:
        """Whether a row, its cells' text wrapped to their columns' widths, is
        surely short enough to be kept on one page (render/layout.py measures)."""
        theme, measure = load_theme(self.files), project_metrics(self.files)

        def fits(row: HtmlElement) -> bool:
            return all(short_enough(collapse(cell.text_content()), Emu(column).mm - CELL_PADDING,
                                    theme.sizes.table, theme.fonts.sans.face, measure)
                       for cell, column in zip(row, widths, strict=False))
        return fits

    def table(self, element: HtmlElement, parent: object) -> None:
        caption = element.find("caption")
        if caption is not None:
            self.paragraph(caption, parent, self._style(caption, "Caption"))
        rows: list[tuple[HtmlElement, bool]] = []
        for group in element:
            if group.tag in ("caption", "colgroup"):
                continue
            if group.tag not in ("thead", "tbody"):
                raise Unsupported(group)
            rows += [(row, group.tag == "thead") for row in group]
        width = max((len(row) for row, _ in rows), default=1)
        table: Table = parent.add_table(rows=0, cols=width)
        table.style = self.doc.styles[self._style(element, "Brief Table")]
        # Set before adding rows: python-docx gives each new cell its column's width.
        widths = _share(self._text_width(), col_widths(element), width)
        column_widths(table, widths)
        fits = self._fits_a_page(widths)
        for row_element, is_header in rows:
            row = table.add_row()
            tr_pr = row._tr.get_or_add_trPr()
            if fits(row_element):  # a taller row must split: Word would print it off the page
                tr_pr.append(OxmlElement("w:cantSplit"))
            if is_header:
                tr_pr.append(OxmlElement("w:tblHeader"))
            for cell, cell_element in zip(row.cells, row_element, strict=False):
                if cell_element.tag not in ("th", "td"):
                    raise Unsupported(cell_element)
                remove_paragraphs(cell)
                style = "Table Heading" if cell_element.tag == "th" else "Table Text"
                self.cell(cell_element, cell, self._style(cell_element, style))
        if "cover-details" not in element.classes:
            parent.add_paragraph()  # Word needs a paragraph between adjacent tables

    def cell(self, element: HtmlElement, cell: object, style: str) -> None:
        """A table cell's content in order: inline content and <p>s as paragraphs in
        the cell's style, lists and other blocks as they are written anywhere."""
        outer, self.cell_style = self.cell_style, style
        for part in _flow(element):
            if isinstance(part, HtmlElement) and part.tag != "p":
                self.block(part, cell, 0)
            else:
                self._flow_paragraph(part, cell, style)
        self.cell_style = outer
        if not cell.paragraphs and not cell.tables:
            self._paragraph([], cell, style)
        if not cell._tc.getchildren()[-1].tag.endswith("}p"):
            cell.add_paragraph()  # Word wants a cell to end with a paragraph
        align = ALIGNMENTS.get(_text_align(element))
        if align is not None:  # a pipe table's `:--:` column
            for paragraph in cell.paragraphs:
                paragraph.alignment = align

    def contents(self, nav: HtmlElement, parent: object) -> None:
        """<nav> -> a Word TOC field whose entries are already filled in."""
        for child in nav:
            if child.tag == "p":
                self.paragraph(child, parent, self._style(child, "TOC Heading"))
        entries = list(nav.iter("li"))
        for i, li in enumerate(entries):
            paragraph = self._add_paragraph(parent, "toc 1")
            if i == 0:
                field_begin(paragraph, 'TOC \\o "1-1" \\h \\z \\u')
            link = li.find("a")
            anchor = link.get("href", "#")[1:] if link is not None else ""
            for piece in collapsed(list(inline(li, self.base, ()))):
                if piece.style.link:  # an entry looks like the contents, not like a link
                    self._hyperlink(paragraph, piece.text, piece.style, None)
                else:
                    self.run(paragraph, piece)
            if anchor:  # the page the PDF gives it; Word updates it on opening
                paragraph.add_run().add_tab()
                page = self.pages.get(anchor)
                field(paragraph, f"PAGEREF {bookmark_name(anchor)} \\h",
                      cached=str(page) if page else "")
            if i == len(entries) - 1:
                field_char(paragraph, "end")
        parent.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        update_fields_on_open(self.doc)

    # -- helpers ------------------------------------------------------------------

    def _add_paragraph(self, parent: object, style: str) -> Paragraph:
        """A paragraph in a named style. python-docx looks a name up among all
        styles on every call, which dominated long tables; ids are looked up once."""
        paragraph = parent.add_paragraph()
        if style not in self.style_ids:
            found = self.doc.styles[style].style_id
            self.style_ids[style] = None if found == self.default_style else found
        if self.style_ids[style] is not None:  # a new paragraph is empty: pPr goes first
            properties = OxmlElement("w:pPr")
            properties.append(OxmlElement("w:pStyle", {qn("w:val"): self.style_ids[style]}))
            paragraph._p.insert(0, properties)
        return paragraph

    def _capitalises(self, name: str) -> bool:
        """Whether paragraph style `name`, or a style it is based on, sets w:caps."""
        if name not in self.caps:
            style, caps = self.doc.styles[name], None
            while style is not None and caps is None:
                caps, style = style.font.all_caps, style.base_style
            self.caps[name] = bool(caps)
        return self.caps[name]

    def _style(self, element: HtmlElement, default: str) -> str:
        """The first class that names a Word style (`quote-attribution`), else default."""
        for name in element.classes:
            style = " ".join(word.capitalize() for word in name.split("-"))
            if style in self.style_names:
                return style
        return default

    def _bookmark(self, paragraph: Paragraph, name: str) -> None:
        self.bookmarks += 1
        start = OxmlElement("w:bookmarkStart")
        start.set(qn("w:id"), str(self.bookmarks))
        start.set(qn("w:name"), bookmark_name(name))
        end = OxmlElement("w:bookmarkEnd")
        end.set(qn("w:id"), str(self.bookmarks))
        paragraph._p.append(start)
        paragraph._p.append(end)

    def _hyperlink(self, paragraph: Paragraph, text: str, style: RunStyle,
                   character: str | None) -> None:
        """A link, its run in `character` style (Hyperlink), if any."""
        link = OxmlElement("w:hyperlink")
        if style.link.startswith("#"):
            link.set(qn("w:anchor"), bookmark_name(style.link[1:]))
        else:
            rel = paragraph.part.relate_to(style.link, RELATIONSHIP_TYPE.HYPERLINK,
                                           is_external=True)
            link.set(qn("r:id"), rel)
        for run in add_text(paragraph, text):
            if character in self.style_names:
                run.style = self.doc.styles[character]
            self._styled(run, style)
            link.append(run._r)
        paragraph._p.append(link)


@functools.lru_cache(maxsize=16)
def _rasterised(svg: bytes, width: int) -> bytes:
    """SVG to PNG, once per drawing and size: the emblem recurs in every edition."""
    import cairosvg  # only builds with figures need it

    return cairosvg.svg2png(bytestring=svg, output_width=width)


def _share(total: int, shares: list[float] | None, columns: int) -> list[int]:
    """The widths of a table's columns, from the shares render/layout.py gave
    them in the HTML (the PDF lays the table out with the same); equal shares
    for a table the HTML states none for."""
    if shares is None or len(shares) != columns:
        shares = [1 / columns] * columns
    widths = [int(total * share / (sum(shares) or 1)) for share in shares]
    widths[widths.index(max(widths))] += total - sum(widths)
    return widths


def _property(text: str) -> str:
    """A core property as Word can hold it: at most 255 characters, a longer one
    cut with an ellipsis (the document's own text is never cut)."""
    return text if len(text) <= MAX_PROPERTY else text[:MAX_PROPERTY - 1].rstrip() + "\u2026"


def _image_source(img: HtmlElement, templates: Path) -> tuple[bytes, bool]:
    """The bytes of an image: a data: URL, or a file inside templates/ only."""
    src = img.get("src", "")
    if dataurl.is_data_url(src):
        try:
            found = dataurl.decode(src)
        except dataurl.BadDataURL as err:
            raise Unsupported(img, str(err), "a data: URL as RFC 2397 has it") from None
        return found.data, found.svg
    path = (templates / src).resolve()
    if "://" in src or not path.is_relative_to(templates) or not path.is_file():
        raise Unsupported(img, f"image `{src}` is not a file inside templates/",
                          "an image in templates/ or a data: URL")
    return path.read_bytes(), path.suffix.lower() == ".svg"


def _flow(element: HtmlElement, standalone: frozenset[str] | set[str] = frozenset()
          ) -> list[HtmlElement | tuple[str | None, list[HtmlElement]]]:
    """An element's content in order: each child block element, and between them
    each stretch of inline content as (leading text, inline children); an
    inline element of a `standalone` kind counts as a block."""
    parts: list[HtmlElement | tuple[str | None, list[HtmlElement]]] = []
    text, run = element.text, []
    for child in element:
        if not isinstance(child.tag, str) or (child.tag in INLINE
                                               and child.tag not in standalone):
            run.append(child)
            continue
        if text or run:
            parts.append((text, run))
        parts.append(child)
        text, run = child.tail, []
    if text or run:
        parts.append((text, run))
    return parts


def _text_align(element: HtmlElement) -> str:
    """The text-align of an element's style attribute (pipe tables' column alignment)."""
    for declaration in element.get("style", "").split(";"):
        name, _, value = declaration.partition(":")
        if name.strip().lower() == "text-align":
            return value.strip().lower()
    return ""


def _decorative(img: HtmlElement) -> bool:
    """An image the HTML says is only decoration: an empty alt, or a presentation role."""
    return (img.get("alt") is not None and not img.get("alt").strip()) \
        or img.get("role") in ("presentation", "none") or img.get("aria-hidden") == "true"


def _language_tag(tree: HtmlElement) -> str:
    return tree.get("lang") or "en"
