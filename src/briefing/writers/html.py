"""HTML outputs: the HTML edition for screens, and the semantic HTML itself.

The HTML edition is the edition's semantic HTML made a page of its own: one
self-contained file (styles inline from templates/screen.css and the theme,
figures inline as SVG with a title and description, system fonts), which
works without JavaScript, reflows from a phone to a desktop (the contents
become a sidebar on wide screens), and carries its accessibility in the
markup: a skip link, landmarks (banner, navigation, main, contentinfo), one
`h1` and headings in order, header cells with their scope, `lang` on the page
and the language links. Like the DOCX writer it maps structure; looks come
from screen.css. `semantic` writes the HTML both writers read, as it is, for
template authors.
"""

from __future__ import annotations

import copy

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from briefing.errors import BuildFailed, Problem
from briefing.files import MAX_ASSET_BYTES, TEMPLATES, Unreadable, read_confined
from briefing.render.edition import Edition
from briefing.render.theme import css_root, load_theme
from briefing.writers import dataurl
from briefing.writers.registry import Request

SCREEN_CSS = f"{TEMPLATES}/screen.css"
CONTENT_ID = "content"


def write_semantic(request: Request) -> bytes:
    return request.html.encode("utf-8")


def write_html(request: Request) -> bytes:
    tree = lxml.html.document_fromstring(request.html)
    page = _Page(tree, request)
    page.head()
    page.body()
    return lxml.html.tostring(tree, doctype="<!DOCTYPE html>", encoding="utf-8",
                              method="html")


class _Page:
    def __init__(self, tree: HtmlElement, request: Request) -> None:
        self.tree, self.request = tree, request
        self.edition: Edition = request.edition
        self.labels = request.labels
        self.templates = request.files.path(TEMPLATES).resolve()

    # -- head ----------------------------------------------------------------------------

    def head(self) -> None:
        head = self.tree.head
        viewport = lxml.html.Element("meta", name="viewport",
                                     content="width=device-width, initial-scale=1")
        head.insert(1, viewport)
        style = lxml.html.Element("style")
        style.text = self.stylesheet()
        head.append(style)

    def stylesheet(self) -> str:
        root = css_root(load_theme(self.request.files))
        try:
            css = read_confined(self.request.files.path(SCREEN_CSS), [self.templates],
                                MAX_ASSET_BYTES).decode("utf-8")
        except (Unreadable, UnicodeDecodeError) as err:
            why = getattr(err, "why", "is not UTF-8 text")
            raise BuildFailed([Problem(SCREEN_CSS, 1, 1, f"the stylesheet {why}",
                                       expected="a readable UTF-8 stylesheet")]) from None
        return root + css

    def alternates(self) -> list[HtmlElement]:
        """The head's links to the same document in the brief's other languages."""
        return [link for link in self.tree.head.iter("link")
                if link.get("rel") == "alternate" and link.get("hreflang")]

    # -- body ----------------------------------------------------------------------------

    def body(self) -> None:
        body = self.tree.body
        header = body.find("header")
        footer = body.find("footer")
        contents = body.find("nav")
        main = lxml.html.Element("main", id=CONTENT_ID)
        for child in list(body):
            if child not in (header, footer, contents):
                main.append(child)
        skip = lxml.html.Element("a", href=f"#{CONTENT_ID}")
        skip.set("class", "skip-link")
        skip.text = self.labels["skip_to_content"]
        body.insert(0, skip)
        if header is not None:
            self.masthead(header)
        if contents is not None:
            contents.set("aria-label", self.labels["contents"])
            contents.addnext(main)
        else:
            (header if header is not None else skip).addnext(main)
        if footer is not None:
            footer.set("class", "colophon")
            for part in footer.find_class("footer-page"):
                footer.remove(part)
            main.addnext(footer)
        self.headings(main)
        self.tables(main)
        self.figures(main)
        self.notes(main)

    def masthead(self, header: HtmlElement) -> None:
        header.set("class", "masthead")
        others = self.alternates()
        if not others:
            return
        nav = lxml.html.Element("nav")
        nav.set("class", "languages")
        nav.set("aria-label", self.labels["languages"])
        items = etree.SubElement(nav, "ul")
        for other in others:
            tag = other.get("hreflang")
            link = etree.SubElement(etree.SubElement(items, "li"), "a",
                                        href=other.get("href", ""), hreflang=tag, lang=tag)
            link.text = other.get("title") or tag
        header.append(nav)

    def headings(self, main: HtmlElement) -> None:
        """One `h1`, the title; the document's own levels one step down."""
        for level in (3, 2, 1):
            for heading in main.iter(f"h{level}"):
                heading.tag = f"h{level + 1}"
        title = next(iter(main.find_class("title")), None)
        if title is not None:
            title.tag = "h1"

    def tables(self, main: HtmlElement) -> None:
        """Header cells with their scope; each data cell labelled with its column's
        header, which narrow screens show beside the value."""
        for table in main.iter("table"):
            heads = [th.text_content().strip() for th in table.findall("./thead/tr/th")]
            for th in table.findall("./thead/tr/th"):
                th.set("scope", "col")
            for row in table.iterfind("./tbody/tr"):
                cells = [cell for cell in row if cell.tag in ("th", "td")]
                for i, cell in enumerate(cells):
                    if cell.tag == "th":
                        cell.set("scope", "row")
                    elif i < len(heads) and heads[i]:
                        cell.set("data-label", heads[i])

    def notes(self, main: HtmlElement) -> None:
        """Footnotes, printed where they are referenced in the semantic HTML
        (the PDF floats them to the foot of the page), become numbered notes at
        the end of the page, each linked to its call and back."""
        notes = list(main.find_class("footnote"))
        if not notes:
            return
        section = etree.SubElement(main, "section")
        section.set("class", "footnotes")
        section.set("aria-label", self.labels["notes"])
        items = etree.SubElement(section, "ol")
        for number, note in enumerate(notes, start=1):
            item = etree.SubElement(items, "li", id=f"note-{number}")
            item.text = note.text
            for child in note:
                item.append(child)
            if len(item):
                item[-1].tail = (item[-1].tail or "") + " "
            else:
                item.text = (item.text or "") + " "
            back = etree.SubElement(item, "a", href=f"#note-call-{number}")
            back.set("aria-label", f"{self.labels['back_to_text']} {number}")
            back.text = "↩"
            back.tail = None
            call = lxml.html.Element("sup", id=f"note-call-{number}")
            link = etree.SubElement(call, "a", href=f"#note-{number}")
            link.set("class", "note-call")
            link.text = str(number)
            call.tail = note.tail
            note.getparent().replace(note, call)

    def figures(self, main: HtmlElement) -> None:
        """Images as inline SVG: figures with a title and description, the
        decorative ones (empty alt) hidden from assistive technology."""
        for number, img in enumerate(list(main.iter("img")), start=1):
            svg = self.svg(img)
            if svg is None:
                continue
            alt = img.get("alt", "")
            for attribute in ("width", "height"):
                svg.attrib.pop(attribute, None)
            if alt:
                figure = next((a for a in img.iterancestors("figure")), None)
                caption = figure.find("figcaption") if figure is not None else None
                svg.set("role", "img")
                svg.set("aria-labelledby", f"figure-{number}-title figure-{number}-desc")
                title = lxml.html.Element("title", id=f"figure-{number}-title")
                title.text = alt
                desc = lxml.html.Element("desc", id=f"figure-{number}-desc")
                desc.text = caption.text_content().strip() if caption is not None else alt
                svg.insert(0, desc)
                svg.insert(0, title)
            else:
                svg.set("aria-hidden", "true")
                svg.set("focusable", "false")
            inside_figure = next(img.iterancestors("figure"), None) is not None
            svg.set("class", " ".join(filter(None, ["figure" if inside_figure else "",
                                                    img.get("class")])))
            img.getparent().replace(img, svg)

    def svg(self, img: HtmlElement) -> HtmlElement | None:
        src = img.get("src", "")
        if dataurl.is_data_url(src):
            try:
                found = dataurl.decode(src)
            except dataurl.BadDataURL:
                return None
            if not found.svg:
                return None
            text = found.data
        elif src.endswith(".svg") and "://" not in src:
            try:
                text = read_confined(self.templates / src, [self.templates], MAX_ASSET_BYTES)
            except Unreadable:
                return None
        else:
            return None
        parsed = lxml.html.fragment_fromstring(text.decode("utf-8").split("?>", 1)[-1].strip())
        return copy.deepcopy(parsed)
