"""The Word files are accessible by construction (docs/accessibility.md, Word).

Every DOCX Briefing writes is read here as Word, a screen reader and an
OOXML validator read it: alt text or the decorative mark on every picture,
the timeline's facts as text, header rows, Word's own heading styles in
order, the language of the document and of every passage in another, the
title, a Hyperlink style, no theme font, a package that says what made it,
the contents' page numbers, and Azerbaijani capitals through LibreOffice.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import lxml.etree
import lxml.html
import pytest
from conftest import REPO, ROOTS, made_once, make_project, run_in_process
from docx.oxml.ns import nsmap, qn
from openxml_audit import OpenXmlValidator
from readers import normalise, paragraph_text, pdf_text

import briefing
from briefing.files import ProjectFiles
from briefing.render.theme import Theme, load_theme

REAL = {  # every DOCX the real content builds: both briefs, both kinds, every language
    f"{slug}/{date}_{slug}{kind}_{lang}.docx"
    for slug, date, kinds, langs in (
        ("international-cooperation", "2026-11-20", ("", "_note"), ("en", "az", "ru")),
        ("border-cooperation", "2026-11-27", ("",), ("en", "ru")))
    for kind in kinds for lang in langs}
REPORTS = sorted(name for name in REAL if "_note_" not in name)
SAMPLE = "output/sample/2020-01-15_sample_en"
AZ = "international-cooperation/2026-11-20_international-cooperation_az"
DECORATIVE = "http://schemas.microsoft.com/office/drawing/2017/decorative"
TOC_LINE = re.compile(r"^(?P<entry>\S.*?)\s*\.{3,}\s*(?P<page>\d+)$")


@pytest.fixture(scope="module")
def output(real_build: Path) -> Path:
    """output/ of the real content, built once per session (conftest.py)."""
    return real_build.parent


def _xml(path: Path, part: str) -> lxml.etree._Element:
    with zipfile.ZipFile(path) as package:
        return lxml.etree.fromstring(package.read(part))


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def _language(path: Path) -> str:
    return docx.Document(str(path)).core_properties.language


# -- the file itself ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL))
def test_every_docx_passes_the_ooxml_validator(output: Path, name: str) -> None:
    result = OpenXmlValidator(max_errors=0).validate(output / name)
    assert [str(error) for error in result.errors] == []


def test_the_sample_docx_and_the_reference_docx_pass_the_ooxml_validator(
        sample_build: Path) -> None:
    for path in (sample_build / f"{SAMPLE}.docx", REPO / "templates/reference.docx"):
        result = OpenXmlValidator(max_errors=0).validate(path)
        assert [str(error) for error in result.errors] == [], path.name


@pytest.mark.parametrize("name", ["templates/reference.docx", *sorted(REAL)])
def test_the_package_says_truthfully_what_made_it(output: Path, name: str) -> None:
    assert_truthful(REPO / name if name.startswith("templates/") else output / name)


def assert_truthful(path: Path) -> None:
    """Made by Briefing, in Word 2013's mode, without a thumbnail or Word 2010's
    stylesWithEffects copy of the styles."""
    parts = _parts(path)
    app = lxml.etree.fromstring(parts["docProps/app.xml"])
    namespace = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}"
    assert app.findtext(f"{namespace}Application") == f"Briefing {briefing.__version__}"
    assert app.find(f"{namespace}AppVersion") is None  # not Word 2010's 14.0000
    modes = lxml.etree.fromstring(parts["word/settings.xml"]).xpath(
        "//w:compatSetting[@w:name='compatibilityMode']/@w:val",
        namespaces={"w": nsmap["w"]})
    assert modes == ["15"]
    assert not [part for part in parts if "thumbnail" in part or "stylesWithEffects" in part]
    assert b"thumbnail" not in parts["_rels/.rels"]


@pytest.mark.parametrize("name", sorted(REAL))
def test_no_style_names_a_theme_font(output: Path, name: str) -> None:
    assert_named_typefaces(output / name)


def assert_named_typefaces(path: Path) -> None:
    """Word shows a theme font (Calibri) where w:rFonts names one beside the face."""
    for part, data in _parts(path).items():
        if not part.endswith(".xml"):
            continue
        for fonts in lxml.etree.fromstring(data).iter(qn("w:rFonts")):
            themed = [key for key in fonts.attrib if key.lower().endswith("theme")]
            assert not themed, f"{part}: {lxml.etree.tostring(fonts).decode()}"
    defaults = _xml(path, "word/styles.xml").find(
        f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
    assert defaults.get(qn("w:ascii")) == defaults.get(qn("w:hAnsi")) == "Noto Serif"


def test_a_reference_docx_saved_as_python_docx_saves_it_still_writes_a_true_file(
        tmp_path: Path) -> None:
    """Editors restyle reference.docx in Word (docs/templates.md); whatever saved
    it last, the writer's output says what made it and names its typefaces."""
    parts = _parts(REPO / "templates/reference.docx")
    styles = parts["word/styles.xml"].decode()
    styles = re.sub(r'<w:style w:type="character" w:styleId="Hyperlink">.*?</w:style>', "",
                    styles)  # python-docx's template has no Hyperlink style
    assert 'w:styleId="Hyperlink"' not in styles
    styles = re.sub(r"(<w:bottom [^>]*/>)(<w:insideH [^>]*/>)", r"\2\1", styles)  # disordered
    parts["word/styles.xml"] = re.sub(  # and theme fonts everywhere
        "<w:rFonts ", '<w:rFonts w:asciiTheme="majorHAnsi" w:cstheme="majorBidi" ', styles).encode()
    parts["word/stylesWithEffects.xml"] = parts["word/styles.xml"]
    parts["docProps/thumbnail.jpeg"] = b"\xff\xd8\xff\xd9"
    parts["docProps/app.xml"] = parts["docProps/app.xml"].replace(
        f"Briefing {briefing.__version__}".encode(), b"Microsoft Macintosh Word")
    parts["word/settings.xml"] = parts["word/settings.xml"].replace(
        b'w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"',
        b'w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="14"')
    parts["_rels/.rels"] = parts["_rels/.rels"].replace(b"</Relationships>", (
        b'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/package/2006/'
        b'relationships/metadata/thumbnail" Target="docProps/thumbnail.jpeg"/></Relationships>'))
    parts["word/_rels/document.xml.rels"] = parts["word/_rels/document.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.microsoft.com/'
        b'office/2007/relationships/stylesWithEffects" Target="stylesWithEffects.xml"/>'
        b"</Relationships>")
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Default Extension="jpeg" ContentType="image/jpeg"/><Override PartName="/word/'
        b'stylesWithEffects.xml" ContentType="application/vnd.ms-word.stylesWithEffects+xml"/>'
        b"</Types>"))
    reference = tmp_path / "reference.docx"
    with zipfile.ZipFile(reference, "w") as package:
        for part, data in parts.items():
            package.writestr(part, data)
    with pytest.raises(AssertionError):  # the broken reference is as broken as meant
        assert_truthful(reference)
    with pytest.raises(AssertionError):
        assert_named_typefaces(reference)
    assert OpenXmlValidator(max_errors=0).validate(reference).errors
    project = make_project(tmp_path / "p", files={
        "templates/reference.docx": reference.read_bytes()})
    result = run_in_process(project, "build", "--format", "docx")
    assert result.code == 0, result.err
    written = project / f"{SAMPLE}.docx"
    assert_truthful(written)
    assert_named_typefaces(written)
    assert_hyperlink_style(written, load_theme(ProjectFiles(project)))
    assert OpenXmlValidator(max_errors=0).validate(written).errors == []


def test_the_title_property_is_the_documents_title(output: Path) -> None:
    for name in REAL:
        props = docx.Document(str(output / name)).core_properties
        title = docx_title(output / name)
        assert props.title and props.title == title, name


def docx_title(path: Path) -> str:
    """The text of the document's Title-style paragraph (the cover's, the note's)."""
    document = docx.Document(str(path))
    return next(normalise(paragraph_text(p)) for p in document.paragraphs if p.style.name in (
        "Title", "Note Title"))


# -- pictures and the timeline --------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL))
def test_every_picture_has_alt_text_or_is_marked_decorative(output: Path, name: str) -> None:
    pictures = _xml(output / name, "word/document.xml").iter(
        "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr")
    for doc_pr in pictures:
        assert _decorative(doc_pr) != bool(doc_pr.get("descr", "").strip()), \
            lxml.etree.tostring(doc_pr).decode()


@pytest.fixture(scope="module")
def semantic(real_semantic: Path) -> Path:
    """output/ of the real content's semantic HTML, the HTML the DOCX writer reads
    (built once per session, conftest.py)."""
    return real_semantic


@pytest.mark.parametrize("name", REPORTS)
def test_pictures_carry_the_htmls_alt_and_the_timeline_is_text(output: Path, semantic: Path,
                                                               name: str) -> None:
    """The emblem (alt="") is decorative, each timeline part is described by its
    alt, and its facts follow as a list, text a screen reader reads."""
    html = lxml.html.parse(str(semantic / name.replace(".docx", ".semantic.html")))
    alts = [img.get("alt") for img in html.iter("img")]
    document = docx.Document(str(output / name))
    paragraphs = document.paragraphs
    pictures = [(i, doc_pr) for i, paragraph in enumerate(paragraphs)
                for doc_pr in paragraph._p.xpath(".//wp:docPr")]
    assert len(pictures) == len(alts) >= 2  # the emblem, and a timeline at least
    assert alts[0] == "" and _decorative(pictures[0][1]) and not pictures[0][1].get("descr")
    for (i, doc_pr), alt in zip(pictures[1:], alts[1:], strict=True):
        assert alt and doc_pr.get("descr") == alt and not _decorative(doc_pr)
        caption, facts = paragraphs[i + 1], paragraphs[i + 2]
        assert caption.style.name == "Caption"
        assert facts.style.name == "List Bullet"
        assert re.search(r"\d{4}.*: \S", facts.text), facts.text


def _decorative(doc_pr: lxml.etree._Element) -> bool:
    """Whether a picture carries Word's mark that it is decorative (adec:decorative)."""
    return any(mark.tag == f"{{{DECORATIVE}}}decorative" and mark.get("val") == "1"
               for mark in doc_pr.iter())


# -- structure ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL))
def test_headings_are_words_own_styles_in_order(output: Path, name: str) -> None:
    document = docx.Document(str(output / name))
    levels = []
    for paragraph in document.paragraphs:
        style = paragraph.style
        if not style.name.startswith("Heading"):
            continue
        level = int(style.name.split()[-1])
        assert style.style_id == f"Heading{level}"
        assert style.element.find(qn("w:name")).get(qn("w:val")) == f"heading {level}"
        outline = style.element.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
        assert outline is not None and outline.get(qn("w:val")) == str(level - 1)
        levels.append(level)
    assert levels and levels[0] == 1
    assert all(later <= earlier + 1 for earlier, later in itertools.pairwise(levels))


@pytest.mark.parametrize("name", REPORTS)
def test_table_header_rows_are_marked_and_repeat(output: Path, name: str) -> None:
    document = docx.Document(str(output / name))
    data = [t for t in document.tables if t.style is not None and t.style.name == "Brief Table"]
    assert data
    for table in data:
        marked = [row._tr.trPr is not None and row._tr.trPr.find(qn("w:tblHeader")) is not None
                  for row in table.rows]
        assert marked[0] and not any(marked[1:])
        assert {p.style.name for cell in table.rows[0].cells for p in cell.paragraphs} == {
            "Table Heading"}


# -- language -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL))
def test_the_document_language_is_on_the_defaults_and_every_style(output: Path,
                                                                  name: str) -> None:
    tag = _language(output / name)
    assert tag in ("en-GB", "az-Latn-AZ", "ru-RU")
    styles = _xml(output / name, "word/styles.xml")
    default = styles.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/"
                          f"{qn('w:lang')}")
    assert default.get(qn("w:val")) == tag
    for style in styles.iter(qn("w:style")):
        if style.get(qn("w:type")) in ("paragraph", "character"):
            lang = style.find(f"{qn('w:rPr')}/{qn('w:lang')}")
            assert lang is not None and lang.get(qn("w:val")) == tag, style.get(qn("w:styleId"))


@pytest.fixture(scope="module")
def other_languages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Turkish draft whose title falls back to English, and a template passage
    marked Russian: the DOCX of passages in another language than the document's."""
    fourth = ROOTS / "fourth-language"
    brief = (fourth / "brief.yaml").read_text(encoding="utf-8").replace(
        "  tr: Örnek brifing\n", "")
    template = (REPO / "templates/report.html.j2").read_text(encoding="utf-8")
    summary = "<h1>{{ labels.summary }}</h1>"
    assert summary in template

    def make(project: Path) -> None:
        make_project(project, files={
            "templates/i18n/tr.yaml": (fourth / "tr.yaml").read_text(encoding="utf-8"),
            "content/briefs/sample.yaml": brief,
            "templates/report.html.j2": template.replace(
                summary, summary + '\n  <p lang="ru">Добрый день, <em>коллеги</em>.</p>'),
        })
        result = run_in_process(project, "build", "--allow-fallback", "--format", "docx")
        assert result.code == 0, result.err
    project = made_once(tmp_path_factory, "accessibility-other-languages", make)
    return project / "output/sample/2020-01-15_sample_tr.docx"


def test_passages_in_another_language_say_so_on_their_runs(other_languages: Path) -> None:
    body = _xml(other_languages, "word/document.xml")
    languages: dict[str, set[str]] = {}
    for run in body.iter(qn("w:r")):
        text = "".join(t.text or "" for t in run.iter(qn("w:t")))
        lang = run.find(f"{qn('w:rPr')}/{qn('w:lang')}")
        languages.setdefault(text, set()).add("" if lang is None else lang.get(qn("w:val")))
    assert languages["Sample brief"] == {"en"}  # the untranslated title, in English
    assert languages["Добрый день, "] == languages["коллеги"] == {"ru"}
    # the document's (with the no-break spaces that keep the date whole)
    assert languages["Anlaşma 8\u00a0Kasım\u00a01999 tarihinde imzalandı."] == {""}


# -- links ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", REPORTS)
def test_links_look_like_links(output: Path, name: str) -> None:
    assert_hyperlink_style(output / name, load_theme(ProjectFiles(output.parent)))
    body = _xml(output / name, "word/document.xml")
    links = list(body.iter(qn("w:hyperlink")))
    toc = docx.Document(str(output / name)).styles["toc 1"].style_id
    in_contents = [link for link in links if link.xpath(
        f"ancestor::w:p/w:pPr/w:pStyle[@w:val='{toc}']", namespaces=link.nsmap)]
    others = [link for link in links if link not in in_contents]
    assert in_contents and others
    for link in others:
        assert link.xpath("w:r/w:rPr/w:rStyle/@w:val", namespaces=link.nsmap) == ["Hyperlink"]
    for link in in_contents:  # an entry of the contents looks like the contents
        assert not link.xpath("w:r/w:rPr/w:rStyle", namespaces=link.nsmap)


# -- the contents' page numbers -------------------------------------------------------


def assert_hyperlink_style(path: Path, theme: Theme) -> None:
    """Word's own Hyperlink character style, in the theme's link colour, underlined."""
    styles = _xml(path, "word/styles.xml")
    hyperlink = styles.find(f"{qn('w:style')}[@{qn('w:styleId')}='Hyperlink']")
    assert hyperlink is not None and hyperlink.get(qn("w:type")) == "character"
    assert hyperlink.find(f"{qn('w:name')}").get(qn("w:val")) == "Hyperlink"
    assert hyperlink.get(qn("w:customStyle")) is None
    r_pr = hyperlink.find(qn("w:rPr"))
    assert r_pr.find(qn("w:color")).get(qn("w:val")) == theme.colours.navy[1:].upper()
    assert r_pr.find(qn("w:u")).get(qn("w:val")) == "single"


def docx_contents(path: Path) -> list[tuple[str, str]]:
    """(entry, the page number cached in its PAGEREF field) for each contents entry."""
    entries = []
    for paragraph in docx.Document(str(path)).paragraphs:
        if paragraph.style.name != "toc 1":
            continue
        text = normalise("".join(paragraph._p.xpath(".//w:hyperlink//w:t/text()")))
        runs = paragraph._p.xpath("w:r")
        pageref = next(i for i, run in enumerate(runs)
                       if "PAGEREF" in "".join(run.xpath("w:instrText/text()")))
        cached = "".join(t for run in runs[pageref + 1:] for t in run.xpath("w:t/text()"))
        entries.append((text, cached))
    return entries


def pdf_contents(path: Path) -> list[tuple[str, str]]:
    """(entry, page) as the PDF prints its contents, on page 2."""
    lines = pdf_text(path, layout=True, page=2).splitlines()
    return [(normalise(match["entry"]), match["page"]) for line in lines
            if (match := TOC_LINE.match(line.strip()))]


@pytest.mark.parametrize("name", REPORTS)
def test_the_contents_carry_the_pdfs_page_numbers(output: Path, name: str) -> None:
    path = output / name
    entries = docx_contents(path)
    assert entries and all(page.isdigit() for _, page in entries)
    assert entries == pdf_contents(path.with_suffix(".pdf"))
    settings = _xml(path, "word/settings.xml")
    assert settings.find(qn("w:updateFields")).get(qn("w:val")) == "true"  # Word updates them


def test_a_docx_built_alone_still_carries_the_pdfs_page_numbers(
        sample_build: Path, tmp_path: Path) -> None:
    """The worker lays the PDF out for its pages even when only the DOCX is asked for."""
    project = make_project(tmp_path / "p")
    assert run_in_process(project, "build", "--format", "docx").code == 0
    assert not list((project / "output/sample").glob("*.pdf"))
    alone = docx_contents(project / f"{SAMPLE}.docx")
    assert alone == pdf_contents(sample_build / f"{SAMPLE}.pdf")
    assert (project / f"{SAMPLE}.docx").read_bytes() == (
        sample_build / f"{SAMPLE}.docx").read_bytes()


# -- through LibreOffice --------------------------------------------------------------


@pytest.fixture(scope="module")
def azerbaijani_in_libreoffice(output: Path, libreoffice: Callable[[Path], Path]) -> str:
    return pdf_text(libreoffice(output / f"{AZ}.docx"), layout=True)


def test_azerbaijani_capitals_are_right_in_libreoffice(azerbaijani_in_libreoffice: str,
                                                       output: Path) -> None:
    """Caps styles (the publisher, the partner kinds, the key-facts title) capitalise
    i as İ, as the PDF does."""
    text = normalise(azerbaijani_in_libreoffice)
    assert "AZƏRBAYCAN RESPUBLİKASI DÖVLƏT MİQRASİYA XİDMƏTİ" in text
    assert "BEYNƏLXALQ TƏŞKİLAT" in text
    assert "RESPUBLIKASI" not in text and "MIQRASIYA" not in text
    assert "AZƏRBAYCAN RESPUBLİKASI DÖVLƏT MİQRASİYA XİDMƏTİ" in normalise(
        pdf_text(output / f"{AZ}.pdf"))


def test_libreoffice_shows_the_contents_page_numbers(azerbaijani_in_libreoffice: str,
                                                     output: Path) -> None:
    page = azerbaijani_in_libreoffice.split("\f")[1]
    shown = [(normalise(m["entry"]), m["page"]) for line in page.splitlines()
             if (m := TOC_LINE.match(line.strip()))]
    assert shown == pdf_contents(output / f"{AZ}.pdf")
    assert not re.search(r"\.{3,}\s*$", page, re.MULTILINE)  # no leader without its number
