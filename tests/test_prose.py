"""Prose is shown faithfully in both formats, or refused at load.

The corpus (tests/roots/prose/) writes every construct prose can hold: hard
breaks, entities, escapes, autolinks, titled links, nested emphasis,
numbered lists that restart and one that starts at 3, nested and loose
lists, a quotation in a list item, a pipe table, footnotes in a paragraph,
a list item, a table cell and a partner's summary, and an editor's table
whose cell holds paragraphs and lists. The HTML's blocks must be read in the
same order, with the same footnote numbers, in the PDF and in the DOCX as
LibreOffice lays it out; what cannot be shown so is refused with a placed
error.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import lxml.etree
import lxml.html
import pytest
from conftest import ROOTS, made_once, make_project, run_in_process
from docx.enum.text import WD_ALIGN_PARAGRAPH
from readers import cell_text, normalise, paragraph_runs, paragraph_text, pdf_text

from briefing.content.prose import MAX_INLINE_DEPTH, prose_problem, render_prose
from briefing.writers.runs import RunStyle, collapsed, inline

BRIEF = "content/briefs/prose.yaml"
BRIEF_YAML = (ROOTS / "prose" / BRIEF).read_text()
NAME = "output/prose/2021-03-04_prose_en"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
NS = {"w": W[1:-1]}
INLINE = {"strong", "b", "em", "i", "a", "span", "br", "img"}
# What the page furniture says on every page, besides the page number.
FURNITURE = ("FOR OFFICIAL USE", "EMA · Prose brief · P-1 · 4 March 2021")
NOTES = [
    "Footnote Alpha, with emphasis and a link.",
    "Footnote Bravo, the second note.",
    "Footnote Charlie, the third note.",
    "Footnote Echo, in a list item.",
    "Footnote Foxtrot, in a table cell.",
    "Footnote Delta, from a partner's summary.",
]


# -- reading the outputs ------------------------------------------------------------


def semantic_html(project: Path) -> str:
    """The HTML both writers read (`--format semantic`; `html` where that is it)."""
    for fmt, suffix in (("semantic", ".semantic.html"), ("html", ".html")):
        if run_in_process(project, "build", "--format", fmt).code == 0:
            return (project / f"{NAME}{suffix}").read_text(encoding="utf-8")
    raise AssertionError("no semantic HTML")


def reading(html: str) -> tuple[list[str], list[str]]:
    """(the body's blocks of text in reading order, the footnotes' texts).

    A footnote's text is taken out where it stands and its number, counted
    through the document, put in its place, as both formats print it."""
    tree = lxml.html.document_fromstring(html)
    notes = []
    for number, span in enumerate(tree.body.find_class("footnote"), start=1):
        notes.append(normalise(span.text_content()))
        tail = span.tail
        span.clear()
        span.text, span.tail = str(number), tail
    for br in tree.iter("br"):
        br.tail = " " + (br.tail or "")
    blocks = []
    for child in tree.body:
        if child.tag not in ("header", "footer"):
            blocks += _texts(child)
    return blocks, notes


def _texts(element: lxml.html.HtmlElement) -> list[str]:
    """Each stretch of inline text of `element` and of its blocks, in order."""
    out, run = [], [element.text or ""]
    for child in element:
        if not isinstance(child.tag, str) or child.tag in INLINE:
            text = child.text_content() if isinstance(child.tag, str) else ""
            run.append(text + (child.tail or ""))
            continue
        out.append("".join(run))
        out += _texts(child)
        run = [child.tail or ""]
    out.append("".join(run))
    return [normalise(text) for text in out if normalise(text)]


def squeeze(text: str) -> str:
    """Text without any spaces, case folded: line breaks, justification and
    superscript calls are spaced differently by each layout, and the styles set
    some text in capitals; the characters are the same."""
    return re.sub(r"\s+", "", normalise(text)).casefold()


def body_text(pdf: Path) -> str:
    """The PDF's text without page furniture or footnotes (checked apart), squeezed;
    read as laid out, so that a table is read row by row as the HTML has it."""
    text = squeeze(pdf_text(pdf, layout=True))
    for number, note in enumerate(NOTES, start=1):
        note = squeeze(f"{number} {note}")
        assert note in text, f"footnote {number} is not in {pdf.name} as `{number} ...`"
        text = text.replace(note, "", 1)
    for words in FURNITURE:
        text = text.replace(squeeze(words), "")
    return re.sub(r"page\d+of\d+", "", text)


def assert_in_order(blocks: list[str], text: str, what: str) -> str:
    """Every block in `text`, in order; returns what is left between them."""
    at, left = 0, []
    for block in blocks:
        found = text.find(squeeze(block), at)
        assert found >= 0, f"{what}: {block!r} missing after ...{text[max(at - 60, 0):at]!r}"
        left.append(text[at:found])
        at = found + len(squeeze(block))
    left.append(text[at:])
    return "".join(left)


def words_with_boxes(pdf: Path) -> list[list[tuple[str, float, float]]]:
    """Per page: (word, yMin, page height) from `pdftotext -bbox`."""
    done = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                          text=True, check=True)
    tree = lxml.etree.fromstring(done.stdout.encode(), lxml.etree.XMLParser(recover=True))
    pages = []
    for page in tree.iter("{*}page"):
        height = float(page.get("height"))
        pages.append([(word.text or "", float(word.get("yMin")), height)
                      for word in page.iter("{*}word")])
    return pages


# -- one build of the corpus --------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory,
           libreoffice: Callable[[Path], Path]) -> dict[str, object]:
    """The corpus built once per session (conftest.made_once), read only."""
    def make(project: Path) -> None:
        make_project(project, root="prose")
        result = run_in_process(project, "build", "--format", "pdf", "--format", "docx")
        assert result.code == 0, result.err
        assert result.err == ""  # nothing logged, WeasyPrint included
        semantic_html(project)

    project = made_once(tmp_path_factory, "prose-corpus", make)
    html = next(path.read_text(encoding="utf-8") for path in (
        project / f"{NAME}.semantic.html", project / f"{NAME}.html") if path.exists())
    return {"project": project, "html": html, "pdf": project / f"{NAME}.pdf",
            "docx": project / f"{NAME}.docx", "word": libreoffice(project / f"{NAME}.docx")}


def test_every_block_reads_the_same_in_html_pdf_and_word(corpus: dict) -> None:
    blocks, notes = reading(corpus["html"])
    assert notes == NOTES
    blocks = [block for block in blocks if block not in FURNITURE]  # the cover's marking
    assert len(blocks) > 60
    for pdf in (corpus["pdf"], corpus["word"]):
        left = assert_in_order(blocks, body_text(pdf), pdf.name)
        # Between the blocks only list markers, the contents' leaders and page
        # numbers: no literal markup, no text the HTML does not have.
        assert re.fullmatch(r"[\d.•◦▪\uf0b7\uf0a7–]*", left), (pdf.name, left)


def test_nothing_prints_as_literal_markup(corpus: dict) -> None:
    for pdf in (corpus["pdf"], corpus["word"]):
        text = normalise(pdf_text(pdf))
        # What the corpus escapes is shown as typed, once.
        assert text.count("*not emphasis* [^x] # _.") == 1, pdf.name
        for markup in ("[^a]", "[^b]", "[^c]", "[^d]", "[^e]", "[^org]", "|", ":--",
                       "**", "  \n", "\\", "&amp;", "&lt;", "<https", '"The title"'):
            assert markup not in text, (pdf.name, markup)
        assert "& © <tag>" in text
        assert "a titled link" in text


# -- numbering ----------------------------------------------------------------------


def list_paragraphs(path: Path) -> list[tuple[str, str, str | None]]:
    """(style, text, numId) of each body paragraph, in order."""
    document = docx.Document(str(path))
    out = []
    for paragraph in document.element.body.iter(f"{W}p"):
        style = paragraph.find(f"{W}pPr/{W}pStyle")
        num = paragraph.find(f"{W}pPr/{W}numPr/{W}numId")
        text = "".join(t.text or "" for t in paragraph.iter(f"{W}t"))
        out.append((style.get(f"{W}val") if style is not None else "Normal", text,
                    num.get(f"{W}val") if num is not None else None))
    return out


def starts(path: Path) -> dict[str, tuple[str, int]]:
    """numId -> (abstractNumId, startOverride) of the document's numbering."""
    with zipfile.ZipFile(path) as package:
        numbering = lxml.etree.fromstring(package.read("word/numbering.xml"))
    out = {}
    for num in numbering.iterfind("w:num", NS):
        start = num.find("w:lvlOverride/w:startOverride", NS)
        out[num.get(f"{W}numId")] = (num.find("w:abstractNumId", NS).get(f"{W}val"),
                                     int(start.get(f"{W}val")) if start is not None else 0)
    return out


def test_each_numbered_list_counts_from_its_own_start_in_word(corpus: dict) -> None:
    paragraphs = list_paragraphs(corpus["docx"])
    numbering = starts(corpus["docx"])
    first = {text: num for style, text, num in paragraphs if style == "ListNumber"}
    lists = [first["List one item one"], first["List two item one"],
             first["Third list item three"], first["Source one."]]
    assert len(set(lists)) == 4  # each list its own numbering instance
    assert [numbering[num][1] for num in lists] == [1, 1, 3, 1]
    # ... of the List Number style's own list definition
    styles = docx.Document(str(corpus["docx"])).styles
    style_num = styles["List Number"].element.xpath("./w:pPr/w:numPr/w:numId/@w:val")[0]
    assert {numbering[num][0] for num in lists} == {numbering[style_num][0]}
    # every item of a list in it, and only those
    assert [text for _, text, num in paragraphs if num == lists[1]] == [
        "List two item one", "List two item two", "List two item three"]


def test_each_numbered_list_counts_from_its_own_start_on_the_page(corpus: dict) -> None:
    expected = ["1. List one item one", "2. List one item two", "1. List two item one",
                "2. List two item two", "3. List two item three", "3. Third list item three",
                "4. Third list item four", "1. Inner item one", "2. Inner item two",
                "1. Loose item one, first paragraph.", "1. Cell number one",
                "2. Cell number two", "1. Source one.", "2. Source two.", "3. Source three."]
    for pdf in (corpus["pdf"], corpus["word"]):
        text = squeeze(pdf_text(pdf))
        at = 0
        for line in expected:
            found = text.find(squeeze(line), at)
            assert found >= 0, (pdf.name, line)
            at = found
        assert squeeze("[2]") in text  # the quotation cites source 2, listed as 2


# -- lists keep their order -----------------------------------------------------------


def test_list_items_keep_their_order_and_blocks(corpus: dict) -> None:
    paragraphs = [(style, text) for style, text, _ in list_paragraphs(corpus["docx"])]
    start = paragraphs.index(("ListBullet", "Outer item one"))
    assert paragraphs[start:start + 13] == [
        ("ListBullet", "Outer item one"),
        ("ListNumber2", "Inner item one"),
        ("ListNumber2", "Inner item two"),
        ("ListContinue", "Outer item one goes on after its list."),
        ("ListBullet", "Outer item two"),
        ("ListBullet2", "Inner bullet"),
        ("ListBullet3", "Innermost bullet"),
        ("Normal", "A loose list:"),
        ("ListNumber", "Loose item one, first paragraph."),
        ("ListContinue", "Loose item one, second paragraph."),
        ("Quote", "Quoted inside loose item one."),
        ("ListNumber", "Loose item two."),
        ("Heading1", "3. Tables"),
    ]


def test_a_list_in_a_table_cell_is_a_list(corpus: dict) -> None:
    document = docx.Document(str(corpus["docx"]))
    cell = next(c for t in document.tables for row in t.rows for c in row.cells
                if cell_text(c).startswith("Cell paragraph one."))
    assert [(p.style.name, paragraph_text(p), p._p.pPr.numPr is not None)
            for p in cell.paragraphs] == [
        ("Table Text", "Cell paragraph one.", False),
        ("Table Text", "Cell bullet one", True),
        ("Table Text", "Cell bullet two", True),
        ("Table Text", "Cell number one", True),
        ("Table Text", "Cell number two", True),
    ]
    for pdf in (corpus["pdf"], corpus["word"]):  # one line each, not one run-on line
        lines = [normalise(line) for line in pdf_text(pdf, layout=True).splitlines()]
        at = next(i for i, line in enumerate(lines) if line.endswith("Cell paragraph one."))
        items = [line for line in lines[at + 1:at + 8] if "Cell" in line][:4]
        assert [re.sub(r"^\W+", "", line) for line in items] == [
            "Cell bullet one", "Cell bullet two", "1. Cell number one", "2. Cell number two"]


def test_a_pipe_table_is_a_table(corpus: dict) -> None:
    tree = lxml.html.document_fromstring(corpus["html"])
    table = next(t for t in tree.iter("table") if "prose-table" in t.classes)
    assert table.find("caption") is None
    document = docx.Document(str(corpus["docx"]))
    word = next(t for t in document.tables if cell_text(t.cell(0, 0)) == "Column left")
    assert [[cell_text(c) for c in row.cells] for row in word.rows] == [
        ["Column left", "Column centre", "Column right"],
        ["Cell alpha", "Cell beta", "12"], ["Cell gamma", "Cell delta", "345"]]
    assert word.cell(1, 2).paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert word.cell(1, 1).paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert word.rows[0]._tr.trPr.find(f"{W}tblHeader") is not None


# -- footnotes ------------------------------------------------------------------------


def test_footnotes_are_word_footnotes_numbered_as_in_the_pdf(corpus: dict) -> None:
    with zipfile.ZipFile(corpus["docx"]) as package:
        body = lxml.etree.fromstring(package.read("word/document.xml"))
        notes = lxml.etree.fromstring(package.read("word/footnotes.xml"))
        types = package.read("[Content_Types].xml").decode()
        rels = package.read("word/_rels/document.xml.rels").decode()
    assert "wordprocessingml.footnotes+xml" in types
    assert "relationships/footnotes" in rels
    references = body.findall(".//w:footnoteReference", NS)
    assert [r.get(f"{W}id") for r in references] == ["1", "2", "3", "4", "5", "6"]
    for reference in references:
        assert reference.getparent().find("w:rPr/w:rStyle", NS).get(f"{W}val") == \
            "FootnoteReference"
    footnotes = notes.findall("w:footnote", NS)
    assert [(f.get(f"{W}id"), f.get(f"{W}type")) for f in footnotes[:2]] == [
        ("-1", "separator"), ("0", "continuationSeparator")]
    texts = {f.get(f"{W}id"): normalise("".join(t.text for t in f.iter(f"{W}t")))
             for f in footnotes[2:]}
    assert texts == {str(n): note for n, note in enumerate(NOTES, start=1)}
    for footnote in footnotes[2:]:
        assert footnote.find("w:p/w:pPr/w:pStyle", NS).get(f"{W}val") == "FootnoteText"
        assert footnote.find("w:p/w:r/w:footnoteRef", NS) is not None
    # The first note's link is a link of the footnotes part.
    with zipfile.ZipFile(corpus["docx"]) as package:
        note_rels = package.read("word/_rels/footnotes.xml.rels").decode()
    assert 'Target="https://example.org/note"' in note_rels
    assert notes.find(".//w:footnote[@w:id='1']//w:hyperlink", NS) is not None


@pytest.mark.parametrize("output", ["pdf", "word"])
def test_footnotes_stand_at_the_foot_of_the_page_of_their_call(corpus: dict,
                                                               output: str) -> None:
    calls = {"Alpha": "Summary", "Bravo": "Foxtrot", "Charlie": "Golf", "Echo": "two",
             "Foxtrot": "gamma", "Delta": "summary"}
    pages = words_with_boxes(corpus[output])
    for number, (note, call) in enumerate(calls.items(), start=1):
        where = [(i, y, h) for i, page in enumerate(pages)
                 for j, (word, y, h) in enumerate(page)
                 if word == "Footnote" and j + 1 < len(page) and page[j + 1][0] ==
                 f"{note}," and page[j - 1][0] in (str(number), f"{number}\u00a0")]
        assert len(where) == 1, (output, note, where)
        page, y, height = where[0]
        assert y > 0.75 * height, (output, note, y, height)  # at the foot of the page
        body = [(word, top) for word, top, _ in pages[page]
                if top < y and not word.startswith(("FOR", "OFFICIAL", "USE", "Page"))]
        assert any(word.startswith(call) for word, _ in body), (output, note, call)
        # nothing of the text runs below the notes but the page's footer
        below = [word for word, top, _ in pages[page] if top > y + 30]
        assert set(below) <= {"FOR", "OFFICIAL", "USE", "Page", "of", *map(str, range(9)),
                              *(w for n in NOTES for w in n.split())}, (output, below)


def test_the_docx_parts_are_valid_ooxml(corpus: dict) -> None:
    audit = Path(sys.executable).parent / "openxml-audit"
    done = subprocess.run([str(audit), "-o", "json", "-m", "0", str(corpus["docx"])],
                          capture_output=True, text=True, timeout=120)
    report = json.loads(done.stdout)[0]
    ours = [error for error in report["errors"]
            if error["part_uri"] in ("/word/document.xml", "/word/footnotes.xml",
                                     "/word/numbering.xml")
            or "footnote" in error["node"].lower()]
    assert ours == []


# -- refused at load, placed ---------------------------------------------------------


def _first_error(tmp_path: Path, body: str) -> str:
    brief = BRIEF_YAML.replace(
        "    title: Inline prose\n    body: |\n",
        "    title: Inline prose\n    body: |\n" + "".join(
            f"      {line}\n" if line else "\n" for line in body.splitlines()) + "\n", 1)
    project = make_project(tmp_path / "p", root="prose", files={BRIEF: brief})
    result = run_in_process(project, "check")
    assert result.code == 1, (result.out, result.err)
    assert "Traceback" not in result.err
    return result.err.splitlines()[0]


EMPHASIS_50 = "".join(f"{'*_'[i % 2]}w{i} " for i in range(50)).rstrip() + "".join(
    "*_"[i % 2] for i in reversed(range(50)))


@pytest.mark.parametrize(("body", "expected"), [
    ("A note[^x] without its text.",
     "footnote [^x] on line 1 of the text has no text (expected a line `[^x]: the note` in "
     "the same field)"),
    ("No call.\n\n[^x]: A note no one calls.",
     "footnote [^x] on line 3 of the text is never referenced (expected a `[^x]` where the "
     "note belongs)"),
    ("Twice[^x] and again[^x].\n\n[^x]: The note.",
     "footnote [^x] is referenced twice, on lines 1 and 1 of the text (expected each "
     "footnote referenced once: write a second footnote for the second place)"),
    ("A note[^x].\n\n[^x]: First paragraph.\n\n    Second paragraph.",
     "footnote [^x] on line 3 of the text is not one paragraph (expected a footnote of one "
     "paragraph, without lists, quotations or tables)"),
    ("[a link[^x]](https://example.org)\n\n[^x]: The note.",
     "footnote [^x] on line 1 of the text is inside a link's brackets (expected it after the "
     "link: [text](https://...)[^x])"),
    ("A note[^x].\n\n[^x]: With a note[^y] of its own.\n[^y]: Inner.",
     "footnote [^y] on line 3 of the text is referenced inside footnote [^x] (expected "
     "footnotes referenced from the text only)"),
    ("> > > > Four quotations deep.",
     "a quotation nested 4 deep on line 1 of the text (expected quotations nested at most 3 "
     "deep)"),
    (EMPHASIS_50,
     f"emphasis nested 50 deep on line 1 of the text (expected emphasis, strong and links "
     f"nested at most {MAX_INLINE_DEPTH} deep)"),
])
def test_what_cannot_be_shown_the_same_is_refused_and_placed(tmp_path: Path, body: str,
                                                             expected: str) -> None:
    line = BRIEF_YAML.splitlines().index("    title: Inline prose") + 2
    assert _first_error(tmp_path, body) == f"{BRIEF}:{line}:11: sections[0].body: {expected}"


def test_emphasis_at_the_limit_is_shown_in_both_formats(tmp_path: Path) -> None:
    deep = "".join(f"{'*_'[i % 2]}d{i} " for i in range(MAX_INLINE_DEPTH)).rstrip() + "".join(
        "*_"[i % 2] for i in reversed(range(MAX_INLINE_DEPTH)))
    assert prose_problem(deep) is None
    assert render_prose(deep).count("<em>") == MAX_INLINE_DEPTH
    brief = BRIEF_YAML.replace("Emphasis Echo:", f"{deep} Emphasis Echo:")
    project = make_project(tmp_path / "p", root="prose", files={BRIEF: brief})
    result = run_in_process(project, "build", "--format", "pdf", "--format", "docx")
    assert result.code == 0, result.err
    words = " ".join(f"d{i}" for i in range(MAX_INLINE_DEPTH))
    assert words in normalise(pdf_text(project / f"{NAME}.pdf"))
    document = docx.Document(str(project / f"{NAME}.docx"))
    paragraph = next(p for p in document.paragraphs if paragraph_text(p).startswith("d0"))
    assert paragraph_text(paragraph).startswith(words)
    assert all(run.italic for run in paragraph_runs(paragraph)
               if run.text.strip().startswith("d"))


def test_the_docx_writer_reads_any_depth_without_recursing() -> None:
    # Templates may nest inline markup as deep as they like; prose is refused
    # beyond MAX_INLINE_DEPTH, but the writer itself has no depth limit.
    top = element = lxml.html.fromstring("<p>start</p>")
    for i in range(5000):
        child = lxml.etree.SubElement(element, "em" if i % 2 else "strong")
        child.text = "x" if i == 4999 else ""
        element = child
    found = collapsed(list(inline(top, RunStyle())))
    assert "".join(piece.text for piece in found) == "startx"
    assert found[-1].style.bold and found[-1].style.italic


def test_a_template_footnote_the_docx_writer_cannot_make_is_placed(tmp_path: Path) -> None:
    report = (Path(__file__).parent.parent / "templates" / "report.html.j2").read_text()
    title = '<p class="title">{{ brief.title }}</p>'
    nested = ('<p class="title">{{ brief.title }}<span class="footnote">Outer'
              '<span class="footnote">inner</span></span></p>')
    assert title in report
    line = next(n for n, text in enumerate(report.splitlines(), start=1) if title in text)
    column = report.splitlines()[line - 1].index(title) + nested.index("<span") + 1
    project = make_project(tmp_path / "p", root="prose",
                           files={"templates/report.html.j2": report.replace(title, nested)})
    result = run_in_process(project, "check")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"templates/report.html.j2:{line}:{column}: a footnote inside a footnote "
        "(expected footnotes in the text only)")


def test_every_problem_of_a_prose_field_is_listed(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Not only the first: each broken footnote and the empty item, at the field."""
    from briefing.cli import main

    brief = (Path(__file__).parent / "roots/sample/content/briefs/sample.yaml").read_text()
    project = make_project(tmp_path / "p", files={"content/briefs/sample.yaml": brief.replace(
        "      - one\n      - two\n", "      - one[^a] and[^b]\n      -\n\n      [^a]: A.\n\n"
        "      [^a]: Again.\n\n      [^z]: Never cited.\n")})
    assert main(["-C", str(project), "check"]) == 1
    said = [line.partition(": sections[0].body: ")[2]
            for line in capsys.readouterr().err.splitlines()
            if line.startswith("content/briefs/sample.yaml:20:11:")]
    assert [line.split(" (expected")[0] for line in said] == [
        "footnote [^a] is written twice, on lines 6 and 8 of the text",
        "footnote [^b] on line 3 of the text has no text",
        "footnote [^z] on line 10 of the text is never referenced",
        "the list item on line 4 of the text is empty"]
