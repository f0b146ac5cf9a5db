"""What changed since the last edition (#23): two versions of a project loaded
side by side and compared record by record, said in every language of the
brief, on the command line (`briefing changes`) and in the archive.

Pairs of content versions are compared in process (a copy of the content and
the catalogs, edited as an editor would, then loaded with the loader every
command uses); the command line runs in process too. One publish of v1 and
v2 checks the bag's change record against the edit.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import lxml.html
import pytest
from conftest import REPO, ROOTS, make_project, run_in_process
from readers import docx_blocks, pdf_text

from briefing.changes.compare import Changes, compare
from briefing.changes.report import Since, as_json, text
from briefing.changes.wording import Wording
from briefing.content.dates import PartialDate
from briefing.versions import working

SLUG = "international-cooperation"
BRIEF = f"content/briefs/{SLUG}.yaml"
IOM = "content/partners/iom.yaml"
SINCE = Since(1, "2026-11-20", f"2026-11-20_{SLUG}_v1")


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project's content and catalogs (en, az, ru), copied once."""
    folder = tmp_path_factory.mktemp("changes") / "old"
    shutil.copytree(REPO / "content", folder / "content")
    shutil.copytree(REPO / "templates" / "i18n", folder / "templates" / "i18n")
    return folder


def edited(base: Path, target: Path, edits: dict[str, list[tuple[str, str]]]) -> Path:
    """A copy of `base` with each (old, new) replaced once in its file."""
    shutil.copytree(base, target)
    for name, pairs in edits.items():
        path = target / name
        written = path.read_text(encoding="utf-8")
        for old, new in pairs:
            assert written.count(old) == 1, f"{old!r} is not in {name} exactly once"
            written = written.replace(old, new)
        path.write_text(written, encoding="utf-8")
    return target


def changes_between(old: Path, new: Path, slug: str = SLUG) -> Changes:
    return compare(working(old, slug).project, working(new, slug).project, slug)


def said(changes: Changes, language: str) -> list[str]:
    """Every sentence in `language`, as the terminal shows it, without the title."""
    return text(changes, language, SINCE).splitlines()[2:]


def reversed_list(written: str, start: str, end: str | None, item: str) -> str:
    """The YAML list between `start` and `end` (None: the file's end) with its
    items in reverse order."""
    head, rest = written.split(start, 1)
    body, tail = rest.split(end, 1) if end else (rest, "")
    end = end or ""
    items = [f"{item}{part}" for part in body.split(item) if part]
    assert len(items) > 1
    return head + start + "".join(reversed(items)) + end + tail


# -- each kind of change, in every language ----------------------------------------------

def test_reordering_alone_is_no_change(real: Path, tmp_path: Path) -> None:
    new = edited(real, tmp_path / "new", {})
    brief = new / BRIEF
    written = brief.read_text(encoding="utf-8")
    written = reversed_list(written, "key_facts:\n", "key_points:\n", "  - value:")
    written = reversed_list(written, "key_points:\n", "\nsections:\n", "  - en:")
    assert written.count("partners: [iom, unhcr, eu, coe, cis]") == 2  # the brief's and a section's
    written = written.replace("partners: [iom, unhcr, eu, coe, cis]",
                              "partners: [cis, coe, eu, unhcr, iom]")
    brief.write_text(written, encoding="utf-8")
    partner = new / IOM
    partner.write_text(reversed_list(partner.read_text(encoding="utf-8"), "offices:\n",
                                     "agreements:\n", "  - place:"), encoding="utf-8")
    assert working(new, SLUG).project.brief(SLUG) != working(real, SLUG).project.brief(SLUG)
    changes = changes_between(real, new)
    assert changes.changes == ()
    for language, count in (("en", "Changes: 0"), ("ru", "Изменений: 0"),
                            ("az", "Dəyişikliklərin sayı: 0")):
        assert text(changes, language, SINCE).splitlines()[1:] == [count]


def test_a_record_added_and_one_removed(real: Path, tmp_path: Path) -> None:
    new = edited(real, tmp_path / "new", {IOM: [
        ("  - place:\n      en: Mingachevir",
         "  - place:\n      en: Ganja\n      az: Gəncə\n      ru: Гянджа\n    opened: 2026-02\n"
         "  - place:\n      en: Mingachevir"),
        ("milestones:\n  - date: 2001-06-07\n", "milestones:\n  - date: 2001-06-08\n"),
    ]})
    written = (new / IOM).read_text(encoding="utf-8")
    (new / IOM).write_text(written.split("milestones:\n")[0], encoding="utf-8")
    changes = changes_between(real, new)
    assert [(c.kind, c.what, c.key) for c in changes.changes] == [
        ("added", "office", "iom/Ganja"),
        ("removed", "milestone",
         "iom/The IOM Council admits the Republic of Azerbaijan as a member state.")]
    assert changes.changes[0].new.opened == PartialDate.parse("2026-02")
    assert said(changes, "en") == [
        "", "International Organization for Migration",
        "  - IOM office in Ganja: added",
        "  - IOM milestone ‘The IOM Council admits the Republic of Azerbaijan as a…’: removed"]
    assert "  - Добавлено: МОМ, офис: Гянджа" in said(changes, "ru")
    assert "  - BMqT, ofis: Gəncə: əlavə edilib" in said(changes, "az")


def test_a_changed_field_with_its_old_and_new_value(real: Path, tmp_path: Path) -> None:
    new = edited(real, tmp_path / "new", {
        BRIEF: [('  - value: "3"', '  - value: "4"')],
        IOM: [("    opened: 2006-08\n", "    opened: 2006-09\n")]})
    changes = changes_between(real, new)
    fact, office = changes.changes
    assert (fact.kind, fact.what, [(f.field, f.old.in_language("en"), f.new.in_language("en"))
                                   for f in fact.fields]) == (
        "changed", "key_fact", [("value", "3", "4")])
    assert [(f.field, f.old.iso(), f.new.iso()) for f in office.fields] == [
        ("opened", "2006-08", "2006-09")]
    assert said(changes, "en") == [
        "", "Key facts",
        "  - Key fact ‘IOM offices in the country (Baku, Nakhchivan, Mingachevir)’: 4 (was: 3)",
        "", "International Organization for Migration",
        "  - IOM office in Mingachevir: Opened: September 2006 (was: August 2006)"]
    ru = said(changes, "ru")
    assert "  - Основной факт «число офисов МОМ в стране (Баку, Нахчыван, Мингячевир)»: " \
           "4 (было: 3)" in ru
    assert ("  - МОМ, офис: Мингячевир: Открытие: сентябрь 2006\u202fг. "
            "(было: август 2006\u202fг.)") in ru
    assert "  - BMqT, ofis: Mingəçevir: Açılış: sentyabr 2006 (əvvəl: avqust 2006)" \
        in said(changes, "az")


def test_the_publishers_new_name_is_a_change(real: Path, tmp_path: Path) -> None:
    """Who issues the brief is on its cover and in every header: a new name is news."""
    publisher = "content/publisher.yaml"
    written = (real / publisher).read_text(encoding="utf-8")
    old_name = written.split("en: ", 1)[1].split("\n", 1)[0]
    new = edited(real, tmp_path / "new", {publisher: [
        (f"en: {old_name}", "en: State Migration and Citizenship Service")]})
    changes = changes_between(real, new)
    assert [(c.kind, c.what) for c in changes.changes] == [("changed", "publisher")]
    assert said(changes, "en") == [
        "", "The publisher",
        f"  - The publisher: Name: State Migration and Citizenship Service (was: {old_name})"]


def test_an_agreement_entering_into_force_is_said_as_its_life_cycle(
        real: Path, tmp_path: Path) -> None:
    new = edited(real, tmp_path / "new", {IOM: [
        ("    ratified: 2000-02-08\n", "    ratified: 2000-02-08\n    in_force: 2026-03-01\n")]})
    changes = changes_between(real, new)
    (change,) = changes.changes
    assert (change.kind, change.what, change.holder) == ("changed", "agreement", "iom")
    assert [(f.field, f.old, str(f.new)) for f in change.fields] == [
        ("in_force", None, "2026-03-01")]
    assert said(changes, "en")[-1] == (
        "  - Agreement on Cooperation between the Republic of Azerbaijan…: entered into force "
        "on 1 March 2026 (was: ratified on 8 February 2000, not in force)")
    assert said(changes, "ru")[-1] == (
        "  - Соглашение о сотрудничестве между Азербайджанской…: вступление в силу: "
        "1 марта 2026\u202fг. (было: ратификация: 8 февраля 2000\u202fг., не в силе)")
    assert said(changes, "az")[-1] == (
        "  - Azərbaycan Respublikası ilə BMqT arasında əməkdaşlıq…: qüvvəyə minmə: "
        "1 mart 2026 (əvvəl: ratifikasiya: 8 fevral 2000, qüvvədə deyil)")


def test_changed_prose_is_its_changed_paragraph_with_the_words_marked(
        real: Path, tmp_path: Path) -> None:
    new = edited(real, tmp_path / "new", {BRIEF: [
        ("national legal base for migration, and to bring existing law into line",
         "national legal base for migration, and to align existing law"),
        ("Азербайджанская Республика из **страны происхождения** мигрантов",
         "Азербайджанская Республика из **страны происхождения** трудовых мигрантов")]})
    changes = changes_between(real, new)
    (change,) = changes.changes
    assert (change.kind, change.what, change.key, [f.field for f in change.fields]) == (
        "changed", "section", "context", ["body"])
    sentence = Wording(changes, "en").sentence(change)
    assert sentence.text == "Section ‘Context’: Text: changes marked below"
    (paragraph,) = sentence.paragraphs  # the second paragraph did not change
    assert [piece for piece in paragraph if piece[0] != "same"] == [
        ("removed", "bring"), ("added", "align"), ("removed", " into line")]
    assert said(changes, "en")[-1] == (
        "      … a national legal base for migration, and to [-bring-]{+align+} existing "
        "law[- into line-] with what this change demands, the State Migration …")
    assert "**страны происхождения**{+ трудовых+} мигрантов" in said(changes, "ru")[-1]
    assert said(changes, "az")[-1] == "  - Bölmə “Ümumi vəziyyət”: yalnız başqa dildə dəyişib"


def test_a_renamed_partner_is_renamed_not_removed_and_added(real: Path, tmp_path: Path) -> None:
    new = edited(real, tmp_path / "new", {IOM: [
        ("  en: International Organization for Migration\n",
         "  en: International Organization for Migration (UN Migration)\n"),
        ("  ru: Международная организация по миграции\n",
         "  ru: Международная организация по миграции (ООН)\n")]})
    changes = changes_between(real, new)
    (change,) = changes.changes
    assert (change.kind, change.what, change.key) == ("renamed", "partner", "iom")
    assert said(changes, "en")[-1] == (
        "  - International Organization for Migration (UN Migration): renamed International "
        "Organization for Migration (UN Migration) (was: International Organization for "
        "Migration)")
    assert said(changes, "ru")[-1].endswith(
        "новое название: Международная организация по миграции (ООН) (было: Международная "
        "организация по миграции)")
    assert said(changes, "az")[-1] == (
        "  - Beynəlxalq Miqrasiya Təşkilatı: yalnız başqa dildə dəyişib")


def test_a_section_moved_is_moved_and_the_others_are_not(real: Path, tmp_path: Path) -> None:
    new = edited(real, tmp_path / "new", {})
    brief = new / BRIEF
    written = brief.read_text(encoding="utf-8")
    head, rest = written.split("sections:\n", 1)
    body, tail = rest.split("sources:\n", 1)
    sections = [f"  - id:{part}" for part in body.split("  - id:") if part]
    brief.write_text(head + "sections:\n" + "".join([sections[-1], *sections[:-1]])
                     + "sources:\n" + tail, encoding="utf-8")
    changes = changes_between(real, new)
    (change,) = changes.changes
    assert (change.kind, change.what, change.key, change.position) == (
        "moved", "section", "policy", (6, 1))
    assert said(changes, "en")[-1] == \
        "  - Section ‘Policy direction’: now section 1 (was: section 6)"
    assert said(changes, "ru")[-1] == \
        "  - Раздел «Направление политики»: теперь раздел 1 (было: раздел 6)"
    assert said(changes, "az")[-1] == \
        "  - Bölmə “Siyasətin istiqaməti”: bölmənin nömrəsi: 1 (əvvəl: 6)"


def test_a_block_moved_to_another_section(tmp_path: Path) -> None:
    old = make_project(tmp_path / "old")
    new = make_project(tmp_path / "new")
    brief = new / "content/briefs/sample.yaml"
    written = brief.read_text(encoding="utf-8")
    block = "    events:\n      - title: First forum\n        when: 2007-07\n"
    assert written.count(block) == 1
    written = written.replace(block, "").replace(
        "    agreements: [org]\n", "    agreements: [org]\n" + block, 1)
    brief.write_text(written, encoding="utf-8")
    changes = changes_between(old, new, "sample")
    (change,) = changes.changes
    assert (change.kind, change.what, change.moved_from.id, change.group.id) == (
        "moved", "event", "activities", "profile")
    assert said(changes, "en") == [
        "", "Section ‘Partner’",
        "  - Event ‘First forum’: moved to ‘Partner’ (was: in ‘Activities’)"]


def test_a_fourth_language_says_the_changes_in_its_own_words(tmp_path: Path) -> None:
    files = {"templates/i18n/tr.yaml": (ROOTS / "fourth-language/tr.yaml").read_text("utf-8"),
             "content/briefs/sample.yaml": (ROOTS / "fourth-language/brief.yaml").read_text(
                 "utf-8")}
    old = make_project(tmp_path / "old", files=files)
    new = make_project(tmp_path / "new", files=files)
    partner = new / "content/partners/org.yaml"
    partner.write_text(partner.read_text("utf-8").replace(
        "    ratified_by: Parliament\n", "    ratified_by: Parliament\n    in_force: 2026-03-01\n"),
        encoding="utf-8")
    changes = changes_between(old, new, "sample")
    assert said(changes, "tr")[-1] == (
        "  - Agreement on Cooperation: yürürlüğe giriş: 1 Mart 2026 (önceki: onay: "
        "8 Şubat 2000, yürürlükte değil)")
    assert text(changes, "tr", SINCE).splitlines()[0] == \
        "sürüm 1 (20 Kasım 2026) ile karşılaştırıldığında değişiklikler"


def test_the_json_record_has_every_value_and_every_language(real: Path, tmp_path: Path) -> None:
    new = edited(real, tmp_path / "new", {BRIEF: [('  - value: "3"', '  - value: "4"')]})
    changes = changes_between(real, new)
    record = json.loads(as_json(changes, SINCE))
    assert record["count"] == 1 and record["since"]["version"] == 1
    (change,) = record["changes"]
    assert change["fields"] == [{"field": "value", "old": {"en": "3", "az": "3", "ru": "3"},
                                 "new": {"en": "4", "az": "4", "ru": "4"}}]
    assert sorted(change["said"]) == ["az", "en", "ru"]
    assert change["said"]["ru"]["text"].endswith("4 (было: 3)")
    assert as_json(changes, SINCE) == as_json(changes_between(real, new), SINCE)  # reproducible


# -- the command line ------------------------------------------------------------------------

def git(project: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Editor", "-c", "user.email=editor@example.org",
                    "-c", "commit.gpgsign=false", *args], cwd=project, check=True,
                   capture_output=True)


@pytest.fixture
def in_git(tmp_path: Path) -> Path:
    project = make_project(tmp_path / "versioned")
    git(project, "init", "-q")
    git(project, "add", "content", "templates/i18n")
    git(project, "commit", "-q", "-m", "first")
    return project


def test_changes_since_a_git_revision(in_git: Path) -> None:
    brief = in_git / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text("utf-8").replace(
        '  - value: "1996"\n', '  - value: "1997"\n'), encoding="utf-8")
    result = run_in_process(in_git, "changes", "sample", "--since", "HEAD")
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == [
        "Changes since revision HEAD", "Changes: 1", "", "Key facts",
        "  - Key fact ‘first office opened’: 1997 (was: 1996)"]
    result = run_in_process(in_git, "changes", "sample", "--since", "HEAD", "--format", "json")
    assert json.loads(result.out)["since"] == {"revision": "HEAD"}
    assert list(in_git.parent.glob("briefing-version-*")) == []


def test_the_changes_as_a_document_of_their_own_in_each_format(in_git: Path) -> None:
    """`--format pdf|docx|html -o FILE`: templates/changes.html.j2, made and
    checked as every edition is (the PDF passes the typesetting and structure
    gates in its writer), saying the same sentences as the terminal."""
    brief = in_git / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text("utf-8").replace(
        '  - value: "1996"\n', '  - value: "1997"\n'), encoding="utf-8")
    made = {}
    for fmt in ("pdf", "docx", "html"):
        target = in_git.parent / f"changes.{fmt}"
        result = run_in_process(in_git, "changes", "sample", "--since", "HEAD",
                                "--format", fmt, "-o", str(target))
        assert (result.code, result.out) == (0, f"wrote {target}\n"), result.err
        made[fmt] = target
    sentence = "Key fact ‘first office opened’: 1997 (was: 1996)"
    pdf = " ".join(pdf_text(made["pdf"]).split())
    assert "Changes since revision HEAD" in pdf and sentence in pdf
    assert sentence in " ".join(text for _, text in docx_blocks(made["docx"]))
    page = lxml.html.parse(str(made["html"])).getroot()
    assert sentence in " ".join(page.text_content().split())
    assert run_in_process(in_git, "changes", "sample", "--since", "HEAD",
                          "--format", "pdf").code == 2  # no -o: a usage error


def test_a_redline_sent_back_unedited_has_nothing_to_review(in_git: Path) -> None:
    """The redline's own tracked changes (by "Briefing") are the edition as
    built: `review --apply` on it never puts the previous version back."""
    brief = in_git / "content/briefs/sample.yaml"
    edited = brief.read_text("utf-8").replace('  - value: "1996"\n', '  - value: "1997"\n')
    brief.write_text(edited, encoding="utf-8")
    redline = in_git.parent / "redline.docx"
    assert run_in_process(in_git, "changes", "sample", "--since", "HEAD", "--format",
                          "redline", "-o", str(redline)).code == 0
    reviewed = run_in_process(in_git, "review", str(redline), "--apply")
    assert reviewed.code == 0, reviewed.out + reviewed.err
    assert brief.read_text("utf-8") == edited


def test_an_old_version_with_a_mistake_is_named_by_its_version(in_git: Path) -> None:
    brief = in_git / "content/briefs/sample.yaml"
    good = brief.read_text("utf-8")
    brief.write_text(good.replace("date: 2020-01-15", "date: 2020-13-15"), encoding="utf-8")
    git(in_git, "commit", "-q", "-am", "broken")
    brief.write_text(good, encoding="utf-8")
    result = run_in_process(in_git, "changes", "sample", "--since", "HEAD")
    assert result.code == 1
    assert re.match(r"git HEAD: content/briefs/sample\.yaml:3:7: date: ", result.err), result.err
    assert "Traceback" not in result.err


def test_a_revision_from_before_a_choice_was_added_still_compares(in_git: Path) -> None:
    """An old version is read to be compared: its catalogs need no label for a
    choice the content format offers today but did not then (the wording of
    the changes comes from today's catalogs), so `changes --since` an old
    revision works. Today's catalogs still need every label."""
    catalogs = sorted((in_git / "templates/i18n").glob("*.yaml"))
    today = {path: path.read_text("utf-8") for path in catalogs}
    for path, words in today.items():  # as it was before `state-enterprise` existed
        path.write_text("".join(line for line in words.splitlines(keepends=True)
                                if "kind_state-enterprise:" not in line), encoding="utf-8")
    git(in_git, "commit", "-q", "-am", "before state enterprises")
    result = run_in_process(in_git, "check")
    assert result.code == 1 and "no label `kind_state-enterprise`" in result.err
    for path, words in today.items():
        path.write_text(words, encoding="utf-8")
    brief = in_git / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text("utf-8").replace(
        '  - value: "1996"\n', '  - value: "1997"\n'), encoding="utf-8")
    result = run_in_process(in_git, "changes", "sample", "--since", "HEAD")
    assert (result.code, result.err) == (0, "")
    assert "Changes: 1" in result.out.splitlines()


def test_usage_errors_and_no_previous_version(project: Path, in_git: Path) -> None:
    result = run_in_process(project, "changes", "sample")
    assert (result.code, result.err) == (0, "")
    assert result.out.startswith("no previous version: brief 'sample' has no published version")
    result = run_in_process(project, "changes", "sample", "--lang", "ru")
    assert result.code == 2 and "is written in en" in result.err  # a previous version or not
    result = run_in_process(project, "changes", "sample", "--since", "HEAD")
    assert result.code == 2 and "is not in a git work tree" in result.err
    result = run_in_process(project, "changes", "sample", "--since", "2")
    assert result.code == 2 and "has no published version 2" in result.err
    result = run_in_process(in_git, "changes", "sample", "--since", "no-such-rev")
    assert result.code == 2 and "not a revision of the git repository" in result.err
    result = run_in_process(in_git, "changes", "sample", "--since", "HEAD", "--lang", "ru")
    assert result.code == 2 and "is written in en" in result.err
    result = run_in_process(in_git, "changes", "nothing", "--since", "HEAD")
    assert result.code == 2 and "no brief 'nothing'" in result.err


# -- the archive: version 2 records its changes against version 1 ---------------------------

def test_version_2_records_its_changes_and_verify_holds_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bagit

    from briefing.archive.snapshot import SOURCE
    from briefing.changes.report import edition_changes

    for name in ("BRIEFING_SEAL_KEY", "BRIEFING_SEAL_CERT", "BRIEFING_SEAL_TRUST"):
        monkeypatch.delenv(name, raising=False)
    project = make_project(tmp_path / "p")
    assert run_in_process(project, "publish", "sample").code == 0
    v1 = project / "archive/2020-01-15_sample_v1"
    assert not (v1 / "data/changes.json").exists()  # nothing before version 1
    brief, org = project / "content/briefs/sample.yaml", project / "content/partners/org.yaml"
    brief.write_text(brief.read_text("utf-8").replace('  - value: "1996"\n',
                                                      '  - value: "1997"\n'), encoding="utf-8")
    org.write_text(org.read_text("utf-8").replace(
        "offices:\n", "offices:\n  - place: Lake City\n    opened: 2026-02\n"), encoding="utf-8")
    result = run_in_process(project, "changes", "sample")  # against the latest: version 1
    assert result.out.splitlines()[:2] == ["Changes since version 1 of 15 January 2020",
                                           "Changes: 2"]
    assert run_in_process(project, "publish", "sample").code == 0
    v2 = project / "archive/2020-01-15_sample_v2"
    record = json.loads((v2 / "data/changes.json").read_bytes())
    assert (record["count"], record["since"]) == (2, {
        "date": "2020-01-15", "identifier": "2020-01-15_sample_v1", "version": 1})
    assert [(c["kind"], c["what"], c["key"]) for c in record["changes"]] == [
        ("changed", "key_fact", "first office opened"), ("added", "office", "org/Lake City")]
    assert record["changes"][1]["record"]["opened"] == "2026-02"
    assert (v2 / "data/changes.txt").read_text("utf-8") == (
        "Changes since version 1 of 15 January 2020\nChanges: 2\n\nKey facts\n"
        "  - Key fact ‘first office opened’: 1997 (was: 1996)\n\nExample Organisation\n"
        "  - EXO office in Lake City: added\n")
    manifest = json.loads((v2 / "data/build-manifest.json").read_bytes())
    assert sorted(manifest["changes_sha256"]) == ["changes.json", "changes.txt"]
    rows = (project / "archive/register.csv").read_text("utf-8").splitlines()
    assert rows[0].split(",")[10] == "changes"
    # the same two sources make the same bytes (what verify's rebuild compares)
    source = {path.relative_to(v2 / "data" / SOURCE).as_posix(): path.read_bytes()
              for path in sorted((v2 / "data" / SOURCE).rglob("*")) if path.is_file()}
    assert edition_changes(project, v1, source, "sample") == {
        "changes.json": (v2 / "data/changes.json").read_bytes(),
        "changes.txt": (v2 / "data/changes.txt").read_bytes()}
    result = run_in_process(project, "verify")
    assert result.code == 0, result.out + result.err
    # an edited change record, every bag manifest made again, is still caught
    for path in [v2, *v2.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    changed = v2 / "data/changes.json"
    changed.write_bytes(changed.read_bytes().replace(b'"count": 2', b'"count": 1'))
    bagit.Bag(str(v2)).save(manifests=True)
    result = run_in_process(project, "verify")
    assert result.code == 1
    assert "data/changes.json: differs from its digest in the build manifest" in result.out


def test_a_published_version_changed_since_is_refused_as_the_baseline(tmp_path: Path) -> None:
    """A version's source is checked against its bag's payload manifest before
    it is compared with: an edited, added or removed source file is named, for
    `briefing changes` and the annex (exit 1) and for publish's change record."""
    import bagit

    from briefing.changes.report import edition_changes
    from briefing.versions import Untrusted

    project = make_project(tmp_path / "p")
    v1 = project / "archive/2020-01-15_sample_v1"
    shutil.copytree(project / "content", v1 / "source/content")
    shutil.copytree(project / "templates/i18n", v1 / "source/templates/i18n")
    bagit.make_bag(str(v1), checksums=["sha256", "sha512"])  # data/source/, as publish has it
    assert run_in_process(project, "changes", "sample").code == 0
    brief = v1 / "data/source/content/briefs/sample.yaml"
    original = brief.read_bytes()
    forged = original.replace(b'  - value: "1996"\n', b'  - value: "1997"\n')
    assert forged != original
    brief.write_bytes(forged)
    result = run_in_process(project, "changes", "sample")
    assert result.code == 1 and result.out == ""
    assert result.err.startswith(
        "archive/2020-01-15_sample_v1/data/source/content/briefs/sample.yaml:1:1: differs "
        "from its digest in the bag's manifest-sha256.txt: the published version has been "
        "changed since it was published"), result.err
    assert "`briefing verify`" in result.err
    with pytest.raises(Untrusted):  # publish refuses rather than seal a record against it
        edition_changes(project, v1, {path.relative_to(v1 / "data/source").as_posix():
                                      path.read_bytes() for path in
                                      (v1 / "data/source").rglob("*") if path.is_file()},
                        "sample")
    brief.write_bytes(original)
    added = v1 / "data/source/content/partners/extra.yaml"
    added.write_text("id: extra\n", encoding="utf-8")
    result = run_in_process(project, "changes", "sample")
    assert result.code == 1 and "data/source/content/partners/extra.yaml:1:1: not listed" \
        in result.err, result.err
    added.unlink()
    (v1 / "data/source/templates/i18n/en.yaml").unlink()
    result = run_in_process(project, "changes", "sample")
    assert result.code == 1 and "data/source/templates/i18n/en.yaml:1:1: missing" \
        in result.err, result.err


def test_a_register_begun_before_the_changes_column_keeps_its_form_and_chain(
        tmp_path: Path) -> None:
    from briefing.archive import register

    for name, header, width in (("old", register.encode(register.CHAINED_COLUMNS), 13),
                                ("new", None, 14)):
        archive = tmp_path / name / "archive"
        archive.mkdir(parents=True)
        if header:
            (archive / "register.csv").write_bytes(header)
        for version in (1, 2):  # bags that cannot be read still get their rows
            edition = archive / f"2020-01-15_sample_v{version}"
            edition.mkdir()
            register.append(archive, edition, edition.name, None)
        read = register.read(archive)
        assert read.problems == []
        assert [len(row.values) for row in read.rows] == [width, width]
        assert ("changes" in read.rows[0].values) == (width == 14)


def test_a_version_without_the_brief_and_a_broken_working_folder(in_git: Path) -> None:
    other = in_git / "content/briefs/other.yaml"
    shutil.copy(ROOTS / "sample/other-brief.yaml", other)
    result = run_in_process(in_git, "changes", "other", "--since", "HEAD")
    assert result.code == 2
    assert "there is no brief 'other' in git HEAD: nothing to compare it with" in result.err
    brief = in_git / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text("utf-8").replace("date: 2020-01-15", "date: 2020-13-15"),
                     encoding="utf-8")
    result = run_in_process(in_git, "changes", "sample", "--since", "HEAD")
    assert result.code == 1
    assert result.err.startswith("content/briefs/sample.yaml:3:7: date: ")


def test_amounts_periods_and_lists_in_each_language(real: Path, tmp_path: Path) -> None:
    border = "content/briefs/border-cooperation.yaml"
    new = edited(real, tmp_path / "new", {border: [
        ("        budget: EUR 4440000\n", "        budget: EUR 4540000\n"),
        ("        period: 2020-01/2022-12\n", "        period: 2020-01/2023-06\n"),
        ("          - en: boats and vehicles for patrols on the Dniester\n",
         "          - en: boats, drones and vehicles for patrols on the Dniester\n")]})
    changes = changes_between(real, new, "border-cooperation")
    (change,) = changes.changes
    assert [f.field for f in change.fields] == ["budget", "period", "outcomes"]
    assert said(changes, "en")[-4:] == [
        "  - Project ‘EU for Border Security’:",
        "      Budget: €4,540,000.00 (was: €4,440,000.00)",
        "      Period: January 2020\u2009–\u2009June 2023 (was: January 2020\u2009–\u2009"
        "December 2022)",
        "      Outcomes: added boats, drones and vehicles for patrols on the Dniester, "
        "removed boats and vehicles for patrols on the Dniester"]
    ru = said(changes, "ru")  # the outcome changed in English only: no change in Russian
    assert ru[-3:] == [
        "  - Проект ««ЕС — за безопасность границ»»:",
        "      Бюджет: 4\xa0540\xa0000,00\xa0€ (было: 4\xa0440\xa0000,00\xa0€)",
        "      Период: январь 2020\u202fг. – июнь 2023\u202fг. (было: январь 2020\u202fг. – "
        "декабрь 2022\u202fг.)"]


def test_a_briefs_switches_are_no_change(tmp_path: Path) -> None:
    """`change_annex: false` says how the documents are made, not what they say."""
    old = make_project(tmp_path / "old")
    new = make_project(tmp_path / "new")
    brief = new / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text("utf-8") + "change_annex: false\n", encoding="utf-8")
    assert working(new, "sample").project.brief("sample").change_annex is False
    assert changes_between(old, new, "sample").changes == ()


def test_every_compared_field_has_its_label_in_every_catalog() -> None:
    import yaml

    from briefing.changes.compare import NESTED
    from briefing.content import model

    records = {"brief": model.Brief, "partner": model.Partner, "section": model.Section,
               **{name: record for name, record in vars(model).items() if name in (
                   "Office", "Agreement", "Milestone", "KeyFact", "Training", "WorkingGroup",
                   "Meeting", "Event", "CooperationProject", "DataTable", "Quote", "Source")}}
    fields = {field for what, record in records.items() for field in record.model_fields
              if field not in NESTED.get(what, ())}
    for catalog in [*(REPO / "templates/i18n").glob("*.yaml"), ROOTS / "fourth-language/tr.yaml"]:
        labels = yaml.safe_load(catalog.read_text("utf-8"))["labels"]
        assert sorted(f for f in fields if f"change_field_{f}" not in labels) == [], catalog.name


def test_a_section_added_is_said_once_not_block_by_block(tmp_path: Path) -> None:
    old = make_project(tmp_path / "old")
    new = make_project(tmp_path / "new")
    brief = new / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text("utf-8").replace("sources:\n", (
        "  - id: outlook\n    title: Outlook\n    events:\n      - title: Next forum\n"
        "        when: 2027-05\nsources:\n"), 1), encoding="utf-8")
    changes = changes_between(old, new, "sample")
    assert [(c.kind, c.what, c.key) for c in changes.changes] == [
        ("added", "section", "outlook")]
    assert said(changes, "en") == ["", "Section ‘Outlook’", "  - Section ‘Outlook’: added"]
