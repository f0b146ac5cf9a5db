"""HTML -> PDF through WeasyPrint, with print.css and the project's fonts.

print.css reads the shared presentation tokens (templates/theme.yaml) as
custom properties, `var(--navy)`; they come from a `:root` stylesheet made
from the theme and given to WeasyPrint before print.css.

WeasyPrint only logs what it cannot load or understand; here any warning or
error it logs fails the edition, so a broken stylesheet or a missing font is
never a silently different PDF. Nor is a footnote taller than a page, which
WeasyPrint never splits: it is an error at the footnote's definition.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import gc
import hashlib
import io
import re
import tempfile

import lxml.html
import pydyf
from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from briefing.content.model import ONE_PAGE
from briefing.errors import BuildFailed, Problem
from briefing.files import (
    ASSET_FOLDERS,
    BRIEFS,
    CONTENT_SUFFIX,
    STYLESHEET,
    TEMPLATES,
    ProjectFiles,
    same_file,
)
from briefing.render.fields import place
from briefing.render.layout import FURNITURE, POINT, breakable, project_metrics, wrap
from briefing.render.theme import Theme, css_root, load_theme
from briefing.render.typography import hyphenation_dictionaries
from briefing.writers.conformance import conformance_problems
from briefing.writers.fetcher import ProjectFetcher
from briefing.writers.registry import Request
from briefing.writers.stylesheet import position, weasyprint_messages
from briefing.writers.subset import FOOTNOTE_EXPECTED, footnote_defined_at
from briefing.writers.tagging import tagged
from briefing.writers.typesetting import first_field, gate

ARCHIVE_VARIANT = "pdf/a-3u"  # with tags and a PDF/UA-1 identification; why: docs/archive.md
PRINT_VARIANT = "pdf/ua-1"  # docs/accessibility.md


def write_pdf(request: Request) -> bytes:
    """Lay out the HTML with print.css and return the tagged PDF/UA-1; same input,
    same bytes."""
    return _accessible(request, _write(request, {"pdf_variant": PRINT_VARIANT,
                                                 "custom_metadata": True}))


def write_pdfa(request: Request) -> bytes:
    """The archival PDF/A-3u: the print PDF's metadata, custom fields (marking,
    reference) included, in the Info dictionary and in the XMP; the request's
    attachments embedded, dated with the brief; and the XMP packet left
    uncompressed near the start of the file, so that format identification
    (PRONOM, FIDO) can read it."""
    fetcher = ProjectFetcher([request.files.path(folder) for folder in ASSET_FOLDERS])
    day = dt.datetime.combine(request.edition.brief.date.first_day, dt.time(), dt.UTC)
    options = {
        "pdf_variant": ARCHIVE_VARIANT,
        "pdf_tags": True,  # PDF/A-3u does not ask for them; PDF/UA-1, also claimed, does
        "custom_metadata": True,  # as write_pdf: /marking, /reference in the Info dictionary
        "attachments": [Attachment(file_obj=io.BytesIO(item.data), url_fetcher=fetcher,
                                   name=item.name, description=item.description,
                                   created=day, modified=day,
                                   relationship=item.relationship)
                        for item in request.attachments],
        "finisher": _readable_xmp,
    }
    return _accessible(request, _xmp_near_the_start(_write(request, options)))


def _accessible(request: Request, pdf: bytes) -> bytes:
    """The PDF, once the accessibility gate (writers/conformance.py) finds nothing;
    what it finds fails the edition, placed at the edition's template."""
    tree = lxml.html.document_fromstring(request.html)
    languages = {element.get("lang") for element in tree.iter() if element.get("lang")
                 and not any(FURNITURE & set((item.get("class") or "").split())
                             for item in element.iterancestors())} - {tree.get("lang")}
    found = conformance_problems(pdf, languages)
    if found:
        edition = request.edition
        raise BuildFailed([
            Problem(f"{TEMPLATES}/{edition.template}", 1, 1,
                    f"the PDF's structure: {problem} (while rendering {edition.name}.pdf)",
                    expected="a tagged PDF/UA-1 (docs/accessibility.md)")
            for problem in found])
    return pdf


def _write(request: Request, options: dict[str, object]) -> bytes:
    files, edition = request.files, request.edition
    theme = load_theme(files)
    fetcher = ProjectFetcher([files.path(folder) for folder in ASSET_FOLDERS])
    templates = files.path(TEMPLATES).resolve()
    identifier = hashlib.sha256(request.html.encode()
                                + b"".join(item.data for item in request.attachments))
    options = {**options, "pdf_identifier": identifier.hexdigest()[:32].encode()}
    finisher = options.pop("finisher", None)
    problems: list[Problem] = []
    from_stylesheet = range(0)  # the messages logged while print.css was parsed
    with weasyprint_messages() as messages:
        try:
            fonts, tokens, stylesheet, from_stylesheet = _stylesheets(
                files, theme, fetcher, messages)
            # Long words get breaking opportunities WeasyPrint needs (not Word).
            html = breakable(request.html)  # the joins are made in render (layout.adapt)
            hyphenation_dictionaries()  # Azerbaijani's, which Pyphen has not
            document = HTML(string=html, base_url=templates.as_uri() + "/", url_fetcher=fetcher)
            stylesheets = [tokens, stylesheet]
            rendered = document.render(stylesheets=stylesheets, font_config=fonts, **options)
            furniture, one_line = _room_for_furniture(rendered)
            if furniture:  # a long marking or title: a taller running header or footer
                if one_line:
                    document = HTML(string=_title_in_one_line(html, files, theme),
                                    base_url=templates.as_uri() + "/", url_fetcher=fetcher)
                stylesheets.append(CSS(string=furniture, url_fetcher=fetcher, font_config=fonts))
                rendered = document.render(stylesheets=stylesheets, font_config=fonts,
                                           **options)
            problems += _cut_footnotes(request, rendered) + gate(request, rendered)
            if edition.kind in ONE_PAGE and len(rendered.pages) > 1:
                problems.append(_note_too_long(request, rendered))
            elif not problems:
                with tagged():
                    pdf = rendered.write_pdf(finisher=finisher, **options)
        except FatalURLFetchingError as err:
            messages.append(str(err.__cause__ or err))
    if messages:
        raise BuildFailed([
            Problem(STYLESHEET, *position(message, index in from_stylesheet),
                    f"WeasyPrint: {message} (while rendering {edition.name}.pdf)")
            for index, message in enumerate(messages)
        ])
    if problems:
        raise BuildFailed(problems)
    return pdf


# print.css as parsed, with the font configuration its @font-face rules filled,
# kept for the process's later editions (a render worker lays out several): the
# parse is about 6 % of an edition's time. Kept only when the parse logged
# nothing (a message fails the edition, and is reported from a fresh parse), and
# only for the same files under templates/ and fonts/ and the same temporary
# folder (the font configuration keeps its copies of the fonts there).
_PARSED: dict[tuple[object, ...], tuple[FontConfiguration, CSS, CSS]] = {}


def _stylesheets(files: ProjectFiles, theme: Theme, fetcher: ProjectFetcher,
                 messages: list[str]
                 ) -> tuple[FontConfiguration, CSS, CSS, range]:
    """The font configuration, the theme's tokens and print.css, parsed; and
    which of `messages` the parse of print.css logged."""
    key = (files.root.resolve(), theme, tempfile.gettempdir(), _stamps(files))
    if (parsed := _PARSED.get(key)) is not None:
        return (*parsed, range(0))
    fonts = FontConfiguration()
    tokens = CSS(string=css_root(theme), url_fetcher=fetcher, font_config=fonts)
    before = len(messages)
    stylesheet = CSS(filename=str(files.path(STYLESHEET).resolve()), url_fetcher=fetcher,
                     font_config=fonts)
    if len(messages) == before:
        _PARSED.clear()  # one project's stylesheet at a time: a font configuration is big
        _PARSED[key] = (fonts, tokens, stylesheet)
    return fonts, tokens, stylesheet, range(before, len(messages))


def _stamps(files: ProjectFiles) -> tuple[tuple[object, ...], ...]:
    """Which state of each file print.css may load at parse time it is."""
    stamps = []
    for name in files.shared_inputs():
        with contextlib.suppress(OSError):
            stamps.append((name, *same_file(files.path(name).stat())))
    return tuple(stamps)


@atexit.register
def _forget() -> None:
    """Its copies of the fonts go when the process ends (a render worker's
    temporary folder is removed by its build)."""
    _PARSED.clear()
    gc.collect()  # FontConfiguration removes its folder of fonts when collected


# -- the page furniture and the one-page note -------------------------------------------

FURNITURE_GAP = 5.0  # mm at least between the running header or footer and the page's text
TITLE_LINE_SHARE = 1 / 3  # of the page: a header taller shows the title in one line
HEADER_TITLE = "header-title"  # the class of the running header's title line
PX = 25.4 / 96  # mm


def _room_for_furniture(document: object) -> tuple[str, bool]:
    """A stylesheet giving the running header and footer the room they need
    ("" when print.css's margins hold them), and whether the header's title
    line must be cut to one line. WeasyPrint's page-margin boxes do not grow:
    a header taller than the margin would print over the text. The marking is
    never shortened; the title line of the running header is cut to one line
    only when the header would take more than a third of the page, since the
    cover, the contents and the properties show the title whole."""
    need = {"top": 0.0, "bottom": 0.0}
    have = {"top": 0.0, "bottom": 0.0}
    shortened = False
    for page in document.pages:
        box = page._page_box
        have["top"], have["bottom"] = box.margin_top * PX, box.margin_bottom * PX
        tallest = box.margin_height() * PX * TITLE_LINE_SHARE  # the page's own height
        for margin in box.children:
            side = getattr(margin, "at_keyword", "").partition("-")[0].lstrip("@")
            if side not in need:
                continue
            height = _content_height(margin) * PX
            if side == "top" and height + 2 * FURNITURE_GAP > tallest:
                height, shortened = _with_one_title_line(margin) * PX, True
            need[side] = max(need[side], height + 2 * FURNITURE_GAP)
    rules = [f"margin-{side}: {need[side]:.1f}mm;" for side in need
             if need[side] > have[side] + 0.05]
    return (f"@page {{ {' '.join(rules)} }}\n" if rules else ""), shortened


def _title_in_one_line(html: str, files: ProjectFiles, theme: Theme) -> str:
    """The HTML with the running header's title line cut to the text width,
    ending in an ellipsis. (CSS's text-overflow would do it too, but WeasyPrint
    then maps the ellipsis glyph to the whole hidden text, which PDF readers
    refuse.)"""
    measure = project_metrics(files)

    def width(piece: str) -> float:
        return measure.width(piece, theme.sizes.running, theme.fonts.sans.face) * POINT

    tree = lxml.html.document_fromstring(html)
    for line in tree.find_class(HEADER_TITLE):
        text = re.sub(r"\s+", " ", line.text_content()).strip()
        first = wrap(text, theme.page.text_width - width(" \u2026"), width)[0]
        for child in list(line):
            line.remove(child)
        line.text = first if first == text else first.rstrip(" ·") + " \u2026"
    return lxml.html.tostring(tree, doctype="<!DOCTYPE html>", encoding="unicode", method="html")


def _content_height(box: object) -> float:
    """The height of what a box holds, in CSS px."""
    return sum(child.margin_height() for child in getattr(box, "children", ()))


def _with_one_title_line(margin: object) -> float:
    """A header's height if its title paragraph were one line."""
    height = 0.0
    for child in getattr(margin, "children", ()):
        for part in getattr(child, "children", ()) or [child]:
            element_class = getattr(part, "element", None)
            classes = (element_class.get("class", "") if element_class is not None else "")
            lines = getattr(part, "children", ())
            if HEADER_TITLE in classes.split() and lines:
                height += lines[0].margin_height()
            else:
                height += part.margin_height()
    return height


def _note_too_long(request: Request, document: object) -> Problem:
    """The note's overflow, in pages and lines of body text, placed at its brief."""
    pages = document.pages
    last = pages[-1]._page_box
    top = last.content_box_y()
    used = max((_bottom(child) - top for child in last.children
                if not hasattr(child, "at_keyword")), default=0.0)
    line = _line_height(last)
    extra_pages, lines = len(pages) - 2, max(1, -(-int(used) // int(line or 1)))
    over = (f"{extra_pages} page{'s' if extra_pages != 1 else ''} and " if extra_pages else ""
            ) + f"{lines} line{'s' if lines != 1 else ''}"
    slug = request.edition.brief.slug
    # Placed at the first field that did not fit: what the editor shortens, or
    # what comes after what grew.
    field = first_field(document, 2)
    placed = place(request.project, field) if field and request.project is not None else None
    path, line, column = placed or (f"{BRIEFS}/{slug}.yaml", 1, 1)
    return Problem(path, line, column,
                   f"the note is {len(pages)} pages long: {over} too long for one page"
                   + ("; page 2 starts with this field" if placed else "")
                   + f" (while rendering {request.edition.name}.pdf)",
                   field=field.partition("#")[2] if placed and field else "",
                   expected="a note that fits one page: a shorter summary, fewer key facts "
                   "or key points")


def _bottom(box: object) -> float:
    """The lowest edge of anything in a box, in CSS px."""
    bottom = box.position_y + box.margin_height()
    for child in getattr(box, "children", ()):
        bottom = max(bottom, _bottom(child))
    return bottom


def _line_height(page: object) -> float:
    """The height of a line of text on a page: its first paragraph's or item's."""
    stack = list(page.children)
    while stack:
        box = stack.pop(0)
        element = getattr(box, "element", None)
        lines = [child for child in getattr(box, "children", ())
                 if type(child).__name__ == "LineBox"]
        if element is not None and element.tag in ("p", "li") and lines:
            return lines[0].height
        stack[:0] = list(getattr(box, "children", ()))
    return 20.0  # px: a line of 10.5 pt text


# -- footnotes too tall for a page -----------------------------------------------------

FOOTNOTE_AREA = "FootnoteAreaBox"  # WeasyPrint's box of a page's footnotes


def _cut_footnotes(request: Request, document: object) -> list[Problem]:
    """Each footnote WeasyPrint could not fit on a page, placed at its definition.
    WeasyPrint 70 never carries part of a footnote over to the next page: it
    lays a page's footnotes out upwards from the page's foot, and what does not
    fit runs above the page's area, over the running header and off the paper,
    where no reader (and no text extraction) finds it."""
    problems = []
    for page in document.pages:
        box = page._page_box
        top = box.content_box_y()
        for area in box.children:
            if type(area).__name__ != FOOTNOTE_AREA:
                continue
            for note in area.children:
                if note.position_y < top - 0.5:
                    problems.append(_footnote_too_tall(request, note, box.height))
    return problems


def _footnote_too_tall(request: Request, note: object, room: float) -> Problem:
    text = re.sub(r"\s+", " ", "".join(note.element.itertext())).strip()
    words = len(text.split())
    brief_file = f"{BRIEFS}/{request.edition.brief.slug}{CONTENT_SUFFIX}"
    path, line, column = footnote_defined_at(request.files, brief_file, text)
    return Problem(path, line, column,
                   f"a footnote of {words} words is {note.margin_height() * PX:.0f} mm tall, "
                   f"more than a page holds ({room * PX:.0f} mm): the PDF cannot carry a "
                   f"footnote over to the next page (while rendering {request.edition.name}.pdf)",
                   expected=FOOTNOTE_EXPECTED)


def _readable_xmp(document: object, pdf: pydyf.PDF) -> None:
    """WeasyPrint compresses the XMP packet of PDF/A-2 and later; format
    identifiers (PRONOM signatures, FIDO) read `pdfaid` as plain bytes."""
    reference = pdf.catalog["Metadata"]
    number = int((reference.decode() if isinstance(reference, bytes) else reference).split()[0])
    pdf.objects[number].compress = False


def _xmp_near_the_start(data: bytes) -> bytes:
    """The post-processing step, through pikepdf (qpdf):

    - each attachment once in the catalog's /AF (WeasyPrint 70 lists each twice)
      and the embedded-files name tree sorted by name, as ISO 32000-1 7.9.6 wants;
    - the custom Info fields (the marking, the reference) and the language in the
      XMP as well, the custom ones in Briefing's namespace, and the PDF/UA-1
      identification, each described by a PDF/A extension schema (ISO 19005-2
      6.6.2.3: no undescribed property);
    - the XMP packet within the first few KiB: FIDO reads only the first 128 KiB
      for `pdfaid`, WeasyPrint writes the packet after every page, and qpdf
      writes objects in the order it meets them from the catalog;
      `deterministic_id` keeps the bytes reproducible."""
    import pikepdf
    from pikepdf.models.metadata import XmpDocument

    namespace, prefix = "https://briefing.example/ns/pdf/1.0/", "briefing"
    standard = {"/Title", "/Author", "/Subject", "/Keywords", "/Creator", "/Producer",
                "/CreationDate", "/ModDate", "/Trapped"}
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        root = pdf.Root
        if "/AF" in root:
            root.AF = pikepdf.Array(list({item.objgen: item for item in root.AF}.values()))
        if "/Names" in root and "/EmbeddedFiles" in root.Names:
            names = list(root.Names.EmbeddedFiles.Names)
            pairs = sorted(zip(names[::2], names[1::2], strict=True),
                           key=lambda pair: bytes(pair[0]))
            root.Names.EmbeddedFiles.Names = pikepdf.Array(
                [item for pair in pairs for item in pair])
        custom = {str(key)[1:]: str(value) for key, value in pdf.docinfo.items()
                  if str(key) not in standard}
        XmpDocument.register_xml_namespace(namespace, prefix)
        schemas = [("PDF/UA identification schema", XmpDocument.NS["pdfuaid"], "pdfuaid",
                    [("part", "Integer", "internal", "the part of ISO 14289 followed")])]
        if custom:
            schemas.append(("Briefing: the brief's own fields", namespace, prefix,
                            [(key, "Text", "external", f"the brief's {key}")
                             for key in sorted(custom)]))
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
            if "/Lang" in root:
                xmp["dc:language"] = [str(root.Lang)]
            xmp["pdfuaid:part"] = "1"  # the tree is the print PDF's: docs/archive.md
            for key, value in sorted(custom.items()):
                xmp[f"{prefix}:{key}"] = value
            _describe(xmp, schemas)
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.disable,
                 stream_decode_level=pikepdf.StreamDecodeLevel.none, deterministic_id=True)
    return out.getvalue()


def _describe(xmp: object, schemas: list[tuple[str, str, str, list[tuple[str, ...]]]]) -> None:
    """The PDF/A extension schemas describing the XMP properties outside PDF/A's
    predefined schemas (ISO 19005-2 6.6.2.3)."""
    from lxml import etree
    from pikepdf.models.metadata import XmpDocument

    ns = {name: XmpDocument.NS[name] for name in
          ("rdf", "pdfaExtension", "pdfaSchema", "pdfaProperty")}
    rdf, schema, prop = (f"{{{ns[name]}}}" for name in ("rdf", "pdfaSchema", "pdfaProperty"))
    description = etree.SubElement(xmp._get_rdf_root(), f"{rdf}Description",
                                   {f"{rdf}about": ""}, nsmap=ns)
    bag = etree.SubElement(etree.SubElement(
        description, f"{{{ns['pdfaExtension']}}}schemas"), f"{rdf}Bag")
    for title, uri, prefix, properties in schemas:
        item = etree.SubElement(bag, f"{rdf}li", {f"{rdf}parseType": "Resource"})
        for field, text in (("schema", title), ("namespaceURI", uri), ("prefix", prefix)):
            etree.SubElement(item, f"{schema}{field}").text = text
        sequence = etree.SubElement(etree.SubElement(item, f"{schema}property"), f"{rdf}Seq")
        for values in properties:
            entry = etree.SubElement(sequence, f"{rdf}li", {f"{rdf}parseType": "Resource"})
            for field, text in zip(("name", "valueType", "category", "description"), values,
                                   strict=True):
                etree.SubElement(entry, f"{prop}{field}").text = text
