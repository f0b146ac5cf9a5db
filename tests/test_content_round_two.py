"""Content for real briefs, second round (#22): each fact written the natural
way reaches every format in every language, or is refused at its line."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import lxml.html
import pikepdf
import pytest
from conftest import ROOTS, make_project
from readers import cell_text, paragraph_text, pdf_text

from briefing.cli import main
from briefing.files import ProjectFiles

BRIEF = "content/briefs/sample.yaml"
SAMPLE = (ROOTS / "sample" / BRIEF).read_text(encoding="utf-8")
QUOTE = "      - text: A memorable sentence.\n"
FORUM = "      - title: First forum\n        when: 2007-07\n"  # an event of the sample


def build(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["-C", str(project), "build", *args])
    said = capsys.readouterr()
    return code, said.out + said.err


def docx_text(path: Path) -> str:
    """Every paragraph's text, those in table cells included."""
    document = docx.Document(str(path))
    cells = [cell_text(cell) for table in document.tables for row in table.rows
             for cell in row.cells]
    return " ".join([paragraph_text(paragraph) for paragraph in document.paragraphs] + cells)


def shown(project: Path, language: str) -> dict[str, str]:
    """The text a reader gets of each format of the report in `language`."""
    stem = project / f"output/sample/2020-01-15_sample_{language}"
    return {"pdf": " ".join(pdf_text(stem.with_suffix(".pdf")).split()),
            "docx": " ".join(docx_text(stem.with_suffix(".docx")).split()),
            # the HTML edition's text, its no-break spaces and hyphens read as plain ones
            "html": " ".join(lxml.html.parse(str(stem.with_suffix(".html"))).getroot()
                             .text_content().replace("\u2011", "-").split())}


def test_a_translated_quotation_says_so_in_the_languages_it_was_translated_into(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p", files={BRIEF: SAMPLE.replace(
        "languages: [en]", "languages: [en, ru]").replace(QUOTE, (
            "      - text: {en: A memorable sentence., ru: Запоминающаяся фраза.}\n"
            "        original: en\n"))})
    code, said = build(project, capsys, "--allow-fallback")
    assert code == 0, said
    for fmt, text in shown(project, "ru").items():
        assert "(перевод; язык оригинала: английский)" in text, fmt
    for fmt, text in shown(project, "en").items():
        assert "A memorable sentence." in text and "the original is in" not in text, fmt


@pytest.mark.parametrize(("quote", "first"), [
    ("      - text: A memorable sentence.\n        original: en\n",
     "original: the words in their original language are not in `text:`"),
    ("      - text: {ru: Фраза.}\n        original: en\n",
     "original: the words in their original language are not in `text:`"),
    ("      - text: {en: A sentence., ru: Фраза.}\n        original: en\n        language: en\n",
     "language: a quotation in its own language is one text for every edition"),
])
def test_a_translation_without_its_original_is_refused_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], quote: str, first: str) -> None:
    project = make_project(tmp_path / "p", files={BRIEF: SAMPLE.replace(
        "languages: [en]", "languages: [en, ru]").replace(QUOTE, quote)})
    assert main(["-C", str(project), "check", "--allow-fallback"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert any(f"sections[1].quotes[0].{first}" in line for line in lines), lines


ACTIVITIES = "  - id: activities\n    title: Activities\n"


def with_project(shares: str) -> str:
    return SAMPLE.replace("languages: [en]", "languages: [en, ru]").replace(
        ACTIVITIES, ACTIVITIES + "    projects:\n      - title: Border posts\n"
        "        donors: [org]\n        budget: EUR 1000000\n" + shares)


def test_a_budget_says_whose_each_share_is(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p", files={BRIEF: with_project(
        "        shares:\n          - by: org\n            share: 95\n"
        "          - who: {en: the national authorities, ru: национальные органы}\n"
        "            share: 5\n")})
    code, said = build(project, capsys, "--allow-fallback")
    assert code == 0, said
    for language, expected in (("en", ("EXO: 95%", "the national authorities: 5%")),
                               ("ru", ("EXO: 95 %", "национальные органы: 5 %"))):
        for fmt, text in shown(project, language).items():
            flat = text.replace("\u00a0", " ")
            assert all(part in flat for part in expected), (language, fmt)


@pytest.mark.parametrize(("shares", "first"), [
    ("        shares:\n          - by: org\n            who: Others\n            share: 5\n",
     ".shares[0]: a share says whose it is once"),
    ("        shares:\n          - share: 5\n", ".shares[0]: a share says whose it is once"),
    ("        shares:\n          - by: org\n            share: 60\n"
     "          - who: Others\n            share: 50\n", ": the shares add up to 110 %"),
    ("        co_financing: 5\n        shares:\n          - by: org\n            share: 95\n",
     ": `co_financing:` and `shares:` together"),
    ("        shares:\n          - by: nobody\n            share: 95\n",
     ".shares[0].by: no partner with id `nobody`"),
])
def test_a_share_that_does_not_say_whose_it_is_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], shares: str, first: str) -> None:
    project = make_project(tmp_path / "p", files={BRIEF: with_project(shares)})
    assert main(["-C", str(project), "check", "--allow-fallback"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert any(f"sections[1].projects[0]{first}" in line for line in lines), lines


ORG = (ROOTS / "sample" / "content/partners/org.yaml").read_text(encoding="utf-8")
RATIFIED = "    ratified_by: Parliament\n"  # the last line of org's agreement


def test_a_section_shows_the_agreements_of_a_party_whichever_file_holds_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`agreements: [ministry]` shows the agreement written in org's file that
    names the ministry among its parties."""
    project = make_project(tmp_path / "p", files={
        BRIEF: SAMPLE.replace("languages: [en]", "languages: [en, ru]").replace(
            "    agreements: [org]\n", "    agreements: [ministry]\n"),
        "content/partners/org.yaml": ORG.replace(
            "    ratified_by: Parliament\n",
            "    ratified_by: Parliament\n    parties: [org, ministry]\n")})
    code, said = build(project, capsys, "--allow-fallback")
    assert code == 0, said
    for language in ("en", "ru"):
        for fmt, text in shown(project, language).items():
            assert "Agreement on Cooperation" in text, (language, fmt)


def test_a_party_to_no_agreement_is_refused_where_the_section_names_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p", files={BRIEF: SAMPLE.replace(
        "    agreements: [org]\n", "    agreements: [ministry]\n")})
    assert main(["-C", str(project), "check"]) == 1
    assert capsys.readouterr().err.splitlines()[0].startswith(
        "content/briefs/sample.yaml:28:18: sections[0].agreements[0]: `ministry` holds no "
        "agreement and is a party to none")


def test_a_plain_http_source_is_linked_everywhere_and_noted_by_check(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Many government pages and their archived copies have no https: such a
    link works in every format; `check` notes it, at its line, and passes."""
    project = make_project(tmp_path / "p", files={BRIEF: SAMPLE.replace(
        "languages: [en]", "languages: [en, ru]").replace(
        "url: https://example.org/page", "url: http://example.org/page").replace(
        "[link](https://example.org/)", "[link](http://example.org/old)")})
    assert main(["-C", str(project), "check", "--allow-fallback"]) == 0
    notes = capsys.readouterr().err.splitlines()
    assert [line.split(": note: ")[0] for line in notes] == [
        "content/briefs/sample.yaml:10:10: summary",
        "content/briefs/sample.yaml:61:10: sources[0].url"], notes
    code, said = build(project, capsys, "--allow-fallback")
    assert code == 0, said
    for language in ("en", "ru"):
        stem = project / f"output/sample/2020-01-15_sample_{language}"
        html = stem.with_suffix(".html").read_text(encoding="utf-8")
        assert 'href="http://example.org/old"' in html and 'href="http://example.org/page"' in html
        with zipfile.ZipFile(stem.with_suffix(".docx")) as package:
            targets = package.read("word/_rels/document.xml.rels").decode()
        assert 'Target="http://example.org/old"' in targets, language
        with pikepdf.open(stem.with_suffix(".pdf")) as pdf:
            links = {str(annotation.A.URI) for page in pdf.pages
                     for annotation in page.get("/Annots", []) if "/A" in annotation}
        assert {"http://example.org/old", "http://example.org/page"} <= links, language


def test_recurring_arrangements_say_how_often_in_every_language(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p", files={
        BRIEF: SAMPLE.replace("languages: [en]", "languages: [en, ru]").replace(
            FORUM, FORUM + "        recurs: every 2 years\n").replace(
            "    meetings:\n      - partner: ministry\n",
            "    meetings:\n      - partner: ministry\n        recurs: yearly\n"),
        "content/partners/org.yaml": ORG.replace(RATIFIED,
                                                 RATIFIED + "    recurs: every 6 months\n")})
    code, said = build(project, capsys, "--allow-fallback")
    assert code == 0, said
    for language, expected in (("en", ("every 2 years", "yearly", "every 6 months")),
                               ("ru", ("раз в 2 г.", "ежегодно", "раз в 6 мес."))):
        for fmt, text in shown(project, language).items():
            assert all(words in text for words in expected), (language, fmt, expected)


@pytest.mark.parametrize("written", ["sometimes", "every 0 years", "2 years", "every 100 years"])
def test_an_unknown_recurrence_is_refused_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str) -> None:
    project = make_project(tmp_path / "p", files={BRIEF: SAMPLE.replace(
        FORUM, FORUM + f"        recurs: {written}\n")})
    assert main(["-C", str(project), "check"]) == 1
    first = capsys.readouterr().err.splitlines()[0]
    assert f"sections[1].events[0].recurs: `{written}` is not how often something recurs" \
        in first, first


def test_a_timeline_draws_on_events_and_agreements_anywhere_and_lists_the_undated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The profile's timeline of `org` shows an event of another section that
    org took part in, and names the agreement and the event that have no date
    instead of dropping them."""
    project = make_project(tmp_path / "p", files={
        BRIEF: SAMPLE.replace("languages: [en]", "languages: [en, ru]").replace(
            "    agreements: [org]\n", "    agreements: [org]\n    timeline: [org]\n").replace(
            FORUM, FORUM + "        kind: visit-incoming\n        partners: [org]\n"
            "      - title: Second forum\n        partners: [org]\n"),
        "content/partners/org.yaml": ORG.replace(
            "milestones:\n", "  - title: Memorandum without a date\nmilestones:\n")})
    code, said = build(project, capsys, "--allow-fallback")
    assert code == 0, said
    for language, expected in (
            ("en", ("July 2007", "Incoming visit: First forum",
                    "Not dated: Memorandum without a date; Second forum")),
            ("ru", ("июль 2007", "Визит в страну: First forum",
                    "Без даты: Memorandum without a date; Second forum"))):
        for fmt, text in shown(project, language).items():
            flat = " ".join(text.replace("\u00a0", " ").split())
            assert all(part in flat for part in expected), (language, fmt, expected)


def test_any_record_cites_sources_and_the_list_links_back(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An event and an agreement cite the brief's source by id; the source,
    dated, is listed once, and names the sections citing it with links."""
    project = make_project(tmp_path / "p", files={
        BRIEF: SAMPLE.replace("languages: [en]", "languages: [en, ru]").replace(
            FORUM, FORUM + "        sources: [page]\n").replace(
            "    url: https://example.org/page\n",
                  "    url: https://example.org/page\n    date: 2024-03-03\n"),
        "content/partners/org.yaml": ORG.replace(RATIFIED, RATIFIED + "    sources: [page]\n")})
    code, said = build(project, capsys, "--allow-fallback")
    assert code == 0, said
    for language, expected in (
            ("en", ("Agreement on Cooperation [1]", "First forum [1]", "3 March 2024",
                    "Cited in: 1. Partner, 2. Activities")),
            ("ru", ("Agreement on Cooperation [1]", "First forum [1]", "3 марта 2024",
                    "Цитируется в разделах: 1. Partner, 2. Activities"))):
        for fmt, text in shown(project, language).items():
            flat = " ".join(text.replace("\u00a0", " ").split())
            assert all(part in flat for part in expected), (language, fmt, expected)
    html = (project / "output/sample/2020-01-15_sample_en.html").read_text(encoding="utf-8")
    assert '<a href="#activities">2. Activities</a>' in html


@pytest.mark.parametrize(("where", "file", "first"), [
    ("event", BRIEF, "content/briefs/sample.yaml:41:19: sections[1].events[0].sources[0]: no "
                     "source with id `pages`; did you mean `page`?"),
    ("agreement", "content/partners/org.yaml", "content/partners/org.yaml:18:15: "
     "agreements[0].sources[0]: no source with id `pages` in brief `sample`"),
])
def test_a_citation_of_no_source_of_the_brief_is_refused_at_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, file: str,
        first: str) -> None:
    files = {BRIEF: SAMPLE.replace(FORUM, FORUM + "        sources: [pages]\n")} \
        if where == "event" else {"content/partners/org.yaml": ORG.replace(
            RATIFIED, RATIFIED + "    sources: [pages]\n")}
    project = make_project(tmp_path / "p", files=files)
    assert main(["-C", str(project), "check"]) == 1
    assert capsys.readouterr().err.splitlines()[0].startswith(first)


def test_a_brief_brings_its_own_partners_and_replaces_a_shared_one_only_when_it_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """content/partners/<slug>/ holds partners of one brief only; one with a
    shared partner's id stands in for it in that brief when `overrides` says so."""
    brief = SAMPLE.replace("languages: [en]", "languages: [en, ru]").replace(
        "partners: [org]\n", "partners: [org]\noverrides: [org]\n", 1).replace(
        "    partners: [org]\n", "    partners: [org, coastguard]\n", 1)
    own_org = ORG.replace("name: Example Organisation", "name: {en: Our Organisation, "
                          "ru: Наша организация}")
    project = make_project(tmp_path / "p", files={
        BRIEF: brief, "content/partners/sample/org.yaml": own_org,
        "content/partners/sample/coastguard.yaml": "name: {en: Coast Guard, ru: Береговая "
                                                   "охрана}\nkind: state-enterprise\n"})
    code, said = build(project, capsys, "--allow-fallback")
    assert code == 0, said
    for language, expected, hidden in (
            ("en", ("Our Organisation", "Coast Guard", "State-owned enterprise"),
             "Example Organisation"),
            ("ru", ("Наша организация", "Береговая охрана", "Государственное предприятие"),
             "Example Organisation")):
        for fmt, text in shown(project, language).items():
            assert all(part in text for part in expected), (language, fmt)
            assert hidden not in text, (language, fmt)
    project.joinpath(BRIEF).write_text(brief.replace("overrides: [org]\n", ""),
                                       encoding="utf-8")
    assert main(["-C", str(project), "check"]) == 1
    assert capsys.readouterr().err.splitlines()[0].startswith(
        "content/partners/sample/org.yaml:1:1: `org` is also a shared partner "
        "(content/partners/org.yaml), and brief `sample` does not say it replaces it")
    project.joinpath(BRIEF).write_text(brief.replace("overrides: [org]", "overrides: [nobody]"),
                                       encoding="utf-8")
    assert main(["-C", str(project), "check"]) == 1
    assert any("overrides[0]: no partner `nobody` of this brief's own" in line
               for line in capsys.readouterr().err.splitlines())


def test_a_broken_own_partner_of_one_brief_is_no_partner_of_another(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A brief naming another brief's own partner, whose file does not load,
    is told there is no such partner; it once rendered and crashed (exit 70)."""
    other = SAMPLE.replace("partners: [org]\n", "partners: [org, foo]\n", 1)
    project = make_project(tmp_path / "p", files={
        "content/briefs/other.yaml": other, "content/briefs/mine.yaml": SAMPLE,
        "content/partners/mine/foo.yaml": "name: [\n"})
    assert main(["-C", str(project), "check"]) == 1
    said = capsys.readouterr().err
    assert "content/partners/mine/foo.yaml:" in said, said
    assert "content/briefs/other.yaml:9:" in said and "no partner with id `foo`" in said, said
    assert "Traceback" not in said


def test_an_own_partners_agreement_id_is_one_no_shared_partner_uses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p", files={
        "content/partners/org.yaml": ORG.replace("    ratified_by: Parliament\n",
                                                 "    ratified_by: Parliament\n    id: coop\n"),
        "content/partners/sample/local.yaml": "name: Local\nkind: ngo\nagreements:\n"
                                              "  - id: coop\n    title: Another\n"})
    assert main(["-C", str(project), "check"]) == 1
    assert "content/partners/sample/local.yaml:4:9: agreements[0].id: agreement id `coop` " \
        "is used twice" in capsys.readouterr().err


def test_watch_rebuilds_a_brief_when_any_partner_file_may_add_an_agreement_to_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Agreements are found by party in any partner's file, so a brief showing
    agreements depends on every partner file, and a save to one rebuilds it."""
    from briefing.orchestration.watch import affected

    project = make_project(tmp_path / "p", files={
        "content/partners/third.yaml": "name: Third\nkind: ngo\n"})  # named by no brief
    assert main(["-C", str(project), "build", "--format", "html"]) == 0
    assert affected(ProjectFiles(project), [project / "content/partners/third.yaml"]) == [
        "sample"]
