"""The PDF's structure tree, built from the layout in one pass over all pages.

WeasyPrint 70 marks every piece of text and every image in the page content
(`pdf_tags=True`) and then builds a structure tree for them, page by page,
from its boxes. That tree has gaps a conformance checker fails (which are
WeasyPrint's, and which are ours to close: docs/accessibility.md): an element
broken across pages becomes two, the running header and footer are neither
artifacts nor in the tree, the contents' leader dots are text, an image with
empty alt is neither, list items have no labels, header cells no scope, and no
passage has a language of its own.

`structure_tree` replaces that one step, given exactly what WeasyPrint's own
step is given (the pydyf PDF, the laid-out document and each page's stream
with its marked boxes), while WeasyPrint writes the file (`tagged`). Here a
structure element belongs to an HTML element, not to a box on a page, so a
section, table or list broken across pages stays one element; everything in
a page-margin box, a repeated table header, a leader and a decorative image
becomes an /Artifact in the page content itself.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pydyf
from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder

HTML_TO_PDF = {
    "section": "Sect", "article": "Art", "aside": "Div", "nav": "Div", "main": "Part",
    "div": "Div", "figure": "Div", "header": "Div", "footer": "Div",
    "p": "P", "blockquote": "BlockQuote", "caption": "Caption", "figcaption": "Caption",
    "h1": "H1", "h2": "H2", "h3": "H3", "h4": "H4", "h5": "H5", "h6": "H6",
    "ul": "L", "ol": "L", "dl": "L", "li": "LI",
    "table": "Table", "thead": "THead", "tbody": "TBody", "tfoot": "TFoot",
    "tr": "TR", "th": "TH", "td": "TD",
    "a": "Link", "img": "Figure", "code": "Code",
}
"""Elements not named here (strong, em, br, span...) add no element of their
own: their text belongs to the element around them, unless they carry a
language of their own (then a Span) or are a footnote (a Note)."""

NUMBERING = {"disc": "/Disc", "circle": "/Circle", "square": "/Square", "decimal": "/Decimal",
             "lower-roman": "/LowerRoman", "upper-roman": "/UpperRoman",
             "lower-alpha": "/LowerAlpha", "lower-latin": "/LowerAlpha",
             "upper-alpha": "/UpperAlpha", "upper-latin": "/UpperAlpha"}

PAGINATION = pydyf.Dictionary({"Type": "/Pagination"})
LAYOUT = pydyf.Dictionary({"Type": "/Layout"})

_replacing = threading.Lock()


@contextmanager
def tagged() -> Iterator[None]:
    """While WeasyPrint writes a PDF, its tree-building step is `structure_tree`.
    (WeasyPrint is pinned exactly; tests/test_accessibility_pdf.py walks the result.)"""
    import weasyprint.pdf

    with _replacing:
        original, weasyprint.pdf.add_tags = weasyprint.pdf.add_tags, structure_tree
        try:
            yield
        finally:
            weasyprint.pdf.add_tags = original


def structure_tree(pdf: pydyf.PDF, document: object, pdf_version: object,
                   page_streams: list[object]) -> None:
    """WeasyPrint's `add_tags`, as Briefing needs it (the module docstring).

    The tree makes a few small objects per element and frees none of them, so
    the garbage collector is paused while it is built: its collections would
    each walk the whole laid-out document (millions of boxes), a cost that
    grew with the square of the page count."""
    paused = gc.isenabled()
    gc.disable()
    try:
        tree = _Tree(pdf, document)
        for number, (page, stream) in enumerate(zip(document.pages, page_streams,
                                                    strict=True)):
            tree.page(number, page._page_box, stream)
        tree.finish()
    finally:
        if paused:
            gc.enable()


class _Tree:
    def __init__(self, pdf: pydyf.PDF, document: object) -> None:
        self.pdf = pdf
        # pydyf makes this tuple anew on every read: read once, not once per element
        # (that was a cost growing with the square of the page count).
        self.references: tuple[bytes, ...] = pdf.page_references
        self.by_reference: dict[bytes, pydyf.Dictionary] = {}
        self.root = pydyf.Dictionary({"Type": "/StructTreeRoot"})
        pdf.add_object(self.root)
        self.document = self.element("Document", self.root, None)
        self.root["K"] = pydyf.Array([self.document.reference])
        self.language = pdf.catalog["Lang"].string if "Lang" in pdf.catalog else ""
        self.elements: dict[object, pydyf.Dictionary] = {}  # (HTML element, role) -> element
        self.first_page: dict[object, int] = {}
        self.marked: list[list[pydyf.Dictionary | None]] = []  # page -> MCID -> element
        self.annotations: list[tuple[pydyf.Dictionary, pydyf.Dictionary]] = []
        html = next(box.element for page in document.pages for box in page._page_box.children
                    if box.element_tag == "html")
        self.parents = {child: parent for parent in html.iter() for child in parent}

    # -- elements ---------------------------------------------------------------------------

    def element(self, role: str, parent: pydyf.Dictionary, page: int | None,
                **entries: object) -> pydyf.Dictionary:
        element = pydyf.Dictionary({"Type": "/StructElem", "S": f"/{role}",
                                    "P": parent.reference, "K": pydyf.Array(), **entries})
        if page is not None:
            element["Pg"] = self.references[page]
        self.pdf.add_object(element)
        self.by_reference[element.reference] = element
        if "K" in parent and parent is not self.root:
            parent["K"].append(element.reference)
        return element

    def owned(self, key: object, role: str, parent: pydyf.Dictionary, page: int,
              **entries: object) -> pydyf.Dictionary:
        """The element of `key`, made under `parent` the first time it is met."""
        if key not in self.elements:
            self.elements[key] = self.element(role, parent, page, **entries)
            self.first_page[key] = page
        return self.elements[key]

    # -- the walk ---------------------------------------------------------------------------

    def page(self, number: int, page_box: boxes.PageBox, stream: object) -> None:
        self.number, self.stream, self.tags = number, stream, stream._tags
        self.marked.append([])
        self.artifacts: dict[int, pydyf.Dictionary] = {}
        for child in page_box.children:
            if isinstance(child, boxes.MarginBox):
                side = child.at_keyword.partition("-")[0].lstrip("@")
                subtype = {"top": "/Header", "bottom": "/Footer"}.get(side)
                kind = pydyf.Dictionary({"Type": "/Pagination", **(
                    {"Subtype": subtype} if subtype else {})})
                self.artifact(child, kind)
            else:
                self.walk(child, self.document)
        self.rewrite_artifacts()

    def walk(self, box: object, parent: pydyf.Dictionary) -> None:
        if isinstance(box, AbsolutePlaceholder):
            box = box._box
        if box.is_leader:  # the contents' dots, drawn, and a part of their link
            if box.link_annotation is not None and parent["S"] == "/Link":
                self.link(box, parent)
            self.artifact(box, LAYOUT)
            return
        if isinstance(box, boxes.TextBox):
            self.content(box, parent)
            return
        here = self.structure(box, parent)
        if here is None:  # a repeated table header: furniture
            self.artifact(box, PAGINATION)
            return
        if isinstance(box, boxes.ReplacedBox):
            if here is parent:  # an image with empty alt: decoration
                self.artifact(box, LAYOUT)
            else:
                self.content(box, here)
            return
        if box.link_annotation is not None and here["S"] == "/Link":
            self.link(box, here)
        for child in getattr(box, "children", ()):
            self.walk(child, here)

    def structure(self, box: object, parent: pydyf.Dictionary) -> pydyf.Dictionary | None:
        """The element `box`'s content belongs to (`parent` itself when the box's
        HTML element adds none); None when the box is a repetition."""
        element, tag = box.element, box.element_tag
        if element is None or tag in ("html", "body") or isinstance(box, boxes.PageBox):
            return parent
        name, _, pseudo = (tag or "").partition("::")
        if pseudo == "marker":  # the label goes before the item's body
            item = self.elements.get((element, "")) or parent
            label = self.owned((element, "marker"), "Lbl", item, self.number)
            if item["K"] and item["K"][-1] == label.reference:
                item["K"].insert(0, item["K"].pop())
            return label
        key = (element, "")
        if key in self.elements:  # the element's continuation on a later page, or anonymous
            if name in ("thead", "tfoot") and self.first_page[key] != self.number:
                return None
            return self.body(element, self.elements[key])
        role = self.role(element, name)
        if role is None:
            return parent
        entries = self.entries(box, element, name, role, parent)
        if name == "dd":
            item = self.elements.get((self.previous(element, "dt"), "item"))
            item = item or self.element("LI", parent, self.number)
            return self.owned(key, "LBody", item, self.number)
        if name == "dt":
            item = self.owned((element, "item"), "LI", parent, self.number)
            return self.owned(key, "Lbl", item, self.number, **entries)
        return self.body(element, self.owned(key, role, parent, self.number, **entries))

    def body(self, element: object, here: pydyf.Dictionary) -> pydyf.Dictionary:
        """A list item's content goes to its LBody, beside its Lbl."""
        if here["S"] != "/LI":
            return here
        return self.owned((element, "body"), "LBody", here, self.number)

    def role(self, element: object, name: str) -> str | None:
        if name == "img":
            return "Figure" if element.get("alt") else None
        if name in ("ul", "ol") and self.inside(element, "nav"):
            return "TOC"
        if name == "li" and self.inside(element, "nav"):
            return "TOCI"
        if name == "span" and "footnote" in (element.get("class") or "").split():
            return "Note"
        if name in ("dt", "dd"):
            return name
        role = HTML_TO_PDF.get(name)
        if role is None and element.get("lang") and self.own_language(element):
            return "Span"
        return role

    def entries(self, box: object, element: object, name: str, role: str,
                parent: pydyf.Dictionary) -> dict[str, object]:
        entries: dict[str, object] = {}
        language = self.own_language(element)
        if language:
            entries["Lang"] = pydyf.String(language)
        if role == "Figure":
            entries["Alt"] = pydyf.String(element.get("alt"))
            entries["A"] = pydyf.Dictionary({"O": "/Layout", "BBox": self.bbox(box)})
        elif role == "TH":
            scope = element.get("scope") or ("Column" if self.inside(element, "thead") else "Row")
            entries["A"] = pydyf.Dictionary({"O": "/Table", "Scope": f"/{scope.title()}",
                                             **_spans(element)})
        elif role == "TD" and _spans(element):
            entries["A"] = pydyf.Dictionary({"O": "/Table", **_spans(element)})
        elif role == "L":
            style = "none" if name == "dl" else box.style["list_style_type"]
            entries["A"] = pydyf.Dictionary({"O": "/List", "ListNumbering":
                                             NUMBERING.get(style, "/None")})
        return entries

    def own_language(self, element: object) -> str:
        """The element's `lang`, when it differs from the language around it."""
        language = element.get("lang")
        if not language:
            return ""
        around = next((item.get("lang") for item in self.ancestors(element)
                       if item.get("lang")), self.language)
        return language if language != around else ""

    def ancestors(self, element: object) -> Iterator[object]:
        while (element := self.parents.get(element)) is not None:
            yield element

    def inside(self, element: object, tag: str) -> bool:
        return any(item.tag == tag for item in self.ancestors(element))

    def previous(self, element: object, tag: str) -> object:
        """The nearest sibling before `element` that is a `tag`."""
        siblings = list(self.parents[element])
        for item in reversed(siblings[:siblings.index(element)]):
            if item.tag == tag:
                return item
        return None

    def bbox(self, box: object) -> pydyf.Array:
        """The box's content box in PDF points, from the page's bottom left."""
        page = self.pdf.objects[int(self.references[self.number].split()[0])]
        height = page["MediaBox"][3]
        x, y = box.content_box_x() * 0.75, box.content_box_y() * 0.75
        return pydyf.Array((round(x, 2), round(height - y - box.height * 0.75, 2),
                            round(x + box.width * 0.75, 2), round(height - y, 2)))

    # -- content ----------------------------------------------------------------------------

    def content(self, box: object, here: pydyf.Dictionary) -> None:
        """The marked-content sequence of `box`, as a kid of `here`."""
        tag = self.tags.pop(box, None)
        if tag is None:  # drawn unmarked (nothing to map) or not drawn
            return
        mcid = tag["mcid"]
        page = self.references[self.number]
        if here.get("Pg") == page:
            here["K"].append(mcid)
        else:
            here["K"].append(pydyf.Dictionary({"Type": "/MCR", "Pg": page, "MCID": mcid}))
        marked = self.marked[-1]
        marked.extend([None] * (mcid + 1 - len(marked)))
        marked[mcid] = here

    def artifact(self, box: object, kind: pydyf.Dictionary) -> None:
        """Everything `box` draws becomes an /Artifact of `kind` in the page content."""
        tag = self.tags.pop(box, None)
        if tag is not None:
            self.artifacts[tag["mcid"]] = kind
        for child in getattr(box, "children", ()):
            self.artifact(child._box if isinstance(child, AbsolutePlaceholder) else child, kind)

    def rewrite_artifacts(self) -> None:
        if not self.artifacts:
            return
        content = self.stream.stream
        for index, item in enumerate(content):
            if isinstance(item, pydyf.Dictionary) and item.get("MCID") in self.artifacts:
                content[index - 1] = "/Artifact"
                content[index] = self.artifacts[item["MCID"]]

    def link(self, box: object, here: pydyf.Dictionary) -> None:
        annotation = box.link_annotation
        text = " ".join("".join(box.element.itertext()).split())
        if text:
            annotation["Contents"] = pydyf.String(text)
        reference = pydyf.Dictionary({"Type": "/OBJR", "Obj": annotation.reference,
                                      "Pg": self.references[self.number]})
        self.pdf.add_object(reference)
        here["K"].append(reference.reference)
        self.annotations.append((here, annotation))
        box.link_annotation = None  # a box drawn on two lines is one annotation, once

    # -- the end ----------------------------------------------------------------------------

    def finish(self) -> None:
        self.prune(self.document)
        numbers = pydyf.Array()
        for page, marked in enumerate(self.marked):
            numbers.extend([page, pydyf.Array(
                [element.reference if element is not None else "null" for element in marked])])
        start = len(self.marked)
        for index, (element, annotation) in enumerate(self.annotations, start=start):
            annotation["StructParent"] = index
            numbers.extend([index, element.reference])
        parents = pydyf.Dictionary({"Nums": numbers})
        self.pdf.add_object(parents)
        self.root["ParentTree"] = parents.reference
        self.root["ParentTreeNextKey"] = start + len(self.annotations)
        catalog = self.pdf.catalog
        catalog["StructTreeRoot"] = self.root.reference
        catalog["MarkInfo"] = pydyf.Dictionary({"Marked": "true"})
        catalog["ViewerPreferences"] = pydyf.Dictionary({"DisplayDocTitle": "true"})

    def prune(self, element: pydyf.Dictionary) -> bool:
        """Leave out elements with nothing in them (a paragraph that held only a
        decorative image); True when `element` itself is empty."""
        kept = pydyf.Array()
        for kid in element["K"]:
            child = self.by_reference.get(kid) if isinstance(kid, bytes) else None
            if child is None or not self.prune(child):
                kept.append(kid)
        element["K"] = kept
        return not kept and element["S"] not in KEPT_EMPTY




KEPT_EMPTY = {"/TD", "/TH", "/TR"}  # an empty cell still holds its place in the table


def _spans(element: object) -> dict[str, int]:
    spans = {}
    for attribute, key in (("colspan", "ColSpan"), ("rowspan", "RowSpan")):
        value = element.get(attribute)
        if value and value.isdigit() and int(value) != 1:
            spans[key] = int(value)
    return spans
