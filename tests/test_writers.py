"""One HTML, two writers: the DOCX says what the HTML says, in Word's own terms."""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from pathlib import Path

import docx
import lxml.etree
import pytest
from conftest import make_project, output_files, run_in_process
from readers import (
    docx_blocks,
    html_blocks,
    libreoffice_pdf,
    normalise,
    pdf_text,
    without_page_numbers,
)

from briefing.orchestration.cache import verdicts

SAMPLE = "output/sample/2020-01-15_sample_en"


def test_docx_headings_and_paragraphs_equal_the_html(sample_build: Path,
                                                     sample_semantic: Path) -> None:
    html = (sample_semantic / f"{SAMPLE}.semantic.html").read_text(encoding="utf-8")
    expected = html_blocks(html)
    actual = without_page_numbers(docx_blocks(sample_build / f"{SAMPLE}.docx"))
    assert [text for _, text in actual] == [text for _, text in expected]
    html_headings = [(int(tag[1]), text) for tag, text in expected if re.fullmatch(r"h\d", tag)]
    docx_headings = [(int(style.split()[-1]), text) for style, text in actual
                     if style.startswith("Heading ")]
    assert docx_headings == html_headings
    assert len(html_headings) == 7


@pytest.mark.parametrize("language", ["en", "az", "ru"])
def test_real_brief_parity(real_build: Path, real_semantic: Path, language: str) -> None:
    name = f"2026-11-20_international-cooperation_{language}"
    html = (real_semantic / "international-cooperation" / f"{name}.semantic.html").read_text()
    actual = [text for _, text in without_page_numbers(docx_blocks(real_build / f"{name}.docx"))]
    expected = [text for _, text in html_blocks(html)]
    if language == "az" and len(actual) == len(expected):
        # a caps style's text is written in Azerbaijani capitals (İ): the same words
        expected = [shown if shown == text.replace("i", "İ").upper() else text
                    for shown, text in zip(actual, expected, strict=True)]
    assert actual == expected


def test_docx_uses_word_styles(sample_build: Path) -> None:
    styles = {style for style, _ in docx_blocks(sample_build / f"{SAMPLE}.docx")}
    assert {"Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "List Bullet",
            "Quote", "Quote Attribution", "Caption", "Table Heading", "Table Text",
            "toc 1", "TOC Heading"} <= styles


def test_docx_tables_repeat_header_rows_and_never_split(sample_build: Path) -> None:
    document = docx.Document(str(sample_build / f"{SAMPLE}.docx"))
    data_tables = [t for t in document.tables if t.rows[0]._tr.trPr is not None
                   and t.rows[0]._tr.trPr.find(docx.oxml.ns.qn("w:tblHeader")) is not None]
    assert len(data_tables) == 6  # offices, agreements, trainings, events, groups, meetings
    for table in data_tables:
        for row in table.rows:
            assert row._tr.trPr.find(docx.oxml.ns.qn("w:cantSplit")) is not None


def test_docx_links_and_properties(sample_build: Path) -> None:
    document = docx.Document(str(sample_build / f"{SAMPLE}.docx"))
    links = [rel.target_ref for rel in document.part.rels.values() if rel.is_external]
    assert sorted(links) == ["https://example.org/", "https://example.org/about",
                             "https://example.org/page"]
    props = document.core_properties
    assert (props.title, props.author, props.language) == (
        "Sample brief", "Example Migration Agency", "en-GB")
    assert props.created.date().isoformat() == "2020-01-15"


def test_docx_opens_in_libreoffice(sample_build: Path, tmp_path: Path) -> None:
    text = normalise(pdf_text(libreoffice_pdf(sample_build / f"{SAMPLE}.docx", tmp_path)))
    assert "Sample brief" in text
    assert "Agreement on Cooperation" in text
    assert "FOR OFFICIAL USE" in text
    assert re.search(r"Page \d+ of \d+", text)


def test_html_golden(sample_semantic: Path, golden: object) -> None:
    golden("sample_en.html", (sample_semantic / f"{SAMPLE}.semantic.html").read_text(
        encoding="utf-8"))


def test_docx_document_xml_golden(sample_build: Path, golden: object) -> None:
    with zipfile.ZipFile(sample_build / f"{SAMPLE}.docx") as package:
        xml = package.read("word/document.xml")
    pretty = lxml.etree.tostring(lxml.etree.fromstring(xml), pretty_print=True, encoding="unicode")
    golden("sample_en.document.xml", pretty)


def test_same_source_gives_byte_identical_files(sample_build: Path, tmp_path: Path) -> None:
    """The session's sample build, and the same source built in another folder."""
    first = sample_build
    second = make_project(tmp_path / "elsewhere" / "two")
    assert run_in_process(second).code == 0
    for fmt in ("pdf", "docx"):
        digests = {hashlib.sha256((p / f"{SAMPLE}.{fmt}").read_bytes()).hexdigest()
                   for p in (first, second)}
        assert len(digests) == 1, fmt


def test_failed_build_keeps_previous_outputs(project: Path) -> None:
    assert run_in_process(project).code == 0
    before = {name: p.read_bytes() for name, p in output_files(project).items()}
    brief = project / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text().replace("title: Sample brief", "title: [broken"))
    assert run_in_process(project).code == 1
    after = {name: p.read_bytes() for name, p in output_files(project).items()}
    assert after == before


def test_weasyprint_warning_fails_the_build(tmp_path: Path) -> None:
    css = Path(__file__).parent.parent / "templates" / "print.css"
    project = make_project(tmp_path / "p", files={
        "templates/print.css": css.read_text() + "\np { colour: red; }\n"})
    result = run_in_process(project)
    assert result.code == 1
    line = len(css.read_text().splitlines()) + 2
    assert result.err.startswith(f"templates/print.css:{line}:5: WeasyPrint: Ignored `colour: red`")
    assert not (project / "output").exists()


@pytest.mark.parametrize("command", ["check", "build"])
def test_a_bad_declaration_is_placed_at_its_line_and_column(tmp_path: Path,
                                                            command: str) -> None:
    """WeasyPrint's position of an ignored declaration is print.css's line and
    column; `check` finds it as `build` does."""
    lines = (Path(__file__).parent.parent / "templates" / "print.css").read_text().splitlines()
    at = next(number for number, line in enumerate(lines, start=1) if line.startswith("h1 {"))
    lines[at - 1] = "h1 {   font-size: huge; }"
    project = make_project(tmp_path / "p", files={"templates/print.css": "\n".join(lines)})
    result = run_in_process(project, command)
    assert result.code == 1
    assert result.err.splitlines()[0].startswith(
        f"templates/print.css:{at}:8: WeasyPrint: Ignored `font-size: huge` at {at}:8")


def test_a_remembered_clean_stylesheet_does_not_hide_a_new_mistake(tmp_path: Path) -> None:
    """`check` remembers that WeasyPrint found nothing in print.css; an edit to
    print.css (or any template, font or code) asks again."""
    project = make_project(tmp_path / "p")
    assert run_in_process(project).code == 0
    assert run_in_process(project, "check").code == 0
    assert any(path.name.startswith("print-css") for path in verdicts().iterdir())
    css = project / "templates/print.css"
    css.write_text(css.read_text().replace("h1 {", "h1 {   font-size: huge;", 1))
    result = run_in_process(project, "check")
    assert result.code == 1 and "Ignored `font-size: huge`" in result.err


def test_remote_resources_are_refused(tmp_path: Path) -> None:
    css = Path(__file__).parent.parent / "templates" / "print.css"
    project = make_project(tmp_path / "p", files={
        "templates/print.css": css.read_text()
        + "\nbody { background: url(https://example.org/x.png); }\n"})
    result = run_in_process(project)
    assert result.code == 1
    assert "only project files may be loaded" in result.err


@pytest.mark.parametrize("command", ["check", "build"])
def test_an_import_is_refused_at_its_line(tmp_path: Path, command: str) -> None:
    """What WeasyPrint says of an imported sheet names no file, so it could
    not be placed: print.css is the one stylesheet."""
    css = Path(__file__).parent.parent / "templates" / "print.css"
    project = make_project(tmp_path / "p", files={
        "templates/extra.css": ".x { colr: red; }\n",
        "templates/print.css": '@charset "utf-8";\n@import "extra.css";\n' + css.read_text()})
    result = run_in_process(project, command)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "templates/print.css:2:1: `@import` is not supported: print.css is the one stylesheet "
        "of the PDF (expected the imported rules written into print.css)")


def test_element_the_docx_writer_does_not_know_is_named(tmp_path: Path) -> None:
    template = Path(__file__).parent.parent / "templates" / "report.html.j2"
    text = template.read_text().replace("{% block document %}",
                                        "{% block document %}\n<marquee>hello</marquee>")
    project = make_project(tmp_path / "p", files={"templates/report.html.j2": text})
    result = run_in_process(project, "build", "--format", "docx")
    assert result.code == 1
    at = text.splitlines().index("<marquee>hello</marquee>") + 1
    assert result.err.startswith(f"templates/report.html.j2:{at}:1: <marquee> is not supported "
                                 "by the DOCX writer (expected one of a, article,")


def test_template_mistakes_are_placed(tmp_path: Path) -> None:
    template = Path(__file__).parent.parent / "templates" / "report.html.j2"
    lines = template.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "{% block document %}" in line)
    lines.insert(at + 1, "<p>{{ brief.no_such_field }}</p>")
    project = make_project(tmp_path / "p", files={"templates/report.html.j2": "\n".join(lines)})
    result = run_in_process(project)
    assert result.code == 1
    assert result.err.startswith(f"templates/report.html.j2:{at + 2}:1: ")
    assert "no_such_field" in result.err.splitlines()[0]

    lines[at + 1] = "<p>{% if %}</p>"
    shutil.rmtree(project)
    project = make_project(tmp_path / "q", files={"templates/report.html.j2": "\n".join(lines)})
    result = run_in_process(project, "check")
    assert result.code == 1
    assert result.err.startswith(f"templates/report.html.j2:{at + 2}:1: ")


def test_docx_fields_toc_and_furniture_by_xpath(sample_build: Path) -> None:
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    with zipfile.ZipFile(sample_build / f"{SAMPLE}.docx") as package:
        body = lxml.etree.fromstring(package.read("word/document.xml"))
        footers = [lxml.etree.fromstring(package.read(name)) for name in package.namelist()
                   if name.startswith("word/footer")]
        settings = lxml.etree.fromstring(package.read("word/settings.xml"))
        rels = lxml.etree.fromstring(package.read("word/_rels/document.xml.rels"))
    instructions = [" ".join(t.split()) for t in body.xpath("//w:instrText/text()", namespaces=ns)]
    assert instructions[0] == 'TOC \\o "1-1" \\h \\z \\u'
    assert instructions[1:] == [f"PAGEREF _{target} \\h" for target in (
        "summary", "profile", "activities", "sources")]
    toc = body.xpath("//w:p[w:pPr/w:pStyle/@w:val='toc1']", namespaces=ns)
    assert ["".join(p.xpath(".//w:hyperlink//w:t/text()", namespaces=ns)) for p in toc] == [
        "Summary", "1. Partner", "2. Activities", "Sources"]
    bookmarks = set(body.xpath("//w:bookmarkStart/@w:name", namespaces=ns))
    assert {"_summary", "_profile", "_activities", "_sources", "_source_page"} <= bookmarks
    footer_fields = {" ".join(t.split()) for f in footers
                     for t in f.xpath("//w:instrText/text()", namespaces=ns)}
    assert footer_fields == {"PAGE", "NUMPAGES"}
    assert settings.xpath("//w:updateFields/@w:val", namespaces=ns) == ["true"]
    assert body.xpath("count(//w:tr[w:trPr/w:tblHeader])", namespaces=ns) == 6
    external = rels.xpath("//*[@TargetMode='External']/@Target")
    assert external and all(target.startswith("https://") for target in external)
    anchors = body.xpath("//w:hyperlink/@w:anchor", namespaces=ns)
    assert "_source_page" in anchors


def test_every_figure_needs_a_caption(tmp_path: Path) -> None:
    template = Path(__file__).parent.parent / "templates" / "blocks" / "tables.html.j2"
    text = template.read_text().replace("<caption>{{ labels.trainings_table }}</caption>", "")
    project = make_project(tmp_path / "p", files={"templates/blocks/tables.html.j2": text})
    result = run_in_process(project)
    assert result.code == 1
    at = next(number for number, line in enumerate(text.splitlines(), start=1)
              if '<table class="data trainings">' in line)
    assert result.err.splitlines()[0] == (
        f'templates/blocks/tables.html.j2:{at}:1: a <table class="data"> has no <caption> '
        "(expected a caption for every data table)")
