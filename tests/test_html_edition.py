"""The HTML edition: a self-contained, accessible page, tested in a real browser."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import lxml.html
import pytest
from browser import axe_violations, chromium, overflow
from conftest import make_project, output_files, run_in_process
from readers import normalise, pdf_text

SLUG = "international-cooperation"
NAMES = [f"2026-11-20_{SLUG}{kind}_{lang}" for kind in ("", "_note") for lang in ("en", "az", "ru")]


@pytest.fixture(scope="module")
def editions(real_build: Path) -> Path:
    return real_build


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


def page(folder: Path, name: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring((folder / f"{name}.html").read_bytes())


@pytest.mark.parametrize("name", NAMES)
def test_every_edition_passes_axe_and_reflows(editions: Path, browser, name: str) -> None:
    browser.get((editions / f"{name}.html").as_uri())
    assert axe_violations(browser) == []
    for width in (320, 360, 1280):
        scroll, viewport = overflow(browser, width)
        assert scroll <= viewport, (width, scroll, viewport)


def test_wide_screens_get_a_contents_sidebar(editions: Path, browser) -> None:
    browser.get((editions / f"{NAMES[0]}.html").as_uri())
    browser.set_window_size(1280, 900)
    toc, main = (browser.execute_script(
        f"return document.querySelector('{selector}').getBoundingClientRect().toJSON()")
        for selector in ("nav.toc", "main"))
    assert toc["right"] <= main["left"] and toc["top"] < main["bottom"]
    browser.set_window_size(360, 900)
    toc, main = (browser.execute_script(
        f"return document.querySelector('{selector}').getBoundingClientRect().toJSON()")
        for selector in ("nav.toc", "main"))
    assert toc["bottom"] <= main["top"]  # above the text on a phone


@pytest.mark.parametrize("name", NAMES)
def test_self_contained_and_without_javascript(editions: Path, name: str) -> None:
    tree = page(editions, name)
    assert tree.xpath("//script") == []
    assert tree.xpath("//link[@rel='stylesheet']") == []
    assert tree.xpath("//img") == []  # every picture is inline SVG
    assert tree.xpath("//style")
    sources = tree.xpath("//@src | //@srcset | //@data | //object | //iframe")
    assert sources == []
    assert not re.search(r"url\((?!\s*['\"]?data:)", tree.xpath("string(//style)"))


@pytest.mark.parametrize("name", NAMES)
def test_landmarks_headings_tables_and_languages(editions: Path, name: str) -> None:
    tree = page(editions, name)
    language = name.rsplit("_", 1)[1]
    assert tree.get("lang", "").split("-")[0] == language
    assert len(tree.xpath("//main")) == 1 and tree.xpath("//header[@class='masthead']")
    assert tree.xpath("//footer[@class='colophon']")
    skip = tree.xpath("//body/*[1]")[0]
    assert skip.tag == "a" and skip.get("href") == "#content"
    levels = [int(h.tag[1]) for h in tree.xpath("//h1|//h2|//h3|//h4|//h5|//h6")]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    for table in tree.xpath("//table[contains(@class, 'data')]"):
        assert table.find("caption") is not None
        assert all(th.get("scope") == "col" for th in table.xpath("./thead/tr/th"))
    marking = tree.xpath("string(//meta[@name='marking']/@content)")
    assert marking and marking in normalise(tree.xpath("string(//header)"))
    others = tree.xpath("//nav[@class='languages']//a")
    assert sorted(a.get("hreflang").split("-")[0] for a in others) == sorted(
        {"en", "az", "ru"} - {language})
    for link in others:
        assert (editions / link.get("href")).is_file()
        assert link.get("lang") == link.get("hreflang")


def test_figures_are_inline_svg_with_title_and_description(editions: Path) -> None:
    tree = page(editions, NAMES[0])
    figures = tree.xpath("//figure[contains(@class, 'timeline')]//svg")
    assert figures
    for svg in figures:
        assert svg.get("role") == "img"
        title, desc = (svg.find(tag) for tag in ("title", "desc"))
        assert title is not None and title.text and desc is not None and desc.text
        assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    emblem = tree.xpath("//p[contains(@class, 'cover-emblem')]/svg")[0]
    assert emblem.get("aria-hidden") == "true"


def test_the_html_says_what_the_pdf_says(editions: Path) -> None:
    """Same text as the PDF, in the same order (the page furniture aside)."""
    html = normalise(page(editions, NAMES[0]).xpath("string(//main)"))
    pdf = normalise(pdf_text(editions / f"{NAMES[0]}.pdf"))
    for sentence in ("Azerbaijan, long a country people left, is becoming a country people "
                     "come to.", "International Organization for Migration"):
        assert sentence in html and sentence in pdf


def test_a_new_brief_gets_an_html_edition_by_default(sample_build: Path) -> None:
    """The sample project as the session built it with the defaults (conftest.py)."""
    assert (sample_build / "output/sample/2020-01-15_sample_en.html").is_file()


def test_footnotes_become_linked_notes_at_the_end(tmp_path: Path, browser) -> None:
    project = make_project(tmp_path / "p", root="prose")
    result = run_in_process(project, "build", "--format", "html", "--format", "semantic")
    assert result.code == 0, result.err
    [page_file] = [p for p in output_files(project).values()
                   if p.name.endswith("_en.html") and "_note_" not in p.name]
    semantic = lxml.html.document_fromstring(
        page_file.with_name(page_file.stem + ".semantic.html").read_bytes())
    notes = [normalise(n.text_content()) for n in semantic.find_class("footnote")]
    assert notes
    tree = lxml.html.document_fromstring(page_file.read_bytes())
    items = tree.xpath("//section[@class='footnotes']/ol/li")
    assert [normalise(li.text_content()).removesuffix(" ↩") for li in items] == notes
    for number, item in enumerate(items, start=1):
        assert item.get("id") == f"note-{number}"
        assert tree.xpath(f"//sup[@id='note-call-{number}']/a/@href") == [f"#note-{number}"]
    assert not tree.find_class("footnote")
    browser.get(page_file.as_uri())
    assert axe_violations(browser) == []
