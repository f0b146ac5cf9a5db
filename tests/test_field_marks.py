"""Field marks: every text an edition shows from a content field says which
field it is (`data-field`, render/fields.py), and the address leads back to
the editor's line. In process: each edition's HTML rendered as a worker does."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
from conftest import REPO, make_project
from readers import normalise

from briefing.cli import main
from briefing.content.load import load_project
from briefing.content.model import Project
from briefing.content.yamlsource import dotted
from briefing.files import ProjectFiles
from briefing.render.edition import Edition
from briefing.render.fields import CLOSE, OPEN, SEP, addresses, place, settle
from briefing.render.html import environment, render_html
from briefing.render.view import build_view

REPORT = "templates/report.html.j2"
START = "{% block document %}\n"
BRIEF = "content/briefs/sample.yaml"


def rendered(project: Path, language: str = "en", slug: str = "sample") -> tuple[Project, str]:
    content = load_project(project)
    edition = Edition(content.brief(slug), language)
    view = build_view(content, edition)
    return content, render_html(environment(ProjectFiles(project)), view, edition)


def marked(html: str) -> dict[str, list[str]]:
    """address -> the text of each element that carries it."""
    found: dict[str, list[str]] = {}
    for element in lxml.html.document_fromstring(html).iter():
        if isinstance(element.tag, str) and element.get("data-field"):
            found.setdefault(element.get("data-field"), []).append(
                normalise(element.text_content()))
    return found


def test_every_text_the_sample_shows_names_its_field_and_line(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    content, html = rendered(project)
    found = marked(html)
    # The brief's own fields, each where the editor wrote it.
    assert found[f"{BRIEF}#title"][0] == "Sample brief"
    assert found[f"{BRIEF}#key_points[1]"] == ["Second point with **bold** text."]
    assert found[f"{BRIEF}#sections[1].quotes[0].by"] == ["A. Person"]
    assert found[f"{BRIEF}#sections[0].body"][0] == "Prose with a list:"  # each block
    assert len(found[f"{BRIEF}#sections[0].body"]) == 3  # the paragraph, list and quote
    assert found["content/partners/org.yaml#name"] == ["Example Organisation"]
    written = (project / BRIEF).read_text(encoding="utf-8").splitlines()
    for field, line_text in [("key_points[1]", "  - Second point"),
                             ("sections[1].quotes[0].by", "        by: A. Person"),
                             ("title", "title: Sample brief")]:
        file, line, col = place(content, f"{BRIEF}#{field}")
        assert file == BRIEF and written[line - 1].startswith(line_text), field
        assert col > 1
    # Every text of the brief the edition shows is marked (the reference and
    # the date are not text fields; labels come from the catalog).
    shown = {address for address in found if address.startswith(BRIEF)}
    fields = {f"{BRIEF}#{dotted(path)}" for file, path in addresses(content).values()
              if file == BRIEF}
    assert shown <= fields
    assert {f"{BRIEF}#title", f"{BRIEF}#summary", f"{BRIEF}#sources[0].title"} <= shown
    assert OPEN not in html and SEP not in html and CLOSE not in html


def test_each_language_is_its_own_field(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", root=None)
    content, html = rendered(project, "ru", "international-cooperation")
    found = marked(html)
    russian = [address for address in found if address.endswith(".ru")]
    assert russian and not [a for a in found if a.endswith((".en", ".az"))]
    file, line, _ = place(content, russian[0])
    assert (project / file).read_text(encoding="utf-8").splitlines()[line - 1].lstrip(
        ).startswith("ru:")


def test_a_field_in_an_attribute_or_the_title_leaves_no_mark(tmp_path: Path) -> None:
    text = (REPO / REPORT).read_text(encoding="utf-8")
    lines = ('<p title="{{ brief.title }}">Before {{ brief.subtitle }} after</p>\n'
             '<p><abbr>{{ brief.title }}</abbr>{{ brief.department }}</p>\n')
    project = make_project(tmp_path / "p", files={REPORT: text.replace(START, START + lines)})
    _, html = rendered(project)
    tree = lxml.html.document_fromstring(html)
    first = tree.xpath("//p[@title]")[0]
    assert first.get("title") == "Sample brief" and first.get("data-field") is None
    span = first.find("span")  # text around it: the field gets a span of its own
    assert span.get("data-field") == f"{BRIEF}#subtitle" and span.text == \
        "Every block the templates know"
    assert tree.findtext(".//title").strip() and OPEN not in html and CLOSE not in html


def test_settle_puts_a_lone_field_on_its_element_and_shared_text_in_a_span() -> None:
    """...and no span inside a link: WeasyPrint would make it a second link."""
    def field(address: str, text: str) -> str:
        return f"{OPEN}{address}{SEP}{text}{CLOSE}"
    html = (f"<h2>{field('f#a', 'Title')}</h2><p>{field('f#b', 'One')}, {field('f#c', 'two')}"
            f"</p><div>{field('f#d', '<p>x</p><ul><li>y</li></ul>')}</div>"
            f"<a href='#x'>1. {field('f#e', 'Title')}</a>")
    assert settle(html) == (
        '<h2 data-field="f#a">Title</h2><p><span data-field="f#b">One</span>, '
        '<span data-field="f#c">two</span></p><div><p data-field="f#d">x</p>'
        '<ul data-field="f#d"><li>y</li></ul></div><a href=\'#x\'>1. Title</a>')


def test_content_may_not_hold_the_characters_marks_are_made_of(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = (REPO / "tests/roots/sample" / BRIEF).read_text(encoding="utf-8")
    project = make_project(tmp_path / "p", files={
        BRIEF: sample.replace("subtitle: Every block the templates know",
                                     'subtitle: "\\uFDD0Every block"', 1)})
    assert main(["-C", str(project), "check"]) == 1
    said = capsys.readouterr().err
    assert f"{BRIEF}:2:11: subtitle: character U+FDD0 is not allowed" in said, said
