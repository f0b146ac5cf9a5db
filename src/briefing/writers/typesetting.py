"""The typesetting gate: what a reader would call a bad page, found on the
laid-out boxes of the PDF (WeasyPrint's page boxes), never guessed.

Five rules (docs/typesetting.md), each with the name an editor accepts it by:

- `broken-word`: a line ends inside a word with no hyphen shown, where the
  language's hyphenation (Pyphen, which WeasyPrint hyphenates with) puts no
  hyphen and the text has none (a word over 40 characters, a URL say, breaks
  anywhere and is not counted);
- `overflow`: a line or box runs out of its column or the type area;
- `heading-at-foot`: a heading (h1-h4), a caption, anything print.css keeps
  with what follows (`break-after: avoid`) or a table's first row is the last
  thing on a page;
- `underfull-page`: a page less than two thirds full although the first
  block of the next page (with what it must be kept with) would have fitted;
- `split-join`: a reference, a number and its unit, a date or an
  abbreviation cut across two lines (text `render.typography.join` joins, or
  joined and cut anyway), or a line starting with a colon or a full stop.

Each finding names the content field the text comes from (the nearest
`data-field` mark, placed at its line in the editor's file) and the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise

from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder

from briefing.errors import Problem
from briefing.files import BRIEFS, CONTENT_SUFFIX
from briefing.render.fields import place
from briefing.render.layout import BREAKABLE
from briefing.render.typography import NBHY, NBSP, join
from briefing.writers.registry import Request

FIELD = "data-field"
FULL_ENOUGH = 2 / 3  # of the type area: a page filled less, when more would fit, is underfull
SLACK = 2.0  # CSS px a box may pass its column by (rounding, half a collapsed border)
PX = 25.4 / 96  # mm

_INVISIBLE = re.compile("[\u00ad\u200b\u2060]")  # soft hyphen, breaking opportunities
_COLLAPSED = re.compile(r"[ \t\r\n\f]+")
_BR = "\u2028"  # a forced line break (<br>) in a block's text
_JOINING = f"{NBSP}\u202f"  # spaces that join
_BREAK_AFTER = "-/\u2010\u2012\u2013\u2014\\"  # a line may end after these inside a word
_LEADING = ":;,.!?)]}»”%"  # never the first character of a line
_FORCED = {"page", "left", "right", "recto", "verso"}


@dataclass(frozen=True)
class Finding:
    """One defect on one page."""

    rule: str
    page: int  # from 1
    field: str | None  # the `data-field` address of the text, if it comes from content
    element: str  # what the text is in, for text not from content: "@page-header"
    message: str  # what is wrong, without the page
    expected: str

    @property
    def key(self) -> str:
        """What an editor names to accept it: the field's path, else the element."""
        return self.field.partition("#")[2] if self.field else self.element


def findings(document: object) -> list[Finding]:
    """Every finding on a WeasyPrint document's pages, in page order."""
    pages = [page._page_box for page in document.pages]
    tree = _Tree(_flow(pages[0])[0].element) if pages else None
    found: list[Finding] = []
    for number, page in enumerate(pages, 1):
        found += _lines(page, number, tree)
        found += _overflow(page, number, tree)
    for number, (page, following) in enumerate(pairwise(pages), 1):
        found += _at_foot(page, following, number, tree)
    return found


def first_field(document: object, number: int) -> str | None:
    """The address of the first content field whose text is on page `number`
    (from 1): where a note runs over its one page, say."""
    pages = [page._page_box for page in document.pages]
    if not 0 < number <= len(pages):
        return None
    tree = _Tree(_flow(pages[0])[0].element)
    for _, chain in _leaves(_flow(pages[number - 1])):
        if (field := tree.field(_element_of(chain))) is not None:
            return field
    return None


class _Tree:
    """The HTML WeasyPrint laid out (ElementTree elements: no parent links),
    with each element's parent."""

    def __init__(self, root: object) -> None:
        self.parents = {child: parent for parent in root.iter() for child in parent}

    def up(self, element: object) -> Iterator[object]:
        """The element, then its ancestors."""
        while element is not None:
            yield element
            element = self.parents.get(element)

    def first_child(self, element: object) -> bool:
        parent = self.parents.get(element)
        return parent is None or next(iter(parent)) is element

    def field(self, element: object) -> str | None:
        """The address of the content field around an element, else of the
        first one inside it (a table row's first cell)."""
        around = next((item.get(FIELD) for item in self.up(element) if item.get(FIELD)), None)
        if around is not None or element is None:
            return around
        return next((item.get(FIELD) for item in element.iter() if item.get(FIELD)), None)

    def described(self, element: object) -> str:
        """Text not from content, named by its template element: `@page-header`."""
        for item in self.up(element):
            classes = (item.get("class") or "").split()
            if classes:
                return f"@{classes[0]}"
        return f"@{element.tag}" if element is not None else "@page"

    def language(self, element: object) -> str:
        return next((item.get("lang") for item in self.up(element) if item.get("lang")), "en")

    def finding(self, rule: str, page: int, element: object, message: str,
                expected: str) -> Finding:
        return Finding(rule, page, self.field(element), self.described(element), message,
                       expected)


# -- lines: broken words and split joins ---------------------------------------------

def _lines(page: boxes.PageBox, number: int, tree: _Tree) -> Iterator[Finding]:
    for block in _line_containers(page):
        element = block.element
        if element is None:
            continue
        lines = [child for child in block.children if isinstance(child, boxes.LineBox)]
        if len(lines) < 2:
            continue
        source, folded, language, cursor = "", "", "en", 0
        for line, after in pairwise(lines):
            if _forced_break(line):
                continue
            end, start = _text(line).rstrip(), _text(after).lstrip()
            left, right = _last_token(end), _first_token(start)
            if not left or not right:
                continue
            if not source:
                source, language = _block_text(element), tree.language(element)
                folded = _fold(source)
            found = _junction(folded, left, right, cursor)
            if found is None:
                continue
            cursor = found.end(1)
            finding = _judge(found, source, language, left, right)
            if finding is not None:
                rule, message, expected = finding
                yield tree.finding(rule, number, element, message, expected)


def _line_containers(box: object) -> Iterator[object]:
    children = getattr(box, "children", ())
    if any(isinstance(child, boxes.LineBox) for child in children):
        yield box
    for child in children:
        if isinstance(child, (boxes.LineBox, boxes.TextBox)):
            continue
        yield from _line_containers(child)


def _text(box: object) -> str:
    if isinstance(box, boxes.TextBox):
        return box.text
    if isinstance(box, AbsolutePlaceholder):
        return ""
    return "".join(_text(child) for child in getattr(box, "children", ()))


def _forced_break(line: boxes.LineBox) -> bool:
    return any(isinstance(box, boxes.InlineBox) and box.element_tag == "br"
               for box in _descendants(line))


def _descendants(box: object) -> Iterator[object]:
    for child in getattr(box, "children", ()):
        yield child
        yield from _descendants(child)


def _last_token(text: str) -> str:
    found = re.search(r"\S+$", _INVISIBLE.sub("", text))
    return found.group(0) if found else ""


def _first_token(text: str) -> str:
    found = re.match(r"\S+", _INVISIBLE.sub("", text))
    return found.group(0) if found else ""


def _block_text(element: object) -> str:
    """A block's text as laid out: white space collapsed, <br> as _BR,
    breaking opportunities and soft hyphens dropped."""
    parts: list[str] = []

    def walk(node: object) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if isinstance(child.tag, str):
                if child.tag == "br":
                    parts.append(_BR)
                else:
                    walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return _INVISIBLE.sub("", _COLLAPSED.sub(" ", "".join(parts)))


def _fold(text: str) -> str:
    """Lower case, character for character (print.css may set text in capitals)."""
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in text)


def _junction(folded: str, left: str, right: str, cursor: int) -> re.Match[str] | None:
    """Where a line's last token meets the next line's first in the block's
    text (lower case, as `_fold` makes it)."""
    shown = left.rstrip("\u2010")  # the hyphen WeasyPrint adds where it hyphenates
    pattern = re.compile(re.escape(_fold(shown)) + f"([ {_JOINING}]*)" + re.escape(_fold(right)))
    return pattern.search(folded, cursor) or pattern.search(folded)


def _judge(found: re.Match[str], source: str, language: str, left: str,
           right: str) -> tuple[str, str, str] | None:
    gap = found.group(1)
    at = found.start(1)
    word = _word_around(source, at)
    if left.endswith("\u2010") and not gap:
        return None  # hyphenated where the language's dictionary allows
    if not gap and len(word) > BREAKABLE:
        # broken anywhere by design (render/layout.py, `breakable`), before any
        # character of it, punctuation too (an e-mail's ".", a path's "/")
        return None
    if right[0] in _LEADING and not gap:
        return ("split-join", f"a line starts with \u201c{right[0]}\u201d (\u201c{word}\u201d)",
                "the punctuation kept with the word before it")
    if not gap:
        if left[-1] in _BREAK_AFTER:
            if left[-1] == "-" and _joined(source, at - 1, language) == NBHY:
                return _split(source, at)
            return None
        return ("broken-word", f"\u201c{word}\u201d broken without a hyphen",
                "a column wide enough for the word, or a break where the language's "
                "hyphenation puts a hyphen")
    if any(char in _JOINING for char in gap) or any(
            _joined(source, at + i, language) != " " for i in range(len(gap))):
        return _split(source, at)
    return None


def _split(source: str, at: int) -> tuple[str, str, str]:
    """A split join, shown with a few words either side of the cut."""
    start = source.rfind(" ", 0, max(0, at - 12)) + 1 if at > 12 else 0
    end = source.find(" ", min(len(source), at + 12))
    end = end if end >= 0 else len(source)
    cut = " | " if source[at:at + 1] in f" {_JOINING}" else "|"
    shown = source[start:at] + cut + source[at:end].lstrip(f" {_JOINING}")
    shown = shown.replace(NBSP, " ").replace("\u202f", " ").replace(NBHY, "-")
    return ("split-join", f"\u201c{shown.strip()}\u201d split across two lines",
            "it kept on one line (a no-break space or hyphen: docs/typesetting.md)")


def _joined(source: str, at: int, language: str) -> str:
    """The character at `at` once `join` has run on the text around it."""
    start = max(0, at - 80)
    return join(source[start:at + 80], language)[at - start]


def _word_around(source: str, at: int) -> str:
    start = at
    while start > 0 and not source[start - 1].isspace():
        start -= 1
    end = at
    while end < len(source) and not source[end].isspace():
        end += 1
    return source[start:end]


# -- boxes out of their column or the type area --------------------------------------

def _overflow(page: boxes.PageBox, number: int, tree: _Tree) -> Iterator[Finding]:
    left = page.content_box_x()
    right = left + page.width
    bottom = page.content_box_y() + page.height
    seen: set[int] = set()
    for content in _flow(page):
        for line, column in _lines_of(content):
            edge = min(right, column.content_box_x() + column.width)
            start = max(left, column.content_box_x())
            ink = [child for child in line.children if not isinstance(
                child, AbsolutePlaceholder)]
            if not ink:
                continue
            far = max(child.position_x + child.margin_width() for child in ink)
            near = min(child.position_x for child in ink)
            over = max(far - edge, start - near)
            element = line.element
            if over > SLACK and id(element) not in seen:
                seen.add(id(element))
                yield tree.finding("overflow", number, element,
                                   f"a line runs {over * PX:.1f} mm out of its column "
                                   f"(\u201c{_text(line).strip()[:40]}\u201d)",
                                   "the text within its column: a narrower word or a wider column")
            elif line.position_y + line.height > bottom + SLACK and id(element) not in seen:
                seen.add(id(element))
                yield tree.finding("overflow", number, element, "a line runs below the type area",
                              "rows and boxes no taller than a page")


def _flow(page: boxes.PageBox) -> list[object]:
    """The page's own content: not its margin boxes (furniture is checked by
    `_lines`), not its footnote area."""
    return [child for child in page.children
            if not isinstance(child, (boxes.MarginBox, boxes.FootnoteAreaBox))]


def _lines_of(box: object) -> Iterator[tuple[boxes.LineBox, object]]:
    for child in getattr(box, "children", ()):
        if isinstance(child, AbsolutePlaceholder) or _out_of_flow(child):
            continue
        if isinstance(child, boxes.LineBox):
            yield child, box
        elif not isinstance(child, boxes.TextBox):
            yield from _lines_of(child)


def _out_of_flow(box: object) -> bool:
    style = getattr(box, "style", None)
    return style is not None and style["position"] in ("absolute", "fixed")


# -- the foot of a page --------------------------------------------------------------

def _at_foot(page: boxes.PageBox, following: boxes.PageBox, number: int,
             tree: _Tree) -> Iterator[Finding]:
    last = _edge_chain(_flow(page), last=True)
    first = _edge_chain(_flow(following), last=False)
    if not last or not first:
        return
    if any(box.style["break_after"] in _FORCED for box in last) or any(
            box.style["break_before"] in _FORCED for box in first):
        return
    if page.page_type.name != following.page_type.name:  # a named page begins: a forced break
        return
    stranded = _stranded(last, first, tree)
    if stranded is not None:
        element, what = stranded
        yield tree.finding("heading-at-foot", number, element,
                           f"{what} alone at the foot of page {number}",
                           "it kept with what follows")
        return
    top = page.content_box_y()
    limit = _foot(page)
    used = _bottom(last[-1]) - top
    room = limit - top
    if used >= FULL_ENOUGH * room:
        return
    continued = any(getattr(box, "element", None) is not None and
                    box.element is getattr(other, "element", None)
                    for box in first if isinstance(box, boxes.TableBox) for other in last)
    needed = _unit_height(following, continued)
    blank = limit - _bottom(last[-1])
    if needed is not None and needed + _margin_above(first) <= blank - SLACK:
        element = _element_of(first)
        yield tree.finding("underfull-page", number, element,
                           f"page {number} is {100 * used / room:.0f} % full: {blank * PX:.0f} mm "
                           f"left blank, where the first {needed * PX:.0f} mm of page {number + 1} "
                           "would have fitted",
                           "pages filled to the foot: what follows kept with less, or smaller")


def _edge_chain(roots: Sequence[object], *, last: bool) -> list[object]:
    """The boxes from a page's root down to its last (or first) in-flow line,
    row or picture."""
    chain: list[object] = []
    candidates = list(roots)
    while candidates:
        ordered = reversed(candidates) if last else iter(candidates)
        box = next((item for item in ordered if _has_content(item)), None)
        if box is None:
            break
        chain.append(box)
        if isinstance(box, (boxes.LineBox, boxes.ReplacedBox, boxes.TableRowBox)):
            break
        candidates = list(getattr(box, "children", ()))
    return chain


def _has_content(box: object) -> bool:
    if isinstance(box, (AbsolutePlaceholder, boxes.TextBox)) or _out_of_flow(box):
        return False
    if isinstance(box, (boxes.LineBox, boxes.ReplacedBox)):
        return True
    if isinstance(box, boxes.TableRowBox):
        return bool(box.children)
    return any(_has_content(child) for child in getattr(box, "children", ()))


def _stranded(last: list[object], first: list[object], tree: _Tree
              ) -> tuple[object, str] | None:
    """The element left alone at a page's foot, and what it is, if any."""
    for box in reversed(last):
        element = getattr(box, "element", None)
        if element is None or not isinstance(box, boxes.BlockLevelBox | boxes.TableRowBox
                                               | boxes.TableCaptionBox):
            continue
        tag = box.element_tag
        if tag in ("h1", "h2", "h3", "h4"):
            return element, "a heading"
        if tag in ("caption",):
            return element, "a table's caption"
        if isinstance(box, boxes.TableRowBox):
            return _first_row(last, first, tree)
        if box.style["break_after"] == "avoid" and _is_last_child(box, last):
            return element, "a line kept with what follows"
        if _one_line_after_heading(box, last):
            return element, "a heading and one line"
        if isinstance(box, boxes.BlockLevelBox) and not isinstance(box, boxes.LineBox):
            break
    return None


def _one_line_after_heading(box: object, chain: list[object]) -> bool:
    """Whether a block of one line follows a heading directly at a page's foot
    (a partner's name and its kind line, the rest of the profile overleaf)."""
    index = chain.index(box)
    lines = [child for child in getattr(box, "children", ()) if isinstance(child, boxes.LineBox)]
    if index == 0 or len(lines) != 1:
        return False
    siblings = [child for child in chain[index - 1].children if _has_content(child)]
    before = siblings[siblings.index(box) - 1] if siblings.index(box) else None
    return before is not None and getattr(before, "element_tag", "") in ("h1", "h2", "h3", "h4")


def _first_row(last: list[object], first: list[object], tree: _Tree
               ) -> tuple[object, str] | None:
    """A table's first body row at the foot, its other rows on the next page."""
    table = next((box for box in reversed(last) if isinstance(box, boxes.TableBox)), None)
    group = next((box for box in reversed(last) if isinstance(box, boxes.TableRowGroupBox)),
                 None)
    if table is None or group is None or group.is_header:
        return None
    rows = [box for box in group.children if isinstance(box, boxes.TableRowBox)]
    continued = any(getattr(box, "element", None) is table.element for box in first)
    if len(rows) == 1 and continued and tree.first_child(rows[0].element):
        return rows[0].element, "a table's first row"
    return None


def _is_last_child(box: object, chain: list[object]) -> bool:
    index = chain.index(box)
    if index == 0:
        return True
    siblings = [child for child in chain[index - 1].children if _has_content(child)]
    return bool(siblings) and siblings[-1] is box


def _foot(page: boxes.PageBox) -> float:
    """The lowest the page's text may go: above its footnotes, if any."""
    bottom = page.content_box_y() + page.height
    for child in page.children:
        if isinstance(child, boxes.FootnoteAreaBox) and child.children:
            bottom = min(bottom, child.position_y)
    return bottom


def _bottom(box: object) -> float:
    return box.position_y + box.margin_height()


def _unit_height(page: boxes.PageBox, continued: bool) -> float | None:
    """How tall the next page's first block is, taken with what it must be
    kept with: a block that may not split (a row, a figure) whole, a
    paragraph's first lines (its `orphans`), and whatever is kept with it
    (`break-after: avoid` as on headings, `break-before: avoid`). A table
    `continued` from the page before repeats its header: that did not move."""
    top = page.content_box_y()
    end, kept = None, True
    for leaf, chain in _leaves(_flow(page)):
        if continued and any(isinstance(box, boxes.TableRowGroupBox) and box.is_header
                             for box in chain):
            top = max(top, _bottom(leaf))  # a table's header, repeated: not what moved
            continue
        atom = next((box for box in chain if box.style["break_inside"] in ("avoid", "avoid-page")
                     or isinstance(box, boxes.TableRowBox)), leaf)
        if end is not None and _bottom(atom) <= end:
            continue
        if not kept and not any(box.style["break_before"] == "avoid" for box in chain
                                if _starts(box, leaf)):
            break
        block = chain[-2] if isinstance(leaf, boxes.LineBox) and len(chain) > 1 else atom
        end = _bottom(atom)
        if atom is leaf and isinstance(leaf, boxes.LineBox):
            lines = [child for child in block.children if isinstance(child, boxes.LineBox)]
            end = _bottom(lines[min(len(lines), max(1, block.style["orphans"])) - 1])
        holder = block if atom is leaf else atom  # a table's header goes with a row
        kept = holder.style["break_after"] == "avoid" or any(
            isinstance(box, boxes.TableRowGroupBox) and box.is_header for box in chain)
    return None if end is None else end - top


def _starts(box: object, leaf: object) -> bool:
    """Whether `leaf` is the first thing in `box`."""
    return next((item for item, _ in _leaves([box])), None) is leaf


def _leaves(roots: Sequence[object], chain: tuple[object, ...] = ()
            ) -> Iterator[tuple[object, list[object]]]:
    """Each in-flow line, row or picture, with the boxes above it."""
    for box in roots:
        if not _has_content(box):
            continue
        if isinstance(box, (boxes.LineBox, boxes.ReplacedBox)):
            yield box, [*chain, box]
        else:
            yield from _leaves(getattr(box, "children", ()), (*chain, box))


def _margin_above(first: list[object]) -> float:
    return max((box.margin_top or 0.0) for box in first if hasattr(box, "margin_top"))


def _element_of(chain: list[object]) -> object:
    for box in reversed(chain):
        element = getattr(box, "element", None)
        if element is not None:
            return element
    return None


# -- placing -------------------------------------------------------------------------

def gate(request: Request, document: object) -> list[Problem]:
    """The findings on a laid-out edition that its brief does not accept
    (`typesetting: accept:`), placed at their fields; a finding repeated on
    several pages (in the running header, say) is one problem naming them."""
    edition = request.edition
    setting = edition.brief.typesetting
    accepted = [(item.field, item.rule) for item in setting.accept] if setting else []
    grouped: dict[tuple[str, str, str | None, str], list[Finding]] = {}
    for finding in findings(document):
        if not any(_accepts(field, rule, finding) for field, rule in accepted):
            grouped.setdefault((finding.rule, finding.message, finding.field,
                                finding.element), []).append(finding)
    brief_file = f"{BRIEFS}/{edition.brief.slug}{CONTENT_SUFFIX}"
    out = []
    for group in grouped.values():
        finding = group[0]
        pages = sorted({item.page for item in group})
        where = (f"page {pages[0]}" if len(pages) == 1 else
                 f"pages {', '.join(map(str, pages))}" if len(pages) < 4 else
                 f"pages {pages[0]}\u2013{pages[-1]}")
        message = (finding.message if f"page {finding.page}" in finding.message
                   else f"{finding.message} on {where}")
        placed = place(request.project, finding.field) \
            if finding.field and request.project is not None else None
        path, line, col = placed or (brief_file, 1, 1)
        accept = (f"; or, if it must stay so, `{{field: \"{finding.key}\", rule: "
                  f"{finding.rule}}}` under `typesetting: accept:` in the brief"
                  if finding.key else "")
        out.append(Problem(path, line, col,
                           f"{message} [{finding.rule}] (while rendering {edition.name}.pdf)",
                           field=finding.key, expected=finding.expected + accept))
    return out


def _accepts(field: str, rule: str, finding: Finding) -> bool:
    if rule != finding.rule:
        return False
    key = finding.field if finding.field and "#" in field else finding.key
    return key == field or key.startswith((f"{field}.", f"{field}["))


