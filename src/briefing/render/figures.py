"""Figures drawn from content: the timeline of a partner's milestones.

Figures are SVG, built here once and placed in the HTML as a data: image, so
WeasyPrint draws them as vectors in the PDF and the DOCX writer rasterises
the very same drawing for Word. Labels arrive already in the edition's
language; this module only lays them out, in the theme's colours and sans
typeface (templates/theme.yaml). The view says what a figure shows; the
template environment draws it with the project's theme (render/html.py).
"""

from __future__ import annotations

import base64
import textwrap
from dataclasses import dataclass
from xml.sax.saxutils import escape

from briefing.content.dates import PartialDate
from briefing.render.theme import Theme

WIDTH = 640
ROW = 34  # vertical space per event, in SVG units (1 unit = 1 CSS px at 640 px wide)
LINE = 15
WRAP = 62  # characters per label line (Noto Sans at 12.5 px in ~440 px)


@dataclass(frozen=True, order=True)
class Moment:
    """One point on a timeline: when, the date as shown, and what happened."""

    date: PartialDate
    shown: str
    label: str


class Figure:
    """A figure as the view describes it; drawn once the theme is known."""

    def draw(self, theme: Theme) -> str:
        """The figure as a data: URL, for an `<img src>`."""
        raise NotImplementedError


@dataclass(frozen=True)
class Timeline(Figure):
    moments: tuple[Moment, ...]

    def draw(self, theme: Theme) -> str:
        return data_url(timeline_svg(list(self.moments), theme))


def timeline_svg(moments: list[Moment], theme: Theme) -> str:
    """A vertical timeline: dates on the left, a rule with dots, labels on the right."""
    colours, sans = theme.colours, theme.fonts.sans
    # The PDF's SVG renderer knows print.css's fonts; cairosvg, for the DOCX, the system's.
    font = f"{sans.css}, {sans.face}, sans-serif"
    rows = [(m, textwrap.wrap(m.label, WRAP) or [""]) for m in sorted(moments)]
    height = 16 + sum(max(ROW, LINE * len(lines) + 19) for _, lines in rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" font-family="{font}" font-size="12.5">',
        f'<line x1="150" y1="8" x2="150" y2="{height - 8}" stroke="{colours.navy}" '
        f'stroke-width="2"/>',
    ]
    y = 16
    for moment, lines in rows:
        dot = y + 9
        parts.append(f'<circle cx="150" cy="{dot}" r="6" fill="{colours.paper}" '
                     f'stroke="{colours.navy}" stroke-width="2.5"/>')
        parts.append(f'<text x="134" y="{dot + 4}" text-anchor="end" font-weight="bold" '
                     f'fill="{colours.navy}">{escape(moment.shown)}</text>')
        for i, line in enumerate(lines):
            parts.append(f'<text x="170" y="{dot + 4 + i * LINE}" fill="{colours.text}">'
                         f'{escape(line)}</text>')
        y += max(ROW, LINE * len(lines) + 19)
    parts.append("</svg>")
    return "\n".join(parts)


def data_url(svg: str) -> str:
    """An SVG as a data: URL, the one form both writers load the same way."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
