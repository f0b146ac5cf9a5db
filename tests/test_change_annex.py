"""The change annex in the documents (#23): once a brief has a published
version, its report says what changed since, in every format and language,
with a bar beside each changed passage; the note points to it in one line;
and the redline DOCX shows the same as Word's tracked changes.

One publish of version 1 of the sample, one edit, one build of the English
edition (PDF, DOCX, HTML edition), shared by every test here; the other
languages and the note from the semantic HTML of a copy of the project whose
version 1 is its published source alone (what the annex reads of it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import bagit
import lxml.html
import pikepdf
import pytest
from conftest import made_once, make_project, run_in_process
from openxml_audit import OpenXmlValidator
from readers import docx_blocks, pdf_text
from test_accessibility_pdf import read_tree, sequences

from briefing.changes.redline import AUTHOR, W, tracked
from briefing.writers.conformance import conformance_problems

V1 = "2020-01-15_sample_v1"
STEM = "output/sample/2020-01-15_sample_en"
TITLE = "Changes since the edition of 15 January 2020 (version 1)"
# The edit: a key fact's value, a key point added, a word of prose, a meeting's outcome.
EDITS = [('  - value: "1996"\n', '  - value: "1997"\n'),
         ("  - Second point with **bold** text.\n",
          "  - Second point with **bold** text.\n  - A third point, new in this version.\n"),
         ("      - two\n", "      - two and a half\n"),
         ("        outcome: agreement signed", "        outcome: agreement ratified")]
SAID = ["Key fact ‘first office opened’: 1997 (was: 1996)",
        "Key point ‘A third point, new in this version.’: added",
        "Section ‘Partner’: Text: changes marked below",
        "Meeting with Ministry of Examples, 4 March 2008: Outcome: agreement ratified "
        "(was: agreement signed)"]


def words(text: str) -> str:
    """Text with any white space as one space: the typography's no-break
    spaces (inside a date, before a unit) read as spaces."""
    return " ".join(text.split())


def edit(project: Path) -> None:
    brief = project / "content/briefs/sample.yaml"
    text = brief.read_text("utf-8")
    for old, new in EDITS:
        assert old in text
        text = text.replace(old, new)
    brief.write_text(text, "utf-8")


@pytest.fixture(scope="module")
def annexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def make(project: Path) -> None:
        make_project(project)
        assert run_in_process(project, "publish", "sample").code == 0
        edit(project)
        result = run_in_process(project, "build", "--format", "pdf", "--format", "docx",
                                "--format", "html", "--format", "semantic")
        assert result.code == 0, result.err
        assert run_in_process(project, "publish", "sample").code == 0  # version 2
    return made_once(tmp_path_factory, "change-annex", make)


def annex_of(html: str) -> lxml.html.HtmlElement:
    found = lxml.html.document_fromstring(html).xpath("//section[@class='changes']")
    assert len(found) == 1
    return found[0]


def test_the_annex_lists_exactly_the_edit_in_the_semantic_html(annexed: Path) -> None:
    annex = annex_of((annexed / f"{STEM}.semantic.html").read_text("utf-8"))
    assert words(annex.findtext("h1")) == TITLE
    assert [" ".join(li.findtext("p").split()) for li in annex.iter("li")] == SAID
    assert [h2.text for h2 in annex.iter("h2")] == [
        "Key facts", "Key points", "Section ‘Partner’", "Section ‘Activities’"]
    marked = annex.xpath(".//p[@class='changed-words']")[0]
    assert [(s.tag, s.text) for s in marked] == [("strong", " and a half")]
    toc = lxml.html.document_fromstring((annexed / f"{STEM}.semantic.html").read_bytes())
    assert words(toc.xpath("//nav//a")[-1].text) == TITLE


def test_changed_passages_and_only_they_carry_a_bar(annexed: Path) -> None:
    page = lxml.html.document_fromstring((annexed / f"{STEM}.semantic.html").read_bytes())
    barred = page.xpath("//*[contains(concat(' ', @class, ' '), ' changed ')]")
    assert [" ".join(e.text_content().split()) for e in barred] == [
        "1997", "A third point, new in this version.", "two and a half",
        "Ministry of Examples (4 March 2008) Exampleland cooperationOutcome: agreement ratified"]


def test_the_pdf_carries_the_annex_on_a_page_of_its_own_tagged(annexed: Path) -> None:
    pdf = annexed / f"{STEM}.pdf"
    with pikepdf.open(pdf) as document:
        last = len(document.pages)
        tree = read_tree(document)
        headings = [n for n in tree.walk() if n.role == "H1"]
        assert len(headings) >= 4  # the annex's heading is a heading like the others
        parents = document.Root.StructTreeRoot.ParentTree.Nums
        mapped = {int(parents[i]) for i in range(0, len(parents), 2)}
        reached = {mark for node in tree.walk() for mark in node.marks}
        page = document.pages[last - 1]
        assert int(page.StructParents) in mapped
        for tag, properties, in_artifact in sequences(page):
            if tag != "/Artifact" and not in_artifact:
                assert (page.obj.objgen, int(properties.MCID)) in reached
    text = " ".join(pdf_text(pdf, page=last).split())
    assert text.count(TITLE) == 1
    for sentence in SAID:
        assert sentence in text
    assert TITLE not in " ".join(pdf_text(pdf, page=last - 1).split())
    assert conformance_problems(pdf.read_bytes()) == []


def test_the_bars_stand_in_the_left_margin_of_the_pdf(annexed: Path, tmp_path: Path) -> None:
    """A bar is a thin dark rule left of the text column, beside the changed
    key point (and nowhere beside the unchanged ones)."""
    subprocess.run(["pdftoppm", "-r", "72", "-f", "3", "-l", "3", "-gray", "-png",
                    str(annexed / f"{STEM}.pdf"), str(tmp_path / "page")], check=True)
    from PIL import Image

    image = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    words = subprocess.run(["pdftotext", "-bbox", "-f", "3", "-l", "3",
                            str(annexed / f"{STEM}.pdf"), "-"], capture_output=True,
                           text=True, check=True).stdout
    boxes = {m.group(5): (float(m.group(1)), float(m.group(2)), float(m.group(4)))
             for m in re.finditer(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                                  r'yMax="([\d.]+)">([^<]+)<', words)}
    margin = min(x for x, _, _ in boxes.values())  # the text column's left edge

    def dark_left_of(word: str) -> bool:
        _, top, bottom = boxes[word]
        return any(image.getpixel((column, int((top + bottom) / 2))) < 128
                   for column in range(int(margin) - 14, int(margin) - 4))
    assert dark_left_of("third") and dark_left_of("half")
    assert not dark_left_of("First") and not dark_left_of("one")


def test_the_docx_carries_the_annex_and_passes_the_schema(annexed: Path) -> None:
    docx = annexed / f"{STEM}.docx"
    blocks = docx_blocks(docx)
    blocks = [(style, words(text)) for style, text in blocks]
    at = blocks.index(("Heading 1", TITLE))
    listed = [text for style, text in blocks[at:] if style == "List Bullet"]
    assert listed == SAID
    assert OpenXmlValidator(max_errors=0).validate(docx).errors == []


def test_the_html_edition_carries_the_annex_and_the_bars(annexed: Path) -> None:
    page = lxml.html.document_fromstring((annexed / f"{STEM}.html").read_bytes())
    annex = page.xpath("//section[@class='changes']")[0]
    assert words(annex.findtext("h2")) == TITLE  # one level down, under the page's h1
    assert len(page.xpath("//li[contains(@class, 'changed')]")) == 2
    assert "tr.changed > td:first-child" in page.xpath("//style")[0].text


def test_the_html_edition_with_its_annex_passes_axe_and_reflows(annexed: Path) -> None:
    from browser import axe_violations, chromium, overflow

    with chromium() as browser:
        browser.get((annexed / f"{STEM}.html").as_uri())
        assert axe_violations(browser) == []
        for width in (320, 1280):
            scroll, viewport = overflow(browser, width)
            assert scroll <= viewport, (width, scroll, viewport)


def test_the_archived_source_carries_the_version_the_annex_reads(annexed: Path) -> None:
    """Version 2, published from here, holds version 1's content in its source,
    so verify rebuilds the annex from the PDF's attachment alone; and the
    annex says what the bag's changes.json says."""
    from briefing.archive.snapshot import source_files
    from briefing.changes.annex import annex
    from briefing.changes.report import as_json
    from briefing.content.load import gather

    loaded = gather(annexed)
    files = source_files(loaded, "sample")
    assert f"archive/{V1}/data/source/content/briefs/sample.yaml" in files
    assert not any(name.startswith(f"archive/{V1}/data/source/templates/print")
                   for name in files)
    found = annex(annexed, loaded.project, "sample")
    assert found is not None and found.since.identifier == V1
    record = json.loads(as_json(found.changes, found.since))
    assert [c["said"]["en"]["text"] for c in record["changes"]] == SAID


def test_version_2_carries_the_annex_against_version_1_as_its_bag_records(
        annexed: Path) -> None:
    data = annexed / "archive/2020-01-15_sample_v2/data"
    text = " ".join(pdf_text(data / "2020-01-15_sample_en.pdf").split())
    assert text.count(TITLE) == 2  # the contents, the annex
    record = json.loads((data / "changes.json").read_bytes())
    assert [c["said"]["en"]["text"] for c in record["changes"]] == SAID
    for sentence in SAID:
        assert sentence in text
    blocks = [(style, words(text)) for style, text in
              docx_blocks(data / "2020-01-15_sample_en.docx")]
    assert [t for s, t in blocks[blocks.index(("Heading 1", TITLE)):]
            if s == "List Bullet"] == SAID
    assert f"archive/{V1}/data/source/content/briefs/sample.yaml" in {
        path.relative_to(data / "source").as_posix()
        for path in (data / "source").rglob("*.yaml")}


def test_the_redline_tracks_the_edit_and_survives_libreoffice(annexed: Path,
                                                              tmp_path: Path) -> None:
    before = (annexed / f"archive/{V1}/data/2020-01-15_sample_en.docx").read_bytes()
    after = (annexed / f"{STEM}.docx").read_bytes()
    redline = tmp_path / "redline.docx"
    redline.write_bytes(tracked(before, after, "2020-01-15T00:00:00Z"))
    assert tracked(before, after, "2020-01-15T00:00:00Z") == redline.read_bytes()
    assert OpenXmlValidator(max_errors=0).validate(redline).errors == []

    def changes(path: Path) -> tuple[list[str], list[str], set[str]]:
        with zipfile.ZipFile(path) as package:
            xml = package.read("word/document.xml").decode()
        ns = f'xmlns:w="{W}"'
        assert ns in xml
        inserted = re.findall(r"<w:ins [^>]*>((?:(?!</w:ins>).)*)</w:ins>", xml)
        deleted = re.findall(r"<w:del [^>]*>((?:(?!</w:del>).)*)</w:del>", xml)
        text = [re.sub(r"<[^>]+>", "", found) for found in inserted]
        gone = [re.sub(r"<[^>]+>", "", found) for found in deleted]
        return text, gone, set(re.findall(r'w:author="([^"]*)"', xml))

    inserted, deleted, authors = changes(redline)
    assert authors == {AUTHOR}
    assert {"1997", "A third point, new in this version.", " and a half",
            "ratified"} <= set(inserted)
    assert deleted == ["1996", "signed"]
    # this build's own annex is new too (`changes --format redline` renders without it)
    assert TITLE in [words(text) for text in inserted]
    soffice = shutil.which("soffice")
    assert soffice is not None
    subprocess.run([soffice, "--headless", "--convert-to", "docx", "--outdir",
                    str(tmp_path / "lo"), str(redline)], capture_output=True, timeout=180,
                   check=True)
    inserted, deleted, authors = changes(tmp_path / "lo" / "redline.docx")
    assert authors == {AUTHOR}
    for path in (redline, tmp_path / "lo" / "redline.docx"):  # an official's edits tracked too
        with zipfile.ZipFile(path) as package:
            assert b"<w:trackRevisions/>" in package.read("word/settings.xml")
    assert {"1997", " and a half", "ratified"} <= set(inserted)
    assert deleted == ["1996", "signed"]


def test_the_redline_command_renders_both_versions_without_their_annex(
        annexed: Path, tmp_path: Path) -> None:
    out = tmp_path / "redline.docx"
    result = run_in_process(annexed, "changes", "sample", "--since", "1", "--format",
                            "redline", "-o", str(out))
    assert (result.code, result.out) == (0, f"wrote {out}\n"), result.err
    with zipfile.ZipFile(out) as package:
        xml = package.read("word/document.xml").decode()
    shown = " ".join(re.sub(r"<[^>]+>", " ", xml).split())  # no-break spaces too
    assert "A third point, new in this version." in shown
    assert "Changes since the edition of" not in shown
    inserted = [re.sub(r"<[^>]+>", "", found) for found in
                re.findall(r"<w:ins [^>]*>((?:(?!</w:ins>).)*)</w:ins>", xml)]
    assert {"1997", "A third point, new in this version.", " and a half",
            "ratified"} <= set(inserted)
    result = run_in_process(annexed, "changes", "sample", "--format", "redline")
    assert result.code == 2 and "-o FILE.docx" in result.err


@pytest.fixture(scope="module")
def languages(annexed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample in three languages with its note, version 1 being the
    published source of the same (what publish keeps and the annex reads)."""
    def make(project: Path) -> None:
        make_project(project)
        brief = project / "content/briefs/sample.yaml"
        brief.write_text(brief.read_text("utf-8").replace(
            "languages: [en]\n", "languages: [en, ru, az]\ndocuments: [report, note]\n"
            "contact:\n  name: A. Person\n  email: a.person@example.org\n").replace(
            "  - First point.\n", "  - First point.\n  - Another point.\n"), "utf-8")
        source = project / f"archive/{V1}/source"
        shutil.copytree(project / "content", source / "content")
        shutil.copytree(project / "templates/i18n", source / "templates/i18n")
        bagit.make_bag(str(source.parent))  # data/source/, with the manifest checked of it
        edit(project)
        result = run_in_process(project, "build", "--format", "semantic")
        assert result.code == 0, result.err
        result = run_in_process(project, "build", "--format", "pdf", "--lang", "ru")
        assert result.code == 0, result.err  # the note still fits its page, or this fails
    return made_once(tmp_path_factory, "change-annex-languages", make)


@pytest.mark.parametrize(("language", "title", "pointer"), [
    ("en", TITLE, "4 changes since the edition of 15 January 2020"),
    ("ru", "Изменения с редакции от 15 января 2020\u202fг. (версия 1)",
     "4 изменения с редакции от 15 января 2020\u202fг."),
    ("az", "15 yanvar 2020 tarixli nəşrdən bəri dəyişikliklər (versiya 1)",
     "15 yanvar 2020 tarixli nəşrdən bəri 4 dəyişiklik")])
def test_every_language_has_the_annex_and_the_note_its_pointer(
        languages: Path, language: str, title: str, pointer: str) -> None:
    folder = languages / "output/sample"
    report = (folder / f"2020-01-15_sample_{language}.semantic.html").read_text("utf-8")
    annex = annex_of(report)
    assert words(annex.findtext("h1")) == words(title)
    assert len(list(annex.iter("li"))) == 4
    note = lxml.html.document_fromstring(
        (folder / f"2020-01-15_sample_note_{language}.semantic.html").read_bytes())
    assert [words(p.text) for p in note.xpath("//p[contains(@class, 'note-changes')]")
            ] == [words(pointer)]
    assert not note.xpath("//section[@class='changes']")


def test_the_note_with_its_pointer_is_one_page(languages: Path) -> None:
    note = languages / "output/sample/2020-01-15_sample_note_ru.pdf"
    with pikepdf.open(note) as document:
        assert len(document.pages) == 1
    assert "4 изменения с редакции от 15 января 2020" in " ".join(pdf_text(note).split())


def test_a_brief_can_switch_the_annex_off(languages: Path, tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(languages, project, symlinks=True)
    brief = project / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text("utf-8") + "change_annex: false\n", "utf-8")
    result = run_in_process(project, "build", "--format", "semantic", "--lang", "en")
    assert result.code == 0, result.err
    html = (project / "output/sample/2020-01-15_sample_en.semantic.html").read_text("utf-8")
    assert "class=\"changes\"" not in html and "changed" not in html
    # switched on again, against a version that had it off: the switch is no change
    brief.write_text(brief.read_text("utf-8").replace("change_annex: false\n", ""), "utf-8")
    old = project / f"archive/{V1}/data/source/content/briefs/sample.yaml"
    old.write_text(old.read_text("utf-8") + "change_annex: false\n", "utf-8")
    bagit.Bag(str(project / "archive" / V1)).save(manifests=True)  # as if published so
    result = run_in_process(project, "build", "--format", "semantic", "--lang", "en")
    assert result.code == 0, result.err
    annex = annex_of((project / "output/sample/2020-01-15_sample_en.semantic.html"
                      ).read_text("utf-8"))
    assert [" ".join(li.findtext("p").split()) for li in annex.iter("li")] == SAID


def test_a_version_published_elsewhere_is_seen_by_the_next_build(languages: Path,
                                                                 tmp_path: Path) -> None:
    """The cache knows the annex's previous version: a version 2 arriving in
    archive/ (another checkout published it) makes the next build compare
    with it, although no file of the brief changed."""
    project = tmp_path / "p"
    shutil.copytree(languages, project, symlinks=True)
    assert "built 0 file(s)" in run_in_process(project, "build", "--format", "semantic").out
    v2 = project / "archive/2020-01-15_sample_v2/source"
    shutil.copytree(project / f"archive/{V1}/data/source", v2)
    brief = v2 / "content/briefs/sample.yaml"
    text = brief.read_text("utf-8")
    for old, new in EDITS[:3]:  # all of the edit but the meeting's outcome
        text = text.replace(old, new)
    brief.write_text(text, "utf-8")
    bagit.make_bag(str(v2.parent))
    result = run_in_process(project, "build", "--format", "semantic")
    assert result.code == 0, result.err
    annex = annex_of((project / "output/sample/2020-01-15_sample_en.semantic.html"
                      ).read_text("utf-8"))
    assert words(annex.findtext("h1")) == TITLE.replace("version 1", "version 2")
    assert [" ".join(li.findtext("p").split()) for li in annex.iter("li")] == SAID[3:]


def test_a_changed_title_is_barred_in_the_text_not_beside_every_running_header() -> None:
    """The running header repeats the title on every page: a bar there would
    stand beside every page's header. The title's bar is where it stands."""
    from briefing.changes.annex import bars

    field = "content/briefs/x.yaml#title.en"
    html = (f'<html><body><header class="page-header"><p>Service · '
            f'<span data-field="{field}">New title</span></p></header>'
            f'<h1 data-field="{field}">New title</h1><p>Unchanged.</p>'
            f'<footer class="page-footer"><p data-field="{field}">New title</p></footer>'
            f'</body></html>')
    page = lxml.html.document_fromstring(bars(html, {field: None}))
    barred = page.xpath("//*[contains(concat(' ', @class, ' '), ' changed ')]")
    assert [element.tag for element in barred] == ["h1"]
