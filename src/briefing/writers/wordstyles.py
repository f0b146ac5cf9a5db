"""The theme on the Word styles: which style of reference.docx shows which token.

print.css says with `var(--name)` where each token of templates/theme.yaml
appears in the PDF; these tables say it for the DOCX. The writer applies
them to reference.docx on every write, and tools/make-reference-docx when it
makes the file, so a token changed in theme.yaml changes both formats without
remaking reference.docx. Only looks both formats share are here: spacing,
caps, and a look that print.css states differently (the subtitle's grey, the
definition term's size) stay reference.docx's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.styles.style import BaseStyle

from briefing.render.theme import Theme


@dataclass(frozen=True)
class Look:
    """A paragraph style's typeface, and the size and colour tokens it shows, if any."""

    font: str  # in theme.fonts: serif, sans
    size: str | None = None  # in theme.sizes
    colour: str | None = None  # in theme.colours


@dataclass(frozen=True)
class TableLook:
    """A table style's colour tokens: its rules (between and under rows, the
    width of lines.rule), its frame (lines.frame), its header row and cells."""

    rules: str | None = None
    frame: str | None = None
    header: str | None = None
    fill: str | None = None


PARAGRAPHS: dict[str, Look] = {
    "Normal": Look("serif", "body"),
    "Title": Look("sans", "title", "navy"),
    "Subtitle": Look("sans", "subtitle"),
    "Heading 1": Look("sans", "heading1", "navy"),
    "Heading 2": Look("sans", "heading2", "navy"),
    "Heading 3": Look("sans", "heading3", "navy"),
    "Quote": Look("serif", "quote", "text"),
    "Caption": Look("sans", "small", "grey"),
    "List Bullet": Look("serif", "body"),
    "List Number": Look("serif", "body"),
    "Header": Look("sans", "running"),
    "Footer": Look("sans", "running"),
    "TOC Heading": Look("sans", "heading1", "navy"),
    "toc 1": Look("serif", "body"),
    "toc 2": Look("serif", "body"),
    "Cover Publisher": Look("sans", "publisher", "navy"),
    "Cover Marking": Look("sans", "label"),
    "Header Marking": Look("sans", colour="text"),
    "Footer Marking": Look("sans", colour="text"),
    "Box Title": Look("sans", "label", "navy"),
    "Definition Term": Look("sans", colour="navy"),
    "Definition": Look("serif", "body"),
    "Partner Kind": Look("sans", "small", "grey"),
    "Quote Attribution": Look("sans", "table"),
    "Table Text": Look("sans", "table"),
    "Table Heading": Look("sans", "table", "paper"),
    "Note Kind": Look("sans", "label", "grey"),
    "Note Marking": Look("sans", "label"),
    "Note Title": Look("sans", "note_title"),
    "Note Details": Look("sans", "small", "grey"),
    "Figure": Look("sans"),
    "Cover Label": Look("sans", "label", "grey"),
}

TABLES: dict[str, TableLook] = {
    "Brief Table": TableLook(rules="rule", header="navy"),
    "Cover Details": TableLook(rules="cover_rule"),
    "Box": TableLook(frame="navy", fill="box"),
}


def apply_theme(doc: DocxDocument, theme: Theme) -> None:
    """Put the theme's tokens on the styles of `doc` that the tables name and it has."""
    styles = {style.name: style for style in doc.styles}
    for name, look in PARAGRAPHS.items():
        if name in styles:
            _paragraph(styles[name], look, theme)
    for name, table in TABLES.items():
        if name in styles:
            _table(styles[name], table, theme)


def _paragraph(style: BaseStyle, look: Look, theme: Theme) -> None:
    font = style.font
    font.name = getattr(theme.fonts, look.font).face
    if look.size:
        font.size = Pt(getattr(theme.sizes, look.size))
    if look.colour:
        font.color.rgb = RGBColor.from_string(_hex(getattr(theme.colours, look.colour)))


def _table(style: BaseStyle, look: TableLook, theme: Theme) -> None:
    """Colour and width onto the borders and shading the table style has;
    a border an editor removed in Word stays removed."""
    element = style.element
    colours = theme.colours
    if look.rules:
        _borders(element.xpath("./w:tblPr/w:tblBorders/w:insideH | "
                               "./w:tblPr/w:tblBorders/w:bottom"),
                 getattr(colours, look.rules), theme.lines.rule)
    if look.frame:
        _borders(element.xpath("./w:tblPr/w:tblBorders/*"), getattr(colours, look.frame),
                 theme.lines.frame)
    if look.header:
        _fill(element.xpath("./w:tblStylePr[@w:type='firstRow']/w:tcPr/w:shd"),
              getattr(colours, look.header))
    if look.fill:
        _fill(element.xpath("./w:tcPr/w:shd"), getattr(colours, look.fill))


def _borders(borders: list, colour: str, points: float) -> None:
    for border in borders:
        border.set(qn("w:sz"), str(round(points * 8)))  # in eighths of a point
        border.set(qn("w:color"), _hex(colour))


def _fill(shadings: list, colour: str) -> None:
    for shading in shadings:
        shading.set(qn("w:fill"), _hex(colour))


def _hex(colour: str) -> str:
    """`#1f3a5f` as Word writes it: `1F3A5F`."""
    return colour.removeprefix("#").upper()
