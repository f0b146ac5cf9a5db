"""Content the loader once crashed on or let through (issue 20): each is a placed
error, exit 1, never a traceback."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ROOTS, make_project, run_in_process

from briefing.cli import main
from briefing.content.dates import PartialDate
from briefing.content.load import load_project
from briefing.errors import BuildFailed

BRIEF = "content/briefs/sample.yaml"
PARTNER = "content/partners/org.yaml"
SAMPLE_BRIEF = (ROOTS / "sample" / BRIEF).read_text(encoding="utf-8")
SAMPLE_PARTNER = (ROOTS / "sample" / PARTNER).read_text(encoding="utf-8")


def problems(project: Path) -> list[str]:
    """Every problem the loader reports, as the editor reads it."""
    with pytest.raises(BuildFailed) as failed:
        load_project(project)
    return [str(problem) for problem in failed.value.problems]


def with_project(key: str, value: str) -> str:
    """The sample brief with one project whose `key` is `value`, in section 2."""
    return SAMPLE_BRIEF.replace(
        "    events:\n", f"    projects:\n      - title: P\n        {key}: {value}\n    events:\n")


def test_a_nan_share_is_a_placed_error_through_the_cli(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", files={BRIEF: with_project("co_financing", "NaN")})
    result = run_in_process(project, "check")
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    assert result.err.splitlines()[0] == (
        "content/briefs/sample.yaml:40:23: sections[1].projects[0].co_financing: `NaN` is not "
        "a share (expected a percentage from 0 to 100, like 15 or 12.5%)")


@pytest.mark.parametrize(("key", "value"), [
    ("co_financing", "nan"), ("co_financing", "sNaN"), ("co_financing", ".nan"),
    ("co_financing", "Infinity"), ("co_financing", "-inf"), ("co_financing", ".inf"),
    ("co_financing", "'NaN%'"), ("budget", "EUR NaN"), ("budget", "EUR Infinity"),
    ("budget", "{amount: .nan, currency: EUR}"), ("budget", "{amount: -.inf, currency: EUR}"),
])
def test_not_a_number_is_a_placed_error(tmp_path: Path, key: str, value: str) -> None:
    project = make_project(tmp_path / "p", files={BRIEF: with_project(key, value)})
    first = problems(project)[0]
    assert first.startswith(f"content/briefs/sample.yaml:40:{11 + len(key)}: "
                            f"sections[1].projects[0].{key}: "), first
    assert "(expected " in first


@pytest.mark.parametrize(("field", "value", "col"), [
    ("signed", "9999-12", 13), ("signed", "9999-12-31", 13), ("signed", "9999", 13),
    ("ratified", "9999-12", 15), ("signed", "'0999'", 13), ("signed", "3000-01", 13),
    ("signed", "2000/9999", 13),
])
def test_an_implausible_date_is_a_placed_error(tmp_path: Path, field: str, value: str,
                                               col: int) -> None:
    """9999-12 as a ratification date once overflowed the "is it before" check."""
    partner = SAMPLE_PARTNER.replace(f"{field}: ", f"{field}: {value} #", 1)
    project = make_project(tmp_path / "p", files={PARTNER: partner})
    line = 15 if field == "signed" else 16
    shown = value.strip("'").rpartition("/")[2] if "/" in value else value.strip("'")
    assert problems(project) == [
        f"content/partners/org.yaml:{line}:{col}: agreements[0].{field}: `{shown}` is not a "
        "plausible date (expected a year from 1000 to 2999)"]


def test_a_month_ends_on_its_last_day_up_to_the_last_year() -> None:
    """The last day of December is counted without the month after it."""
    assert PartialDate(9999, 12).last_day == dt.date(9999, 12, 31)
    assert PartialDate(2024, 2).last_day == dt.date(2024, 2, 29)


# --- `new` where the brief cannot be written --------------------------------------------

NOBODY = 65534


@pytest.fixture
def shared_project() -> Iterator[Path]:
    """A project every user may read, in a folder every user can reach (pytest's
    own folders are root's alone), so that `nobody` can run in it."""
    folder = Path(tempfile.mkdtemp(prefix="briefing-new-"))
    try:
        folder.chmod(0o755)
        yield make_project(folder / "p")
    finally:
        shutil.rmtree(folder)


def as_ordinary_user(run: Callable[[], int]) -> tuple[int, str]:
    """`run()`'s exit code and stderr, as a user without root's right to write
    anywhere: as root, in a forked child that became `nobody`."""
    if os.geteuid() != 0:
        return _captured(run)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            code, err = _captured(run)
            os.write(writer, f"{code}\n{err}".encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, encoding="utf-8") as report:
        code, _, err = report.read().partition("\n")
    os.waitpid(child, 0)
    return int(code), err


def _captured(run: Callable[[], int]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = run()
    return code, err.getvalue()


@pytest.mark.parametrize(("folder", "mode", "first"), [
    ("content/briefs", 0o555, "content/briefs/fresh.yaml:1:1: the new brief cannot be written: "
                              "permission denied"),
    ("content/briefs", 0o000, "content/briefs:1:1: cannot be searched: permission denied"),
    ("content", 0o000, "content/briefs:1:1: cannot be searched: permission denied"),
])
def test_new_in_a_read_only_folder_is_a_clear_error(shared_project: Path, folder: str,
                                                    mode: int, first: str) -> None:
    (shared_project / folder).chmod(mode)
    try:
        code, err = as_ordinary_user(lambda: main(["-C", str(shared_project), "new", "fresh"]))
    finally:
        (shared_project / folder).chmod(0o755)
    assert (code, err) == (1, f"{first} (expected a folder content/briefs/ you may write to)\n"
                              "1 error(s); nothing was written\n")
    assert not (shared_project / "content/briefs/fresh.yaml").exists()


@pytest.mark.parametrize(("change", "first"), [
    ("file", "content/briefs:1:1: is not a folder (expected a folder content/briefs/)"),
    ("no content", "content:1:1: no such folder in {root} (expected `-C` naming the project "
                   "folder, the one holding content/)"),
    ("link outside", "content/briefs:1:1: leads outside the project (a symbolic link?) "
                     "(expected a folder content/briefs/ inside the project)"),
])
def test_new_without_its_folder_is_a_clear_error(project: Path, change: str, first: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(project / "content/briefs")
    if change == "file":
        (project / "content/briefs").write_text("not a folder")
    elif change == "link outside":
        (project.parent / "elsewhere").mkdir()
        (project / "content/briefs").symlink_to(project.parent / "elsewhere")
    else:
        shutil.rmtree(project / "content")
    assert main(["-C", str(project), "new", "fresh"]) == 1
    assert capsys.readouterr().err.splitlines()[0] == first.format(root=project.resolve())
    assert not list(project.parent.rglob("fresh.yaml"))


def test_new_makes_the_briefs_folder_of_a_project_without_briefs(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(project / "content/briefs")
    assert main(["-C", str(project), "new", "fresh"]) == 0
    assert (project / "content/briefs/fresh.yaml").is_file()


# --- links say where they go ------------------------------------------------------------

LOOK_ALIKE = "https://ex\u0430mple.org/x"  # a Cyrillic а among Latin letters
SUMMARY = "summary: One paragraph of *summary* with a [link](https://example.org/) and a line"


def with_summary(summary: str) -> str:
    return SAMPLE_BRIEF.replace(SUMMARY, f"summary: '{summary}'")


@pytest.mark.parametrize(("summary", "why"), [
    (f"See [https://example.org]({LOOK_ALIKE}).",
     "the host of `https://xn--exmple-4nf.org/x` mixes Cyrillic and Latin letters (it is really "
     "`xn--exmple-4nf.org`; expected an address https://host/path whose host is written in one "
     "script: look-alike letters disguise where it goes)"),
    (f"See <{LOOK_ALIKE}>.", "the host of `https://xn--exmple-4nf.org/x` mixes Cyrillic and"),
    ("See [it](https://xn--exmple-4nf.org/).", "the host of `https://xn--exmple-4nf.org/` mixes"),
    ("See [example.org](https://evil.net/x).",
     "the link text `example.org` names the host example.org, but the link goes to evil.net "
     "(expected link text naming the host it goes to, or words that are not an address)"),
    ("See [**https://example.org/page**](https://evil.net/x).",
     "the link text `https://example.org/page` names the host example.org, but the link goes"),
    ("See [it](https://example.org@evil.net/).",
     "`https://example.org@evil.net/` names a user before its host `evil.net` (expected "),
    ("See [it](https://xn--zz-.org/).", "`https://xn--zz-.org/` has a host, `xn--zz-.org`, "
                                        "that is not valid punycode (expected a real host)"),
])
def test_a_link_that_hides_where_it_goes_is_a_placed_error(tmp_path: Path, summary: str,
                                                           why: str) -> None:
    project = make_project(tmp_path / "p", files={BRIEF: with_summary(summary)})
    first = problems(project)[0]
    assert first.startswith(
        f"content/briefs/sample.yaml:10:10: summary: the link on line 1 of the text: {why}"), first


@pytest.mark.parametrize(("file", "old", "new", "first"), [
    (BRIEF, "url: https://example.org/page", f"url: {LOOK_ALIKE}",
     "content/briefs/sample.yaml:61:10: sources[0].url: the host of `https://exаmple.org/x` "
     "mixes Cyrillic and Latin letters (it is really `xn--exmple-4nf.org`; expected "),
    (PARTNER, "country: NO", "country: NO\nwebsite: https://xn--exmple-4nf.org/",
     "content/partners/org.yaml:5:10: website: the host of `https://xn--exmple-4nf.org/` mixes"),
    (PARTNER, "country: NO", "country: NO\nwebsite: https://staff@example.org/",
     "content/partners/org.yaml:5:10: website: `https://staff@example.org/` names a user"),
])
def test_a_url_field_that_hides_where_it_goes_is_a_placed_error(
        tmp_path: Path, file: str, old: str, new: str, first: str) -> None:
    text = (ROOTS / "sample" / file).read_text(encoding="utf-8").replace(old, new)
    found = problems(make_project(tmp_path / "p", files={file: text}))[0]
    assert found.startswith(first), found


def test_links_that_say_where_they_go_are_kept(tmp_path: Path) -> None:
    """`www.` aside, the text's host is the target's; a host in one script is a real one."""
    summary = ("[www.example.org](https://example.org/page), [EXAMPLE.org/a](https://www."
               "example.org/b), [мвд.рф](https://мвд.рф/), [the ministry](https://xn--b1aew."
               "xn--p1ai/) and [words](https://example.net/).")
    brief = with_summary(summary).replace("url: https://example.org/page",
                                          "url: https://мвд.рф/page")
    project = load_project(make_project(tmp_path / "p", files={BRIEF: brief}))
    assert project.briefs[0].sources[0].url == "https://мвд.рф/page"


# --- nothing invisible in titles and names ------------------------------------------------

INVISIBLE = "(expected a title or name without invisible characters)"


@pytest.mark.parametrize(("file", "old", "new", "first"), [
    (BRIEF, "title: Sample brief", 'title: "Sample\\u200b brief"',
     "content/briefs/sample.yaml:1:8: title: character U+200B (ZERO WIDTH SPACE) is invisible"),
    (BRIEF, "    title: Partner", '    title: "Par\\u00adtner"',
     "content/briefs/sample.yaml:19:12: sections[0].title: character U+00AD (SOFT HYPHEN)"),
    (PARTNER, "name: Example Organisation", 'name: "Example\\u2060Organisation"',
     "content/partners/org.yaml:1:7: name: character U+2060 (WORD JOINER) is invisible"),
    (PARTNER, "short_name: EXO", 'short_name: {en: "E\\u034fXO"}',
     "content/partners/org.yaml:2:13: short_name: character U+034F (COMBINING GRAPHEME"),
    (BRIEF, "by: A. Person", 'by: "A.\\u200d Person"',
     "content/briefs/sample.yaml:51:13: sections[1].quotes[0].by: character U+200D (ZERO WIDTH "
     "JOINER)"),
    (BRIEF, "marking: FOR OFFICIAL USE", 'marking: "FOR\\u200cOFFICIAL USE"',
     "content/briefs/sample.yaml:5:10: marking: character U+200C (ZERO WIDTH NON-JOINER)"),
    (BRIEF, 'reference: "1.10"', 'reference: "1.\\u180e10"',
     "content/briefs/sample.yaml:4:12: reference: character U+180E (MONGOLIAN VOWEL SEPARATOR)"),
    (BRIEF, "title: Sample brief", 'title: "Sample \\u200ebrief"',
     "content/briefs/sample.yaml:1:8: title: character U+200E (LEFT-TO-RIGHT MARK)"),
    (BRIEF, "title: Sample brief", 'title: "\\u3164"',
     "content/briefs/sample.yaml:1:8: title: character U+3164 (HANGUL FILLER)"),
])
def test_an_invisible_character_in_a_title_or_name_is_a_placed_error(
        tmp_path: Path, file: str, old: str, new: str, first: str) -> None:
    text = (ROOTS / "sample" / file).read_text(encoding="utf-8").replace(old, new)
    found = problems(make_project(tmp_path / "p", files={file: text}))
    assert len(found) == 1 and found[0].startswith(first) and found[0].endswith(INVISIBLE), found


@pytest.mark.parametrize("char", ["\\ufeff", "\\u2062", "\\u206a", "\\ufff9", "\\U000e0041"])
def test_characters_that_only_hide_things_are_refused_in_any_text(tmp_path: Path,
                                                                  char: str) -> None:
    brief = SAMPLE_BRIEF.replace("department: Test Department",
                                 f'department: Test Department\nsummary: "one{char}two"')
    brief = brief.replace(SUMMARY + "\n", "")
    found = problems(make_project(tmp_path / "p", files={BRIEF: brief}))
    code = char.removeprefix("\\u").removeprefix("\\U000").upper()
    assert found == [f"content/briefs/sample.yaml:8:10: summary: character U+{code} is not "
                     "allowed (expected printable text)"]


def test_joiners_a_script_needs_and_invisible_characters_in_prose_are_kept(
        tmp_path: Path) -> None:
    """Persian needs the non-joiner, Devanagari the joiner; prose keeps soft
    hyphens and zero-width spaces (hyphenation, and word breaks in Thai)."""
    persian, hindi = "می\u200cخواهم", "क्\u200dष"
    brief = SAMPLE_BRIEF.replace("title: Sample brief", f"title: {persian} {hindi}")
    brief = brief.replace(SUMMARY, "summary: Bundes\u00adrepublik, ภาษา\u200bไทย")
    project = load_project(make_project(tmp_path / "p", files={BRIEF: brief}))
    assert project.briefs[0].title.in_language("en") == f"{persian} {hindi}"


# --- files the loader will not read are named ---------------------------------------------

RENAME = "is not read: content files end in .yaml (expected the file renamed to {stem}.yaml)"
NESTED = ("is not read: {top}/ is read without its sub-folders (expected the file in {top}/ "
          "itself, or outside content/)")
ELSEWHERE = ("is not read: content/ holds publisher.yaml, briefs/ and partners/ (expected the "
             "file in content/briefs/ or content/partners/, or outside content/)")


@pytest.mark.parametrize(("name", "why"), [
    ("content/briefs/x.YAML", RENAME.format(stem="x")),
    ("content/briefs/x.Yaml", RENAME.format(stem="x")),
    ("content/partners/x.yml", RENAME.format(stem="x")),
    ("content/publisher.YML", RENAME.format(stem="publisher")),
    ("templates/i18n/fr.YAML", RENAME.format(stem="fr")),
    ("content/briefs/drafts/x.yaml", NESTED.format(top="content/briefs")),
    ("content/partners/old/deep/x.YAML", NESTED.format(top="content/partners")),
    ("content/x.yaml", ELSEWHERE),
    ("content/drafts/x.yaml", ELSEWHERE),
])
def test_a_file_the_loader_will_not_read_is_named(tmp_path: Path, name: str, why: str) -> None:
    project = make_project(tmp_path / "p", files={name: SAMPLE_BRIEF})
    assert problems(project) == [f"{name}:1:1: `{Path(name).name}` {why}"]


def test_hidden_files_and_other_files_are_left_alone(tmp_path: Path) -> None:
    """An editor's backup folder and notes are not content, and not mistakes."""
    project = make_project(tmp_path / "p", files={
        "content/briefs/.backup/x.yaml": SAMPLE_BRIEF, "content/briefs/notes.md": "notes",
        "content/partners/.#org.yml": "lock"})
    assert load_project(project).briefs[0].slug == "sample"


def test_an_unread_file_fails_check_and_build(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p", files={"content/briefs/drafts/x.yaml": SAMPLE_BRIEF})
    first = f"content/briefs/drafts/x.yaml:1:1: `x.yaml` {NESTED.format(top='content/briefs')}"
    for command in (["check"], ["build", "--format", "html"]):
        assert main(["-C", str(project), *command]) == 1
        assert capsys.readouterr().err.splitlines()[0] == first
