"""`check` is `build` without the writing: the same verdict on the same project.

Each case here once passed `check` and failed `build`, or the other way round.
Run in process, as the user's command is, to keep them cheap.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_project

from briefing.cli import main
from briefing.files import ProjectFiles


def run(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, str]:
    code = main(["-C", str(project), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def sample_in(languages: str) -> str:
    brief = (Path(__file__).parent / "roots/sample/content/briefs/sample.yaml").read_text(
        encoding="utf-8")
    return brief.replace("languages: [en]", f"languages: [{languages}]")


def test_a_partner_no_brief_shows_need_not_speak_the_briefs_languages(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The view once made labels for every partner of the project, so a partner
    written in English and Russian stopped an Azerbaijani edition with a
    traceback, in `check` and `build --force` alike."""
    project = make_project(tmp_path / "p", files={
        "content/briefs/sample.yaml": sample_in("en, az"),
        "content/partners/elsewhere.yaml": "name: {en: Elsewhere, ru: Где-то}\n"
                                           "kind: state-body\n"})
    for command in (["check"], ["build", "--force", "--format", "html"]):
        code, said = run(capsys, project, *command)
        assert code == 0, (command, said)
    assert (project / "output/sample/2020-01-15_sample_az.html").is_file()


@pytest.mark.parametrize(("url", "mime", "data"), [
    ("data:image/svg+xml;base64,PHN2Zy8+", "image/svg+xml", b"<svg/>"),
    ("data:image/svg+xml,%3Csvg/%3E", "image/svg+xml", b"<svg/>"),
    ("data:image/svg+xml;charset=utf-8,%3Csvg/%3E", "image/svg+xml", b"<svg/>"),
    ("DATA:Image/SVG+XML;base64,PHN2%5Ay8+", "image/svg+xml", b"<svg/>"),
    ("data:,plain%20text", "text/plain", b"plain text"),
])
def test_one_reading_of_data_urls_for_every_writer(url: str, mime: str, data: bytes) -> None:
    from briefing.writers import dataurl

    assert dataurl.decode(url) == dataurl.DataURL(mime, data)


@pytest.mark.parametrize("url", ["data:image/png;base64,not*base64", "data:image/png",
                                 "https://example.org/x.svg"])
def test_a_damaged_data_url_is_refused_in_words(url: str) -> None:
    from briefing.writers import dataurl

    with pytest.raises(dataurl.BadDataURL):
        dataurl.decode(url)


def test_a_failure_inside_briefings_code_is_a_bug_never_the_templates_mistake(
        tmp_path: Path) -> None:
    """A template expression that fails is the template's mistake, placed at
    its line; a failure raised inside Briefing's own code (the view, a figure)
    while a template reads it is a bug of ours: it escapes as the exception it
    is (the worker reports it as a bug, exit 70), never as the editor's line."""
    from briefing.content.load import load_project
    from briefing.errors import BuildFailed
    from briefing.render.edition import editions
    from briefing.render.html import environment, render_html
    from briefing.writers import dataurl

    project = make_project(tmp_path / "p")
    model = load_project(project)
    edition = editions(model, model.brief("sample"), ())[0]
    template = project / "templates" / edition.template

    def rendered(expression: str) -> None:
        template.write_text(f"<!DOCTYPE html>\n<html><body>\n<p>{expression}</p>\n"
                            "</body></html>\n", encoding="utf-8")
        render_html(environment(ProjectFiles(project)), {"ours": dataurl.decode}, edition)

    with pytest.raises(BuildFailed) as mistake:
        rendered("{{ 1 / 0 }}")
    assert str(mistake.value.problems[0]).startswith(
        f"templates/{edition.template}:3:1: ZeroDivisionError: division by zero")
    with pytest.raises(dataurl.BadDataURL):
        rendered("{{ ours('data:image/png;base64,*') }}")


def test_a_docx_only_build_lays_out_a_pdf_only_when_the_docx_needs_one() -> None:
    """The DOCX is given the PDF's page numbers for its contents list, and a
    one-page note must be known to fit; anything else is written without the
    PDF's layout."""
    from briefing.writers.pages import needs_layout

    assert needs_layout('<body><nav class="toc"><ol><li><a href="#a">A</a></li></ol></nav>'
                        "</body>", "report")
    assert needs_layout("<body><p>One page.</p></body>", "note")
    assert not needs_layout('<body><p>No contents; a <a href="#nav">link</a>.</p></body>',
                            "report")
