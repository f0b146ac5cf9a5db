"""Presentation stated once: templates/theme.yaml reaches the PDF, the DOCX and
the timeline figure, and a mistake in it is placed like one in content."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
import lxml.html
import pikepdf
import pytest
from conftest import REPO, make_project, run_cli
from docx.shared import RGBColor
from docx.table import Table

from briefing.files import ProjectFiles
from briefing.render.theme import load_theme
from briefing.writers.wordstyles import PARAGRAPHS, TABLES, apply_theme

THEME = (REPO / "templates" / "theme.yaml").read_text(encoding="utf-8")
NAVY, RED = "#1f3a5f", "#8b1a1a"
SAMPLE = "2020-01-15_sample_en"


def changed(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def sample_with_timeline() -> str:
    brief = (REPO / "tests" / "roots" / "sample" / "content" / "briefs" / "sample.yaml")
    return changed(brief.read_text(encoding="utf-8"), "    agreements: [org]\n",
                   "    agreements: [org]\n    timeline: [org]\n")


@pytest.fixture(scope="module")
def restyled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample, with a timeline, built with another navy and a wider key-facts column."""
    theme = changed(THEME, f'navy: "{NAVY}"', f'navy: "{RED}"')
    theme = changed(theme, "key_facts_term: 22 ", "key_facts_term: 40 ")
    project = make_project(tmp_path_factory.mktemp("restyled") / "project", files={
        "templates/theme.yaml": theme, "content/briefs/sample.yaml": sample_with_timeline()})
    result = run_cli(project, "build", "--format", "pdf", "--format", "docx",
                     "--format", "semantic")
    assert result.code == 0, result.err
    return project


def output(project: Path, suffix: str) -> Path:
    return project / "output" / "sample" / f"{SAMPLE}.{suffix}"


def pdf_colours(path: Path, first: int = 1) -> set[str]:
    """Every RGB colour pages `first`.. paint or stroke with, as #rrggbb."""
    colours = set()
    with pikepdf.open(path) as pdf:
        for page in pdf.pages[first - 1:]:
            for operands, operator in pikepdf.parse_content_stream(page):
                if str(operator) in ("rg", "RG") and len(operands) == 3:
                    colours.add("#" + "".join(f"{round(float(v) * 255):02x}" for v in operands))
    return colours


def test_the_navy_of_the_theme_colours_the_pdf(restyled: Path) -> None:
    # From the contents page on: the cover's emblem is artwork, and keeps its own colours.
    colours = pdf_colours(output(restyled, "pdf"), first=2)
    assert RED in colours
    assert NAVY not in colours


def test_the_navy_of_the_theme_colours_the_word_styles(restyled: Path) -> None:
    document = docx.Document(str(output(restyled, "docx")))
    for name in ("Title", "Heading 1", "Heading 2", "Box Title", "Definition Term"):
        assert document.styles[name].font.color.rgb == RGBColor.from_string("8B1A1A"), name
    with zipfile.ZipFile(output(restyled, "docx")) as package:
        styles = package.read("word/styles.xml").decode()
    assert "1F3A5F" not in styles  # the header row of tables and the box's frame too
    assert 'w:fill="8B1A1A"' in styles


def test_the_navy_of_the_theme_colours_the_timeline(restyled: Path) -> None:
    html = lxml.html.parse(str(output(restyled, "semantic.html")))
    [img] = html.xpath("//figure[@class='timeline']/img")
    svg = base64.b64decode(img.get("src").partition(",")[2]).decode()
    assert f'stroke="{RED}"' in svg and f'fill="{RED}"' in svg
    assert NAVY not in svg
    assert 'font-family="Brief Sans, Noto Sans, sans-serif"' in svg


def test_the_key_facts_column_width_reaches_both_formats(restyled: Path) -> None:
    bbox = subprocess.run(["pdftotext", "-bbox", str(output(restyled, "pdf")), "-"],
                          capture_output=True, text=True, check=True).stdout
    words = [(word.text, float(word.get("xmin")), float(word.get("ymin")))
             for word in lxml.html.fromstring(bbox.encode()).iter("word")]
    [label] = [(x, y) for i, (text, x, y) in enumerate(words)
               if text == "first" and words[i + 1][0] == "office"]
    [figure] = [x for text, x, y in words if text == "1996" and abs(y - label[1]) < 10]
    assert label[0] - figure == pytest.approx(40 * 72 / 25.4, abs=0.5)  # 40 mm, in points
    [table] = [t for t in tables(docx.Document(str(output(restyled, "docx"))))
               if t.style.name == "Definition Table"]
    assert table._tbl.tblGrid.gridCol_lst[0].w.mm == pytest.approx(40, abs=0.05)


def tables(container: object) -> Iterator[Table]:
    """Every table, those inside table cells (the key-facts box) included."""
    for table in container.tables:
        yield table
        for row in table.rows:
            for cell in row.cells:
                yield from tables(cell)


@pytest.mark.parametrize("command", ["check", "build"])
def test_a_mistake_in_the_theme_is_placed(tmp_path: Path, command: str) -> None:
    theme = changed(THEME, 'grey: "#555555"', 'grey: "#555"')
    line = next(number for number, text in enumerate(theme.splitlines(), start=1)
                if text.lstrip().startswith("grey:"))
    column = theme.splitlines()[line - 1].index('"#555"') + 1
    project = make_project(tmp_path / "p", files={"templates/theme.yaml": theme})
    result = run_cli(project, command)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f'templates/theme.yaml:{line}:{column}: colours.grey: `#555` is not a colour '
        '(expected "#rrggbb" in quotes, such as "#1f3a5f")')
    assert "Traceback" not in result.err
    assert not (project / "output" / "sample").exists()


def test_an_unquoted_colour_is_explained(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", files={
        "templates/theme.yaml": changed(THEME, f'navy: "{NAVY}"', f"navy: {NAVY}")})
    result = run_cli(project, "check")
    assert result.code == 1
    assert re.fullmatch(r"templates/theme\.yaml:\d+:\d+: colours\.navy: this is empty; in YAML "
                        r"a bare # starts a comment \(expected a colour in quotes, such as "
                        r'"#1f3a5f"\)', result.err.splitlines()[0])


def test_a_project_without_a_theme_is_told_so(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", files={"templates/theme.yaml": ""})
    result = run_cli(project, "build")
    assert result.code == 1
    assert result.err.splitlines()[0].startswith("templates/theme.yaml:1:1: the file is missing")
    assert "Traceback" not in result.err


def test_print_css_reads_only_tokens_the_theme_has() -> None:
    css = re.sub(r"/\*.*?\*/", "", (REPO / "templates" / "print.css").read_text(
        encoding="utf-8"), flags=re.DOTALL)
    used = set(re.findall(r"var\((--[a-z0-9-]+)\)", css))
    assert used and used <= set(load_theme(ProjectFiles(REPO)).css_properties())
    # @font-face cannot read a custom property: its families must be the theme's.
    declared = set(re.findall(r'@font-face\s*{\s*font-family:\s*"([^"]+)"', css))
    fonts = load_theme(ProjectFiles(REPO)).fonts
    assert declared == {fonts.serif.css, fonts.sans.css}


def test_the_word_style_tables_name_tokens_the_theme_has() -> None:
    theme = load_theme(ProjectFiles(REPO))
    for name, look in PARAGRAPHS.items():
        assert hasattr(theme.fonts, look.font), name
        assert look.size is None or hasattr(theme.sizes, look.size), name
        assert look.colour is None or hasattr(theme.colours, look.colour), name
    for name, table in TABLES.items():
        for colour in (table.rules, table.frame, table.header, table.fill):
            assert colour is None or hasattr(theme.colours, colour), name


def test_reference_docx_already_shows_the_theme() -> None:
    """So the writer's applying it changes nothing in the styles of a default build."""
    document = docx.Document(str(REPO / "templates" / "reference.docx"))
    before = document.styles.element.xml
    apply_theme(document, load_theme(ProjectFiles(REPO)))
    assert document.styles.element.xml == before


def test_the_reference_tool_reads_the_theme(tmp_path: Path) -> None:
    def styles_made(project: Path) -> str:
        subprocess.run([sys.executable, str(REPO / "tools" / "make-reference-docx"),
                        str(tmp_path / "made.docx")], cwd=project, check=True)
        with zipfile.ZipFile(tmp_path / "made.docx") as package:
            return package.read("word/styles.xml").decode()

    with zipfile.ZipFile(REPO / "templates" / "reference.docx") as package:
        assert styles_made(REPO) == package.read("word/styles.xml").decode()
    project = make_project(tmp_path / "p", files={
        "templates/theme.yaml": changed(THEME, f'navy: "{NAVY}"', f'navy: "{RED}"')})
    made = styles_made(project)
    assert "1F3A5F" not in made and 'w:color w:val="8B1A1A"' in made


# -- the page: one place for every format --------------------------------------------------

@pytest.mark.parametrize(("size", "points"), [("A5", (419.5, 595.3)), ("Letter", (612, 792))])
def test_the_paper_is_stated_once_and_every_format_takes_it(
        tmp_path: Path, size: str, points: tuple[float, float]) -> None:
    """theme.yaml's page.size and margins reach the PDF's pages, the DOCX's
    sections and the layout's text width (the table widths of the HTML)."""
    project = make_project(tmp_path / "p", files={"templates/theme.yaml": changed(
        THEME, "  size: A4 ", f"  size: {size} ").replace("  left: 25", "  left: 30")})
    result = run_cli(project, "build", "--format", "pdf", "--format", "docx")
    assert result.code == 0, result.err
    theme = load_theme(ProjectFiles(project))
    with pikepdf.open(project / f"output/sample/{SAMPLE}.pdf") as pdf:
        for page in pdf.pages:
            box = [float(value) for value in page.mediabox]
            assert (round(box[2] - box[0], 1), round(box[3] - box[1], 1)) == pytest.approx(
                points, abs=0.2)
    document = docx.Document(str(project / f"output/sample/{SAMPLE}.docx"))
    for section in document.sections:
        assert (round(section.page_width.mm), round(section.page_height.mm)) == (
            round(theme.page.width), round(theme.page.height))
        assert round(section.left_margin.mm) == 30
        assert round(section.right_margin.mm) == 20
    assert theme.page.text_width == theme.page.width - 50


def test_print_css_may_not_set_the_page_apart_from_the_docx(tmp_path: Path) -> None:
    css = (REPO / "templates/print.css").read_text(encoding="utf-8")
    project = make_project(tmp_path / "p", files={"templates/print.css": changed(
        css, "@page {\n", "@page {\n  size: A5;\n")})
    at = next(number for number, line in enumerate(
        (project / "templates/print.css").read_text(encoding="utf-8").splitlines(), 1)
        if line == "  size: A5;")
    for command in ("check", "build"):
        result = run_cli(project, command)
        assert result.code == 1
        assert result.err.splitlines()[0].startswith(
            f"templates/print.css:{at}:3: `size` in @page: the page's size and margins are "
            "set in templates/theme.yaml"), result.err


def test_a_page_with_no_room_for_text_is_refused_at_the_theme(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", files={"templates/theme.yaml": changed(
        THEME, "  size: A4 ", "  size: A5 ").replace("  left: 25", "  left: 30")})
    assert run_cli(project, "check").code == 0  # 148 - 30 - 20 = 98 mm: room enough
    project = make_project(tmp_path / "q", files={"templates/theme.yaml": changed(
        THEME, "  size: A4 ", "  size: A5 ").replace("  left: 25", "  left: 55")})
    result = run_cli(project, "check")
    assert result.code == 1, result.err
    assert result.err.startswith("templates/theme.yaml:"), result.err
    assert "page: the page leaves 73 mm for the text" in result.err, result.err


def test_a_page_with_no_height_for_text_is_refused_at_the_theme(tmp_path: Path) -> None:
    """Wide enough, but 30 mm high: `check` once passed it and the PDF writer
    then failed; now both refuse it at the theme."""
    theme = changed(THEME, "  size: A4 ", "  size: A5 ").replace(
        "  top: 25", "  top: 90").replace("  bottom: 25", "  bottom: 90")
    project = make_project(tmp_path / "p", files={"templates/theme.yaml": theme})
    for command in ("check", "build"):
        result = run_cli(project, command)
        assert result.code == 1, (command, result.err)
        assert "page: the page leaves 30 mm for the text between its top and bottom" \
            in result.err, result.err
