"""The presentation tokens both formats share, from templates/theme.yaml.

Colours, typefaces, font sizes and a few widths are stated once, there, and
read by three parties: print.css (as `var(--name)`, from the properties
`css_properties` names), the DOCX writer (onto the Word styles of
reference.docx, writers/wordstyles.py) and the figure code (figures.py).
A mistake in the file is a placed Problem, like one in content.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError
from pydantic_core import PydanticCustomError

from briefing.content.diagnostics import report_validation
from briefing.content.yamlsource import read_yaml
from briefing.errors import BuildFailed, Problem, Problems
from briefing.files import THEME, ProjectFiles

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")
_FAMILY = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{0,62}")


def _shown(value: object) -> str:
    return f"`{value}`" if isinstance(value, str) else "this value"


def _colour(value: object) -> str:
    if value is None:
        raise PydanticCustomError(
            "theme_colour", "this is empty; in YAML a bare # starts a comment "
            "(expected a colour in quotes, such as \"#1f3a5f\")")
    if not isinstance(value, str) or not _COLOUR.fullmatch(value):
        raise PydanticCustomError("theme_colour", "{shown} is not a colour (expected "
                                  "\"#rrggbb\" in quotes, such as \"#1f3a5f\")",
                                  {"shown": _shown(value)})
    return value.lower()


def _family(value: object) -> str:
    if not isinstance(value, str) or not _FAMILY.fullmatch(value):
        raise PydanticCustomError("theme_family", "{shown} is not a font family name "
                                  "(expected letters, digits, spaces and hyphens, "
                                  "such as Noto Sans)", {"shown": _shown(value)})
    return value


def _amount(unit: str, low: float, high: float, steps: int) -> Callable[[object], float]:
    """A validator of plain numbers of `unit` in [low, high], in 1/`steps` parts."""
    def check(value: object) -> float:
        plain = str(value) if isinstance(value, (int, float)) and not isinstance(
            value, bool) else value  # YAML gives text; Python callers may give numbers
        if not isinstance(plain, str) or not _NUMBER.fullmatch(plain):
            raise PydanticCustomError("theme_number", "{shown} is not a number of {unit} "
                                      "(expected a plain number: the group states the unit)",
                                      {"shown": _shown(value), "unit": unit})
        number = float(plain)
        if not low <= number <= high or number * steps != int(number * steps):
            raise PydanticCustomError("theme_range", "{shown} is out of range (expected "
                                      "{low} to {high} {unit}, in steps of 1/{steps})",
                                      {"shown": _shown(value), "unit": unit, "low": f"{low:g}",
                                       "high": f"{high:g}", "steps": str(steps)})
        return number
    return check


Colour = Annotated[str, PlainValidator(_colour)]
Family = Annotated[str, PlainValidator(_family)]
Points = Annotated[float, PlainValidator(_amount("points", 4, 96, 2))]
LinePoints = Annotated[float, PlainValidator(_amount("points", 0.25, 6, 8))]
Millimetres = Annotated[float, PlainValidator(_amount("millimetres", 1, 150, 10))]


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Colours(_Group):
    navy: Colour
    grey: Colour
    text: Colour
    paper: Colour
    box: Colour
    rule: Colour
    cover_rule: Colour


class Font(_Group):
    """`css`: the family print.css's @font-face rules give the files in fonts/
    (a private name, so that WeasyPrint never picks a system font); `face`:
    the typeface's own name, which Word and the DOCX's figures look up."""

    css: Family
    face: Family


class Fonts(_Group):
    serif: Font
    sans: Font


class Sizes(_Group):
    """Font sizes in points."""

    running: Points
    small: Points
    table: Points
    label: Points
    body: Points
    quote: Points
    heading3: Points
    publisher: Points
    heading2: Points
    subtitle: Points
    heading1: Points
    note_title: Points
    title: Points


class Lines(_Group):
    """Rule widths in points. `quote`: the rule left of a quotation (a theme
    written before it had one gets print.css's 2 pt)."""

    rule: LinePoints
    frame: LinePoints
    quote: LinePoints = 2.0


class Lengths(_Group):
    """In millimetres. The key-facts box's column of figures is as wide as its
    widest figure, but at least `key_facts_term` and at most `key_facts_term_max`.
    A quotation's rule stands `quote_indent` in from the text's left edge and
    its text `quote_gap` right of the rule (a theme written before these
    tokens gets print.css's 8 and 5 mm; Word puts at most 10.9 mm between a
    rule and its text, a longer gap is that there)."""

    key_facts_term: Millimetres
    key_facts_term_max: Millimetres
    quote_indent: Millimetres = 8.0
    quote_gap: Millimetres = 5.0


# Paper sizes by name, width and height in millimetres (ISO 216; ANSI for Letter, Legal).
PAPER = {"A3": (297.0, 420.0), "A4": (210.0, 297.0), "A5": (148.0, 210.0),
         "B5": (176.0, 250.0), "Letter": (215.9, 279.4), "Legal": (215.9, 355.6)}
MIN_TEXT_WIDTH = 80.0  # mm: narrower, and no table of the templates can be set
MIN_TEXT_HEIGHT = 100.0  # mm: lower, and a heading, a table header and a row cannot share a page


def _paper(value: object) -> str:
    if not isinstance(value, str) or value not in PAPER:
        raise PydanticCustomError("theme_paper", "{shown} is not a paper size Briefing knows "
                                  "(expected one of {names})",
                                  {"shown": _shown(value), "names": ", ".join(PAPER)})
    return value


class Page(_Group):
    """The paper and its margins, for every format: print.css's @page (made
    here, see `css_page`), Word's page setup, and every measure of the
    layout (the text width tables are fitted to, the height a footnote may
    take). One place, so that A5 is A5 in the PDF and the DOCX alike."""

    size: Annotated[str, PlainValidator(_paper)]
    top: Millimetres
    right: Millimetres
    bottom: Millimetres
    left: Millimetres

    @property
    def width(self) -> float:
        return PAPER[self.size][0]

    @property
    def height(self) -> float:
        return PAPER[self.size][1]

    @property
    def text_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def text_height(self) -> float:
        return self.height - self.top - self.bottom


class Theme(_Group):
    """templates/theme.yaml: every token, typed; docs/templates.md says who reads which."""

    page: Page
    colours: Colours
    fonts: Fonts
    sizes: Sizes
    lines: Lines
    lengths: Lengths

    def css_properties(self) -> dict[str, str]:
        """The custom properties print.css reads: `--navy`, `--sans`,
        `--size-body`, `--line-rule`, `--key-facts-term`..."""
        def name(token: str) -> str:
            return token.replace("_", "-")

        properties = {f"--{name(token)}": value
                      for token, value in self.colours.model_dump().items()}
        properties |= {f"--{name(token)}": f'"{font.css}"'
                       for token, font in (("serif", self.fonts.serif),
                                           ("sans", self.fonts.sans))}
        # The typefaces' own names, for the HTML edition's system-font stacks.
        properties |= {f"--{token}-face": f'"{font.face}"'
                       for token, font in (("serif", self.fonts.serif),
                                           ("sans", self.fonts.sans))}
        properties |= {f"--size-{name(token)}": f"{value:g}pt"
                       for token, value in self.sizes.model_dump().items()}
        properties |= {f"--line-{name(token)}": f"{value:g}pt"
                       for token, value in self.lines.model_dump().items()}
        properties |= {f"--{name(token)}": f"{value:g}mm"
                       for token, value in self.lengths.model_dump().items()}
        return properties


def css_root(theme: Theme) -> str:
    """`:root { --navy: #1f3a5f; ... }` and the page: the theme as print.css and
    screen.css read it."""
    return ":root {\n" + "".join(f"  {name}: {value};\n"
                                 for name, value in theme.css_properties().items()) + "}\n" \
        + css_page(theme.page)


def css_page(page: Page) -> str:
    """The @page rule of every paged format: print.css adds its running header
    and footer, never a size or margins of its own (a stylesheet check says so)."""
    return (f"@page {{ size: {page.width:g}mm {page.height:g}mm; margin: {page.top:g}mm "
            f"{page.right:g}mm {page.bottom:g}mm {page.left:g}mm; }}\n")


def read_theme(files: ProjectFiles) -> tuple[Theme | None, list[Problem]]:
    """The project's theme, or None and the problems that stop it loading.

    Read once per process and state of the file: every writer of every
    edition asks for it, and a worker renders many editions. A saved change
    (another size, time or file) is read anew, and two versions of a project
    (two roots) never share a theme."""
    path = files.path(THEME)
    try:
        info = path.stat()
        stamp = (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)
    except OSError:
        stamp = None
    theme, problems = _read_theme(files, stamp)
    return theme, list(problems)


@functools.lru_cache(maxsize=8)
def _read_theme(files: ProjectFiles, stamp: tuple[int, ...] | None
                ) -> tuple[Theme | None, tuple[Problem, ...]]:
    theme, problems = _parse_theme(files)
    return theme, tuple(problems)


def _parse_theme(files: ProjectFiles) -> tuple[Theme | None, list[Problem]]:
    problems = Problems(files)
    path = files.path(THEME)
    if not path.exists() and not path.is_symlink():
        problems.add(path, 1, 1, "the file is missing",
                     expected="the presentation tokens both formats share: start from "
                     "Briefing's own, see docs/templates.md")
        return None, problems.items
    read = read_yaml(path, problems)
    if read is None or problems.items:
        return None, problems.items
    data, source = read
    try:
        theme = Theme.model_validate(data)
    except ValidationError as err:
        report_validation(err, Theme, source, problems)
        return None, problems.items
    page = theme.page
    rooms = ((page.text_width, MIN_TEXT_WIDTH, "left", "left and right"),
             (page.text_height, MIN_TEXT_HEIGHT, "top", "top and bottom"))
    for room, least, margin, sides in rooms:
        if room < least:
            line, col = source.locate(("page", margin))
            problems.add(path, line, col, f"the page leaves {room:g} mm for the text between "
                         f"its {sides} margins", field="page", expected=f"at least {least:g} "
                         "mm: a larger paper size or narrower margins")
            return None, problems.items
    return theme, []


def load_theme(files: ProjectFiles) -> Theme:
    """The project's theme; BuildFailed with placed problems if it has mistakes."""
    theme, problems = read_theme(files)
    if theme is None:
        raise BuildFailed(problems)
    return theme
