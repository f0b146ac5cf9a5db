"""WordprocessingML the python-docx API does not offer: fields, bookmarks,
languages, fixed column widths, list numbering instances, footnotes, picture
descriptions, settings in the schema's order, a package that says truthfully
what made it, and a byte-reproducible package.

The DOCX writer decides *what* goes where; this module only knows how Word
spells it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile
from xml.sax.saxutils import escape

from docx.document import Document as DocxDocument
from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.parts.story import StoryPart
from docx.styles.style import BaseStyle
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run


def column_widths(table: Table, widths: list[int]) -> None:
    """Fix column widths in the grid and every cell, as Word and LibreOffice both read."""
    for column, width in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
        column.w = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def field(paragraph: Paragraph, instruction: str, cached: str = "1") -> None:
    field_begin(paragraph, instruction)
    if cached:
        paragraph.add_run(cached)
    field_char(paragraph, "end")


def field_begin(paragraph: Paragraph, instruction: str) -> None:
    field_char(paragraph, "begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    field_char(paragraph, "separate")


def field_char(paragraph: Paragraph, kind: str) -> None:
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    paragraph.add_run()._r.append(char)


def new_list(doc: DocxDocument, style: BaseStyle, start: int) -> int | None:
    """A numbering instance of its own (a new w:num) for one list in a numbered
    paragraph style, restarting at `start`: without it every list of the style
    continues the one before. None if the style numbers nothing."""
    num_id = style_numbering(style)
    if num_id is None:
        return None
    numbering = doc.part.numbering_part.element
    abstract = numbering.num_having_numId(num_id).abstractNumId.val
    num = numbering.add_num(abstract)
    num.add_lvlOverride(ilvl=0).add_startOverride(start)
    return num.numId


def style_numbering(style: BaseStyle) -> int | None:
    """The numbering instance a paragraph style's own numPr names, if any."""
    num_ids = style.element.xpath("./w:pPr/w:numPr/w:numId/@w:val")
    return int(num_ids[0]) if num_ids else None


def number(paragraph: Paragraph, num_id: int) -> None:
    """Put a paragraph in numbering instance `num_id` (its style's single level)."""
    properties = paragraph._p.get_or_add_pPr()
    num_pr = OxmlElement("w:numPr")
    num_pr.append(OxmlElement("w:ilvl", {qn("w:val"): "0"}))
    num_pr.append(OxmlElement("w:numId", {qn("w:val"): str(num_id)}))
    style = properties.find(qn("w:pStyle"))
    if style is not None:  # w:numPr comes right after w:pStyle
        style.addnext(num_pr)
    else:
        properties.insert(0, num_pr)


# Word's footnotes part always starts with the separator line above the notes
# (id -1) and the one it draws when a note continues on the next page (id 0).
_FOOTNOTES = (
    f"<w:footnotes {nsdecls('w', 'r')}>"
    + "".join(
        f'<w:footnote w:type="{kind}" w:id="{number}"><w:p><w:pPr>'
        f'<w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>'
        f"<w:r><w:{kind}/></w:r></w:p></w:footnote>"
        for kind, number in (("separator", -1), ("continuationSeparator", 0)))
    + "</w:footnotes>")


def new_footnotes(doc: DocxDocument) -> StoryPart:
    """A fresh footnotes part for the document, with Word's two separators; the
    reference document's own part, if it has one, goes with its cleared body."""
    main = doc.part
    for r_id, rel in list(main.rels.items()):
        if rel.reltype == RELATIONSHIP_TYPE.FOOTNOTES:
            main.drop_rel(r_id)
    part = StoryPart(PackURI("/word/footnotes.xml"), CONTENT_TYPE.WML_FOOTNOTES,
                     parse_xml(_FOOTNOTES), main.package)
    main.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)
    if doc.settings.element.find(qn("w:footnotePr")) is None:
        setting(doc, parse_xml(f'<w:footnotePr {nsdecls("w")}><w:footnote w:id="-1"/>'
                               '<w:footnote w:id="0"/></w:footnotePr>'))
    return part


def add_footnote(part: StoryPart, note_id: int, text_style: str | None,
                 mark_style: str | None) -> Paragraph:
    """Footnote `note_id`'s paragraph, begun with its number (w:footnoteRef), for the
    caller to fill; `text_style` and `mark_style` are style ids, if the document has them."""
    note = OxmlElement("w:footnote", {qn("w:id"): str(note_id)})
    p = OxmlElement("w:p")
    if text_style:
        properties = OxmlElement("w:pPr")
        properties.append(OxmlElement("w:pStyle", {qn("w:val"): text_style}))
        p.append(properties)
    p.append(_mark_run("w:footnoteRef", mark_style))
    space = OxmlElement("w:r")
    text = OxmlElement("w:t", {qn("xml:space"): "preserve"})
    text.text = " "
    space.append(text)
    p.append(space)
    note.append(p)
    part.element.append(note)
    return Paragraph(p, part)


def footnote_reference(paragraph: Paragraph, note_id: int, mark_style: str | None) -> None:
    """The footnote's number in the text: a w:footnoteReference run."""
    paragraph._p.append(_mark_run("w:footnoteReference", mark_style, note_id))


def _mark_run(tag: str, style: str | None, note_id: int | None = None) -> object:
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    if style:
        properties.append(OxmlElement("w:rStyle", {qn("w:val"): style}))
    else:  # a reference document without Word's footnote styles: raise the number
        properties.append(OxmlElement("w:vertAlign", {qn("w:val"): "superscript"}))
    run.append(properties)
    mark = OxmlElement(tag)
    if note_id is not None:
        mark.set(qn("w:id"), str(note_id))
    run.append(mark)
    return run


# The children of w:settings in the order of CT_Settings (ECMA-376 Part 1,
# 17.15.1.78): Word repairs a file whose settings are out of order.
SETTINGS_ORDER = (
    "writeProtection", "view", "zoom", "removePersonalInformation", "removeDateAndTime",
    "doNotDisplayPageBoundaries", "displayBackgroundShape", "printPostScriptOverText",
    "printFractionalCharacterWidth", "printFormsData", "embedTrueTypeFonts",
    "embedSystemFonts", "saveSubsetFonts", "saveFormsData", "mirrorMargins",
    "alignBordersAndEdges", "bordersDoNotSurroundHeader", "bordersDoNotSurroundFooter",
    "gutterAtTop", "hideSpellingErrors", "hideGrammaticalErrors", "activeWritingStyle",
    "proofState", "formsDesign", "attachedTemplate", "linkStyles", "stylePaneFormatFilter",
    "stylePaneSortMethod", "documentType", "mailMerge", "revisionView", "trackRevisions",
    "doNotTrackMoves", "doNotTrackFormatting", "documentProtection", "autoFormatOverride",
    "styleLockTheme", "styleLockQFSet", "defaultTabStop", "autoHyphenation",
    "consecutiveHyphenLimit", "hyphenationZone", "doNotHyphenateCaps", "showEnvelope",
    "summaryLength", "clickAndTypeStyle", "defaultTableStyle", "evenAndOddHeaders",
    "bookFoldRevPrinting", "bookFoldPrinting", "bookFoldPrintingSheets",
    "drawingGridHorizontalSpacing", "drawingGridVerticalSpacing",
    "displayHorizontalDrawingGridEvery", "displayVerticalDrawingGridEvery",
    "doNotUseMarginsForDrawingGridOrigin", "drawingGridHorizontalOrigin",
    "drawingGridVerticalOrigin", "doNotShadeFormData", "noPunctuationKerning",
    "characterSpacingControl", "printTwoOnOne", "strictFirstAndLastChars",
    "noLineBreaksAfter", "noLineBreaksBefore", "savePreviewPicture",
    "doNotValidateAgainstSchema", "saveInvalidXml", "ignoreMixedContent",
    "alwaysShowPlaceholderText", "doNotDemarcateInvalidXml", "saveXmlDataOnly",
    "useXSLTWhenSaving", "saveThroughXslt", "showXMLTags", "alwaysMergeEmptyNamespace",
    "updateFields", "hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars",
    "rsids", "mathPr", "attachedSchema", "themeFontLang", "clrSchemeMapping",
    "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures", "forceUpgrade", "captions",
    "readModeInkLockDown", "smartTagType", "schemaLibrary", "shapeDefaults",
    "doNotEmbedSmartTags", "decimalSymbol", "listSeparator")


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def setting(doc: DocxDocument, element: BaseOxmlElement) -> None:
    """Put `element` (w:updateFields, w:autoHyphenation...) into settings.xml where
    the schema wants it, replacing one of its kind: Word repairs a file whose
    settings are out of order. A setting the list does not know goes last."""
    settings = doc.settings.element
    name = element.tag.rpartition("}")[2]
    for old in settings.findall(element.tag):
        settings.remove(old)
    later = SETTINGS_ORDER[SETTINGS_ORDER.index(name) + 1:] if name in SETTINGS_ORDER else ()
    following = next((child for child in settings
                      if child.tag.rpartition("}")[2] in later), None)
    if following is not None:
        following.addprevious(element)
    else:
        settings.append(element)


def update_fields_on_open(doc: DocxDocument) -> None:
    """Ask Word to update every field (the contents' page numbers) when it opens the file."""
    setting(doc, OxmlElement("w:updateFields", {qn("w:val"): "true"}))


def set_language(r_pr: object, language: str) -> None:
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        r_pr.append(lang)
    lang.set(qn("w:val"), language)


MAX_BOOKMARK = 40  # characters in a Word bookmark name
BOOKMARK_HASH = 10  # hex digits of the fragment's digest, where its name is not itself


def bookmark_name(fragment: str) -> str:
    """The Word bookmark of an HTML fragment id: `_` and the id with `-` as `_`
    (Word takes letters, digits and underscores, at most 40 characters). An id
    that cannot be spelled so whole (too long, or with other characters, or an
    underscore that a hyphen would clash with) keeps what fits of it and ends in
    a digest of the whole id, so that two ids never share a bookmark. Such names
    are 40 characters long, the others shorter, so the two kinds never meet."""
    spelled = fragment.replace("-", "_")
    if re.fullmatch(r"[A-Za-z0-9-]*", fragment) and len(spelled) < MAX_BOOKMARK - 1:
        return "_" + spelled
    digest = hashlib.sha256(fragment.encode("utf-8", "surrogatepass")).hexdigest()
    room = MAX_BOOKMARK - BOOKMARK_HASH - 2
    kept = re.sub(r"[^A-Za-z0-9_]", "_", fragment)[:room].ljust(room, "_")
    return f"_{kept}_{digest[:BOOKMARK_HASH]}"


def remove_paragraphs(container: object) -> None:
    for paragraph in list(container.paragraphs):
        paragraph._p.getparent().remove(paragraph._p)


def clear_body(doc: DocxDocument) -> None:
    body = doc.element.body
    for child in list(body):
        if not child.tag.endswith("}sectPr"):
            body.remove(child)


# Word's own mark on a picture its author marked decorative (Alt Text > Mark as decorative).
_DECORATIVE = ("{C183D7F6-B498-43B3-948B-1728B52AA6E4}",
               "http://schemas.microsoft.com/office/drawing/2017/decorative")


def describe_picture(inline: BaseOxmlElement, description: str, decorative: bool) -> None:
    """A picture's alternative text (`descr`, which Word shows as Alt Text and
    screen readers read), or Word's mark that it is decorative: readers skip it."""
    doc_pr = inline.find(qn("wp:docPr"))
    for properties in (doc_pr, inline.find(f".//{qn('pic:cNvPr')}")):
        if description and not decorative:
            properties.set("descr", description)
        else:
            properties.attrib.pop("descr", None)
    if decorative:
        uri, namespace = _DECORATIVE
        doc_pr.append(parse_xml(
            f'<a:extLst {nsdecls("a")}><a:ext uri="{uri}">'
            f'<adec:decorative xmlns:adec="{namespace}" val="1"/></a:ext></a:extLst>'))


COMPATIBILITY_MODE = "15"  # Word 2013 and later: no compatibility mode when opened
_APP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
_STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"


def truthful_package(doc: DocxDocument, application: str) -> None:
    """What the package says of itself, made true whatever saved reference.docx
    last (python-docx's own template claims "Microsoft Macintosh Word" in
    Word 2010's compatibility mode): the application that wrote it, Word
    2013's mode, no thumbnail (the reference document's would show another
    document) and no Word 2010 stylesWithEffects copy of the styles (it would
    disagree with the styles the writer changes)."""
    package = doc.part.package
    for r_id, rel in list(package.rels.items()):
        if rel.reltype == RELATIONSHIP_TYPE.THUMBNAIL:
            del package.rels[r_id]
    for r_id, rel in list(doc.part.rels.items()):
        if rel.reltype == _STYLES_WITH_EFFECTS:
            doc.part.drop_rel(r_id)
    blob = (f"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
            f'<Properties xmlns="{_APP}"><Application>{escape(application)}</Application>'
            f"<DocSecurity>0</DocSecurity></Properties>").encode()
    app = next((rel.target_part for rel in package.rels.values()
                if rel.reltype == RELATIONSHIP_TYPE.EXTENDED_PROPERTIES), None)
    if app is None:
        app = Part(PackURI("/docProps/app.xml"), CONTENT_TYPE.OFC_EXTENDED_PROPERTIES,
                   blob, package)
        package.relate_to(app, RELATIONSHIP_TYPE.EXTENDED_PROPERTIES)
    app._blob = blob
    compat = doc.settings.element.find(qn("w:compat"))
    if compat is None:
        compat = OxmlElement("w:compat")
        setting(doc, compat)
    mode = next((item for item in compat.findall(qn("w:compatSetting"))
                 if item.get(qn("w:name")) == "compatibilityMode"), None)
    if mode is None:
        mode = OxmlElement("w:compatSetting", {
            qn("w:name"): "compatibilityMode", qn("w:uri"): "http://schemas.microsoft.com/office/word"})
        compat.append(mode)
    mode.set(qn("w:val"), COMPATIBILITY_MODE)


ZIP_YEARS = (1980, 2107)  # the years an MS-DOS date, as zip entries carry, can hold


def reproducible(doc: DocxDocument, day: dt.date) -> bytes:
    """Save with every zip entry stamped with the brief's date, in a fixed order.
    A zip entry's date holds the years 1980 to 2107 only: a brief dated outside
    them is stamped with the nearest day they hold (its properties keep its date)."""
    buffer = io.BytesIO()
    doc.save(buffer)
    if day.year < ZIP_YEARS[0]:
        stamp = (ZIP_YEARS[0], 1, 1, 0, 0, 0)
    elif day.year > ZIP_YEARS[1]:
        stamp = (ZIP_YEARS[1], 12, 31, 0, 0, 0)
    else:
        stamp = (day.year, day.month, day.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            zf.writestr(entry, source.read(info.filename))
    return out.getvalue()


# The children of a paragraph's properties (w:pPr) in the order of CT_PPrBase
# (ECMA-376 Part 1, 17.3.1.26), then the w:pPr extras.
_PARAGRAPH_PROPERTIES = (
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl",
    "numPr", "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens",
    "kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN",
    "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing",
    "mirrorIndents", "suppressOverlap", "jc", "textDirection", "textAlignment",
    "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange")


def paragraph_property(p_pr: BaseOxmlElement, element: BaseOxmlElement) -> None:
    """Put `element` (w:pBdr, w:suppressAutoHyphens...) into paragraph properties
    where the schema wants it, replacing one of its kind."""
    for old in p_pr.findall(element.tag):
        p_pr.remove(old)
    name = element.tag.rpartition("}")[2]
    later = _PARAGRAPH_PROPERTIES[_PARAGRAPH_PROPERTIES.index(name) + 1:]
    following = next((child for child in p_pr if isinstance(child.tag, str)
                      and child.tag.rpartition("}")[2] in later), None)
    if following is not None:
        following.addprevious(element)
    else:
        p_pr.append(element)


def hyphenate(doc: DocxDocument) -> None:
    """Word hyphenates by its own dictionary, in each run's language (w:lang),
    wherever a paragraph style does not suppress it; never words in capitals
    (abbreviations: UNHCR, EU)."""
    setting(doc, OxmlElement("w:autoHyphenation"))
    setting(doc, OxmlElement("w:doNotHyphenateCaps"))


# Characters Word spells as elements of their own, not as text of a w:t.
_SPECIAL = re.compile("([\u2011\u00ad])")
_SPECIAL_TAGS = {"\u2011": "w:noBreakHyphen", "\u00ad": "w:softHyphen"}


def add_text(paragraph: Paragraph, text: str) -> list[Run]:
    """Runs of `text`, Word's own no-break hyphen (U+2011) and optional hyphen
    (U+00AD) each a run of its own element, which every Word draws with the
    font's hyphen and breaks (or not) as the text says; other characters
    (U+00A0 among them) stay as they are. One w:t at most in a run, as the
    readers of returned and compared files (review, redline) expect."""
    runs = []
    for part in _SPECIAL.split(text):
        if not part:
            continue
        run = paragraph.add_run()
        if part in _SPECIAL_TAGS:
            run._r.append(OxmlElement(_SPECIAL_TAGS[part]))
        else:
            run.add_text(part)
        runs.append(run)
    return runs
