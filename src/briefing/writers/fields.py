"""Where each content field's text lies in a DOCX, for the review of a returned file.

The semantic HTML marks the text of every content field with `data-field`
(render/fields.py). The DOCX keeps three anchors of it, so that an official's
edited copy can be read back field by field (`briefing review`, review/):

1. a content control (`w:sdt`) around the field's runs, its `w:tag` the
   field's address and the edition's language, `content/briefs/x.yaml#
   key_points[2]@en` (a later occurrence of the same field adds `/2`, `/3`);
   it has only a tag and an id: no lock, no placeholder, no title, so it
   neither shows nor behaves differently in Word or LibreOffice;
2. a hidden bookmark around the same runs (Word's names start with `_` for
   bookmarks it does not list, and hold at most 40 characters: `_F` and a
   digest of the tag), for clients that drop content controls;
3. a custom XML part, the edition's *map*: its identity (brief, language,
   document, the digest of its HTML) and, for each mark, its tag, bookmark,
   address and text as built, plus the text of every paragraph outside the
   fields; the identity is also in the document's custom properties
   (File > Properties > Custom), which every client keeps.

Each Word paragraph a field reaches has a content control of its own: a
prose field of three paragraphs is three marks of one *group*, read back as
one text. A mark inside the contents (a field Word rebuilds) or in a header
or footer (the cover shows the same fields) is left out.

Everything here is a function of the HTML, so the bytes stay reproducible.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import etree
from lxml.html import HtmlElement

from briefing.writers.subset import INLINE

ATTRIBUTE = "data-field"  # as render/fields.py writes it
NAMESPACE = "urn:x-briefing:edition:1"  # of the map's custom XML part
MAP_PROPERTY = "Briefing edition"  # the custom property that names the map's item
MAX_TAG = 64  # characters of a content control's tag, as Word's dialog takes it
BOOKMARK_PREFIX = "_F"
BOOKMARK_DIGEST = 24  # hex digits: `_F` and these stay within Word's 40 characters
FIRST_BOOKMARK_ID = 100_000  # above the writer's own bookmark ids (the contents' anchors)
OBJECT = "\ufffc"  # a field's place in the text of its paragraph, in the map
_CUSTOM_PROPERTIES = ("http://schemas.openxmlformats.org/officeDocument/2006/"
                      "relationships/custom-properties")
_CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_ITEM_PROPS_CT = "application/vnd.openxmlformats-officedocument.customXmlProperties+xml"
_ITEM_PROPS_REL = ("http://schemas.openxmlformats.org/officeDocument/2006/"
                   "relationships/customXmlProps")
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the user-defined properties' set
_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_PROPS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_DS = "http://schemas.openxmlformats.org/officeDocument/2006/customXml"
_W15 = "http://schemas.microsoft.com/office/word/2012/wordml"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


@dataclass(frozen=True)
class Identity:
    """Which edition a DOCX is: what `briefing review` looks the project up by."""

    brief: str
    language: str
    document: str  # the edition's kind: report, note
    name: str  # the edition's file name, without suffix
    digest: str  # SHA-256 of the edition's HTML, as it was built

    def properties(self) -> dict[str, str]:
        return {"Briefing brief": self.brief, "Briefing language": self.language,
                "Briefing document": self.document, "Briefing edition": self.name,
                "Briefing digest": self.digest}


def tag_of(address: str, language: str, occurrence: int) -> str:
    """A mark's w:tag: the address and language, and the occurrence after the
    first. Word keeps a tag of at most 64 characters (its dialog takes no more):
    a longer one is its bookmark's name and as much of its end as fits, which
    is unique as the bookmark is (the map keeps the whole address)."""
    tag = f"{address}@{language}" + (f"/{occurrence + 1}" if occurrence else "")
    if len(tag) <= MAX_TAG:
        return tag
    head = bookmark_of(tag) + ":\u2026"
    return head + tag[len(tag) - (MAX_TAG - len(head)):]


def bookmark_of(tag: str) -> str:
    return BOOKMARK_PREFIX + hashlib.sha256(tag.encode("utf-8")).hexdigest()[:BOOKMARK_DIGEST]


# -- before the writer walks the HTML -------------------------------------------------

def push_down(body: HtmlElement) -> None:
    """Make every mark a span the writer meets among inline content: a block
    element's mark goes onto spans around each stretch of its inline content
    (and its descendants'), with the number of its group, so that the
    writer's runs say which field they show (runs.RunStyle.field). A field
    marked on consecutive blocks (prose) is one group; so is one span."""
    for nav in body.iter("nav"):  # the contents: Word rebuilds them from the headings
        for element in nav.iter():
            element.attrib.pop(ATTRIBUTE, None)
    group, last = 0, None
    for element in [e for e in body.iter() if isinstance(e.tag, str) and e.get(ATTRIBUTE)]:
        address = element.get(ATTRIBUTE)
        if address is None:  # inside a block marked before it: the block's mark wins
            continue
        if not (last is not None and last.get(ATTRIBUTE + "-was") == address
                and _adjacent(last, element)):
            group += 1
        value = f"{address}\n{group}"
        if element.tag == "span":
            element.set(ATTRIBUTE, value)
            continue
        for inner in element.iter():
            inner.attrib.pop(ATTRIBUTE, None)
        for block in [e for e in element.iter() if isinstance(e.tag, str)
                      and (e is element or e.tag not in INLINE)]:
            _wrap_stretches(block, value)
        element.set(ATTRIBUTE + "-was", address)
        last = element
    for element in body.iter():
        element.attrib.pop(ATTRIBUTE + "-was", None)


def _adjacent(first: HtmlElement, second: HtmlElement) -> bool:
    """Whether `second` follows `first` as its next sibling, with only spaces between."""
    return first.getnext() is second and not (first.tail or "").strip()


def _wrap_stretches(block: HtmlElement, value: str) -> None:
    """Each stretch of `block`'s own inline content (its text, inline children
    and their tails, up to a block or a picture) into one span carrying `value`."""
    children = list(block)
    lead, block.text = block.text, None
    for child in children:
        block.remove(child)  # with its tail
    stretch: list[HtmlElement] = []

    def close() -> None:
        nonlocal lead, stretch
        if (lead or "").strip() or any("".join(c.itertext()).strip() for c in stretch):
            span = block.makeelement("span", {ATTRIBUTE: value})
            span.text = lead
            span.extend(stretch)
            block.append(span)
        else:
            if lead and len(block):
                block[-1].tail = (block[-1].tail or "") + lead
            elif lead:
                block.text = (block.text or "") + lead
            block.extend(stretch)
        lead, stretch = None, []

    for child in children:
        if isinstance(child.tag, str) and child.tag in INLINE and child.tag != "img":
            stretch.append(child)
            continue
        close()
        tail, child.tail = child.tail, None
        block.append(child)
        lead = tail
    close()


# -- while the writer writes runs ----------------------------------------------------------

class Marks:
    """Which run elements show which field: filled as the writer writes runs."""

    def __init__(self) -> None:
        self.runs: dict[etree._Element, str] = {}

    def wrote(self, p: etree._Element, start: int, field: str | None) -> None:
        """The children of paragraph `p` from `start` on were written for `field`."""
        if field:
            for child in p[start:]:
                self.runs[child] = field


# -- once the document is written -------------------------------------------------------

def finish(doc: DocxDocument, marks: Marks, identity: Identity) -> None:
    """Put a content control and a bookmark around each field's runs in the
    body, and the map and identity into the package."""
    body = doc.element.body
    seen: dict[str, int] = {}
    entries: list[str] = []
    paragraphs: list[str] = []
    number = 0
    ids = itertools.count(1)  # of the content controls
    fields: list[str] = []  # the complex fields open (their code, then their result)
    for p in body.iter(qn("w:p")):
        outline: list[str] = []  # the paragraph's own text, and each field as a reference
        for group in _groups(list(p), marks.runs):
            if group[0] is None:
                outline.append(escape(_outside(group[1], fields)))
                continue
            value, children = group
            address, _, group_number = value.partition("\n")
            occurrence = seen.get(address, 0)
            seen[address] = occurrence + 1
            tag = tag_of(address, identity.language, occurrence)
            text = text_of(children)
            whole = not any(text_of([c]).strip() for c in p if c not in children)
            number += 1
            _enclose(p, children, tag, number, ids)
            entries.append(
                f"<field tag={quoteattr(tag)} bookmark={quoteattr(bookmark_of(tag))} "
                f"address={quoteattr(address)} group={quoteattr(group_number)} "
                f"whole={quoteattr(str(int(whole)))}>{escape(text)}</field>")
            outline.append(f"<f tag={quoteattr(tag)}/>")
        if "".join(outline).strip():
            paragraphs.append(f"<p>{''.join(outline)}</p>")
    item = (f"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
            f"<edition xmlns={quoteattr(NAMESPACE)} brief={quoteattr(identity.brief)} "
            f"language={quoteattr(identity.language)} document={quoteattr(identity.document)} "
            f"name={quoteattr(identity.name)} digest={quoteattr(identity.digest)}>"
            f"<fields>{''.join(entries)}</fields><text>{''.join(paragraphs)}</text>"
            f"<notes>{''.join(_notes(doc))}</notes>"
            f"<furniture>{''.join(f'<p>{escape(t)}</p>' for t in _furniture(doc))}</furniture>"
            "</edition>")
    _add_item(doc, item.encode("utf-8"), identity.digest)
    _set_properties(doc, identity.properties())


def _notes(doc: DocxDocument) -> Iterator[str]:
    """Each footnote's text, in the order of its references in the body, with
    the tag of the field whose text holds the reference (review/ compares them:
    an official's edit of a note is never lost)."""
    texts = {}
    for rel in doc.part.rels.values():
        if rel.reltype == RELATIONSHIP_TYPE.FOOTNOTES:
            for note in rel.target_part.element.iterfind(qn("w:footnote")):
                if note.get(qn("w:type"), "normal") == "normal":
                    texts[note.get(qn("w:id"))] = note_text(note)
    for reference in doc.element.body.iter(qn("w:footnoteReference")):
        control = next((a for a in reference.iterancestors(qn("w:sdt"))), None)
        tag = control.find(f"{qn('w:sdtPr')}/{qn('w:tag')}").get(qn("w:val")) \
            if control is not None else ""
        yield (f"<note tag={quoteattr(tag)}>"
               f"{escape(texts.get(reference.get(qn('w:id')), ''))}</note>")


_FURNITURE = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships/header",
              "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer")


def _furniture(doc: DocxDocument) -> list[str]:
    """The text of every paragraph of the page headers and footers, each once,
    sorted (page numbers, a field's result, left out): review/ tells an
    official's edit of the running header (the marking, say) as it tells one
    of the body."""
    texts = set()
    for rel in doc.part.rels.values():
        if rel.reltype in _FURNITURE:
            for p in rel.target_part.element.iter(qn("w:p")):
                text = " ".join(_outside([p], []).split())
                if text:
                    texts.add(text)
    return sorted(texts)


def note_text(note: etree._Element) -> str:
    """A footnote's text, its paragraphs one per line, without its number."""
    return "\n".join(text_of([p]) for p in note.iterfind(qn("w:p"))).strip()


def _groups(children: list[etree._Element], runs: dict[etree._Element, str]
            ) -> Iterator[tuple[str | None, list[etree._Element]]]:
    """A paragraph's children as consecutive stretches of one field (or none)."""
    current: tuple[str | None, list[etree._Element]] | None = None
    for child in children:
        if child.tag == qn("w:pPr"):
            continue
        field = runs.get(child)
        if current is not None and current[0] == field:
            current[1].append(child)
            continue
        if current is not None:
            yield current
        current = (field, [child])
    if current is not None:
        yield current


def _enclose(p: etree._Element, children: list[etree._Element], tag: str, number: int,
             ids: Iterator[int]) -> None:
    """`children` of `p` between the marks of one bookmark, and in an inline
    content control unless they hold a link: the DOCX LibreOffice 7.4 writes
    of a content control beside or around a link is not even XML (it opens
    or closes the control inside the link), so there the bookmark alone
    marks the field."""
    mark = str(FIRST_BOOKMARK_ID + number)
    children[0].addprevious(OxmlElement("w:bookmarkStart", {qn("w:id"): mark,
                                                             qn("w:name"): bookmark_of(tag)}))
    children[-1].addnext(OxmlElement("w:bookmarkEnd", {qn("w:id"): mark}))
    if any(child.tag == qn("w:hyperlink") for child in children):
        return
    sdt = OxmlElement("w:sdt")
    # Word 2013's hidden appearance: no box even while the cursor is inside; older
    # Words skip it (mc:Ignorable, declared here: the document's root has no w15).
    properties = OxmlElement("w:sdtPr", {f"{{{_MC}}}Ignorable": "w15"},
                             nsdecls={"w": qn("w:t")[1:].partition("}")[0], "w15": _W15,
                                      "mc": _MC})
    properties.append(OxmlElement("w:tag", {qn("w:val"): tag}))
    properties.append(OxmlElement("w:id", {qn("w:val"): str(next(ids))}))
    properties.append(etree.Element(f"{{{_W15}}}appearance", {f"{{{_W15}}}val": "hidden"},
                                    nsmap={"w15": _W15}))
    sdt.append(properties)
    content = OxmlElement("w:sdtContent")
    sdt.append(content)
    children[0].addprevious(sdt)
    for run in children:
        content.append(run)


# The text of runs as a reader sees it: what review/ reads back in the same way.
_TEXT = {qn("w:t"), qn("w:delText")}
_CHARACTERS = {qn("w:tab"): "\t", qn("w:br"): "\n", qn("w:cr"): "\n",
               qn("w:noBreakHyphen"): "\u2011"}
_SKIPPED = {qn("w:instrText"), qn("w:delInstrText"), qn("w:rPr"), qn("w:pPr")}


def text_of(elements: Iterable[etree._Element]) -> str:
    """The text shown by `elements` (runs, links, content controls...), in order."""
    out: list[str] = []
    for element in elements:
        for node in element.iter():
            if node.tag in _TEXT:
                out.append(node.text or "")
            elif node.tag in _CHARACTERS:
                out.append(_CHARACTERS[node.tag])
    return "".join(out)


def _outside(elements: list[etree._Element], fields: list[str]) -> str:
    """The text of `elements` outside any complex field (the contents, page
    numbers: Word and LibreOffice rewrite a field's result), as review/ reads it."""
    out: list[str] = []
    for element in elements:
        for node in element.iter():
            if node.tag == qn("w:fldChar"):
                kind = node.get(qn("w:fldCharType"))
                if kind == "begin":
                    fields.append("code")
                elif kind == "separate" and fields:
                    fields[-1] = "result"
                elif kind == "end" and fields:
                    fields.pop()
            elif not fields and node.tag in _TEXT:
                out.append(node.text or "")
            elif not fields and node.tag in _CHARACTERS:
                out.append(_CHARACTERS[node.tag])
    return "".join(out)


def _add_item(doc: DocxDocument, blob: bytes, digest: str) -> None:
    """The map as a custom XML part of the document, with its item properties."""
    package = doc.part.package
    taken = {str(part.partname) for part in package.iter_parts()}
    number = 1
    while f"/customXml/item{number}.xml" in taken:
        number += 1
    item = Part(PackURI(f"/customXml/item{number}.xml"), "application/xml", blob, package)
    guid = "{" + "-".join((digest[:8], digest[8:12], digest[12:16], digest[16:20],
                           digest[20:32])).upper() + "}"
    props = Part(PackURI(f"/customXml/itemProps{number}.xml"), _ITEM_PROPS_CT, (
        f"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        f'<ds:datastoreItem xmlns:ds="{_DS}" ds:itemID="{guid}"><ds:schemaRefs>'
        f'<ds:schemaRef ds:uri="{NAMESPACE}"/></ds:schemaRefs></ds:datastoreItem>').encode(),
        package)
    item.relate_to(props, _ITEM_PROPS_REL)
    doc.part.relate_to(item, RELATIONSHIP_TYPE.CUSTOM_XML)


def _set_properties(doc: DocxDocument, values: dict[str, str]) -> None:
    """docProps/custom.xml: the user-defined properties Word shows under File > Properties."""
    package = doc.part.package
    rows = "".join(
        f'<property fmtid="{_FMTID}" pid="{pid}" name={quoteattr(name)}>'
        f"<vt:lpwstr>{escape(value)}</vt:lpwstr></property>"
        for pid, (name, value) in enumerate(sorted(values.items()), start=2))
    blob = (f"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
            f'<Properties xmlns="{_PROPS}" xmlns:vt="{_VT}">{rows}</Properties>').encode()
    existing = next((rel.target_part for rel in package.rels.values()
                     if rel.reltype == _CUSTOM_PROPERTIES), None)
    if existing is None:
        part = Part(PackURI("/docProps/custom.xml"), _CUSTOM_CT, blob, package)
        package.relate_to(part, _CUSTOM_PROPERTIES)
    else:
        existing._blob = blob


def digest(html: str) -> str:
    return hashlib.sha256(html.encode("utf-8")).hexdigest()
