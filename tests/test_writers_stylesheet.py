"""A stylesheet that parses to (almost) nothing is an error, placed: a comment
whose `*/` is missing hides every rule after it, and WeasyPrint says nothing
(the PDF comes out unstyled, exit 0)."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO, make_project, run_in_process

from briefing.writers.stylesheet import stylesheet_problems

CSS = (REPO / "templates/print.css").read_text(encoding="utf-8")
FIRST_END = "fonts.sans.css. */"  # the end of print.css's opening comment
EXPECTED = "(expected every `/*` closed by its `*/`)"


def problems_of(tmp_path: Path, css: str) -> list[str]:
    project = make_project(tmp_path / "p", files={"templates/print.css": css})
    return [str(problem) for problem in stylesheet_problems(project)]


def test_print_css_as_shipped_has_no_problem(tmp_path: Path) -> None:
    assert problems_of(tmp_path, CSS) == []


def test_a_comment_running_on_into_the_next_is_placed_at_its_start(tmp_path: Path) -> None:
    assert FIRST_END in CSS, "print.css changed: pick another comment's end"
    css = CSS.replace(FIRST_END, FIRST_END[:-3], 1)
    end = next(number for number, line in enumerate(css.splitlines(), start=1)
               if number > 1 and "*/" in line)
    assert problems_of(tmp_path, css) == [
        f"templates/print.css:1:1: this comment runs on to line {end} and hides the rules "
        f"in between (a `*/` is missing?) {EXPECTED}"]


def test_a_comment_never_closed_is_placed_at_its_start(tmp_path: Path) -> None:
    css = CSS + "/* set aside for now\n.draft { color: red; }\n"
    at = len(CSS.splitlines()) + 1
    assert problems_of(tmp_path, css) == [
        f"templates/print.css:{at}:1: this comment is never closed: it hides the rest of the "
        f"stylesheet (to line {at + 2}) {EXPECTED}"]


def test_a_stylesheet_of_comments_only_is_an_error(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "/* nothing yet */\n") == [
        "templates/print.css:1:1: the stylesheet has no rules: the PDF would come out "
        "unstyled (expected the rules of print.css)"]


def test_a_few_rules_commented_out_on_purpose_are_fine(tmp_path: Path) -> None:
    assert problems_of(tmp_path, CSS + "\n/* .draft { color: red; } */\n") == []


def test_the_build_refuses_it_and_writes_nothing(tmp_path: Path) -> None:
    """The review's case: the opening comment's `*/` deleted."""
    project = make_project(tmp_path / "p", files={
        "templates/print.css": CSS.replace(FIRST_END, FIRST_END[:-3], 1)})
    result = run_in_process(project, "build", "--format", "pdf")
    assert result.code == 1, result.err
    assert result.err.splitlines()[0].startswith(
        "templates/print.css:1:1: this comment runs on to line ")
    assert not (project / "output/sample").exists()
