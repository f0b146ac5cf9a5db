"""Language editions from one source: catalogs, CLDR dates, fallbacks, glyphs."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import lxml.html
import pikepdf
import pytest
from conftest import ROOTS, copy_project, made_once, make_project, run_in_process
from readers import docx_blocks, normalise, paragraph_runs, pdf_text

FOURTH = ROOTS / "fourth-language"
BRIEF = "content/briefs/sample.yaml"
OUT = "output/sample/2020-01-15_sample"


@pytest.fixture(scope="module")
def turkish(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fourth language added with a catalog file and content strings only,
    built once per session (conftest.made_once), read only."""
    def make(folder: Path) -> None:
        project = make_project(folder, files={
            "templates/i18n/tr.yaml": (FOURTH / "tr.yaml").read_text(encoding="utf-8"),
            BRIEF: (FOURTH / "brief.yaml").read_text(encoding="utf-8"),
        })
        result = run_in_process(project)
        assert result.code == 0, result.err
    return made_once(tmp_path_factory, "languages-turkish", make)


def test_each_language_gets_its_own_files(turkish: Path) -> None:
    names = sorted(p.name for p in (turkish / "output" / "sample").iterdir())
    assert names == [f"2020-01-15_sample_{lang}.{fmt}"
                     for lang in ("en", "tr") for fmt in ("docx", "html", "pdf")]


def test_fixed_words_and_dates_come_from_the_editions_catalog(turkish: Path) -> None:
    tr = normalise(pdf_text(turkish / f"{OUT}_tr.pdf"))
    en = normalise(pdf_text(turkish / f"{OUT}_en.pdf"))
    assert "İçindekiler" in tr and "Contents" not in tr
    assert "Sayfa 2 / " in tr and "Page 2 of" not in tr
    assert "8 Kasım 1999" in tr and "8 November 1999" in en
    assert "15 Ocak 2020" in tr and "15 January 2020" in en
    assert "HİZMETE ÖZEL" in tr and "FOR OFFICIAL USE" not in tr
    docx_tr = " ".join(text for _, text in docx_blocks(turkish / f"{OUT}_tr.docx"))
    assert "Anlaşma 8 Kasım 1999 tarihinde imzalandı." in docx_tr
    assert "Contents" not in docx_tr and "Agreements" not in docx_tr


def test_language_is_declared_in_html_pdf_and_docx(turkish: Path, tmp_path: Path) -> None:
    copy = copy_project(turkish, tmp_path / "p")  # the semantic HTML added to a copy
    assert run_in_process(copy, "build", "--format", "semantic").code == 0
    page = (copy / f"{OUT}_tr.semantic.html").read_text(encoding="utf-8")
    assert '<html lang="tr-TR">' in page
    with pikepdf.open(turkish / f"{OUT}_tr.pdf") as pdf:
        assert str(pdf.Root.Lang) == "tr-TR"
    document = docx.Document(str(turkish / f"{OUT}_tr.docx"))
    assert document.core_properties.language == "tr-TR"
    with zipfile.ZipFile(turkish / f"{OUT}_tr.docx") as package:
        styles = package.read("word/styles.xml").decode()
    assert styles.count('w:val="tr-TR"') >= 10 and 'w:val="en-GB"' not in styles


def test_missing_translations_are_listed_then_a_draft_can_be_built(tmp_path: Path) -> None:
    brief = (FOURTH / "brief.yaml").read_text(encoding="utf-8")
    brief = brief.replace("  tr: Örnek brifing\n", "").replace("  tr: Test Dairesi\n", "")
    project = make_project(tmp_path / "p", files={
        "templates/i18n/tr.yaml": (FOURTH / "tr.yaml").read_text(encoding="utf-8"),
        BRIEF: brief})
    result = run_in_process(project)
    assert result.code == 1
    assert result.err.splitlines() == [
        "content/briefs/sample.yaml:2:3: title: no 'tr' text (expected a translation for every "
        "language of brief `sample`)",
        "content/briefs/sample.yaml:10:3: department: no 'tr' text (expected a translation for "
        "every language of brief `sample`)",
        "failed: sample (2 error(s); their previous outputs are untouched)",
    ]

    result = run_in_process(project, "build", "--allow-fallback")
    assert result.code == 0, result.err
    pages = pdf_text(project / f"{OUT}_tr.pdf").split("\f")[:-1]
    assert pages and all("TASLAK" in page for page in pages)
    english = pdf_text(project / f"{OUT}_en.pdf")
    assert "TASLAK" not in english and "DRAFT" not in english
    with pikepdf.open(project / f"{OUT}_tr.pdf") as pdf:
        assert str(pdf.docinfo["/status"]).startswith("TASLAK")
    document = docx.Document(str(project / f"{OUT}_tr.docx"))
    assert document.core_properties.content_status.startswith("TASLAK")
    marked = [run for p in document.paragraphs for run in paragraph_runs(p)
              if run.font.highlight_color is not None]
    assert "Sample brief" in {run.text for run in marked}


def test_a_character_the_fonts_lack_is_placed(tmp_path: Path) -> None:
    brief = (ROOTS / "sample" / BRIEF).read_text(encoding="utf-8")
    project = make_project(tmp_path / "p", files={
        BRIEF: brief.replace("title: Sample brief", "title: Sample 中 brief")})
    result = run_in_process(project, "check")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "content/briefs/sample.yaml:1:8: title: character '中' (U+4E2D) is not in the project's "
        "fonts (brief `sample`, language `en`) (expected characters that the fonts in fonts/ "
        "cover)")


def test_every_character_of_every_edition_is_in_the_embedded_fonts(turkish: Path) -> None:
    from fontTools.ttLib import TTFont

    for path in (turkish / "output" / "sample").glob("*.pdf"):
        with pikepdf.open(path) as pdf:
            fonts = {str(font.BaseFont): font for page in pdf.pages
                     for font in page.Resources.Font.values()}
            assert fonts, path
            for name, font in fonts.items():
                descriptor = font.DescendantFonts[0].FontDescriptor
                assert "/FontFile2" in descriptor, f"{name} is not embedded"
                assert "/ToUnicode" in font, f"{name} has no ToUnicode map"
        text = pdf_text(path)
        covered = set()
        for ttf in (turkish / "fonts").glob("NotoSerif-Regular.ttf"):
            covered |= set(TTFont(str(ttf)).getBestCmap())
        assert {c for c in text if not c.isspace() and ord(c) not in covered} == set()


def _struct_languages(pdf: pikepdf.Pdf) -> dict[str, set[str]]:
    """Structure type -> the /Lang values found on elements of that type."""
    found: dict[str, set[str]] = {}
    stack = [pdf.Root.StructTreeRoot]
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Dictionary):
            if "/Lang" in node and "/S" in node:
                found.setdefault(str(node.S), set()).add(str(node.Lang))
            kids = node.get("/K")
            if kids is not None:
                stack.extend(kids if isinstance(kids, pikepdf.Array) else [kids])
        elif isinstance(node, pikepdf.Array):
            stack.extend(node)
    return found


def test_a_quotation_in_its_own_language_is_marked_in_every_format(sample_build: Path) -> None:
    """`language: ru` on a quote of an English brief: its passage says so in the
    HTML edition, in the PDF's structure tree and on the DOCX's runs, for screen
    readers to switch voice; the rest of the brief stays English."""
    quoted = "Граница должна объединять, а не разделять."
    stem = sample_build / "output" / "sample" / "2020-01-15_sample_en"
    html = (stem.with_suffix(".html")).read_text(encoding="utf-8")
    quote = lxml.html.document_fromstring(html).xpath(f'//blockquote[p="{quoted}"]')
    assert [element.get("lang") for element in quote] == ["ru"], html
    with pikepdf.open(stem.with_suffix(".pdf")) as pdf:
        assert str(pdf.Root.Lang).startswith("en")
        assert "ru" in set().union(*_struct_languages(pdf).values())
    document = docx.Document(str(stem.with_suffix(".docx")))
    lang = docx.oxml.ns.qn("w:lang")
    languages = {run.text: run._r.rPr.find(lang).get(docx.oxml.ns.qn("w:val"))
                 for paragraph in document.paragraphs for run in paragraph_runs(paragraph)
                 if run._r.rPr is not None and run._r.rPr.find(lang) is not None}
    assert languages.get(quoted) == "ru", languages


def test_a_translated_quotation_cannot_claim_one_language(tmp_path: Path) -> None:
    brief = (ROOTS / "sample" / BRIEF).read_text(encoding="utf-8").replace(
        "      - text: A memorable sentence.\n", "      - text: {en: A memorable sentence.}\n"
        "        language: en\n", 1)
    project = make_project(tmp_path / "p", files={BRIEF: brief})
    result = run_in_process(project, "check")
    assert result.code == 1
    assert result.err.splitlines()[0].endswith(
        "sections[1].quotes[0].language: a quotation in its own language is one text for "
        "every edition (expected `text:` as one string, or no `language:`)"), result.err
