"""The theme on the Word styles: which style of reference.docx shows which token.

print.css says with `var(--name)` where each token of templates/theme.yaml
appears in the PDF; these tables say it for the DOCX. The writer applies
them to reference.docx on every write, and tools/make-reference-docx when it
makes the file, so a token changed in theme.yaml changes both formats without
remaking reference.docx. Only looks both formats share are here: spacing,
caps, and a look that print.css states differently (the subtitle's grey, the
definition term's size) stay reference.docx's own.

Typefaces are named, never a theme's: a style whose w:rFonts names a theme
font beside the face (python-docx's template has them on every heading)
shows the theme's Calibri in Word, whatever the face says; LibreOffice
reads the face and hides the mistake. So every theme font goes, and the
document defaults name the serif.
"""

from __future__ import annotations

from dataclasses import dataclass

from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import BaseStyle

from briefing.render.theme import Theme
from briefing.writers.wordml import paragraph_property


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


@dataclass(frozen=True)
class CharacterLook:
    """A character style's colour token, and whether it underlines: links look like links."""

    colour: str
    underline: bool = False


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


# Word's own character styles, by their built-in names; made if reference.docx lacks one.
CHARACTERS: dict[str, CharacterLook] = {
    "Hyperlink": CharacterLook("navy", underline=True),  # print.css: a { color: var(--navy) }
}
# A quotation and its attribution stand indented, right of one rule (print.css's
# figure.quote holds both): Word joins the rules of adjacent paragraphs whose
# borders and indents are the same.
QUOTED = ("Quote", "Quote Attribution")
MAX_BORDER_SPACE = 31  # points between a paragraph border and its text: Word's limit

# The paragraph styles Word must not hyphenate (w:suppressAutoHyphens), as
# print.css says `hyphens: manual`: titles, headings, markings, the page header
# and footer, and the definition term (CSS's default). Every other style
# hyphenates by its runs' w:lang where a line needs it, as print.css does for
# prose, table cells and headings, list items, definitions and captions.
UNHYPHENATED = frozenset({
    "Title", "Subtitle", "Cover Publisher", "Cover Marking", "Heading 1", "Heading 2",
    "Heading 3", "TOC Heading", "Header", "Footer", "Header Marking", "Footer Marking",
    "Note Title", "Note Marking", "Definition Term"})
_THEME_FONTS = ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme")
_SCRIPTS = ("ascii", "hAnsi", "eastAsia", "cs")  # w:rFonts' faces, one per kind of script


def apply_theme(doc: DocxDocument, theme: Theme) -> None:
    """Put the theme's tokens on the styles of `doc` that the tables name and it has,
    make the character styles the writer uses, and set the page up."""
    _page_setup(doc, theme)
    _named_typefaces(doc, theme)
    for borders in doc.styles.element.xpath(".//w:tblBorders | .//w:tcBorders"):
        _in_schema_order(borders)
    styles = {style.name: style for style in doc.styles}
    for name, look in PARAGRAPHS.items():
        if name in styles:
            _paragraph(styles[name], look, theme)
    for name, table in TABLES.items():
        if name in styles:
            _table(styles[name], table, theme)
    for name, character in CHARACTERS.items():
        if name not in styles:
            styles[name] = doc.styles.add_style(name, WD_STYLE_TYPE.CHARACTER, builtin=True)
            styles[name].base_style = doc.styles.default(WD_STYLE_TYPE.CHARACTER)
            styles[name].priority, styles[name].unhide_when_used = 99, True
        _character(styles[name], character, theme)
    for name in QUOTED:
        if name in styles:
            _quoted(styles[name], theme)
    for style in styles.values():
        if style.type == WD_STYLE_TYPE.PARAGRAPH:
            paragraph_property(style.element.get_or_add_pPr(), OxmlElement(
                "w:suppressAutoHyphens", {qn("w:val"): "1" if style.name in UNHYPHENATED
                                          else "0"}))


def _page_setup(doc: DocxDocument, theme: Theme) -> None:
    """The theme's paper and margins on every section (reference.docx's own page
    setup is never what decides: the PDF reads the same theme)."""
    page = theme.page
    for section in doc.sections:
        section.page_width, section.page_height = Mm(page.width), Mm(page.height)
        section.top_margin, section.right_margin = Mm(page.top), Mm(page.right)
        section.bottom_margin, section.left_margin = Mm(page.bottom), Mm(page.left)


def _named_typefaces(doc: DocxDocument, theme: Theme) -> None:
    """No theme font anywhere in the styles; the document defaults name the serif."""
    styles = doc.styles.element
    for fonts in styles.iter(qn("w:rFonts")):
        for name in _THEME_FONTS:
            fonts.attrib.pop(qn(f"w:{name}"), None)
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    r_pr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    if r_pr is None:
        holder = defaults.find(qn("w:rPrDefault"))
        if holder is None:
            holder = OxmlElement("w:rPrDefault")
            defaults.insert(0, holder)
        r_pr = OxmlElement("w:rPr")
        holder.append(r_pr)
    _faces(r_pr, theme.fonts.serif.face)


def _faces(r_pr: object, face: str) -> None:
    """`face` for every kind of script in a run properties' w:rFonts (its first child)."""
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for script in _SCRIPTS:
        fonts.set(qn(f"w:{script}"), face)


def _paragraph(style: BaseStyle, look: Look, theme: Theme) -> None:
    font = style.font
    _faces(style.element.get_or_add_rPr(), getattr(theme.fonts, look.font).face)
    if look.size:
        font.size = Pt(getattr(theme.sizes, look.size))
    if look.colour:
        font.color.rgb = RGBColor.from_string(_hex(getattr(theme.colours, look.colour)))


def _quoted(style: BaseStyle, theme: Theme) -> None:
    """The quotation's rule, `lines.quote` wide in navy, `lengths.quote_indent`
    in from the margin; its text `lengths.quote_gap` right of it. Word draws a
    left border its w:space (in points) left of the text's indent."""
    width = theme.lines.quote
    gap = min(round(Mm(theme.lengths.quote_gap).pt), MAX_BORDER_SPACE)
    style.paragraph_format.left_indent = Mm(theme.lengths.quote_indent) + Pt(width) + Pt(gap)
    borders = OxmlElement("w:pBdr")
    borders.append(OxmlElement("w:left", {
        qn("w:val"): "single", qn("w:sz"): str(round(width * 8)),  # in eighths of a point
        qn("w:space"): str(gap), qn("w:color"): _hex(theme.colours.navy)}))
    paragraph_property(style.element.get_or_add_pPr(), borders)


def _character(style: BaseStyle, look: CharacterLook, theme: Theme) -> None:
    """Word's Hyperlink style: the theme's colour, underlined, on whatever typeface
    the paragraph has."""
    style.font.color.rgb = RGBColor.from_string(_hex(getattr(theme.colours, look.colour)))
    style.font.underline = look.underline or None


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


# The sequence of CT_TblBorders and CT_TcBorders: Word repairs a table style whose
# borders come in another order (python-docx's `table_style` helpers wrote them so).
_BORDER_ORDER = ("top", "start", "left", "bottom", "end", "right", "insideH", "insideV",
                 "tl2br", "tr2bl")


def _in_schema_order(borders: object) -> None:
    sides = sorted(borders, key=lambda side: _BORDER_ORDER.index(side.tag.rpartition("}")[2])
                   if side.tag.rpartition("}")[2] in _BORDER_ORDER else len(_BORDER_ORDER))
    for side in sides:
        borders.append(side)  # appending moves it: the children end up in order


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
