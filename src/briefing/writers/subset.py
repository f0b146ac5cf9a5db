"""The HTML every writer understands, checked before anything is written.

WeasyPrint lays out any HTML; the DOCX writer maps a documented subset of it
to Word constructs (docs/templates.md). Validation checks every edition's
HTML against that subset for every format, so `check` fails exactly when
`build` would, whichever formats are asked for. A problem is placed at the
template line that writes the element when one does, else at the brief.

A footnote too long for the PDF is refused here too, with the fonts' own
metrics and before any layout, so that `check` finds it as `build` does:
WeasyPrint never carries part of a footnote over to the next page, so one
taller than the page is cut off. A footnote may take at most half a page; the
PDF writer measures again once the pages are laid out (writers/pdf.py).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator

import lxml.html
from lxml.html import HtmlElement

from briefing.content.prose import MAX_LIST_DEPTH
from briefing.errors import Problem
from briefing.files import TEMPLATES, ProjectFiles, Unreadable
from briefing.render.layout import LEADING, POINT, project_metrics, wrap
from briefing.render.theme import load_theme

CONTAINERS = {"section", "article", "div", "figure", "blockquote", "main"}
INLINE = {"strong", "b", "em", "i", "a", "span", "br", "img"}
BLOCK_STYLES = {"h1": "Heading 1", "h2": "Heading 2", "h3": "Heading 3", "p": "Normal",
                "figcaption": "Caption", "caption": "Caption", "dt": "Definition Term",
                "dd": "Definition"}
LISTS = {"ul", "ol"}
# <span class="footnote">: a footnote's text where it is referenced (content/prose.py).
FOOTNOTE = "footnote"
TABLE_PARTS = {"thead", "tbody", "tr", "th", "td"}
# The column widths render/layout.py states for every table, which both writers read.
COLUMNS = {"colgroup", "col"}
SUPPORTED = frozenset(CONTAINERS | INLINE | set(BLOCK_STYLES) | LISTS | TABLE_PARTS | COLUMNS | {
    "html", "head", "body", "header", "footer", "nav", "aside", "li", "dl", "table"})
HEAD = frozenset({"head", "title", "meta", "link", "style"})
# Which children a structural element may have.
CHILDREN = {
    "ul": {"li"}, "ol": {"li"}, "dl": {"dt", "dd"},
    "table": {"caption", "colgroup", "thead", "tbody"}, "colgroup": {"col"},
    "thead": {"tr"}, "tbody": {"tr"},
    "tr": {"th", "td"},
}
# An <img>'s width as the DOCX writer sizes the picture: CSS pixels, or a share of
# the text width; WeasyPrint reads no width attribute (print.css sizes images).
IMAGE_WIDTH = re.compile(r"\s*(\d{1,6}(?:\.\d{1,6})?)\s*(px|%)?\s*", re.ASCII)
DEFAULT_IMAGE_WIDTH = 96.0  # px: an inch, for an <img> that states no width
IMAGE_WIDTH_EXPECTED = 'a width in pixels (`width="120"`) or a share of the text width ' \
                       '(`width="30%"`)'


def subset_problems(html: str, files: ProjectFiles, template: str, brief_file: str
                    ) -> list[Problem]:
    """Every way `html` steps outside what the writers support, placed."""
    tree = lxml.html.document_fromstring(html)
    found = list(dict.fromkeys(_outside(tree)))
    problems = _long_footnotes(tree, files, brief_file)
    if not found:
        return problems
    sources = _template_sources(files)
    for element, message, expected in found:
        where = _written_at(sources, element, template) or (brief_file, 1, 1)
        problems.append(Problem(*where, message, expected=expected))
    return problems


def _outside(tree: HtmlElement) -> Iterator[tuple[HtmlElement, str, str]]:
    """(the element at fault, message, expected) for each problem."""
    for element in tree.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if element.getparent() is not None and element.getparent().tag == "head":
            continue
        if tag not in SUPPORTED and tag not in HEAD:
            yield element, f"<{tag}> is not supported by the DOCX writer", \
                "one of " + ", ".join(sorted(SUPPORTED))
            continue
        allowed = CHILDREN.get(tag)
        if allowed:
            for child in element:
                if isinstance(child.tag, str) and child.tag not in allowed:
                    yield child, f"<{child.tag}> inside <{tag}> is not supported", \
                        f"only {', '.join(sorted(allowed))} inside <{tag}>"
        if tag in LOOSE_TEXT_REFUSED and _loose_text(element):
            yield element, f"text directly inside <{tag}>: the DOCX writer has no place " \
                "for it", LOOSE_TEXT_REFUSED[tag]
        if tag in LISTS and _list_depth(element) > MAX_LIST_DEPTH:
            yield element, f"a list nested {_list_depth(element)} deep", \
                f"lists nested at most {MAX_LIST_DEPTH} deep"
        if tag == "figure" and element.find("figcaption") is None:
            yield element, "a <figure> has no <figcaption>", "a caption for every figure"
        if tag == "table" and "data" in element.classes and element.find("caption") is None:
            yield element, 'a <table class="data"> has no <caption>', \
                "a caption for every data table"
        if tag == "span" and FOOTNOTE in element.classes:
            yield from _footnote_problems(element)
        if tag == "img" and image_width(element) is None:
            yield element, f"<img width={element.get('width')!r}> is not a width the DOCX " \
                "writer can size a picture by", IMAGE_WIDTH_EXPECTED
        if tag == "img" and element.get("alt") is None:
            yield element, f"<img src={element.get('src', '')[:40]!r}> has no alt text", \
                "alt text for every image"


def image_width(img: HtmlElement) -> tuple[float, bool] | None:
    """An <img>'s width: (CSS pixels, False) or (percent of the text width,
    True); None for a width no picture can have (`3cm`, `auto`, `0`, `-5`)."""
    stated = img.get("width")
    if stated is None:
        return DEFAULT_IMAGE_WIDTH, False
    found = IMAGE_WIDTH.fullmatch(stated)
    if found is None or float(found[1]) <= 0:
        return None
    return float(found[1]), found[2] == "%"


def _footnote_problems(note: HtmlElement) -> Iterator[tuple[HtmlElement, str, str]]:
    """A footnote is one Word footnote: inline content, in the text of the page."""
    if any(a.tag in ("header", "footer") for a in note.iterancestors()):
        yield note, "a footnote in the page header or footer", "footnotes in the text only"
    for inner in note.iterdescendants():
        if not isinstance(inner.tag, str):
            continue
        if inner.tag == "span" and FOOTNOTE in inner.classes:
            yield inner, "a footnote inside a footnote", "footnotes in the text only"
        elif inner.tag not in INLINE:
            yield inner, f"<{inner.tag}> inside a footnote", \
                "only text, emphasis, links and line breaks in a footnote"


FOOTNOTE_SHARE = 0.5  # of a page's text height: the most a footnote may take
FOOTNOTE_EXPECTED = "a footnote of at most half a page; the rest of it in the text"
DEFINITION = re.compile(r"\[\^[^\]\s]+\]:[ \t]*")  # `[^label]: ` in prose (content/prose.py)
WORDS_COMPARED = 4  # of a footnote's text and a definition's, to know it by
_SPACES = re.compile(r"\s+")


def _long_footnotes(tree: HtmlElement, files: ProjectFiles, brief_file: str) -> list[Problem]:
    """Footnotes longer than half a page, set as print.css sets them (the small
    size of the serif, lines of 1.35) across the text width, each line break
    starting a line; each placed at its definition."""
    notes = [span for span in tree.iter("span") if FOOTNOTE in span.classes]
    if not notes:
        return []
    theme, measure = load_theme(files), project_metrics(files)
    size, face = theme.sizes.small, theme.fonts.serif.face
    most = int(FOOTNOTE_SHARE * theme.page.text_height / (size * LEADING * POINT))  # lines

    def width(piece: str) -> float:
        return measure.width(piece, size, face) * POINT

    problems = []
    for note in notes:
        lines = _broken_lines(note)
        if len(lines) + sum(map(len, lines)) <= most:  # too few characters for that many lines
            continue
        if sum(len(wrap(line, theme.page.text_width, width)) for line in lines) > most:
            text = " ".join(" ".join(lines).split())
            problems.append(Problem(
                *footnote_defined_at(files, brief_file, text),
                f"a footnote of {len(text.split())} words is longer than half a page: the "
                "PDF cannot carry a footnote over to the next page", expected=FOOTNOTE_EXPECTED))
    return problems


def _broken_lines(note: HtmlElement) -> list[str]:
    """A footnote's text, cut at its line breaks (its own white space, line
    ends included, is only spaces, as HTML sets it)."""
    note = copy.deepcopy(note)
    for inner in note.iter():
        inner.text = inner.text and _SPACES.sub(" ", inner.text)
        inner.tail = inner.tail and _SPACES.sub(" ", inner.tail)
        if inner.tag == "br":
            inner.tail = "\n" + (inner.tail or "")
    return note.text_content().split("\n")


def footnote_defined_at(files: ProjectFiles, brief_file: str, text: str
                        ) -> tuple[str, int, int]:
    """Where the footnote whose text starts so is defined (`[^label]: ...`):
    the brief's file is searched, then the partners' (their prose has notes
    too); the brief's start if no definition matches."""
    wanted = re.findall(r"\w+", text)[:WORDS_COMPARED]
    for path in [files.path(brief_file), *files.partners().values()]:
        try:
            source = files.read(path).decode("utf-8")
        except (Unreadable, OSError, ValueError):  # reported where content is loaded
            continue
        for found in DEFINITION.finditer(source):
            end = source.find("\n", found.end())
            words = re.findall(r"\w+", source[found.end():end if end >= 0 else None])
            shared = min(len(words), len(wanted))
            if shared and words[:shared] == wanted[:shared]:
                start = found.start()
                return (files.relative(path), source.count("\n", 0, start) + 1,
                        start - source.rfind("\n", 0, start))
    return brief_file, 1, 1


# Elements whose own text (not their children's) the DOCX writer has no place
# for (the PDF prints it as a block); in a container or the body it is a paragraph.
LOOSE_TEXT_REFUSED = {
    **{tag: f"text only inside {', '.join(sorted(allowed))}"
       for tag, allowed in CHILDREN.items()},
    "header": "text only inside a <p>", "footer": "text only inside a <p>",
    "nav": "text only inside a <p> or the contents' <li>s",
}


def _loose_text(element: HtmlElement) -> bool:
    """Whether an element holds text of its own beside its children."""
    return bool((element.text or "").strip()
                or any((child.tail or "").strip() for child in element))


def _list_depth(element: HtmlElement) -> int:
    return sum(1 for ancestor in element.iterancestors() if ancestor.tag in LISTS) + 1


def _template_sources(files: ProjectFiles) -> dict[str, list[str]]:
    sources = {}
    for name in files.templates():
        if name.endswith(".j2"):
            try:
                sources[name] = files.read(files.path(name)).decode("utf-8").splitlines()
            except (OSError, ValueError):
                continue  # unreadable templates are reported where they are loaded
    return sources


def _written_at(sources: dict[str, list[str]], element: HtmlElement, template: str
                ) -> tuple[str, int, int] | None:
    """The template line that writes `element`: the first line with its tag and
    all of its classes, else the first with its tag; the edition's own template
    is searched first. None: no template writes it (it came from content)."""
    pattern = re.compile(rf"<{re.escape(element.tag)}[\s>/]", re.IGNORECASE)
    first = f"{TEMPLATES}/{template}"
    order = sorted(sources, key=lambda name: name != first)
    classes = list(element.classes)
    for wanted in ([classes] if classes else []) + [[]]:
        for name in order:
            for number, line in enumerate(sources[name], start=1):
                match = pattern.search(line)
                if match and all(word in line[match.start():] for word in wanted):
                    return name, number, match.start() + 1
    return None
