"""The differential test: on any project, `check` says what `build` says.

A corpus of mutations of a real brief (the sample, with a one-page note):
chosen cases that once set the two apart, and cases generated from the brief
by a seeded generator (the same corpus on every run). For each, `check` and
`build` run cold (no output/, no cache) and then again warm (after the
build), in process as the user's commands do; the four exit codes and the
four sets of placed problems must be equal.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import ROOTS, make_project

from briefing.cli import main

BRIEF = "content/briefs/sample.yaml"
SAMPLE = (ROOTS / "sample" / BRIEF).read_text(encoding="utf-8")
WITH_NOTE = SAMPLE.replace("languages: [en]", "languages: [en]\ndocuments: [report, note]\n"
                           "contact:\n  name: Desk officer\n  email: desk@example.org"
                           ).replace("  - Second point with **bold** text.\n",
                                     "  - Second point with **bold** text.\n  - Third point.\n")
PLACED = re.compile(r"^\S+:\d+:\d+: ", re.MULTILINE)
Files = dict[str, str]


def brief(replace: str, by: str) -> Callable[[], Files]:
    def make() -> Files:
        assert replace in WITH_NOTE, replace
        return {BRIEF: WITH_NOTE.replace(replace, by, 1)}
    return make


def template(name: str, replace: str, by: str) -> Callable[[], Files]:
    def make() -> Files:
        text = (Path(__file__).parent.parent / name).read_text(encoding="utf-8")
        assert replace in text, replace
        return {BRIEF: WITH_NOTE, name: text.replace(replace, by, 1)}
    return make


CHOSEN: dict[str, Callable[[], Files]] = {
    "unchanged": lambda: {BRIEF: WITH_NOTE},
    "an empty list item": brief("      - one\n      - two\n", "      - one\n      -\n"),
    "an empty numbered item": brief("      - one\n      - two\n", "      1. one\n      2.\n"),
    "a rule inside a list": brief("      - one\n      - two\n", "      - one\n      - * * *\n"),
    "an oversized note": brief("  - Third point.\n", "  - Third point. " + (
        "It says at length what one short line would say. " * 60) + "\n"),
    "a missing translation": lambda: {BRIEF: WITH_NOTE.replace(
        "title: Sample brief", "title: {en: Sample brief}").replace(
        "languages: [en]", "languages: [en, ru]")},
    "a partner in other languages": lambda: {
        BRIEF: WITH_NOTE.replace("languages: [en]", "languages: [en, az]"),
        "content/partners/elsewhere.yaml": "name: {en: Elsewhere, ru: Где-то}\n"
                                           "kind: state-body\n"},
    "a template syntax error": template("templates/report.html.j2", "{{ brief.title }}",
                                       "{{ brief.title }"),
    "a template naming no field": template("templates/report.html.j2", "{{ brief.title }}",
                                           "{{ brief.titel }}"),
    "a percent-encoded SVG in a template": template(
        "templates/report.html.j2", '<p class="title">{{ brief.title }}</p>',
        '<p class="title">{{ brief.title }}</p>\n  <p><img alt="A black square" src="data:'
        'image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%2210%22 height='
        '%2210%22%3E%3Crect width=%2210%22 height=%2210%22/%3E%3C/svg%3E"></p>'),
    # One agreement shown in two sections (by party): once its two rows shared
    # an anchor, which `check` passed and WeasyPrint refused in `build`.
    "an agreement in two sections": lambda: {
        BRIEF: WITH_NOTE.replace("    agreements: [org]\n", "    agreements: [org]\n", 1).replace(
            "    trainings:\n", "    agreements: [org]\n    trainings:\n", 1),
        "content/partners/org.yaml": (ROOTS / "sample/content/partners/org.yaml").read_text(
            encoding="utf-8").replace("    ratified_by: Parliament\n",
                                      "    ratified_by: Parliament\n    id: cooperation\n")},
    "a stylesheet value": template("templates/print.css", "h1 {", "h1 { font-size: huge;"),
    # The typesetting gate needs the pages: three numbers wider than the page
    # together, which no column rule can keep whole.
    "a typesetting finding": brief("sources:\n", (
        "  - id: registry\n    title: Registry\n    tables:\n      - caption: Numbers\n"
        "        columns:\n          - {key: a, label: Number}\n"
        "          - {key: b, label: Check}\n          - {key: c, label: Copy}\n        rows:\n"
        "          - {a: \"12345678901234567890123456789012345678\",\n"
        "             b: \"98765432109876543210987654321098765432\",\n"
        "             c: \"56789012345678901234567890123456789012\"}\n"
        "sources:\n")),
}


def generated(count: int, seed: int = 19) -> dict[str, Callable[[], Files]]:
    """Mutations of the brief's own fields: each picks a field and breaks it."""
    data = yaml.safe_load(WITH_NOTE)
    fields = [key for key in data if key not in ("languages",)]
    chooser = random.Random(seed)
    mutations: dict[str, Callable[[], Files]] = {}
    while len(mutations) < count:
        key = chooser.choice(fields)
        how = chooser.choice(["remove", "empty", "misspell", "list", "number"])
        changed = dict(data)
        if how == "remove":
            del changed[key]
        elif how == "empty":
            changed[key] = ""
        elif how == "misspell":
            changed[key[:-1] + key[-1] * 2] = changed.pop(key)
        elif how == "list":
            changed[key] = [changed[key], None]
        else:
            changed[key] = 10**30
        text = yaml.safe_dump(changed, allow_unicode=True, sort_keys=False)
        mutations[f"{how} {key}"] = lambda text=text: {BRIEF: text}
    return mutations


CORPUS = {**CHOSEN, **generated(6)}


def outcome(project: Path, capsys: pytest.CaptureFixture[str], command: str
            ) -> tuple[int, frozenset[str]]:
    """The exit code, and the placed problems said."""
    code = main(["-C", str(project), command])
    said = capsys.readouterr().err
    return code, frozenset(line for line in said.splitlines() if PLACED.match(line))


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_check_and_build_agree_cold_and_warm(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p", files=CORPUS[case]())
    cold_check = outcome(project, capsys, "check")
    cold_build = outcome(project, capsys, "build")
    warm_check = outcome(project, capsys, "check")
    warm_build = outcome(project, capsys, "build")
    assert cold_check == cold_build == warm_check == warm_build, (
        f"check cold: {cold_check}\nbuild cold: {cold_build}\n"
        f"check warm: {warm_check}\nbuild warm: {warm_build}")
    assert cold_check[0] in (0, 1), cold_check
    if case in ("unchanged", "a partner in other languages",
                "a percent-encoded SVG in a template", "an agreement in two sections"):
        assert cold_check == (0, frozenset())
    elif not case.startswith(("remove", "empty", "misspell", "list", "number")):
        assert cold_check[0] == 1 and cold_check[1], f"{case}: nothing found"


# -- the layouts `check` remembers --------------------------------------------------------


def _refuse_layouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any layout from here on fails the edition loudly (the render workers are
    forked from this process, and inherit it)."""
    import briefing.writers.pdf

    def laid_out(*_: object, **__: object) -> bytes:
        raise AssertionError("laid out again")

    monkeypatch.setattr(briefing.writers.pdf, "_write", laid_out)


def test_check_after_a_build_lays_nothing_out_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The verdict of a layout that found nothing is remembered in the user's
    cache, under the edition's HTML, the brief's settings and the shared
    inputs: `check` after `build` (or after `check`) only renders the HTML."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project = make_project(tmp_path / "p", files={BRIEF: WITH_NOTE})
    assert outcome(project, capsys, "build") == (0, frozenset())
    before = {path.name for path in (project / "output").rglob("*")}
    _refuse_layouts(monkeypatch)
    assert outcome(project, capsys, "check") == (0, frozenset())
    assert {path.name for path in (project / "output").rglob("*")} == before
    assert not list(project.rglob("verdicts"))  # nothing written inside the project


def test_a_remembered_layout_is_not_used_for_another_stylesheet(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """print.css made larger after a check that passed: the note no longer fits
    its page, and the next check lays it out again and says so, as build does."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project = make_project(tmp_path / "p", files={BRIEF: WITH_NOTE})
    assert outcome(project, capsys, "check") == (0, frozenset())
    css = project / "templates/print.css"
    css.write_text(css.read_text(encoding="utf-8") + "\nbody { font-size: 40pt; }\n",
                   encoding="utf-8")
    checked = outcome(project, capsys, "check")
    assert checked[0] == 1 and checked == outcome(project, capsys, "build"), checked


def test_a_layout_is_remembered_only_for_the_limits_it_was_made_under(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A page laid out within 300 s and 4 GiB may not be within less: `check`
    with other limits lays it out again, as `build` would."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project = make_project(tmp_path / "p", files={BRIEF: WITH_NOTE})
    assert outcome(project, capsys, "build") == (0, frozenset())
    _refuse_layouts(monkeypatch)
    assert outcome(project, capsys, "check") == (0, frozenset())
    assert main(["-C", str(project), "check", "--timeout", "299"]) != 0
    assert "laid out again" in capsys.readouterr().err


def test_a_template_saved_during_a_layout_leaves_no_verdict(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The verdict's key is taken before the layout; a template saved while the
    pages are laid out (under `watch`, say) means the key no longer says what
    was used, and nothing is remembered."""
    from briefing.content.load import load_project
    from briefing.files import ProjectFiles
    from briefing.orchestration import workers
    from briefing.orchestration.cache import shared_digest, verdicts
    from briefing.orchestration.workers import LAYOUT, Job, Limits
    from briefing.render.edition import editions

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    files = ProjectFiles(make_project(tmp_path / "p"))
    project = load_project(files)
    edition = editions(project, project.briefs[0])[0]
    monkeypatch.setitem(workers._STATE, "project", project)
    monkeypatch.setitem(workers._STATE, "annexes", {})
    monkeypatch.setitem(workers._STATE, "limits", Limits())
    monkeypatch.delitem(workers._STATE, "env", raising=False)

    def laid_out() -> set[str]:
        folder = verdicts()
        return {path.name for path in folder.iterdir()} if folder.is_dir() else set()

    monkeypatch.setitem(workers._STATE, "layouts", shared_digest(files, LAYOUT))
    assert workers._render_formats(Job(edition, ("pdf",), verdict_only=True))[1] == []
    remembered = laid_out()
    assert remembered, "a clean layout is remembered"
    css = files.path("templates/print.css")
    monkeypatch.setitem(workers._STATE, "layouts", shared_digest(files, LAYOUT))
    css.write_text(css.read_text(encoding="utf-8") + "\n/* saved meanwhile */\n",
                   encoding="utf-8")
    for verdict in remembered:
        (verdicts() / verdict).unlink()
    assert workers._render_formats(Job(edition, ("pdf",), verdict_only=True))[1] == []
    assert laid_out() == set()


def test_a_mistake_two_briefs_share_is_counted_once_by_both(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A partner both real briefs name, with one mistake: `check` and `build`
    print the same line and count it the same."""
    project = make_project(tmp_path / "p", root=None)
    partner = project / "content/partners/iom.yaml"
    text = partner.read_text(encoding="utf-8")
    partner.write_text(text.replace("\nname:", "\nnmae:", 1), encoding="utf-8")
    counts = []
    for command in ("check", "build"):
        assert main(["-C", str(project), command]) == 1
        said = capsys.readouterr().err
        counts.append(re.findall(r"\((\d+) error\(s\)|^(\d+) error\(s\)", said, re.MULTILINE))
    assert counts[0] and counts[1] and {n for pair in counts[0] for n in pair if n} == {
        n for pair in counts[1] for n in pair if n}, counts
