"""How layout adapts to content it has not seen: one answer for both formats.

- **How wide is a text?** Measured with the project's own fonts (fonts/, the
  files print.css declares, which `tools/install-fonts` copies from the
  system's, which CairoSVG draws the DOCX's pictures with), from their
  advance widths. The timeline figure wraps its labels with it, and both
  writers size what depends on text with it.
- **How wide is each column of a table?** After Jinja renders an edition,
  `adapt` gives every table a `<colgroup>` of `<col style="width: NN%">`,
  computed from what the cells hold by the automatic table layout CSS 2.1
  recommends: each column at least as wide as its longest unbreakable word
  (a date is one), the room left shared in proportion to how much more each
  column would take. print.css lays tables out with exactly these widths
  (`table-layout: fixed`) and the DOCX writer reads them (`col_widths`), so
  the two formats cannot disagree, and no long text pushes a column off the
  page: a word longer than `LONG_WORD` counts as that long, since both
  formats break such words anywhere. `short_enough` tells the DOCX writer
  which rows may not split.
- **Can a definition's term stand beside it?** Not when it would take more
  than a few lines of the key facts' widest column: `adapt` marks such a
  list `stacked`, and both formats set its terms above their definitions.
- **Where may WeasyPrint break a long word?** `breakable` gives the PDF
  writer's copy of the HTML an opportunity after each character of a word
  over BREAKABLE characters, so that laying it out takes time in proportion
  to its length.

Page geometry (the paper, its margins, so the text width) is theme.yaml's
`page`, for every format (render/theme.py).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from briefing.files import ProjectFiles, same_file
from briefing.render.theme import Theme
from briefing.render.typography import join_tree

CELL_PADDING = 4.0  # mm: print.css's 2 mm either side of a cell's text
# mm beyond a piece's measured width: percentages are rounded, rules and the
# renderer's own rounding take a little, and a piece that must not break must fit.
SLACK = 0.5
LONG_WORD = 30.0  # mm: a word wider than this is broken anywhere, so needs no more room
POINT = 25.4 / 72  # mm
# The classes of the running header and footer (templates/layout.html.j2):
# page furniture, repeated on every page, not part of the text.
FURNITURE = frozenset({"page-header", "page-footer"})

# Characters that take no room: breaking opportunities, joiners, soft hyphens.
_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
_SPACE = re.compile(r"\s+")
_WIDTH = re.compile(r"(?:^|;)\s*width\s*:\s*([0-9.]+)%", re.IGNORECASE)


# -- measuring ---------------------------------------------------------------------------

@dataclass
class _Face:
    """One font file's advance widths, in ems, looked up once per character."""

    path: Path | None
    stamp: int = 0
    widths: dict[str, float] = field(default_factory=dict)

    def advance(self, char: str) -> float:
        found = self.widths.get(char)
        if found is None:
            found = self.widths[char] = self._lookup(char)
        return found

    def _lookup(self, char: str) -> float:
        if char in _INVISIBLE:
            return 0.0
        if self.path is None:  # no font file: a generous average
            return 0.3 if char.isspace() else 0.62
        font = _font(self.path, self.stamp)
        glyph = font.getBestCmap().get(ord(char))
        if glyph is None:  # the glyph check refuses these before any rendering
            return 1.0
        return font["hmtx"][glyph][0] / font["head"].unitsPerEm


@cache
def _font(path: Path, stamp: int) -> object:
    from fontTools.ttLib import TTFont  # WeasyPrint's own dependency

    return TTFont(str(path), lazy=True)


class Metrics:
    """Text widths with the project's fonts, by the theme's typeface names."""

    def __init__(self, faces: dict[tuple[str, bool], tuple[Path, int]]) -> None:
        self._files = faces
        self._faces: dict[tuple[str, bool], _Face] = {}

    def width(self, text: str, size: float, face: str, bold: bool = False) -> float:
        """The advance width of `text` set in `face` at `size`, in `size`'s unit."""
        key = (face, bold)
        measured = self._faces.get(key)
        if measured is None:
            path, stamp = self._files.get(key) or self._files.get((face, False)) or (None, 0)
            measured = self._faces[key] = _Face(path, stamp)
        return size * sum(measured.advance(char) for char in text)


def project_metrics(files: ProjectFiles) -> Metrics:
    """The metrics of the fonts in the project's fonts/ folder (none: an estimate)."""
    return _metrics(font_stamps(files))


def font_stamps(files: ProjectFiles) -> tuple[tuple[Path, int], ...]:
    """Each font file of fonts/ with a number for its state (files.same_file):
    what is read of them is kept per process until a file changes."""
    stamped = []
    for path in files.fonts():
        try:
            stamped.append((path, hash(same_file(path.stat()))))
        except OSError:
            continue
    return tuple(stamped)


@cache
def _metrics(fonts: tuple[tuple[Path, int], ...]) -> Metrics:
    """Read once per process and set of files: a changed file is read again."""
    faces: dict[tuple[str, bool], tuple[Path, int]] = {}
    for path, stamp in fonts:
        try:
            names = _font(path, stamp)["name"]
        except Exception:  # an unreadable font file: the glyph check reports it
            continue
        family = names.getDebugName(16) or names.getDebugName(1) or ""
        style = names.getDebugName(17) or names.getDebugName(2) or ""
        if "italic" not in style.lower():
            faces.setdefault((family, "bold" in style.lower()), (path, stamp))
    return Metrics(faces)


ESTIMATE = Metrics({})
_ACTIVE: ContextVar[Metrics | None] = ContextVar("briefing_metrics", default=None)


@contextmanager
def measuring(metrics: Metrics) -> Iterator[None]:
    """While an edition renders: the metrics figures are drawn with, since
    templates read figures through Jinja, which passes nothing along."""
    token = _ACTIVE.set(metrics)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def metrics() -> Metrics:
    """The rendering edition's metrics; an estimate outside a rendering."""
    return _ACTIVE.get() or ESTIMATE


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """`text` in lines no wider than `width` (in the unit `measure` returns):
    at spaces, and inside a word only when the word alone is wider. Linear in
    the length of the text, however long its words."""
    lines: list[str] = []
    line, line_width = "", 0.0
    space = measure(" ")
    for word in words(text):
        word_width = measure(word)
        if line and line_width + space + word_width <= width:
            line, line_width = f"{line} {word}", line_width + space + word_width
            continue
        if line:
            lines.append(line)
        line, line_width = "", 0.0
        if word_width <= width:
            line, line_width = word, word_width
            continue
        piece, piece_width = [], 0.0
        for char in word:  # a word wider than a line: broken between characters
            char_width = measure(char)
            if piece and piece_width + char_width > width:
                lines.append("".join(piece))
                piece, piece_width = [], 0.0
            piece.append(char)
            piece_width += char_width
        line, line_width = "".join(piece), piece_width
    if line or not lines:
        lines.append(line)
    return lines


# -- tables ------------------------------------------------------------------------------

TALL = 100.0  # mm: a table row taller than this may split across pages (a page holds ~240)
LEADING = 1.35  # print.css's line height of table text


def short_enough(text: str, width: float, size: float, face: str, measure: Metrics,
                 tallest: float = TALL) -> bool:
    """Whether `text` at `size` points, wrapped to `width` mm, is at most `tallest` mm."""
    most = int(tallest / (size * LEADING * POINT))
    if len(text) <= most:  # too few characters for that many lines
        return True
    lines = wrap(text, max(width, 1.0), lambda piece: measure.width(piece, size, face) * POINT)
    return len(lines) <= most


def adapt(html: str, theme: Theme, measure: Metrics) -> str:
    """The edition's HTML with its no-break joins (render/typography.py: a
    date, a reference, a number and its unit never cut at a line's end, in
    every format), every table's column widths stated in it, and every
    definition list whose terms are too long to stand beside their
    definitions marked `stacked`."""
    tree = lxml.html.document_fromstring(html)
    join_tree(tree, tree.get("lang") or "en")
    tables = [table for table in tree.iter("table") if table.find("colgroup") is None]
    lists = [dl for dl in tree.iter("dl") if _too_long_to_stand_beside(dl, theme, measure)]
    for dl in lists:
        dl.classes.add(STACKED)
        box = dl.getparent()
        if box is not None and box.tag == "aside":  # a box this tall may break across pages
            box.classes.add(STACKED)
    hyphenate = hyphenator(tree.get("lang") or "en")
    for table in tables:
        widths = column_widths(_rows(table), lambda text, bold: measure.width(
            text, theme.sizes.table, theme.fonts.sans.face, bold) * POINT,
            theme.page.text_width, hyphenate)
        colgroup = lxml.html.Element("colgroup")
        for width in widths:
            etree.SubElement(colgroup, "col", style=f"width: {width:g}%")
        caption = table.find("caption")  # a caption comes first, then the columns
        if caption is not None:
            caption.addnext(colgroup)
            colgroup.tail = caption.tail
        else:
            table.insert(0, colgroup)
            colgroup.tail = table.text
    out = lxml.html.tostring(tree, doctype="<!DOCTYPE html>", encoding="unicode", method="html")
    return out + "\n" if html.endswith("\n") else out


STACKED = "stacked"  # a definition list whose terms stand above their definitions
STACK_AT = 3  # a term longer than this many lines of the widest column: stacked


def _too_long_to_stand_beside(dl: HtmlElement, theme: Theme, measure: Metrics) -> bool:
    """Whether a term would take more than STACK_AT lines of the key facts' widest
    column. Such a term (a figure is a few characters) is set above its
    definition instead: a column of a page's height or more is no figure, and
    WeasyPrint lays a grid cell out again on every page it spans."""
    widest = max((measure.width(_SPACE.sub(" ", term.text_content()).strip(),
                                theme.sizes.body, theme.fonts.sans.face, True) * POINT
                  for term in dl if term.tag == "dt"), default=0.0)
    return widest > STACK_AT * theme.lengths.key_facts_term_max


def col_widths(table: HtmlElement) -> list[float] | None:
    """The widths `adapt` gave a table's columns, as fractions of the table."""
    colgroup = table.find("colgroup")
    if colgroup is None:
        return None
    found = [_WIDTH.search(col.get("style", "")) for col in colgroup.iter("col")]
    if not found or not all(found):
        return None
    return [float(match.group(1)) / 100 for match in found]


@dataclass(frozen=True)
class Cell:
    text: str  # with "\n" for each <br>
    bold: bool  # a header cell
    nowrap: bool  # a date: print.css keeps it on one line


def column_widths(rows: list[list[Cell]], measure: Callable[[str, bool], float],
                  total: float, hyphenate: Callable[[str], list[str]] = lambda word: [word]
                  ) -> list[float]:
    """Percentages of the table's width, one per column, summing to 100.

    CSS 2.1's automatic table layout, on measured text: a column needs its
    widest unbreakable piece (a word, or a whole line that may not wrap) and
    would take its widest line; if everything fits, each column gets what it
    would take and the room left in proportion; otherwise each gets what it
    needs and the rest in proportion to how much more it would take.

    When even what the columns need is wider than the page, a word the
    language's dictionary can hyphenate (`hyphenate` gives its pieces) may be
    narrower than itself, down to its widest piece and a hyphen; a number, a
    date or a word the dictionary cannot split never is. So columns of words
    give way before columns of figures, and no column is narrower than a
    piece it cannot break."""
    columns = max((len(row) for row in rows), default=0)
    if not columns:
        return []
    least = [CELL_PADDING] * columns  # the widest word of each column
    firm = [CELL_PADDING] * columns  # the widest piece no hyphen may break
    most = [CELL_PADDING] * columns
    for row in rows:
        for i, cell in enumerate(row):
            lines = cell.text.split("\n")
            widest = max(measure(_SPACE.sub(" ", line).strip(), cell.bold) for line in lines)
            most[i] = max(most[i], min(widest, total) + CELL_PADDING)
            if cell.nowrap:
                need = min(widest, total)
                least[i], firm[i] = (max(least[i], need + CELL_PADDING + SLACK),
                                     max(firm[i], need + CELL_PADDING + SLACK))
                continue
            for word in words(cell.text):
                # A word longer than BREAKABLE characters breaks anywhere (`breakable`).
                cap = LONG_WORD if len(word) > BREAKABLE else total
                width = measure(word, cell.bold)
                pieces = hyphenate(word)
                unbroken = width if len(pieces) == 1 else max(
                    measure(f"{piece}-", cell.bold) for piece in pieces)
                least[i] = max(least[i], min(width, cap if len(pieces) == 1 else LONG_WORD)
                               + CELL_PADDING + SLACK)
                firm[i] = max(firm[i], min(unbroken, cap) + CELL_PADDING + SLACK)
    firm = [min(f, w) for f, w in zip(firm, least, strict=True)]
    if sum(most) <= total:
        widths = [w + (total - sum(most)) * w / sum(most) for w in most]
    elif sum(least) <= total:
        widths = _between(least, most, total)
    elif sum(firm) < total:
        widths = _between(firm, least, total)
    else:  # something must break: the widest pieces, and only they
        widths = _capped(firm, total)
    shares = [round(w * 100 / total, 1) for w in widths]
    shares[shares.index(max(shares))] += round(100 - sum(shares), 1)
    return [round(share, 1) for share in shares]


def _between(low: list[float], high: list[float], total: float) -> list[float]:
    """Each column its `low`, and the room left in proportion to how far it is
    from its `high`."""
    spare = total - sum(low)
    wanted = [h - w for h, w in zip(high, low, strict=True)]
    if not sum(wanted):
        return [w + spare / len(low) for w in low]
    return [w + spare * extra / sum(wanted) for w, extra in zip(low, wanted, strict=True)]


def _capped(need: list[float], total: float) -> list[float]:
    """Each column what it needs, but none more than the one width at which
    they all fit: the narrow columns stay whole, the widest share the rest."""
    order = sorted(need)
    left, count = total, len(need)
    for width in order:
        if width * count > left:
            cap = left / count
            return [min(w, cap) for w in need]
        left, count = left - width, count - 1
    return list(need)


_ASCII_SPACE = re.compile(r"[ \t\r\n]+")  # a no-break space (U+00A0) joins, never splits


def words(text: str) -> list[str]:
    """The pieces a line may break between: at spaces, never at a no-break one."""
    return [word for word in _ASCII_SPACE.split(text) if word]


@cache
def hyphenator(language: str) -> Callable[[str], list[str]]:
    """A word's pieces between the hyphenation points of `language`'s
    dictionary (Pyphen's, as WeasyPrint hyphenates), or the word whole."""
    import pyphen

    from briefing.render.typography import hyphenation_dictionaries

    hyphenation_dictionaries()
    found = pyphen.language_fallback(language.replace("-", "_"))
    if found is None:
        return lambda word: [word]
    dictionary = pyphen.Pyphen(lang=found)

    def pieces(word: str) -> list[str]:
        if any(char.isdigit() for char in word):
            return [word]
        cuts = [0, *dictionary.positions(word), len(word)]
        return [word[a:b] for a, b in itertools.pairwise(cuts) if b > a]
    return pieces


def _rows(table: HtmlElement) -> list[list[Cell]]:
    rows = [row for group in table if group.tag in ("thead", "tbody", "tfoot")
            for row in group if row.tag == "tr"] + [row for row in table if row.tag == "tr"]
    return [[Cell(_text(cell), cell.tag == "th", "date" in cell.classes)
             for cell in row if cell.tag in ("th", "td")] for row in rows]


def _text(element: HtmlElement) -> str:
    parts = [element.text or ""]
    for child in element:
        if child.tag == "br":
            parts.append("\n")
        elif isinstance(child.tag, str):
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


# -- long words --------------------------------------------------------------------------

BREAKABLE = 40  # characters: a longer word gets a breaking opportunity after each character
ZWSP = "\u200b"
_LONG = re.compile(rf"\S{{{BREAKABLE + 1},}}")
_LONG_IN_TEXT = re.compile(rf">[^<]*?[^\s<>]{{{BREAKABLE + 1},}}")  # not in attributes


def breakable(html: str) -> str:
    """The HTML with a zero-width space between the characters of each word
    longer than BREAKABLE, in the text of the body (never in attributes).

    For WeasyPrint only: it wraps a word that has no breaking opportunity by
    laying the rest of the paragraph out again for every line, and tries each
    of its hyphenation points first, which takes time growing with the square
    (and more) of the word's length: minutes for 10,000 characters. With an
    opportunity after each character, each line is found at once. The spaces
    have no glyph, so the PDF's text (pdftotext, copy and paste) is the word
    itself. Word and LibreOffice break long words by themselves, so the DOCX
    gets the text as written."""
    if not _LONG_IN_TEXT.search(html):
        return html
    tree = lxml.html.document_fromstring(html)
    for element in tree.body.iter():
        if not isinstance(element.tag, str) or element.tag in ("style", "script"):
            continue
        if element.text and _LONG.search(element.text):
            element.text = _LONG.sub(_spaced, element.text)
        if element is not tree.body and element.tail and _LONG.search(element.tail):
            element.tail = _LONG.sub(_spaced, element.tail)
    out = lxml.html.tostring(tree, doctype="<!DOCTYPE html>", encoding="unicode", method="html")
    return out + "\n" if html.endswith("\n") else out


def _spaced(match: re.Match[str]) -> str:
    return ZWSP.join(match.group(0))
