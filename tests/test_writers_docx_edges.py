"""What a template may write that the DOCX writer once lost or crashed on: an
image sized in percent or in a unit it cannot use, text outside any block,
and long anchors. In process: the edition's HTML rendered from the edited
template, then checked and written as the build's workers do."""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pytest
from conftest import REPO, make_project, sample_request
from docx.shared import Emu
from readers import docx_blocks, normalise, pdf_text

from briefing.errors import BuildFailed
from briefing.files import ProjectFiles
from briefing.writers.docx import write_docx
from briefing.writers.pdf import write_pdf
from briefing.writers.registry import Request
from briefing.writers.subset import subset_problems

REPORT = "templates/report.html.j2"
START = "{% block document %}\n"
BRIEF = "content/briefs/sample.yaml"


def with_template_lines(tmp_path: Path, lines: str) -> tuple[Path, int]:
    """The sample project, `lines` written first in the report's document block;
    and the template line they start at."""
    text = (REPO / REPORT).read_text(encoding="utf-8")
    assert START in text, "the report template changed: put the lines where the body starts"
    project = make_project(tmp_path / "p", files={REPORT: text.replace(START, START + lines, 1)})
    return project, text[:text.index(START)].count("\n") + 2


def request(project: Path) -> Request:
    """The English report of `sample`, as a worker is given it."""
    return sample_request(project)


def text_width(document: docx.document.Document) -> int:
    section = document.sections[-1]
    return section.page_width - section.left_margin - section.right_margin


def test_an_image_width_in_percent_is_a_share_of_the_text_width(tmp_path: Path) -> None:
    project, _ = with_template_lines(
        tmp_path, '<p><img src="assets/emblem.svg" width="30%" alt="emblem"></p>\n')
    asked = request(project)
    assert subset_problems(asked.html, ProjectFiles(project), "report.html.j2", BRIEF) == []
    document = docx.Document(io.BytesIO(write_docx(asked)))
    [picture] = [shape for shape in document.inline_shapes
                 if shape._inline.docPr.get("descr") == "emblem"]
    assert abs(picture.width - text_width(document) * 0.3) < Emu(2)


@pytest.mark.parametrize("width", ["3cm", "auto", "0", "-5", "50 %x"])
def test_an_image_width_the_writer_cannot_use_is_refused_at_its_line(
        tmp_path: Path, width: str) -> None:
    project, at = with_template_lines(
        tmp_path, f'<p><img src="assets/emblem.svg" width="{width}" alt="emblem"></p>\n')
    asked = request(project)
    assert [str(problem) for problem in subset_problems(
        asked.html, asked.files, "report.html.j2", BRIEF)] == [
        f"{REPORT}:{at}:4: <img width={width!r}> is not a width the DOCX writer can size "
        'a picture by (expected a width in pixels (`width="120"`) or a share of the text '
        'width (`width="30%"`))']
    with pytest.raises(BuildFailed) as failed:  # the writer alone says so too, never a crash
        write_docx(asked)
    assert "is not a width the DOCX writer can size a picture by" in str(
        failed.value.problems[0])


LOOSE = ("Loose words in the body\n"
         '<section class="loose">Words before<p>A paragraph</p>words after <em>these</em>'
         "<p>Another</p></section>\n"
         "<aside>Boxed words<p>A boxed paragraph</p></aside>\n")


def test_text_outside_blocks_is_kept_in_the_docx_as_in_the_pdf(tmp_path: Path) -> None:
    project, _ = with_template_lines(tmp_path, LOOSE)
    asked = request(project)
    assert subset_problems(asked.html, ProjectFiles(project), "report.html.j2", BRIEF) == []
    wanted = ["Loose words in the body", "Words before", "A paragraph", "words after these",
              "Another", "Boxed words", "A boxed paragraph"]
    (tmp_path / "out.docx").write_bytes(write_docx(asked))
    shown = [text for _, text in docx_blocks(tmp_path / "out.docx")]
    start = shown.index(wanted[0])
    assert shown[start:start + len(wanted)] == wanted
    (tmp_path / "out.pdf").write_bytes(write_pdf(asked))
    printed = normalise(pdf_text(tmp_path / "out.pdf"))
    assert re.search(".*".join(map(re.escape, wanted)), printed), printed[:400]



@pytest.mark.parametrize(("lines", "tag", "expected"), [
    ("<ul>stray words<li>one</li></ul>\n", "ul", "li"),
    ("<dl><dt>term</dt>stray words<dd>definition</dd></dl>\n", "dl", "dd, dt"),
])
def test_text_where_neither_writer_has_a_place_is_refused_at_its_line(
        tmp_path: Path, lines: str, tag: str, expected: str) -> None:
    """Text beside a list's items or a definition list's terms: the PDF prints it
    as a block of its own, the DOCX has no paragraph to put it in."""
    project, at = with_template_lines(tmp_path, lines)
    asked = request(project)
    assert [str(problem) for problem in subset_problems(
        asked.html, asked.files, "report.html.j2", BRIEF)] == [
        f"{REPORT}:{at}:1: text directly inside <{tag}>: the DOCX writer has no place for it "
        f"(expected text only inside {expected})"]

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
SHARED = "an-identifier-long-enough-to-fill-a-word-bookmark-"  # 50 characters


def test_long_anchors_sharing_their_first_40_characters_get_bookmarks_of_their_own(
        tmp_path: Path) -> None:
    """Two sections whose ids differ only after Word's 40 characters: each
    contents entry (its link and its page reference) leads to its own heading."""
    brief = (REPO / "tests/roots/sample" / BRIEF).read_text(encoding="utf-8")
    brief = brief.replace("id: profile", f"id: {SHARED}profile").replace(
        "id: activities", f"id: {SHARED}activities")
    project = make_project(tmp_path / "p", files={BRIEF: brief})
    (tmp_path / "out.docx").write_bytes(write_docx(request(project)))
    body = docx.Document(str(tmp_path / "out.docx")).element.body
    paragraphs = list(body.iter(f"{W}p"))
    text = {id(p): "".join(t.text or "" for t in p.iter(f"{W}t")) for p in paragraphs}
    starts = list(body.iter(f"{W}bookmarkStart"))
    names = [start.get(f"{W}name") for start in starts]
    assert len(names) == len(set(names)), names
    heading_of = {start.get(f"{W}name"): text[id(start.getparent())] for start in starts}
    entries = [p for p in paragraphs if p.find(f"{W}hyperlink") is not None
               and p.find(f"{W}pPr/{W}pStyle[@{W}val='toc1']") is not None]
    targets = {}
    for entry in entries:
        link = entry.find(f"{W}hyperlink").get(f"{W}anchor")
        [reference] = [" ".join(t.text.split()) for t in entry.iter(f"{W}instrText")
                       if "PAGEREF" in t.text]
        assert reference == f"PAGEREF {link} \\h"
        targets[text[id(entry)].rstrip("0123456789")] = heading_of[link]
    assert targets["1. Partner"] == "1. Partner"
    assert targets["2. Activities"] == "2. Activities"
