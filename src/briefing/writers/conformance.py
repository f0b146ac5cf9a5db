"""The accessibility gate every PDF passes before it is written.

veraPDF, the reference checker, is not available here; these are the checks of
PDF/UA-1 (ISO 14289-1, in the Matterhorn Protocol's terms) that follow from
the file alone, made with pikepdf on every PDF the writers produce
(docs/accessibility.md lists them, and what they cannot see):

- the document: marked as tagged, with a /Lang, a title shown as the window
  title, and the PDF/UA identification in its XMP;
- page content: every marked-content sequence either an /Artifact or reachable
  from the StructTreeRoot (its MCID in the ParentTree, pointing at an element
  of the tree that holds it), and no text or image outside marked content;
- the tree: only standard structure types; headings from H1, never skipping
  a level; tables with header cells, each with a /Scope, and only rows and
  row groups; lists made of items made of a label and a body; a contents list
  made of TOCI; every Figure with alternative text; every link annotation in
  the tree with a description; every language tag well formed, and each
  language the HTML marks on a passage present on an element.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pikepdf

STANDARD = {
    "Document", "Part", "Art", "Sect", "Div", "BlockQuote", "Caption", "TOC", "TOCI", "Index",
    "NonStruct", "Private", "P", "H", "H1", "H2", "H3", "H4", "H5", "H6", "L", "LI", "Lbl",
    "LBody", "Table", "TR", "TH", "TD", "THead", "TBody", "TFoot", "Span", "Quote", "Note",
    "Reference", "BibEntry", "Code", "Link", "Annot", "Ruby", "RB", "RT", "RP", "Warichu",
    "WT", "WP", "Figure", "Formula", "Form",
}
CHILDREN = {  # what these may hold (ISO 32000-1 14.8.4; PDF/UA-1 7.2, 7.5, 7.6)
    "Table": {"THead", "TBody", "TFoot", "TR", "Caption"},
    "THead": {"TR"}, "TBody": {"TR"}, "TFoot": {"TR"}, "TR": {"TH", "TD"},
    "L": {"LI", "L", "Caption"}, "LI": {"Lbl", "LBody"}, "TOC": {"TOC", "TOCI", "Caption"},
}
SHOWS = {b"Tj", b"TJ", b"'", b'"', b"Do", b"BI", b"sh",  # text, images, shadings
         b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}  # and painted paths
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def conformance_problems(data: bytes, languages: set[str] = frozenset()) -> list[str]:
    """What keeps the PDF from PDF/UA-1, as sentences ([] when nothing does);
    `languages` are those the HTML marks on passages other than the document's."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return list(_document(pdf)) + list(_Walk(pdf, languages).problems())


def _document(pdf: pikepdf.Pdf) -> Iterator[str]:
    root = pdf.Root
    if not bool(root.get("/MarkInfo", {}).get("/Marked", False)):
        yield "the document is not marked as tagged (/MarkInfo /Marked)"
    if not str(root.get("/Lang", "")).strip():
        yield "the document has no language (/Lang)"
    if not bool(root.get("/ViewerPreferences", {}).get("/DisplayDocTitle", False)):
        yield "the window does not show the document's title (/DisplayDocTitle)"
    if not str(pdf.docinfo.get("/Title", "")).strip():
        yield "the document has no title"
    metadata = root.get("/Metadata")
    if metadata is None or b"pdfuaid:part" not in metadata.read_bytes():
        yield "the XMP metadata has no PDF/UA identification (pdfuaid:part)"


class _Walk:
    def __init__(self, pdf: pikepdf.Pdf, languages: set[str]) -> None:
        self.pdf, self.languages = pdf, languages
        self.found: list[str] = []
        self.reached: set[tuple[tuple[int, int], int]] = set()  # (page, MCID) in the tree
        self.annotations: set[tuple[int, int]] = set()
        self.headings: list[tuple[int, int]] = []  # level, page
        self.marked_languages: set[str] = set()
        self.page_numbers = {page.obj.objgen: number
                             for number, page in enumerate(pdf.pages, start=1)}

    def problems(self) -> list[str]:
        root = self.pdf.Root.get("/StructTreeRoot")
        if root is None:
            return ["the document has no structure tree (/StructTreeRoot)"]
        self.parent_tree = self.parents(root)
        for kid in _kids(root):
            self.element(kid, None)
        self.heading_order()
        for language in sorted(self.languages - self.marked_languages):
            self.found.append(f"no element of the tree has the language {language} "
                              "of a passage the HTML marks")
        for number, page in enumerate(self.pdf.pages, start=1):
            self.content(number, page)
        return self.found

    def parents(self, root: pikepdf.Dictionary) -> dict[int, object]:
        tree = root.get("/ParentTree")
        if tree is None:
            self.found.append("the structure tree has no /ParentTree")
            return {}
        numbers = tree.get("/Nums", pikepdf.Array())
        return {int(numbers[i]): numbers[i + 1] for i in range(0, len(numbers), 2)}

    # -- the tree ---------------------------------------------------------------------------

    def element(self, element: pikepdf.Dictionary, parent: str | None) -> None:
        role = str(element.get("/S", "/"))[1:]
        if role not in STANDARD:
            self.found.append(f"structure type {role} is not a standard one")
        allowed = CHILDREN.get(parent or "")
        if allowed is not None and role not in allowed:
            self.found.append(f"a {parent} holds a {role} (expected {', '.join(sorted(allowed))})")
        if "/Lang" in element:
            language = str(element.Lang)
            self.marked_languages.add(language)
            if not LANGUAGE.match(language):
                self.found.append(f"a {role} has the malformed language {language!r}")
        page = element.get("/Pg")
        kinds = []
        for kid in _kids(element):
            if isinstance(kid, int):
                self.mark(page, kid, role)
            elif kid.get("/Type") == "/MCR":
                self.mark(kid.get("/Pg", page), int(kid.MCID), role)
            elif kid.get("/Type") == "/OBJR":
                self.annotation(kid.Obj, role)
            else:
                kinds.append(str(kid.get("/S", "/"))[1:])
                self.element(kid, role)
        if re.fullmatch(r"H[1-6]", role):
            self.headings.append((int(role[1]), self.page_numbers.get(
                page.objgen if page is not None else None, 0)))
        if role == "Figure" and not str(element.get("/Alt", element.get("/ActualText", ""))
                                        ).strip():
            self.found.append("a Figure has no alternative text (/Alt)")
        if role == "TH" and "/Scope" not in element.get("/A", {}):
            self.found.append("a header cell (TH) has no /Scope")
        if role == "Table" and not self.has(element, "TH"):
            self.found.append("a Table has no header cell (TH)")
        if role == "LI" and "LBody" not in kinds:
            self.found.append("a list item (LI) has no body (LBody)")
        if role == "TOC" and "TOCI" not in kinds:
            self.found.append("a contents list (TOC) has no item (TOCI)")

    def has(self, element: pikepdf.Dictionary, role: str) -> bool:
        for kid in _kids(element):
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid and (
                    str(kid.S) == f"/{role}" or self.has(kid, role)):
                return True
        return False

    def mark(self, page: object, mcid: int, role: str) -> None:
        if page is None:
            self.found.append(f"a {role} holds marked content of no page (/Pg)")
            return
        self.reached.add((page.objgen, mcid))

    def annotation(self, annotation: pikepdf.Dictionary, role: str) -> None:
        self.annotations.add(annotation.objgen)
        if str(annotation.get("/Subtype")) == "/Link":
            if role != "Link":
                self.found.append(f"a link annotation is in a {role}, not a Link")
            if not str(annotation.get("/Contents", "")).strip():
                self.found.append("a link annotation has no description (/Contents)")
            if "/StructParent" not in annotation:
                self.found.append("a link annotation has no /StructParent")

    def heading_order(self) -> None:
        level = 0
        for number, page in self.headings:
            if number > level + 1:
                self.found.append(f"heading H{number} on page {page} follows "
                                  f"{f'H{level}' if level else 'no heading'}")
            level = number

    # -- page content -----------------------------------------------------------------------

    def content(self, number: int, page: pikepdf.Page) -> None:
        mapped = self.parent_tree.get(int(page.obj.get("/StructParents", -1)))
        stack: list[str] = []  # the open sequences: "Artifact", "MCID" or "other"
        unmarked = False
        for operands, operator in pikepdf.parse_content_stream(page, _WATCHED):
            name = bytes(operator)
            if name in (b"BDC", b"BMC"):
                tag = str(operands[0])
                properties = operands[1] if name == b"BDC" else None
                if tag == "/Artifact":
                    stack.append("Artifact")
                elif isinstance(properties, pikepdf.Dictionary) and "/MCID" in properties:
                    self.sequence(number, page, int(properties.MCID), tag, mapped, stack)
                    stack.append("MCID")
                else:
                    stack.append("other")
            elif name == b"EMC":
                if stack:
                    stack.pop()
            elif name in SHOWS and not any(kind in ("Artifact", "MCID") for kind in stack):
                unmarked = True
        if unmarked:
            self.found.append(f"page {number} shows content that is neither in the "
                              "structure tree nor an artifact")
        for annotation in page.obj.get("/Annots", ()):
            if (str(annotation.get("/Subtype")) == "/Link"
                    and annotation.objgen not in self.annotations):
                self.found.append(f"a link annotation on page {number} is not in the tree")

    def sequence(self, number: int, page: pikepdf.Page, mcid: int, tag: str,
                 mapped: object, stack: list[str]) -> None:
        if "Artifact" in stack:
            return
        where = f"marked content {tag} {mcid} on page {number}"
        if (page.obj.objgen, mcid) not in self.reached:
            self.found.append(f"{where} is neither reachable from the structure tree "
                              "nor an artifact")
        elif not isinstance(mapped, pikepdf.Array) or mcid >= len(mapped) or not isinstance(
                mapped[mcid], pikepdf.Dictionary):
            self.found.append(f"{where} has no entry in the ParentTree")


# Only these operators matter here: pikepdf leaves the others in C++.
_WATCHED = " ".join(["BDC", "BMC", "EMC", *(name.decode() for name in SHOWS)])


def _kids(element: pikepdf.Object) -> list[object]:
    kids = element.get("/K")
    if kids is None:
        return []
    items = list(kids) if isinstance(kids, pikepdf.Array) else [kids]
    return [int(item) if isinstance(item, int) or (
        not isinstance(item, pikepdf.Dictionary) and not isinstance(item, pikepdf.Array)
        and _is_number(item)) else item for item in items]


def _is_number(item: object) -> bool:
    try:
        int(item)
    except (TypeError, ValueError):
        return False
    return True
