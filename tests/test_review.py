"""`briefing review`: an official's returned DOCX read back field by field (#24).

One small two-language brief (English and Russian) is built once as DOCX.
The returned files are made the ways real clients make them: edited at the
XML level the way Word writes (split runs, a field's text in several runs,
w:ins/w:del with author and date, a comment range with comments.xml, a
paragraph typed outside the fields, an anchor lost); opened and saved by
LibreOffice; edited through LibreOffice's own automation (tests/uno_edit.py,
one LibreOffice process for every file). Each is reviewed in process.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, copy_project, made_once, make_project, run_in_process
from lxml import etree
from openxml_audit import OpenXmlValidator

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
EN = "output/review/2021-05-04_review_en.docx"
RU = "output/review/2021-05-04_review_ru.docx"
BRIEF = "content/briefs/review.yaml"
UNO_PYTHON = "/usr/bin/python3"  # Debian's python3-uno: LibreOffice's own `uno` module
OFFICIAL = "Ann Official"
WHEN = "2021-06-01T10:00:00Z"

YAML = """\
# The brief an official returns, for tests/test_review.py: comments, flow
# style and quoting must survive `review --apply`.
title: {en: Review brief, ru: Обзорная справка}  # flow style, kept
date: 2021-05-04
reference: R-1
marking: FOR OFFICIAL USE
languages: [en, ru]
department:
  en: Test Department
  ru: Тестовый отдел
summary:
  en: The summary says what the brief is for.
  ru: Резюме говорит, для чего эта справка.
key_points:
  # the points an official is likely to reword
  - en: The office opened in 1996.
    ru: Офис открылся в 1996 году.
  - en: 'Cooperation grows every year.'  # single-quoted, kept
    ru: "Сотрудничество растёт с каждым годом."
sections:
  - id: profile
    title: {en: Partner profile, ru: Профиль партнёра}
    body:
      en: |
        The first paragraph of **prose** stays as it is.

        The second paragraph will be edited by the official.
      ru: |
        Первый абзац **прозы** остаётся как есть.

        Второй абзац официальное лицо изменит.[^a]

        [^a]: Сноска ко второму абзацу.
"""


def w(name: str) -> str:
    return f"{{{W}}}{name}"


def built_once(factory: pytest.TempPathFactory, name: str, brief: str, text: str) -> Path:
    """A project holding only `brief` (its YAML `text`), built as DOCX once per
    session and shared by the test workers."""
    def make(folder: Path) -> None:
        make_project(folder, files={"content/briefs/sample.yaml": "", brief: text})
        result = run_in_process(folder, "build", "--format", "docx")
        assert result.code == 0, result.err
    return made_once(factory, name, make)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The review brief's project, built as DOCX once per session."""
    return built_once(tmp_path_factory, "review", BRIEF, YAML)


@pytest.fixture(scope="session")
def libreoffice_files(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files saved by LibreOffice, all in one LibreOffice process: the English
    edition opened and saved (docx -> docx), the Russian one edited through
    UNO (a tracked change, a plain edit, a new paragraph), and the
    Word-edited English file (its comments and tracked changes) opened and
    saved."""
    def make(folder: Path) -> None:
        folder.mkdir(parents=True)
        word_like(built / EN, folder / "word_en.docx")
        jobs = [
            {"in": str(built / EN), "out": str(folder / "round_trip_en.docx")},
            {"in": str(folder / "word_en.docx"), "out": str(folder / "word_then_lo_en.docx")},
            {"in": str(built / RU), "out": str(folder / "uno_ru.docx"), "author": "Olga Official",
             "edits": [{"replace": "1996", "by": "1997", "tracked": True},
                       {"replace": "эта справка", "by": "эта короткая справка"},
                       {"comment": "Уточнить у юристов", "on": "Тестовый отдел",
                        "date": "2021-06-02"},
                       {"paragraph_after": "Второй абзац", "text": "Новый абзац."}]},
        ]
        (folder / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
        subprocess.run([UNO_PYTHON, str(REPO / "tests" / "uno_edit.py"), str(folder / "profile"),
                        str(folder / "jobs.json")], check=True, timeout=240)
        shutil.rmtree(folder / "profile")
    return made_once(tmp_path_factory, "review-libreoffice", make)


# -- returned files edited the way Word writes them ------------------------------------

def edit_docx(source: Path, target: Path, edit: Callable[[etree._Element, dict], None]) -> None:
    """Copy a DOCX, changing word/document.xml (and adding parts) through `edit`."""
    with zipfile.ZipFile(source) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    document = etree.fromstring(parts["word/document.xml"])
    edit(document, parts)
    parts["word/document.xml"] = etree.tostring(document, xml_declaration=True,
                                                encoding="UTF-8", standalone=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)


def sdt(document: etree._Element, tag: str) -> etree._Element:
    [found] = [e for e in document.iter(w("sdt"))
               if e.find(f"{w('sdtPr')}/{w('tag')}").get(w("val")) == tag]
    return found


def runs(*texts: str, kind: str = "t") -> list[etree._Element]:
    out = []
    for text in texts:
        run = etree.Element(w("r"))
        t = etree.SubElement(run, w(kind))
        t.text = text
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        out.append(run)
    return out


def change(kind: str, number: int, *texts: str) -> etree._Element:
    element = etree.Element(w(kind), {w("id"): str(number), w("author"): OFFICIAL,
                                      w("date"): WHEN})
    element.extend(runs(*texts, kind="delText" if kind == "del" else "t"))
    return element


def set_content(control: etree._Element, *children: etree._Element) -> None:
    content = control.find(w("sdtContent"))
    for old in list(content):
        content.remove(old)
    content.extend(children)


def add_comment(parts: dict, number: int, author: str, text: str) -> None:
    """comments.xml, its relationship and content type, as Word adds them."""
    comments = parts.get("word/comments.xml")
    root = etree.fromstring(comments) if comments else etree.Element(w("comments"),
                                                                      nsmap={"w": W})
    comment = etree.SubElement(root, w("comment"), {w("id"): str(number), w("author"): author,
                                                    w("date"): WHEN, w("initials"): "AO"})
    etree.SubElement(etree.SubElement(comment, w("p")), w("r")).append(runs(text)[0][0])
    parts["word/comments.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if comments is None:
        rels = parts["word/_rels/document.xml.rels"].decode()
        parts["word/_rels/document.xml.rels"] = rels.replace("</Relationships>", (
            '<Relationship Id="rIdReview1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/comments" Target="comments.xml"/>'
            "</Relationships>")).encode()
        types = parts["[Content_Types].xml"].decode()
        parts["[Content_Types].xml"] = types.replace("</Types>", (
            '<Override PartName="/word/comments.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/></Types>')).encode()


def comment_around(control: etree._Element, number: int) -> None:
    control.addprevious(etree.Element(w("commentRangeStart"), {w("id"): str(number)}))
    control.addnext(etree.Element(w("commentRangeEnd"), {w("id"): str(number)}))
    reference = etree.Element(w("r"))
    etree.SubElement(reference, w("commentReference"), {w("id"): str(number)})
    control.getnext().addnext(reference)


def unwrap(document: etree._Element, tag: str) -> None:
    """A field's anchors gone (copied and pasted elsewhere): its runs stay, its
    content control and bookmark do not."""
    control = sdt(document, tag)
    paragraph = control.getparent()
    for child in control.find(w("sdtContent")):
        control.addprevious(child)
    paragraph.remove(control)
    for mark in list(paragraph):
        if mark.tag in (w("bookmarkStart"), w("bookmarkEnd")) and (
                mark.get(w("name"), "").startswith("_F") or (mark.get(w("id"), "").isdigit()
                and int(mark.get(w("id"))) >= 100_000)):
            paragraph.remove(mark)


def word_like(source: Path, target: Path) -> None:
    """The English edition as an official's Word returns it."""
    def edit(document: etree._Element, parts: dict) -> None:
        # A plain edit, its text in three runs (Word splits runs at every edit).
        set_content(sdt(document, f"{BRIEF}#key_points[1].en@en"),
                    *runs("Cooperation ", "grows", " steadily."))
        # Tracked changes, not yet accepted.
        set_content(sdt(document, f"{BRIEF}#key_points[0].en@en"),
                    *runs("The office opened in "), change("del", 901, "1996"),
                    change("ins", 902, "1997"), *runs("."))
        # A comment on the title.
        comment_around(sdt(document, f"{BRIEF}#title.en@en"), 5)
        add_comment(parts, 5, OFFICIAL, "Check with the legal department")
        # Formatting only: the department made bold and italic.
        for run in sdt(document, f"{BRIEF}#department.en@en").iter(w("r")):
            properties = run.find(w("rPr"))
            if properties is None:
                properties = etree.Element(w("rPr"))
                run.insert(0, properties)
            properties.append(etree.Element(w("b")))
            properties.append(etree.Element(w("i")))
        # The second paragraph of the prose, reworded.
        set_content(sdt(document, f"{BRIEF}#sections[0].body.en@en/2"),
                    *runs("The second paragraph was ", "rewritten", " by the official."))
        # A paragraph typed after the summary, outside any field.
        summary = sdt(document, f"{BRIEF}#summary.en@en").getparent()
        added = etree.Element(w("p"))
        added.extend(runs("A sentence the official added."))
        summary.addnext(added)
        # Anchors lost, the text kept (a copy and paste): found by their text, a
        # whole paragraph and a field among other text in a heading.
        unwrap(document, f"{BRIEF}#summary.en@en")
        unwrap(document, f"{BRIEF}#sections[0].title.en@en")
    edit_docx(source, target, edit)


def review(project: Path, returned: Path, *args: str) -> tuple[int, list[str], str]:
    result = run_in_process(project, "review", str(returned), *args)
    assert "Traceback" not in result.err, result.err
    return result.code, result.out.splitlines(), result.err


# -- what every DOCX carries ------------------------------------------------------------

def test_every_field_is_marked_by_a_content_control_a_bookmark_and_the_map(built: Path) -> None:
    for name, language in ((EN, "en"), (RU, "ru")):
        with zipfile.ZipFile(built / name) as package:
            document = etree.fromstring(package.read("word/document.xml"))
            custom = package.read("docProps/custom.xml").decode()
            item = next(package.read(n) for n in package.namelist()
                        if n.startswith("customXml/item") and b"urn:x-briefing" in
                        package.read(n) and "Props" not in n)
        tags = [e.get(w("val")) for e in document.iter(w("tag"))]
        assert f"{BRIEF}#key_points[1].{language}@{language}" in tags
        assert f"{BRIEF}#sections[0].body.{language}@{language}/2" in tags  # prose: 2 paragraphs
        assert "content/publisher.yaml#name@" + language in tags
        control = sdt(document, f"{BRIEF}#title.{language}@{language}")
        # A tag, an id and Word 2013's hidden appearance (older Words ignore it):
        # no lock, no placeholder, no box, nothing shown or locked.
        w15 = "{http://schemas.microsoft.com/office/word/2012/wordml}"
        properties = control.find(w("sdtPr"))
        assert [child.tag for child in properties] == [w("tag"), w("id"), f"{w15}appearance"]
        assert properties[2].get(f"{w15}val") == "hidden"
        assert properties.get("{http://schemas.openxmlformats.org/markup-compatibility/2006}"
                              "Ignorable") == "w15"
        text = "".join(t.text for t in control.iter(w("t")))
        assert text == {"en": "Review brief", "ru": "Обзорная справка"}[language]
        names = {e.get(w("name")) for e in document.iter(w("bookmarkStart"))}
        marks = etree.fromstring(item)
        fields = marks.findall("{urn:x-briefing:edition:1}fields/{urn:x-briefing:edition:1}field")
        assert len(fields) == len(tags)
        assert {f.get("bookmark") for f in fields} <= names
        assert all(len(f.get("bookmark")) <= 40 for f in fields)  # Word's limit
        assert all(len(tag) <= 64 for tag in tags)  # Word's limit for a tag
        assert marks.get("brief") == "review" and marks.get("language") == language
        assert f"<vt:lpwstr>{language}</vt:lpwstr>" in custom
        assert OpenXmlValidator(max_errors=0).validate(built / name).errors == []


def test_an_unchanged_edition_has_nothing_to_review(built: Path) -> None:
    code, lines, err = review(built, built / RU)
    assert (code, lines) == (0, [])
    assert "nothing to review" in err


# -- returned files -------------------------------------------------------------------------

def test_edits_made_the_way_word_writes_them_map_back_to_their_fields(
        built: Path, tmp_path: Path) -> None:
    returned = tmp_path / "returned.docx"
    word_like(built / EN, returned)
    code, lines, err = review(built, returned)
    assert code == 1, err
    assert lines == [
        'content/briefs/review.yaml:3:13: title.en: comment by Ann Official on '
        '2021-06-01T10:00:00Z on "Review brief": "Check with the legal department"',
        'content/briefs/review.yaml:12:7: summary.en: text outside any field, after this '
        'field: added "A sentence the official added."',
        'content/briefs/review.yaml:16:9: key_points[0].en: tracked deletion "1996" by '
        'Ann Official on 2021-06-01T10:00:00Z, not yet accepted',
        'content/briefs/review.yaml:16:9: key_points[0].en: tracked insertion "1997" by '
        'Ann Official on 2021-06-01T10:00:00Z, not yet accepted',
        'content/briefs/review.yaml:18:9: key_points[1].en: changed "Cooperation grows every '
        'year." \u2192 "Cooperation grows steadily."',
        'content/briefs/review.yaml:24:11: sections[0].body.en: changed "\u2026is. \u00b6 The '
        'second paragraph will be edited by the official." \u2192 "\u2026is. \u00b6 The second '
        'paragraph was rewritten by the official."',
    ]


def test_a_docx_opened_and_saved_by_libreoffice_has_nothing_to_review(
        built: Path, libreoffice_files: Path) -> None:
    code, lines, err = review(built, libreoffice_files / "round_trip_en.docx")
    assert (code, lines) == (0, []), err
    # LibreOffice drops the content controls' tags: every field is found by its bookmark.
    from briefing.review.returned import read_returned

    returned = read_returned(libreoffice_files / "round_trip_en.docx", "round_trip_en.docx")
    assert not returned.lost
    assert {found.how for found in returned.found.values()} == {"bookmark"}
    assert len(returned.found) == len(returned.marks) == 10



def test_word_edits_read_the_same_once_libreoffice_saved_them(
        built: Path, libreoffice_files: Path, tmp_path: Path) -> None:
    """Comments, tracked changes, split runs and a lost anchor, as LibreOffice
    writes them back (it drops the content controls' tags: bookmarks and text
    place the fields)."""
    word_like(built / EN, tmp_path / "word_en.docx")
    _, expected, _ = review(built, tmp_path / "word_en.docx")
    code, lines, err = review(built, libreoffice_files / "word_then_lo_en.docx")
    assert (code, lines) == (1, expected), err


def test_edits_through_libreoffice_automation_map_back_in_russian(
        built: Path, libreoffice_files: Path) -> None:
    code, lines, err = review(built, libreoffice_files / "uno_ru.docx")
    assert code == 1, err
    stamped = [re.sub(r" on \d{4}-\d\d-\d\dT[\d:]+Z", " on DATE", line) for line in lines]
    assert stamped == [
        'content/briefs/review.yaml:10:7: department.ru: comment by Olga Official on DATE on '
        '"Тестовый отдел": "Уточнить у юристов"',
        'content/briefs/review.yaml:13:7: summary.ru: changed "Резюме говорит, для чего эта '
        'справка." \u2192 "Резюме говорит, для чего эта короткая справка."',
        'content/briefs/review.yaml:17:9: key_points[0].ru: tracked deletion "1996" by Olga '
        'Official on DATE, not yet accepted',
        'content/briefs/review.yaml:17:9: key_points[0].ru: tracked insertion "1997" by Olga '
        'Official on DATE, not yet accepted',
        'content/briefs/review.yaml:28:11: sections[0].body.ru: text outside any field, after '
        'this field: added "Новый абзац."',
    ]


def test_apply_writes_the_edits_into_the_yaml_as_the_editor_wrote_it(
        built: Path, tmp_path: Path) -> None:
    """Comments, key order, quoting, flow style and block scalars stay; a field
    the editor changed since the edition was built is refused with both texts;
    comments and text outside the fields stay for the editor; check runs."""
    project = copy_project(built, tmp_path / "project")
    returned = tmp_path / "returned.docx"
    word_like(built / EN, returned)
    before = YAML.replace("Cooperation grows every year.", "Cooperation grows every month.")
    (project / BRIEF).write_text(before, encoding="utf-8")  # the editor's own change since
    code, lines, err = review(project, returned, "--apply", "--accept-tracked")
    after = (project / BRIEF).read_text(encoding="utf-8")
    diff = [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                                  lineterm="", n=0) if line[:3] not in "---+++"]
    assert diff == [
        "@@ -16 +16 @@",
        "-  - en: The office opened in 1996.",
        "+  - en: The office opened in 1997.",
        "@@ -27 +27 @@",
        "-        The second paragraph will be edited by the official.",
        "+        The second paragraph was rewritten by the official.",
    ]
    assert code == 1, err  # things are left for the editor
    assert lines[:2] == [
        'content/briefs/review.yaml:16:9: key_points[0].en: applied: "The office opened in '
        '1996." \u2192 "The office opened in 1997."',
        'content/briefs/review.yaml:24:11: sections[0].body.en: applied: "\u2026is. \u00b6 The '
        'second paragraph will be edited by the official." \u2192 "\u2026is. \u00b6 The second '
        'paragraph was rewritten by the official."',
    ]
    assert lines[2:] == [
        'content/briefs/review.yaml:3:13: title.en: comment by Ann Official on '
        '2021-06-01T10:00:00Z on "Review brief": "Check with the legal department"',
        'content/briefs/review.yaml:12:7: summary.en: text outside any field, after this '
        'field: added "A sentence the official added."',
        'content/briefs/review.yaml:18:9: key_points[1].en: not applied: the YAML changed '
        'since the edition was built: built as "Cooperation grows every year.", the YAML now '
        'reads "Cooperation grows every month."; the official wrote "Cooperation grows '
        'steadily."',
    ]
    assert "check: ok (review)" in err
    # Applied, the same file has nothing left to apply but what the editor must decide.
    code, lines, _ = review(project, returned, "--format", "html", "-o", str(tmp_path / "r.html"))
    assert code == 1
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Cooperation grows every <del>year.</del> <ins>month.</ins>" in page  # since built
    assert "Check with the legal department" in page


def test_transfer_keeps_the_markup_the_edition_does_not_show() -> None:
    from briefing.review.apply import transfer

    assert transfer("Second point with bold text.", "Second point with strong text.",
                    "Second point with **bold** text.") == "Second point with **strong** text."
    assert transfer("Prose one.\nProse two.", "Prose one.\nProse 2.",
                    "Prose one.\n\nProse two.\n") == "Prose one.\n\nProse 2.\n"
    assert transfer("8\u00a0November 1999", "9\u00a0November 1999", "1999-11-08") is None
    assert transfer("A\u00a0B", "A\u00a0B and C\u00a0D", "A B") == "A B and C D"


def test_what_cannot_be_placed_is_named_and_edits_outside_the_fields_are_kept(
        built: Path, tmp_path: Path) -> None:
    def edit(document: etree._Element, parts: dict) -> None:
        point = sdt(document, f"{BRIEF}#key_points[1].ru@ru").getparent()
        point.getparent().remove(point)  # the key point deleted, anchors and text
        heading = next(p for p in document.iter(w("p"))
                       if "".join(t.text or "" for t in p.iter(w("t"))) == "Основные положения")
        start, end = heading.find(w("r")), heading.findall(w("r"))[-1]
        start.addprevious(etree.Element(w("commentRangeStart"), {w("id"): "3"}))
        end.addnext(etree.Element(w("commentRangeEnd"), {w("id"): "3"}))
        add_comment(parts, 3, OFFICIAL, "Сократить")
        for name in [n for n in parts if n.startswith("word/header")]:  # the running marking
            parts[name] = parts[name].replace(b"FOR OFFICIAL USE",
                                              "ДЛЯ СЛУЖЕБНОГО ПОЛЬЗОВАНИЯ".encode())
        notes = parts["word/footnotes.xml"].decode()  # a footnote reworded
        parts["word/footnotes.xml"] = notes.replace("Сноска ко второму абзацу.",
                                                    "Сноска изменена.").encode()
    returned = tmp_path / "returned_ru.docx"
    edit_docx(built / RU, returned, edit)
    code, lines, err = review(built, returned)
    assert code == 1, err
    assert lines == [
        'content/briefs/review.yaml:1:1: page header or footer: added "ДЛЯ СЛУЖЕБНОГО '
        'ПОЛЬЗОВАНИЯ"',  # the footer still says FOR OFFICIAL USE: nothing removed
        'content/briefs/review.yaml:13:7: summary.ru: comment by Ann Official on '
        '2021-06-01T10:00:00Z on "Основные положения", outside any field (after summary.ru): '
        '"Сократить"',
        'content/briefs/review.yaml:19:9: key_points[1].ru: not found in the returned file: '
        'its anchors and its text are gone (built as "Сотрудничество растёт с каждым годом."); '
        'removed, or moved and rewritten: see the file',
        'content/briefs/review.yaml:28:11: sections[0].body.ru: footnote 1: changed "Сноска ко '
        'второму абзацу." \u2192 "Сноска изменена."',
    ]


def test_apply_writes_only_files_the_project_loaded(built: Path, tmp_path: Path) -> None:
    """A returned file is the official's, not the editor's: a map that names a
    file outside content/ (forged, or from another project) writes nothing."""
    project = copy_project(built, tmp_path / "project")
    forged = "../outside.yaml#title"

    def edit(document: etree._Element, parts: dict) -> None:
        set_content(sdt(document, f"{BRIEF}#title.en@en"), *runs("Forged title"))
        for name in [n for n in parts if n.startswith("customXml/item")]:
            parts[name] = parts[name].replace(f'address="{BRIEF}#title.en"'.encode(),
                                              f'address="{forged}"'.encode())
    returned = tmp_path / "forged.docx"
    edit_docx(built / EN, returned, edit)
    code, lines, err = review(project, returned, "--apply")
    assert code == 1, err
    assert lines == ['../outside.yaml:1:1: title: not applied: the returned file names a field '
                     'this project did not load; the official wrote "Forged title"']
    assert not (tmp_path / "outside.yaml").exists()
    assert (project / BRIEF).read_text(encoding="utf-8") == YAML


def test_a_folded_block_is_folded_again_at_its_width() -> None:
    import io as _io

    from ruamel.yaml import YAML as Yaml

    from briefing.review.apply import _styled

    yaml = Yaml()
    data = yaml.load("summary: >\n  The intergovernmental organisation for migration. "
                     "It has worked\n  in the country since 1996.\n")
    data["summary"] = _styled(data["summary"], "The UN-related organisation for migration. "
                              "It has worked in the country since 1996, and it still does.\n")
    out = _io.StringIO()
    yaml.dump(data, out)
    assert out.getvalue() == (
        "summary: >\n  The UN-related organisation for migration. It has worked in the\n"
        "  country since 1996, and it still does.\n")


def test_a_long_address_makes_a_tag_word_keeps_and_still_unique() -> None:
    from briefing.writers.fields import tag_of

    long_one = "content/partners/moldova-border-police.yaml#agreements[0].ratified_by.ru"
    other = "content/partners/ukraine-border-guard.yaml#agreements[0].ratified_by.ru"
    tags = {tag_of(address, "ru", n) for address in (long_one, other) for n in (0, 1)}
    assert len(tags) == 4 and all(len(tag) <= 64 for tag in tags)
    assert tag_of(long_one, "ru", 0).endswith("ratified_by.ru@ru")
    assert tag_of("content/briefs/x.yaml#title", "en", 0) == "content/briefs/x.yaml#title@en"


# -- what --apply must not write, and how it writes ----------------------------------------

TABLE = """\
title: Table brief
date: 2021-05-04
reference: R-2
marking: FOR OFFICIAL USE
languages: [en]
department: Test Department
sections:
  - id: projects
    title: Projects
    body: The paragraph an official may edit.
    tables:
      - caption: Projects under way
        columns:
          - {key: project, label: Project}
          - {key: lead, label: Lead}
        rows:
          - {project: Border training, lead: Ann Smith}
          - {project: Border training, lead: Bob Jones}
"""


TABLE_BRIEF = "content/briefs/table.yaml"
TABLE_EN = "output/table/2021-05-04_table_en.docx"


@pytest.fixture(scope="session")
def table_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A brief with a table (its text cells are prose), built as DOCX once."""
    return built_once(tmp_path_factory, "review-table", TABLE_BRIEF, TABLE)


def cell(document: etree._Element, ending: str) -> etree._Element:
    """The content control whose tag ends so (a long tag is cut at its start)."""
    [found] = [e for e in document.iter(w("sdt"))
               if e.find(f"{w('sdtPr')}/{w('tag')}").get(w("val")).endswith(ending)]
    return found


def test_apply_refuses_a_row_whose_record_moved_since_the_build(
        table_built: Path, tmp_path: Path) -> None:
    """The editor deleted the table's first row after the build; the official
    edited that row's project, whose text the new first row happens to share:
    the other cells of the row say it is another record now."""
    brief = TABLE_BRIEF
    project = copy_project(table_built, tmp_path / "project")

    def edit(document: etree._Element, parts: dict) -> None:
        set_content(cell(document, ".tables[0].rows[0].project@en"),
                    *runs("Border training in Chisinau"))
    returned = tmp_path / "returned.docx"
    edit_docx(table_built / TABLE_EN, returned, edit)
    before = TABLE.replace("          - {project: Border training, lead: Ann Smith}\n", "")
    (project / brief).write_text(before, encoding="utf-8")
    code, lines, err = review(project, returned, "--apply")
    assert code == 1, err
    assert (project / brief).read_text(encoding="utf-8") == before  # Bob's row untouched
    assert lines == [
        'content/briefs/table.yaml:17:23: sections[0].tables[0].rows[0].project: not applied: '
        'the record sections[0].tables[0].rows[0] changed since the edition was built (its '
        'list moved, or it was edited): sections[0].tables[0].rows[0].lead was built as "Ann '
        'Smith", the YAML now reads "Bob Jones"; the official wrote "Border training in '
        'Chisinau"']


def test_apply_escapes_what_markdown_would_read_in_a_prose_field(
        table_built: Path, tmp_path: Path) -> None:
    """Typed into prose (a section's body, a table's text cell), `*`, `_`,
    brackets, `<`, backticks and the like are the official's characters, not
    markup: the edition shows them as typed (no emphasis, no link, no HTML)."""
    from briefing.review.apply import apply
    from briefing.review.compare import review as compare

    project = copy_project(table_built, tmp_path / "project")
    typed = ("5*3*2, *all*, [annex](http://evil.example), <img src=x>, a_b_c, `code`, "
             "# one | two \\ three.")
    escaped = ("5\\*3\\*2, \\*all\\*, \\[annex\\](http://evil.example), "
               "\\<img src=x\\>, a\\_b\\_c, \\`code\\`, \\# one \\| two \\\\ three.")

    def edit(document: etree._Element, parts: dict) -> None:
        set_content(sdt(document, f"{TABLE_BRIEF}#sections[0].body@en"),
                    *runs("The paragraph: " + typed))
        set_content(cell(document, ".tables[0].rows[1].project@en"), *runs(typed))
    returned = tmp_path / "returned.docx"
    edit_docx(table_built / TABLE_EN, returned, edit)
    outcome = apply(compare(project, returned, "returned.docx"), tracked=False)
    assert [f.field for f in outcome.applied] == ["sections[0].body",
                                                  "sections[0].tables[0].rows[1].project"]
    written = (project / TABLE_BRIEF).read_text(encoding="utf-8")
    assert f"body: 'The paragraph: {escaped}'" in written
    assert f"{{project: '{escaped}', lead: Bob Jones}}" in written
    result = run_in_process(project, "build", "table", "--format", "html")  # checks it too
    assert result.code == 0, result.err
    from lxml import html as lxml_html

    page = lxml_html.parse(str(project / TABLE_EN.replace(".docx", ".html"))).getroot()
    shown = [e for e in page.iter("p", "td") if typed in re.sub(
        "[\u00a0\u202f]", " ", e.text_content()).replace("\u2011", "-")]
    assert [e.tag for e in shown] == ["p", "td"]
    assert [d.tag for e in shown for d in e.iterdescendants()
            if d.tag in ("em", "strong", "a", "img", "code", "h1", "h2")] == []


def test_a_hyphenated_number_in_an_untouched_footnote_is_no_change(
        built: Path, tmp_path: Path) -> None:
    """Word writes a non-breaking hyphen as w:noBreakHyphen: in a footnote too,
    it is the text the map keeps, not a change."""
    def edit(document: etree._Element, parts: dict) -> None:
        notes = etree.fromstring(parts["word/footnotes.xml"])
        [t] = [t for t in notes.iter(w("t")) if t.text == "Сноска ко второму абзацу."]
        t.text = "Сноска к решению 12"
        hyphen, after = etree.Element(w("r")), runs("34.")[0]
        etree.SubElement(hyphen, w("noBreakHyphen"))
        t.getparent().addnext(hyphen)
        hyphen.addnext(after)
        parts["word/footnotes.xml"] = etree.tostring(notes, xml_declaration=True,
                                                     encoding="UTF-8", standalone=True)
        for name in [n for n in parts if n.startswith("customXml/item")]:  # built so
            parts[name] = parts[name].replace("Сноска ко второму абзацу.".encode(),
                                              "Сноска к решению 12\u201134.".encode())
    returned = tmp_path / "returned_ru.docx"
    edit_docx(built / RU, returned, edit)
    code, lines, err = review(built, returned)
    assert (code, lines) == (0, []), err


def test_an_output_that_cannot_be_written_and_tracked_without_apply_are_usage_errors(
        built: Path, tmp_path: Path) -> None:
    for output in (tmp_path / "no" / "such" / "o.html", tmp_path):
        result = run_in_process(built, "review", str(built / RU), "--format", "html", "-o",
                                str(output))
        assert result.code == 2, result.err
        assert "Traceback" not in result.err and f"-o {output}: cannot be written" in result.err
    result = run_in_process(built, "review", str(built / RU), "--accept-tracked")
    assert result.code == 2, result.err
    assert "--accept-tracked is for --apply" in result.err


def test_apply_keeps_the_files_crlf_line_endings(built: Path, tmp_path: Path) -> None:
    from briefing.review.apply import apply
    from briefing.review.compare import review as compare

    project = copy_project(built, tmp_path / "project")
    (project / BRIEF).write_bytes(YAML.replace("\n", "\r\n").encode("utf-8"))
    returned = tmp_path / "returned.docx"
    word_like(built / EN, returned)
    outcome = apply(compare(project, returned, "returned.docx"), tracked=True)
    assert outcome.files == [BRIEF]
    after = (project / BRIEF).read_bytes().decode("utf-8")
    assert after.count("\r\n") == after.count("\n") == YAML.count("\n")
    assert "  - en: The office opened in 1997.\r\n" in after
    assert "        The second paragraph was rewritten by the official.\r\n" in after
