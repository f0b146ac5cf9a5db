"""Page-level checks of what an official holds: every page of every edition."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pikepdf
import pytest
from conftest import GOLDENS
from readers import normalise, pdf_text

SLUG = "international-cooperation"
MARKINGS = {"en": "FOR OFFICIAL USE", "az": "XİDMƏTİ İSTİFADƏ ÜÇÜN",
            "ru": "ДЛЯ СЛУЖЕБНОГО ПОЛЬЗОВАНИЯ"}
PAGE_OF = {"en": r"Page (\d+) of (\d+)", "az": r"Səhifə (\d+) / (\d+)",
           "ru": r"Страница (\d+) из (\d+)"}


def pages(path: Path) -> list[str]:
    return pdf_text(path, layout=True).split("\f")[:-1]


@pytest.mark.parametrize("language", sorted(MARKINGS))
@pytest.mark.parametrize("kind", ["", "_note"])
def test_marking_top_and_bottom_and_page_x_of_y(real_build: Path, language: str,
                                                kind: str) -> None:
    path = real_build / f"2026-11-20_{SLUG}{kind}_{language}.pdf"
    texts = pages(path)
    for number, text in enumerate(texts, start=1):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        assert lines[0] == MARKINGS[language], f"page {number} top"
        assert MARKINGS[language] in lines[-2:], f"page {number} bottom"
        if number > 1 or kind:  # the cover carries only the marking
            found = re.search(PAGE_OF[language], " ".join(lines[-2:]))
            assert found and found.groups() == (str(number), str(len(texts))), f"page {number}"


@pytest.mark.parametrize("language", sorted(MARKINGS))
def test_the_note_is_one_page_in_both_formats(real_build: Path, libreoffice: Callable,
                                              language: str) -> None:
    name = f"2026-11-20_{SLUG}_note_{language}"
    assert len(pages(real_build / f"{name}.pdf")) == 1
    with pikepdf.open(libreoffice(real_build / f"{name}.docx")) as pdf:
        assert len(pdf.pages) == 1


def test_a4_fonts_embedded_and_metadata(real_build: Path) -> None:
    for path in real_build.glob("*.pdf"):
        with pikepdf.open(path) as pdf:
            for page in pdf.pages:
                width, height = (float(v) for v in page.MediaBox[2:])
                assert (round(width * 25.4 / 72), round(height * 25.4 / 72)) == (210, 297)
            info = pdf.docinfo
            language = path.stem.rsplit("_", 1)[1]
            assert str(info["/marking"]) == MARKINGS[language]
            assert str(info["/Author"]) and str(info["/Title"]) and str(info["/Keywords"])
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                               check=True).stdout.splitlines()[2:]
        assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts


@pytest.mark.parametrize("language", sorted(MARKINGS))
def test_contents_page_numbers_are_where_the_headings_are(real_build: Path,
                                                          language: str) -> None:
    path = real_build / f"2026-11-20_{SLUG}_{language}.pdf"
    texts = [normalise(text) for text in pages(path)]
    entries = [match.groups() for line in pages(path)[1].splitlines()
               if (match := re.match(r"\s*(.+?)\s*\.{3,}\s*(\d+)\s*$", line))]
    assert len(entries) == 8
    for title, number in entries:
        where = [i + 1 for i, text in enumerate(texts[2:], start=2)
                 if normalise(title) in text]
        assert where and where[0] == int(number), (title, number, where)
    with pikepdf.open(path) as pdf, pdf.open_outline() as outline:
        assert [normalise(item.title) for item in outline.root] == [
            normalise(title) for title, _ in entries]


def test_no_table_row_is_split_across_pages(real_build: Path, real_semantic: Path) -> None:
    """Every row's cells are on one page, and a table's header row tops each page."""
    html = (real_semantic / SLUG / f"2026-11-20_{SLUG}_en.semantic.html").read_text()
    tree = lxml.html.document_fromstring(html)
    for br in tree.iter("br"):
        br.tail = " " + (br.tail or "")
    rows = [[normalise(cell.text_content()) for cell in row]
            for row in tree.iter("tr")
            if row.getparent().tag == "tbody" and row.find("td") is not None]
    assert len(rows) > 20
    texts = [normalise(text) for text in pdf_text(
        real_build / f"2026-11-20_{SLUG}_en.pdf").split("\f")[:-1]]
    for row in rows:
        first = next(cell for cell in row if cell)
        holding = [i for i, text in enumerate(texts) if first[:40] in text]
        assert holding, row
        assert any(all(cell[:40] in texts[i] for cell in row if cell) for i in holding), row


def test_pages_look_as_reviewed(real_build: Path, tmp_path: Path,
                                request: pytest.FixtureRequest) -> None:
    """Low-resolution page images against reviewed goldens, within a tolerance."""
    from PIL import Image, ImageChops

    update = request.config.getoption("--update-goldens")
    for language, page in (("en", 1), ("en", 3), ("ru", 5)):
        stem = f"page_{language}_{page}"
        subprocess.run(["pdftoppm", "-r", "30", "-png", "-gray", "-f", str(page), "-l", str(page),
                        "-singlefile", str(real_build / f"2026-11-20_{SLUG}_{language}.pdf"),
                        str(tmp_path / stem)], check=True)
        actual = Image.open(tmp_path / f"{stem}.png").convert("L")
        golden = GOLDENS / f"{stem}.png"
        if update:
            actual.save(golden)
            continue
        expected = Image.open(golden).convert("L")
        assert actual.size == expected.size, stem
        diff = ImageChops.difference(actual, expected)
        changed = sum(diff.histogram()[65:]) / (diff.width * diff.height)
        if changed > 0.002:
            diff.point(lambda value: 255 if value > 64 else 0).save(
                GOLDENS.parent / f"{stem}.diff.png")
            pytest.fail(f"{stem}: {changed:.2%} of pixels differ; see tests/{stem}.diff.png")


@pytest.mark.parametrize("language", sorted(MARKINGS))
def test_no_heading_is_left_at_the_foot_of_a_page(real_build: Path, real_semantic: Path,
                                                  language: str) -> None:
    html = (real_semantic / SLUG / f"2026-11-20_{SLUG}_{language}.semantic.html").read_text()
    headings = {normalise(h.text_content()) for h in lxml.html.document_fromstring(html).iter(
        "h1", "h2", "h3")}
    for number, text in enumerate(pages(real_build / f"2026-11-20_{SLUG}_{language}.pdf"), 1):
        lines = [normalise(line) for line in text.splitlines() if line.strip()]
        body = lines[:-2]  # the footer's two lines
        assert body and body[-1] not in headings, f"page {number} ends with a heading"
