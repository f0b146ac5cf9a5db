"""A stylesheet that parses to (almost) nothing is an error, placed: a comment
whose `*/` is missing hides every rule after it, and WeasyPrint says nothing
(the PDF comes out unstyled, exit 0)."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO, make_project, run_in_process, sample_request

from briefing.files import ProjectFiles
from briefing.writers.stylesheet import stylesheet_problems

CSS = (REPO / "templates/print.css").read_text(encoding="utf-8")
FIRST_END = "fonts.sans.css. */"  # the end of print.css's opening comment
EXPECTED = "(expected every `/*` closed by its `*/`)"


def problems_of(tmp_path: Path, css: str) -> list[str]:
    project = make_project(tmp_path / "p", files={"templates/print.css": css})
    return [str(problem) for problem in stylesheet_problems(ProjectFiles(project))]


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


# -- print.css parsed once per process ---------------------------------------------------


def _sample_request(project: Path) -> object:
    return sample_request(project)


def test_print_css_is_parsed_once_for_the_editions_a_process_lays_out(tmp_path: Path) -> None:
    """A render worker lays out several editions: the second reuses the parsed
    stylesheet (and the fonts its @font-face rules loaded), same bytes."""
    import weasyprint

    from briefing.writers.pdf import write_pdf

    project = make_project(tmp_path / "p")
    request = sample_request(project)
    parsed: list[str] = []
    real = weasyprint.CSS.__init__

    def counting(self: object, *args: object, **kwargs: object) -> None:
        if str(kwargs.get("filename", "")).endswith("print.css"):
            parsed.append(str(kwargs["filename"]))
        real(self, *args, **kwargs)

    weasyprint.CSS.__init__ = counting  # type: ignore[method-assign]
    try:
        first = write_pdf(request)
        second = write_pdf(request)
    finally:
        weasyprint.CSS.__init__ = real  # type: ignore[method-assign]
    assert first == second
    assert len(parsed) <= 1, parsed


def test_a_changed_print_css_is_parsed_again(tmp_path: Path) -> None:
    """What is kept is never stale: print.css saved with a mistake after an
    edition was laid out fails the next one, placed (as `serve` would)."""
    from briefing.errors import BuildFailed
    from briefing.writers.pdf import write_pdf

    project = make_project(tmp_path / "p")
    request = sample_request(project)
    assert write_pdf(request).startswith(b"%PDF-")
    (project / "templates/print.css").write_text(CSS + "\n.x { colour: red; }\n",
                                                 encoding="utf-8")
    try:
        write_pdf(request)
    except BuildFailed as failed:
        assert any(problem.path == "templates/print.css" for problem in failed.problems)
    else:
        raise AssertionError("the changed print.css was not read")
