"""Long content stays on the page, and layouts adapt to content they have not seen.

One stress brief holds what breaks naive layouts at once: a partner with 45
milestones on a timeline, a 2,000-character unbroken token in a table cell,
a 600-character title and marking, a 150-row table, key facts with a long
amount, a long source URL, and an issue year past what a zip file can date.
Both formats are read as a reader would: the PDF through poppler, the DOCX
through python-docx and as LibreOffice lays it out.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docx
import lxml.etree
import lxml.html
import pytest
import yaml
from conftest import made_once, make_project, note_too_long, run_in_process
from docx.oxml.ns import qn
from readers import cell_text, normalise, paragraph_text, pdf_text

from briefing.render.layout import Cell, column_widths, hyphenator

SAMPLE = "output/sample/2108-03-04_sample_en"
MILESTONES = 45
TOKEN = "x" * 2000
TITLE = ("Very long title " * 40)[:600].strip()
MARKING = ("RESTRICTED HANDLING " * 40)[:600].strip()
AMOUNT = "EUR 531,328.62"
URL = "https://example.org/" + "a" * 300
POINT = 25.4 / 72  # mm


def stress_brief(**changes: object) -> dict[str, object]:
    brief: dict[str, object] = {
        "title": TITLE, "date": "2108-03-04", "reference": "R-LONG", "marking": MARKING,
        "languages": ["en"], "department": "Long Department", "partners": ["plh"],
        "key_facts": [{"value": "1000000", "label": "budget of the project in euros"},
                      {"value": "1996", "label": "first office opened"}],
        "sections": [
            {"id": "history", "title": "History", "timeline": ["plh"]},
            {"id": "table", "title": "A long table", "tables": [{
                "caption": "Rows", "columns": [
                    {"key": "name", "label": "Name"},
                    {"key": "when", "label": "When", "type": "date"},
                    {"key": "what", "label": "What"}],
                "rows": [{"name": TOKEN if row == 3 else f"Row {row}",
                          "when": f"{2000 + row % 20}-0{1 + row % 9}-1{row % 9}",
                          "what": "Something happened in this row. " * (1 + row % 3)}
                         for row in range(150)]}]},
        ],
        "sources": [{"id": "web", "title": "A page with a long address", "url": URL}],
    }
    brief.update(changes)
    return brief


PARTNER = {
    "name": "Partner with a long history", "short_name": "PLH",
    "kind": "international-organisation",
    "milestones": [{"date": f"{1950 + i}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    "text": f"Milestone number {i + 1} of a long history"
                    + (", with a description long enough to wrap onto a second line of "
                       "the figure, as real milestones do" if i % 3 == 0 else "") + "."}
                   for i in range(MILESTONES)],
}


def project_with(tmp: Path, brief: dict[str, object]) -> Path:
    return make_project(tmp, files={
        "content/briefs/sample.yaml": yaml.safe_dump(brief, sort_keys=False,
                                                     allow_unicode=True),
        "content/partners/plh.yaml": yaml.safe_dump(PARTNER, sort_keys=False)})


@pytest.fixture(scope="module")
def stress(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stress brief built once per session (conftest.made_once), read only."""
    def make(folder: Path) -> None:
        project = project_with(folder, stress_brief(
            key_facts=[{"value": AMOUNT, "label": "budget of the project"},
                       {"value": "1996", "label": "first office opened"}]))
        result = run_in_process(project, "build", "--format", "pdf", "--format", "docx",
                                "--format", "semantic")
        assert result.code == 0, result.err
    return made_once(tmp_path_factory, "long-content-stress", make)


@pytest.fixture(scope="module")
def stress_libreoffice(stress: Path, libreoffice: Callable[[Path], Path]) -> Path:
    """The stress DOCX as LibreOffice lays it out."""
    return libreoffice(stress / f"{SAMPLE}.docx")


# -- reading pages -----------------------------------------------------------------------

@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    words: list[Word]


def pdf_pages(path: Path) -> list[Page]:
    """Every page's words with their boxes, in points, as pdftotext -bbox gives them."""
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                         check=True).stdout
    tree = lxml.etree.fromstring(out, lxml.etree.XMLParser(recover=True))
    pages = []
    for page in tree.iter("{*}page"):
        words = [Word(word.text or "", *(float(word.get(k)) for k in
                                         ("xMin", "yMin", "xMax", "yMax")))
                 for word in page.iter("{*}word")]
        pages.append(Page(float(page.get("width")), float(page.get("height")), words))
    return pages


def lines(words: list[Word]) -> list[list[Word]]:
    """Words grouped into lines by their vertical middle, top to bottom."""
    out: list[list[Word]] = []
    for word in sorted(words, key=lambda w: ((w.y0 + w.y1) / 2, w.x0)):
        middle = (word.y0 + word.y1) / 2
        if out and abs(middle - sum((w.y0 + w.y1) / 2 for w in out[-1]) / len(out[-1])) < 2:
            out[-1].append(word)
        else:
            out.append([word])
    return out


def band(found: list[list[Word]], expected: str, top: bool) -> list[list[Word]] | None:
    """The lines, from the top (or the bottom), whose text is exactly `expected`."""
    want, got, taken = re.sub(r"\s+", "", expected), "", []
    for line in found if top else reversed(found):
        text = "".join(word.text for word in line)
        got = got + text if top else text + got
        taken.append(line)
        if got == want:
            return taken
        if not (want.startswith(got) if top else want.endswith(got)):
            return None
    return None


def check_page_area(pages: list[Page], left_mm: float, right_mm: float,
                    header: str, marking: str) -> None:
    """Every word inside the page's text column; the running header (marking and
    title line, or the marking alone on a cover) and footer (marking and page
    number) whole, and above and below every other word; no two words printed
    over each other."""
    for number, page in enumerate(pages, start=1):
        assert page.words, f"page {number} is empty"
        for word in page.words:
            assert word.x0 >= left_mm / POINT - 1, (number, word)
            assert word.x1 <= page.width - right_mm / POINT + 1, (number, word)
            assert word.y0 >= 0 and word.y1 <= page.height, (number, word)
        found = lines(page.words)
        counted = re.search(r"Page (\d+) of (\d+)", " ".join(w.text for w in page.words))
        head = band(found, f"{marking} {header}", True) or band(found, marking, True)
        if head and len(head) < len(found):  # a title line cut to one line, with an ellipsis
            cut = " ".join(word.text for word in found[len(head)])
            if cut.endswith("\u2026") and header.startswith(cut[:-1].strip()):
                head = [*head, found[len(head)]]
        foot = band(found, f"{marking} {counted.group(0)}", False) if counted else None
        foot = foot or band(found, marking, False)
        assert head and foot, f"page {number}: no whole running header or footer"
        in_head = {w for line in head for w in line}
        in_foot = {w for line in foot for w in line}
        head_bottom = max(w.y1 for w in in_head)
        foot_top = min(w.y0 for w in in_foot)
        for word in page.words:
            if word not in in_head and word not in in_foot:
                assert head_bottom <= word.y0 + 0.5, (number, "under the header", word)
                assert word.y1 <= foot_top + 0.5, (number, "over the footer", word)
        assert not overlapping(page.words), (number, overlapping(page.words))


def overlapping(words: list[Word]) -> list[tuple[Word, Word]]:
    """Pairs of words printed over each other (the middle of their boxes, so
    that tightly set lines, whose font boxes touch, do not count)."""
    def core(w: Word) -> tuple[float, float, float, float]:
        inset = (w.y1 - w.y0) * 0.3
        return (w.x0 + 0.3, w.y0 + inset, w.x1 - 0.3, w.y1 - inset)

    boxes = sorted((core(w), w) for w in words)
    found = []
    for i, (a, word_a) in enumerate(boxes):
        for b, word_b in boxes[i + 1:]:
            if b[0] >= a[2]:
                break
            if b[1] < a[3] and a[1] < b[3]:
                found.append((word_a, word_b))
    return found


def header_title(html: Path) -> str:
    """The running header's title line: short name, title, reference, date."""
    tree = lxml.html.parse(str(html)).getroot()
    return normalise(tree.find_class("header-title")[0].text_content())


# -- 1. the timeline: every entry, in both formats ---------------------------------------

def entries(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"Milestone number (\d+) of", normalise(text))]


def test_every_timeline_entry_is_text_in_the_pdf_and_in_the_docx(stress: Path) -> None:
    html = lxml.html.parse(str(stress / f"{SAMPLE}.semantic.html")).getroot()
    figures = html.xpath("//figure[@class='timeline']")
    assert len(figures) > 1, "45 milestones do not fit one picture"
    count = len(figures)
    assert [normalise(f.findtext("figcaption")) for f in figures] == [
        f"Timeline: PLH ({n} of {count})" for n in range(1, count + 1)]
    wanted = list(range(1, MILESTONES + 1))
    # The PDF draws the figures' SVG text as text; the list after each is hidden.
    assert sorted(entries(pdf_text(stress / f"{SAMPLE}.pdf"))) == wanted
    document = docx.Document(str(stress / f"{SAMPLE}.docx"))
    assert sorted(entries("\n".join(paragraph_text(p) for p in document.paragraphs))) == wanted
    pictures = [p for p in document.paragraphs if p._p.xpath(".//pic:pic")]
    assert len(pictures) == count + 1  # and the cover's emblem
    section = document.sections[-1]
    text_height = section.page_height - section.top_margin - section.bottom_margin
    for picture in pictures:  # each fits a page, with its caption and a tall header
        [height] = picture._p.xpath(".//wp:extent/@cy")
        assert int(height) < 0.7 * text_height


def test_each_timeline_part_fits_a_page(stress: Path) -> None:
    """A part's last entry is on the page of its first, in both formats' pages."""
    html = lxml.html.parse(str(stress / f"{SAMPLE}.semantic.html")).getroot()
    for ul in html.xpath("//ul[@class='timeline-entries']"):
        numbers = entries(ul.text_content())
        pages = [page for page in pdf_text(stress / f"{SAMPLE}.pdf").split("\f")
                 if f"Milestone number {numbers[0]} of" in normalise(page)]
        assert len(pages) == 1 and f"Milestone number {numbers[-1]} of" in normalise(pages[0])


# -- 2. long words wrap, in time proportional to their length ---------------------------

def test_a_long_token_wraps_inside_its_cell_and_is_still_the_token(
        stress: Path, stress_libreoffice: Path) -> None:
    for pdf in (stress / f"{SAMPLE}.pdf", stress_libreoffice):
        text = pdf_text(pdf)
        assert "\u200b" not in text
        # Its lines, in order (the token spans pages: the other cells come between).
        assert "".join(re.findall(r"(?<!\S)x+(?!\S)", text)) == TOKEN, pdf.name
        title = re.sub(r"\s+", "", header_title(stress / f"{SAMPLE}.semantic.html"))
        compact = re.sub(r"\s+", "", text)  # the sources end the report: only furniture between
        for furniture_text in (title, re.sub(r"\s+", "", MARKING)):
            compact = compact.replace(furniture_text, "")
        assert URL in re.sub(r"Page\d+of\d+", "", compact), pdf.name
    document = docx.Document(str(stress / f"{SAMPLE}.docx"))
    cells = [cell_text(cell) for table in document.tables for row in table.rows
             for cell in row.cells]
    assert TOKEN in cells
    # Its row is taller than a page: Word may split it (LibreOffice would print a
    # row it may not split past the foot of the page); the others stay whole.
    [table] = [t for t in document.tables if any(cell_text(c) == TOKEN for r in t.rows
                                                        for c in r.cells)]
    kept = [row._tr.trPr is not None and row._tr.trPr.find(qn("w:cantSplit")) is not None
            for row in table.rows]
    assert kept.count(False) == 1 and not kept[4]  # the header row, then rows 0 to 3


def test_long_words_get_breaking_opportunities_only_in_the_pdf(stress: Path) -> None:
    from briefing.render.layout import breakable

    html = (stress / f"{SAMPLE}.semantic.html").read_text(encoding="utf-8")
    assert "\u200b" not in html
    broken = breakable(html)
    assert "x\u200bx" in broken
    assert broken.replace("\u200b", "") == html  # text only: attributes untouched


# -- 3. a title and marking of any length, a date past 2107 ------------------------------

def test_long_title_and_marking_in_properties_and_pages(stress: Path) -> None:
    document = docx.Document(str(stress / f"{SAMPLE}.docx"))
    props = document.core_properties
    assert len(props.title) == 255 and props.title.endswith("\u2026")
    assert TITLE.startswith(props.title[:-1])
    assert len(props.category) == 255 and MARKING.startswith(props.category[:-1])
    assert props.created.year == 2108
    body = normalise(" ".join(paragraph_text(p) for p in document.paragraphs))
    assert normalise(TITLE) in body  # the visible title is never cut
    assert normalise(MARKING) in normalise(" ".join(
        paragraph_text(p) for p in document.sections[-1].header.paragraphs))
    pdf = normalise(pdf_text(stress / f"{SAMPLE}.pdf"))
    assert normalise(TITLE) in pdf and normalise(MARKING) in pdf
    import pikepdf

    with pikepdf.open(stress / f"{SAMPLE}.pdf") as opened:
        assert str(opened.docinfo["/Title"]) == TITLE


def test_zip_dates_are_clamped_to_what_a_zip_can_hold(stress: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(stress / f"{SAMPLE}.docx") as package:
        assert {info.date_time for info in package.infolist()} == {(2107, 12, 31, 0, 0, 0)}
    project = project_with(tmp_path / "old", stress_brief(date="1970-05-06", sections=[
        {"id": "one", "title": "One", "body": "Text."}], sources=[]))
    assert run_in_process(project, "build", "--format", "docx").code == 0
    with zipfile.ZipFile(project / "output/sample/1970-05-06_sample_en.docx") as package:
        assert {info.date_time for info in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}


# -- 4. no text outside the page's text area ---------------------------------------------

def test_every_word_of_the_pdf_is_inside_the_text_area(stress: Path) -> None:
    check_page_area(pdf_pages(stress / f"{SAMPLE}.pdf"), 25, 20,
                    header_title(stress / f"{SAMPLE}.semantic.html"), normalise(MARKING))


def test_every_word_of_the_docx_is_inside_the_text_area(stress: Path,
                                                        stress_libreoffice: Path) -> None:
    check_page_area(pdf_pages(stress_libreoffice), 25, 20,
                    header_title(stress / f"{SAMPLE}.semantic.html"), normalise(MARKING))


def test_a_title_too_long_for_the_running_header_is_cut_there_only(tmp_path: Path) -> None:
    """A header that would take a third of the page shows the title in one line."""
    title = ("Extremely long title " * 150)[:3000].strip()
    project = project_with(tmp_path / "p", stress_brief(title=title))
    assert run_in_process(project, "build", "--format", "pdf", "--format", "semantic").code == 0
    pages = pdf_pages(project / f"{SAMPLE}.pdf")
    check_page_area(pages, 25, 20, header_title(project / f"{SAMPLE}.semantic.html"),
                    normalise(MARKING))
    text = re.sub(r"\s+", "", pdf_text(project / f"{SAMPLE}.pdf"))
    assert "title\u2026" in text
    for furniture_text in (re.sub(r"\s+", "", MARKING), r"EMA·[^\u2026]*\u2026", r"Page\d+of\d+"):
        text = re.sub(furniture_text, "", text)
    assert re.sub(r"\s+", "", title) in text  # whole on the cover, across its pages


# -- 5. layouts that adapt -----------------------------------------------------------------

def test_one_rule_gives_both_formats_their_column_widths(stress: Path) -> None:
    html = lxml.html.parse(str(stress / f"{SAMPLE}.semantic.html")).getroot()
    tables = html.xpath("//table")
    assert tables and all(t.find("colgroup") is not None for t in tables)
    shares = [[float(col.get("style").split(":")[1].strip(" %")) for col in t.iter("col")]
              for t in tables]
    assert all(abs(sum(share) - 100) < 0.01 for share in shares)
    document = docx.Document(str(stress / f"{SAMPLE}.docx"))
    brief_tables = [t for t in document.tables if t.style.name in ("Brief Table",
                                                                   "Cover Details")]
    assert len(brief_tables) == len(tables)
    for table, share in zip(brief_tables, shares, strict=True):
        widths = [column.w for column in table._tbl.tblGrid.gridCol_lst]
        assert [round(w * 100 / sum(widths), 1) for w in widths] == pytest.approx(
            share, abs=0.15)


def test_column_widths_follow_the_content() -> None:
    def measure(text: str, bold: bool) -> float:
        return len(text) * 2.0  # mm: two per character

    date = Cell("12 September 2005", False, True)
    short, long = Cell("a b", False, False), Cell("word " * 60, False, False)
    # A date gets its whole width; a long text takes the rest.
    widths = column_widths([[long, date]], measure, 165.0)
    assert widths[1] == pytest.approx((34 + 4) * 100 / 165, abs=0.1)
    assert sum(widths) == pytest.approx(100)
    # When all fits, each column gets what it would take and a share of what is left.
    assert column_widths([[short, short]], measure, 165.0) == [50.0, 50.0]
    # A word of any length needs no more than a long word's room: it is broken anywhere.
    token = Cell("x" * 5000, False, False)
    assert min(column_widths([[token, long, date]], measure, 165.0)) > 15


def test_a_column_gives_way_only_where_its_words_can_be_hyphenated() -> None:
    """When the columns' words do not fit the page, a word the language's
    dictionary can split yields its room; a number, a date and text joined by
    no-break spaces never do; and when even those do not fit, only the widest
    break, the narrow ones stay whole."""
    def measure(text: str, bold: bool) -> float:
        return len(text) * 2.0  # mm: two per character

    hyphenate = hyphenator("en-GB")
    assert len(hyphenate("Counterintelligence")) > 2 and hyphenate("12345") == ["12345"]
    number = Cell("12345678901234567890", False, False)  # 40 mm, no hyphenation point
    words = Cell("Counterintelligence Interinstitutional", False, False)
    joined = Cell("No.\u00a012\u00a0of\u00a01997", False, False)  # 14 characters, one piece
    date = Cell("14 July 1997", False, True)
    total = 130.0  # less than the longest words need (142 mm), more than the pieces
    widths = [w * total / 100 for w in column_widths(
        [[number, words, joined, date]], measure, total, hyphenate)]
    assert widths[0] >= 40 + 4 and widths[2] >= 28 + 4 and widths[3] >= 24 + 4, widths
    assert widths[1] < len("Interinstitutional") * 2 + 4  # it hyphenates instead
    # Without the dictionary, every column is squeezed below its longest word.
    plain = [w * total / 100 for w in column_widths(
        [[number, words, joined, date]], measure, total)]
    assert plain[0] < 40 + 4
    # Three numbers wider than the page together: they share what is left,
    # and the short column keeps its figure whole.
    short = Cell("1997", False, False)
    widths = [w * 100 / 100 for w in column_widths(
        [[number, number, number, short]], measure, 100.0, hyphenate)]
    assert widths[3] >= 8 + 4 and max(widths[:3]) - min(widths[:3]) < 0.2, widths


def test_key_facts_figures_never_run_into_their_labels(stress: Path,
                                                       stress_libreoffice: Path) -> None:
    for pdf in (stress / f"{SAMPLE}.pdf", stress_libreoffice):
        [page] = [page for page in pdf_pages(pdf) if "budget" in {w.text for w in page.words}]
        label = next(w for w in page.words if w.text == "budget")
        line = [w.text for w in page.words if abs(w.y0 - label.y0) < 6 and w.x1 < label.x0]
        assert " ".join(line) == AMOUNT, (pdf.name, "the amount is not whole beside its label")
        amount = max(w.x1 for w in page.words if abs(w.y0 - label.y0) < 6 and w.x1 < label.x0)
        assert amount + 1 / POINT < label.x0, pdf.name  # a millimetre apart at least


def test_a_figure_too_long_to_stand_beside_its_label_is_set_above_it(tmp_path: Path) -> None:
    word = "y" * 3000
    project = project_with(tmp_path / "p", stress_brief(
        key_facts=[{"value": word, "label": "a figure that is no figure"}],
        sections=[{"id": "one", "title": "One", "body": "Text."}], sources=[]))
    result = run_in_process(project, "build", "--format", "pdf", "--format", "docx",
                     "--format", "semantic")
    assert result.code == 0, result.err
    html = lxml.html.parse(str(project / f"{SAMPLE}.semantic.html")).getroot()
    assert html.xpath("//aside[contains(@class, 'key-facts')]/dl")[0].get("class") == "stacked"
    text = pdf_text(project / f"{SAMPLE}.pdf")
    assert "".join(re.findall(r"(?<!\S)y+(?!\S)", text)) == word
    check_page_area(pdf_pages(project / f"{SAMPLE}.pdf"), 25, 20,
                    header_title(project / f"{SAMPLE}.semantic.html"), normalise(MARKING))
    document = docx.Document(str(project / f"{SAMPLE}.docx"))
    [box] = [table for table in document.tables if table.style.name == "Box"]
    [definitions] = box.cell(0, 0).tables
    assert len(definitions.columns) == 1 and cell_text(definitions.cell(0, 0)) == word


@pytest.fixture(scope="module")
def headings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sections that start with a heading followed at once by a figure or a table,
    after prose of growing length: some heading falls near the foot of a page.
    Built once per session (conftest.made_once), read only."""
    return made_once(tmp_path_factory, "long-content-headings", _headings)


def _headings(folder: Path) -> None:
    sentence = "This paragraph only moves what follows further down the page. "
    sections = []
    for n in range(14):
        section: dict[str, object] = {"id": f"s{n}", "title": f"Section heading {n}"}
        if n % 2:
            section["tables"] = [{"caption": f"Table {n}", "columns": [
                {"key": "a", "label": "Item"}, {"key": "b", "label": "Note"}],
                "rows": [{"a": f"Item {n}.{r}", "b": "A note."} for r in range(6)]}]
        else:
            section["timeline"] = ["plh"]
        sections.append(section)
        sections.append({"id": f"p{n}", "title": f"Prose {n}",
                         "body": sentence * (3 + 2 * n)})
    partner = {**PARTNER, "milestones": PARTNER["milestones"][:4]}
    project = make_project(folder, files={
        "content/briefs/sample.yaml": yaml.safe_dump(stress_brief(
            title="Headings", marking="FOR OFFICIAL USE", sections=sections, sources=[])),
        "content/partners/plh.yaml": yaml.safe_dump(partner, sort_keys=False)})
    result = run_in_process(project, "build", "--format", "pdf", "--format", "docx",
                            "--format", "semantic")
    assert result.code == 0, result.err


def heading_pages(pdf: Path, headings: list[str]) -> list[tuple[int, str, str]]:
    """(page, heading, the page's text after it) for each heading; and no page's
    text (its footer's two lines aside) ends with a heading."""
    found = []
    for number, page in enumerate(pdf_text(pdf, layout=True).split("\f")[:-1], start=1):
        body = [normalise(line) for line in page.splitlines() if line.strip()][:-2]
        assert body and body[-1] not in headings, (pdf.name, number, body[-1])
        for i, line in enumerate(body):
            if line in headings:
                found.append((number, line, "\n".join(body[i + 1:])))
    return found


def test_headings_stay_with_their_figure_or_table(headings: Path,
                                                 libreoffice: Callable[[Path], Path]) -> None:
    html = lxml.html.parse(str(headings / f"{SAMPLE}.semantic.html")).getroot()
    titles = [normalise(h.text_content()) for h in html.iter("h1")
              if "Section heading" in h.text_content()]
    assert len(titles) == 14
    for pdf in (headings / f"{SAMPLE}.pdf",
                libreoffice(headings / f"{SAMPLE}.docx")):
        placed = heading_pages(pdf, titles)
        assert sorted(heading for _, heading, _ in placed) == sorted(titles), pdf.name
        for page, heading, after in placed:
            n = int(heading.rsplit(" ", 1)[1])
            first = f"Table {n}" if n % 2 else "Milestone number 1 of"
            assert first in after, (pdf.name, page, heading)


def test_word_keeps_headings_and_pictures_with_what_follows(headings: Path) -> None:
    document = docx.Document(str(headings / f"{SAMPLE}.docx"))
    pictures = 0
    for paragraph in document.paragraphs:
        if paragraph.style.name.startswith("Heading"):
            assert paragraph.paragraph_format.keep_with_next, paragraph.text
        if paragraph._p.xpath(".//pic:pic"):  # with its caption
            assert paragraph.paragraph_format.keep_with_next
            pictures += 1
    assert pictures == 1 + 7  # the emblem, and a timeline in every other section


# -- 6. the one-page note -----------------------------------------------------------------

def test_a_note_longer_than_a_page_fails_saying_by_how_much(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", root=None)
    note_too_long(project / "content/briefs/international-cooperation.yaml")
    result = run_in_process(project, "build", "international-cooperation", "--lang", "en",
                     "--format", "pdf")
    assert result.code == 1
    first = result.err.splitlines()[0]
    # Placed at the first field that no longer fits: one of the long key points.
    found = re.fullmatch(
        r"content/briefs/international-cooperation\.yaml:(\d+):\d+: key_points\[(\d)\]\.en: "
        r"the note is (\d+) pages long: (\d+ pages? and )?\d+ lines? too long for one page; "
        r"page 2 starts with this field \(while rendering "
        r"2026-11-20_international-cooperation_note_en\.pdf\) \(expected a note that fits "
        r"one page: a shorter summary, fewer key facts or key points\)", first)
    assert found, first
    lines = (project / "content/briefs/international-cooperation.yaml").read_text(
        encoding="utf-8").splitlines()
    assert f"Key point {found[2]}," in lines[int(found[1]) - 1]
    assert not (project / "output/international-cooperation/"
                "2026-11-20_international-cooperation_note_en.pdf").exists()


def test_the_docx_note_is_one_page_too(tmp_path: Path, libreoffice: Callable) -> None:
    """The build cannot run LibreOffice: the DOCX note's one page is checked here
    (and for every language of the real brief in test_print.py)."""
    import pikepdf

    project = make_project(tmp_path / "p", root=None)
    assert run_in_process(project, "build", "international-cooperation", "--lang", "en",
                          "--format", "docx").code == 0
    note = project / ("output/international-cooperation/"
                      "2026-11-20_international-cooperation_note_en.docx")
    with pikepdf.open(libreoffice(note)) as pdf:
        assert len(pdf.pages) == 1
