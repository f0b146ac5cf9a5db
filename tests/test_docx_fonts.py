"""The DOCX looks the same on any Word (issue #21): its typefaces embedded as
Word embeds them and listed in its font table, so LibreOffice on a machine
without Noto shows Noto and breaks the pages where it does with Noto
installed; Word's own hyphenation in the edition's language; no-break
characters as Word spells them; a Quote style with the theme's indent and
rule; and a status cell that says "superseded" once, in every format.

One small project is built once (the sample, with a superseded agreement and
no-break characters); the package is read as Word reads it, with an
obfuscation written here from ECMA-376 Part 1, 17.8.1, not Briefing's.
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import lxml.etree
import lxml.html
import pytest
from conftest import made_once, make_project, run_in_process
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from fontTools.ttLib import TTFont
from readers import cell_text, libreoffice_pdf, normalise, pdf_text

from briefing.files import ProjectFiles
from briefing.render.theme import load_theme
from briefing.writers.wordstyles import apply_theme

NAME = "output/sample/2020-01-15_sample_en"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
OBFUSCATED = "application/vnd.openxmlformats-officedocument.obfuscatedFont"
FACES = {"Regular": (False, False), "Bold": (True, False), "Italic": (False, True),
         "BoldItalic": (True, True)}
NBSP, NB_HYPHEN = "\u00a0", "\u2011"
AGREEMENTS = """agreements:
  - title: Agreement on Cooperation
    signed: 1999-11-08
    ratified: 2000-02-08
    ratified_by: Parliament
  - id: old-deal
    title: Old Arrangement
    signed: 2001-03-02
    ended: 2010-05-01
    status: superseded
    superseded_by: new-deal
  - id: new-deal
    title: New Arrangement
    signed: 2010-05-01
    status: in-force
"""


def _make(folder: Path) -> None:
    project = make_project(folder)
    org = project / "content/partners/org.yaml"
    text = org.read_text(encoding="utf-8")
    start, end = text.index("agreements:"), text.index("milestones:")
    org.write_text(text[:start] + AGREEMENTS + text[end:], encoding="utf-8")
    brief = project / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text(encoding="utf-8").replace(
        "One paragraph of *summary*",
        f"Order No.{NBSP}7 of 2011{NB_HYPHEN}2015 gives one paragraph of *summary*"),
        encoding="utf-8")
    result = run_in_process(project)
    assert result.code == 0, result.err


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made_once(tmp_path_factory, "docx-fonts", _make)


@pytest.fixture(scope="module")
def package(built: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(built / f"{NAME}.docx") as docx_file:
        return {name: docx_file.read(name) for name in docx_file.namelist()}


def _xml(package: dict[str, bytes], name: str) -> lxml.etree._Element:
    return lxml.etree.fromstring(package[name])


def _deobfuscated(data: bytes, key: str) -> bytes:
    """17.8.1: the key's 32 hex digits as 16 bytes, last byte first, XORed
    over the font's first 32 bytes, twice over."""
    digits = key.strip("{}").replace("-", "")
    order = [bytes.fromhex(digits[i:i + 2])[0] for i in range(30, -1, -2)]
    return bytes(byte ^ order[i % 16] for i, byte in enumerate(data[:32])) + data[32:]


def _shown_text(package: dict[str, bytes]) -> set[str]:
    chars: set[str] = set()
    for name, data in package.items():
        if name.startswith("word/") and name.endswith(".xml"):
            for text in lxml.etree.fromstring(data).iter(qn("w:t")):
                chars.update(text.text or "")
    return chars


# -- the fonts ------------------------------------------------------------------------

def test_every_face_of_both_typefaces_is_embedded_as_word_does(
        package: dict[str, bytes], built: Path) -> None:
    table = _xml(package, "word/fontTable.xml")
    rels = {rel.get("Id"): rel for rel in _xml(package, "word/_rels/fontTable.xml.rels")}
    types = _xml(package, "[Content_Types].xml")
    defaults = {t.get("Extension"): t.get("ContentType") for t in types
                if t.tag == f"{CONTENT_TYPES}Default"}
    overrides = {t.get("PartName"): t.get("ContentType") for t in types
                 if t.tag == f"{CONTENT_TYPES}Override"}
    shown = {ord(char) for char in _shown_text(package)}
    theme = load_theme(ProjectFiles(built))
    found = {}
    for face in (theme.fonts.serif.face, theme.fonts.sans.face):
        [entry] = [f for f in table.iter(qn("w:font")) if f.get(qn("w:name")) == face]
        assert entry.find(qn("w:panose1")) is not None and entry.find(qn("w:sig")) is not None
        for style, (bold, italic) in FACES.items():
            embed = entry.find(qn(f"w:embed{style}"))
            assert embed is not None, (face, style)
            rel = rels[embed.get(f"{R}id")]
            assert rel.get("Type").endswith("/relationships/font")
            part = "word/" + rel.get("Target")
            assert (overrides.get("/" + part) or defaults.get(part.rpartition(".")[2])) \
                == OBFUSCATED
            key = embed.get(qn("w:fontKey"))
            assert re.fullmatch(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", key)
            data = package[part]
            assert data[:4] not in (b"\x00\x01\x00\x00", b"true"), "not obfuscated"
            font = TTFont(io.BytesIO(_deobfuscated(data, key)))
            assert font["name"].getDebugName(1) == face
            selection = font["OS/2"].fsSelection
            assert (bool(selection & 0x20), bool(selection & 0x01)) == (bold, italic)
            assert shown <= set(font.getBestCmap()) | {0x2011}, (face, style)
            found[(face, style)] = (len(data), len(font.getGlyphOrder()))
    settings = _xml(package, "word/settings.xml")
    assert settings.find(qn("w:embedTrueTypeFonts")) is not None
    assert settings.find(qn("w:saveSubsetFonts")) is not None
    full = len(TTFont(built / "fonts/NotoSerif-Regular.ttf").getGlyphOrder())
    subset_bytes, glyphs = found[(theme.fonts.serif.face, "Regular")]
    # the editable alphabets are about 640 glyphs of Noto Serif's 3,256 (96 KB)
    assert glyphs < full / 4 and subset_bytes < 130_000, (glyphs, full, subset_bytes)


# Letters, punctuation and signs an official may type into an edition that
# shows none of them: Latin with accents, Azerbaijani, Russian, Ukrainian.
TYPED = "’“”„…–—éüöçñßəƏşŞğĞıİçÇöÖüÜъЪёЁйЙіІїЇєЄґҐҹҸәӘ№‰€₼₽£$«»°"


def test_the_embedded_faces_hold_the_alphabets_an_edit_may_type(
        package: dict[str, bytes]) -> None:
    from briefing.render.typography import _CURRENCY_BEFORE

    signs = {char for char in "".join(_CURRENCY_BEFORE) if not char.isascii() or
             not char.isalnum()}
    assert signs <= set(TYPED), signs  # every currency sign typography keeps with its amount
    shown = _shown_text(package)
    assert not set("ёЁəƏ№„…") & shown  # the English edition shows none of them
    table = _xml(package, "word/fontTable.xml")
    rels = {rel.get("Id"): rel for rel in _xml(package, "word/_rels/fontTable.xml.rels")}
    faces = 0
    for embed in table.iter():
        if not embed.tag.startswith(qn("w:embed")) or embed.get(qn("w:fontKey")) is None:
            continue
        data = package["word/" + rels[embed.get(f"{R}id")].get("Target")]
        cmap = TTFont(io.BytesIO(_deobfuscated(data, embed.get(qn("w:fontKey"))))).getBestCmap()
        missing = [char for char in TYPED if ord(char) not in cmap]
        assert not missing, (embed.getparent().get(qn("w:name")), embed.tag, missing)
        faces += 1
    assert faces == 8


NO_NOTO = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>{dirs}<cachedir>{cache}</cachedir></fontconfig>
"""
# LibreOffice's own fonts (OpenSymbol draws the Symbol bullets) are on any machine with it.
LIBREOFFICE_FONTS = ("/usr/share/fonts/truetype/libreoffice", "/usr/lib/libreoffice/share/fonts")


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE)[1])


def test_a_subset_is_made_once_and_remembered_in_the_users_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fontTools takes a tenth of a second a face; the same subset is asked for
    by nearly every document, so it is kept in the user's cache (never the
    project's): a second build reads it, and writes the same bytes. A damaged
    file there is made again, not used."""
    from briefing.writers.fontembed import _remembered_subset, subset

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    font = next((Path(__file__).parent.parent / "fonts").glob("NotoSans-Regular.ttf"))
    made = _remembered_subset(font.read_bytes(), "Briefing")
    [kept] = (tmp_path / "cache/briefing/fonts").glob("*.ttf")
    assert kept.read_bytes() == made == subset(font.read_bytes(), "Briefing")
    kept.write_bytes(b"damaged")
    assert _remembered_subset(font.read_bytes(), "Briefing") == made
    assert kept.read_bytes() == made


def test_libreoffice_without_noto_shows_the_embedded_fonts(
        built: Path, tmp_path: Path, libreoffice: Callable[[Path], Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On a machine whose fonts are DejaVu only, LibreOffice lays the DOCX out in
    Noto from the package, on as many pages as with Noto installed."""
    path = built / f"{NAME}.docx"
    with_noto = libreoffice(path)
    dejavu = next((Path(d) for d in ("/usr/share/fonts/truetype/dejavu",
                                     "/usr/share/fonts/dejavu") if Path(d).is_dir()), None)
    if dejavu is None:
        pytest.skip("no DejaVu fonts to stand for a machine without Noto")
    config = tmp_path / "fonts.conf"
    dirs = [dejavu, *(Path(d) for d in LIBREOFFICE_FONTS if Path(d).is_dir())]
    config.write_text(NO_NOTO.format(dirs="".join(f"<dir>{d}</dir>" for d in dirs),
                                     cache=tmp_path / "cache"))
    monkeypatch.setenv("FONTCONFIG_FILE", str(config))
    listed = subprocess.run(["fc-list"], capture_output=True, text=True, check=True).stdout
    assert "DejaVu" in listed and "Noto" not in listed, listed
    without = libreoffice_pdf(path, tmp_path / "lo")
    fonts = subprocess.run(["pdffonts", str(without)], capture_output=True, text=True,
                           check=True).stdout
    assert "NotoSerif-Regular" in fonts and "NotoSans-Bold" in fonts, fonts
    assert "DejaVu" not in fonts, fonts
    assert _pages(without) == _pages(with_noto)
    assert normalise(pdf_text(without)) == normalise(pdf_text(with_noto))


# -- language and hyphenation ----------------------------------------------------------

def test_word_hyphenates_prose_by_its_dictionary_in_the_editions_language(
        built: Path) -> None:
    document = docx.Document(str(built / f"{NAME}.docx"))
    settings = document.settings.element
    assert settings.find(qn("w:autoHyphenation")) is not None
    assert settings.find(qn("w:doNotHyphenateCaps")) is not None

    def suppressed(name: str) -> bool:
        found = document.styles[name].element.find(f"{qn('w:pPr')}/{qn('w:suppressAutoHyphens')}")
        return found is not None and found.get(qn("w:val")) in (None, "1", "true", "on")

    for name in ("Normal", "Quote", "Table Text", "Table Heading", "List Bullet", "Caption",
                 "Definition"):  # print.css: hyphens: auto
        assert not suppressed(name), name
    for name in ("Title", "Heading 1", "Heading 2", "Header Marking", "Cover Marking"):
        assert suppressed(name), name  # print.css: hyphens: manual
    for style in ("Normal", "Heading 1", "Table Text"):
        lang = document.styles[style].element.find(f"{qn('w:rPr')}/{qn('w:lang')}")
        assert lang.get(qn("w:val")) == "en-GB"


def test_no_break_characters_arrive_as_word_spells_them(package: dict[str, bytes]) -> None:
    """U+00A0 stays in the text; U+2011 is Word's w:noBreakHyphen, in a run of
    its own between the runs of the text around it."""
    body = _xml(package, "word/document.xml")
    [paragraph] = [p for p in body.iter(qn("w:p"))
                   if "Order No." in "".join(t.text or "" for t in p.iter(qn("w:t")))]
    shown = [child.text if child.tag == qn("w:t") else child.tag.rpartition("}")[2]
             for run in paragraph.iter(qn("w:r")) for child in run if child.tag != qn("w:rPr")]
    # (the year range is a nobreak span of its own in the HTML: a run of its own here)
    start = shown.index(f"Order No.{NBSP}7 of ")
    assert shown[start:start + 4] == [f"Order No.{NBSP}7 of ", "2011", "noBreakHyphen",
                                      "2015"], shown
    assert not any(NB_HYPHEN in (t.text or "") for t in body.iter(qn("w:t")))


# -- the Quote style -------------------------------------------------------------------

def test_the_quote_style_has_the_themes_indent_and_rule(built: Path) -> None:
    """Quote and its attribution share the rule (Word joins them), where the
    theme says; another theme moves it."""
    theme = load_theme(ProjectFiles(built))
    for tokens in ({}, {"quote": 3.0, "quote_indent": 12.0, "quote_gap": 20.0}):
        lines = theme.lines.model_copy(update={k: v for k, v in tokens.items() if k == "quote"})
        lengths = theme.lengths.model_copy(update={k: v for k, v in tokens.items()
                                                   if k != "quote"})
        changed = theme.model_copy(update={"lines": lines, "lengths": lengths})
        document = docx.Document(str(built / f"{NAME}.docx"))
        apply_theme(document, changed)
        gap = min(round(Mm(lengths.quote_gap).pt), 31)  # Word's most
        for name in ("Quote", "Quote Attribution"):
            style = document.styles[name]
            left = style.element.find(f"{qn('w:pPr')}/{qn('w:pBdr')}/{qn('w:left')}")
            assert left.get(qn("w:val")) == "single"
            assert left.get(qn("w:sz")) == str(round(lines.quote * 8))
            assert left.get(qn("w:color")) == theme.colours.navy[1:].upper()
            assert left.get(qn("w:space")) == str(gap)
            rule_at = style.paragraph_format.left_indent - Pt(gap) - Pt(lines.quote)
            assert abs(rule_at - Mm(lengths.quote_indent)) < Pt(0.1), name


# -- the status cell -------------------------------------------------------------------

def _status(text: str) -> str:
    """The status cell of the superseded agreement, the text as a reader reads it."""
    found = re.search(r"superseded.{0,40}?New Arrangement", normalise(text))
    assert found, text
    return found[0]


def test_a_superseded_agreement_says_so_once_in_every_format(built: Path) -> None:
    pdf = _status(pdf_text(built / f"{NAME}.pdf"))
    html = _status(lxml.html.fromstring((built / f"{NAME}.html").read_bytes()).text_content())
    word = docx.Document(str(built / f"{NAME}.docx"))
    cells = [cell_text(cell) for table in word.tables for row in table.rows
             for cell in row.cells]
    docx_status = _status("\n".join(cells))
    for shown in (pdf, html, docx_status):
        assert shown == "superseded, 1 May 2010: New Arrangement", shown
        assert len(re.findall("superseded", shown, re.IGNORECASE)) == 1

