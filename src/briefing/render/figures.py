"""Figures drawn from content: the timeline of a partner's milestones.

Figures are SVG, built here once and placed in the HTML as a data: image, so
WeasyPrint draws them as vectors in the PDF (its text stays text) and the
DOCX writer rasterises the very same drawing for Word. Labels arrive already
in the edition's language; this module only lays them out, in the theme's
colours and sans typeface (templates/theme.yaml), wrapping each line to the
width the project's fonts give it (render/layout.py), so no label runs past
the figure's edge. The view says what a figure shows; the template
environment draws it with the project's theme (render/html.py).

A timeline of any length is drawn as parts, each at most `PART` tall: a
picture never breaks across pages, so each part must fit a page, in both
formats, with room for its caption and for a running header and footer that
long markings make taller. A moment whose label alone is taller than a part
continues in the next part, so nothing is lost.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from briefing.content.dates import PartialDate
from briefing.render.layout import Metrics, wrap
from briefing.render.theme import Theme

WIDTH = 640  # SVG units; 1 unit = 1 CSS px at 640 px wide
PART = 600  # the tallest part: about 155 mm at the text width of an A4 page
FONT = 12.5  # the labels' size
LINE = 15  # from one label line to the next
ROW = 34  # the least room a moment takes
AFTER = 19  # below a moment's last line
TOP = 16  # above the first moment
SIDE = 8  # between the figure's edges and its text
GAP = 16  # between the dates and the rule, and (plus 4) between the rule and the labels
DATES = 0.4 * WIDTH  # the widest the column of dates gets; a longer date wraps


@dataclass(frozen=True, order=True)
class Moment:
    """One point on a timeline: when, the date as shown, and what happened."""

    date: PartialDate
    shown: str
    label: str


class Figure:
    """A figure as the view describes it; drawn once the theme is known."""

    def draw(self, theme: Theme) -> object:
        """What a template reads: for a picture, a data: URL for an `<img src>`."""
        raise NotImplementedError


@dataclass(frozen=True)
class Part:
    """One picture of a timeline: the moments whose dot it draws, and the SVG."""

    moments: tuple[Moment, ...]
    svg: str


@dataclass(frozen=True)
class _Row:
    moment: int  # its index among the timeline's moments
    dates: tuple[str, ...]
    labels: tuple[str, ...]
    dot: bool  # False: the rest of a label that did not fit the part before

    @property
    def height(self) -> float:
        return max(ROW, LINE * max(len(self.dates), len(self.labels)) + AFTER)


def timeline_parts(moments: list[Moment], theme: Theme, metrics: Metrics) -> list[Part]:
    """A vertical timeline in parts: dates on the left, a rule with dots, labels
    on the right; each part at most PART tall."""
    ordered = sorted(moments)
    if not ordered:
        return []
    face = theme.fonts.sans.face

    def measure(bold: bool) -> Callable[[str], float]:
        return lambda text: metrics.width(text, FONT, face, bold)

    dates = min(DATES, max(measure(True)(m.shown) for m in ordered))
    rule = SIDE + dates + GAP
    labels = WIDTH - SIDE - (rule + GAP + 4)
    rows = []
    for index, moment in enumerate(ordered):
        rows += _split(_Row(index, tuple(wrap(moment.shown, dates, measure(True))),
                            tuple(wrap(moment.label, labels, measure(False))), True))
    parts: list[list[_Row]] = [[]]
    height = TOP
    for row in rows:
        if parts[-1] and height + row.height > PART:
            parts.append([])
            height = TOP
        parts[-1].append(row)
        height += row.height
    return [Part(tuple(ordered[row.moment] for row in part if row.dot),
                 _svg(part, rule, theme)) for part in parts]


def _split(row: _Row) -> list[_Row]:
    """A moment taller than a part, as rows that each fit one."""
    most = int((PART - TOP - AFTER) // LINE)
    if max(len(row.dates), len(row.labels)) <= most:
        return [row]
    pieces = []
    for start in range(0, max(len(row.dates), len(row.labels)), most):
        pieces.append(_Row(row.moment, row.dates[start:start + most],
                           row.labels[start:start + most], start == 0))
    return pieces


def _svg(rows: list[_Row], rule: float, theme: Theme) -> str:
    colours, sans = theme.colours, theme.fonts.sans
    # The PDF's SVG renderer knows print.css's fonts; cairosvg, for the DOCX, the system's.
    font = f"{sans.css}, {sans.face}, sans-serif"
    height = round(TOP + sum(row.height for row in rows))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" font-family="{font}" font-size="{FONT}">',
        f'<line x1="{rule:g}" y1="8" x2="{rule:g}" y2="{height - 8}" stroke="{colours.navy}" '
        f'stroke-width="2"/>',
    ]
    y = TOP
    for row in rows:
        dot = y + 9
        if row.dot:
            parts.append(f'<circle cx="{rule:g}" cy="{dot:g}" r="6" fill="{colours.paper}" '
                         f'stroke="{colours.navy}" stroke-width="2.5"/>')
        for i, line in enumerate(row.dates):
            parts.append(f'<text x="{rule - GAP:g}" y="{dot + 4 + i * LINE:g}" '
                         f'text-anchor="end" font-weight="bold" fill="{colours.navy}">'
                         f'{escape(line)}</text>')
        for i, line in enumerate(row.labels):
            parts.append(f'<text x="{rule + GAP + 4:g}" y="{dot + 4 + i * LINE:g}" '
                         f'fill="{colours.text}">{escape(line)}</text>')
        y += row.height
    parts.append("</svg>")
    return "\n".join(parts)


def data_url(svg: str) -> str:
    """An SVG as a data: URL, the one form both writers load the same way."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
