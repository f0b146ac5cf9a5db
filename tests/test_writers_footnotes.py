"""A footnote too long for its page is refused at its definition, never cut off.

WeasyPrint 70 never carries part of a footnote over to the next page: it lays
a page's footnotes out upwards from the page's foot, and an 800-word note ran
over the running header and off the paper (exit 0; the DOCX kept it). Two
mechanisms: a footnote longer than half a page is refused before layout, by
`check` as by `build` (writers/subset.py); and the PDF writer refuses any
footnote its laid-out page does not hold whole (writers/pdf.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, make_project, run_in_process, sample_request
from readers import normalise, pdf_text

from briefing.errors import BuildFailed
from briefing.files import ProjectFiles
from briefing.writers.pdf import write_pdf
from briefing.writers.registry import Request
from briefing.writers.subset import subset_problems

BRIEF = "content/briefs/sample.yaml"
ANCHOR = "      Prose with a list:\n"
EXPECTED = "(expected a footnote of at most half a page; the rest of it in the text)"


def with_footnote(tmp_path: Path, text: str) -> tuple[Path, int]:
    """The sample project, its first section's body given a footnote of `text`;
    and the line of the note's definition."""
    brief = (REPO / "tests/roots/sample" / BRIEF).read_text(encoding="utf-8")
    assert ANCHOR in brief, "the sample brief changed: put the note in another body"
    lines = f"      Prose with a note.[^long]\n\n      [^long]: {text}\n\n"
    project = make_project(tmp_path / "p", files={BRIEF: brief.replace(ANCHOR, lines + ANCHOR)})
    return project, brief[:brief.index(ANCHOR)].count("\n") + 3


def words(count: int) -> str:
    return " ".join(f"word{i}" for i in range(count)) + " THE-END"


def request(project: Path) -> Request:
    return sample_request(project)


@pytest.mark.parametrize("command", ["check", "build"])
def test_an_800_word_footnote_is_refused_at_its_definition(tmp_path: Path,
                                                          command: str) -> None:
    project, at = with_footnote(tmp_path, words(800))
    result = run_in_process(project, command)
    assert result.code == 1, result.err
    assert result.err.splitlines()[0] == (
        f"{BRIEF}:{at}:7: a footnote of 801 words is longer than half a page: the PDF "
        f"cannot carry a footnote over to the next page {EXPECTED}")
    assert "Traceback" not in result.err
    assert not (project / "output/sample").exists()


def test_line_breaks_count_as_lines(tmp_path: Path) -> None:
    """Forty short lines, each ended by a hard line break, are far taller than
    their few words."""
    project, at = with_footnote(tmp_path, "\\\n        ".join(f"line{i}" for i in range(40)))
    asked = request(project)
    files = ProjectFiles(project)
    assert [str(p) for p in subset_problems(asked.html, files, "report.html.j2", BRIEF)] == [
        f"{BRIEF}:{at}:7: a footnote of 40 words is longer than half a page: the PDF "
        f"cannot carry a footnote over to the next page {EXPECTED}"]


def test_a_footnote_within_half_a_page_is_printed_whole(tmp_path: Path) -> None:
    project, _ = with_footnote(tmp_path, words(250))
    asked = request(project)
    assert subset_problems(asked.html, ProjectFiles(project), "report.html.j2", BRIEF) == []
    (tmp_path / "out.pdf").write_bytes(write_pdf(asked))
    printed = normalise(pdf_text(tmp_path / "out.pdf"))
    assert f"1 {words(250)}" in printed


def test_the_pdf_writer_refuses_a_footnote_its_page_cannot_hold(tmp_path: Path) -> None:
    """The writer's own measure, after layout, whatever came before it."""
    project, at = with_footnote(tmp_path, words(800))
    with pytest.raises(BuildFailed) as failed:
        write_pdf(request(project))
    # (the page the note was cut from may leave a heading at its foot: the gate says so too)
    [problem] = [found for found in failed.value.problems if "footnote" in found.message]
    assert str(problem).startswith(f"{BRIEF}:{at}:7: a footnote of 801 words is ")
    assert "mm tall, more than a page holds (247 mm): the PDF cannot carry a footnote over " \
           "to the next page (while rendering 2020-01-15_sample_en.pdf)" in str(problem)
