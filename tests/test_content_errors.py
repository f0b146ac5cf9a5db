"""Every content mistake: exact `path:line:col:` first line, exit 1, no output.

Each case is one file in tests/roots/errors/, copied over the sample project.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOTS, make_project, run_in_process

BRIEF = "content/briefs/sample.yaml"
PARTNER = "content/partners/org.yaml"

CASES = {
    "missing-field": (BRIEF, "content/briefs/sample.yaml:1:1: department: required key is "
                             "missing (expected a `department:` line)"),
    # One mistake, one line: the misspelt key, not also the required key missing.
    "misspelt-required-key": (BRIEF, "content/briefs/sample.yaml:6:1: departmnt: unknown key "
                                     "`departmnt`; did you mean `department`, which is required "
                                     "and missing? (expected one of title, subtitle, date, "
                                     "reference, marking, languages, department, documents, "
                                     "contact, audience, partners, overrides, summary, key_facts, "
                                     "key_points, sections, sources, typesetting, "
                                     "change_annex)"),
    "wrong-type": (BRIEF, "content/briefs/sample.yaml:9:12: sections[0].title: this is not "
                          "text (expected a string, or a mapping of language code to string)"),
    "unknown-key": (BRIEF, "content/briefs/sample.yaml:10:5: sections[0].bodi: unknown key "
                           "`bodi`; did you mean `body`? (expected one of title, body, partners, "
                           "timeline, agreements, trainings, events, working_groups, meetings, "
                           "projects, tables, quotes)"),
    "duplicate-key": (BRIEF, "content/briefs/sample.yaml:10:5: sections[0].title: duplicate "
                             "key `title` (expected each key once; first written at line 9)"),
    "bad-date": (BRIEF, "content/briefs/sample.yaml:2:7: date: `2020-02-30` is not a real "
                        "date (expected a day that exists)"),
    "alias": (BRIEF, "content/briefs/sample.yaml:8:5: anchor &first is not allowed "
                     "(expected plain values without anchors)"),
    "tab-indentation": (BRIEF, "content/briefs/sample.yaml:9:1: a tab character is used for "
                               "indentation (expected spaces for indentation)"),
    "syntax-error": (BRIEF, "content/briefs/sample.yaml:10:1: YAML syntax: found unexpected "
                            "end of stream, while scanning a quoted scalar that starts at 9:12 "
                            "(expected valid YAML)"),
    "unknown-partner": (BRIEF, "content/briefs/sample.yaml:7:17: partners[1]: no partner with "
                               "id `ogr`; did you mean `org`? (expected the id of a file in "
                               "content/partners/)"),
    "ratified-before-signed": (PARTNER, "content/partners/org.yaml:6:15: agreements[0].ratified:"
                                        " ratified on 1999-11-08 before it was signed on "
                                        "2000-02-08 (expected a `ratified` date on or after "
                                        "the `signed` date)"),
    "duplicate-section-id": (BRIEF, "content/briefs/sample.yaml:10:9: sections[1].id: id `one` "
                                    "is used twice (expected ids unique within the brief)"),
    "no-sections": (BRIEF, "content/briefs/sample.yaml:7:11: sections: too few items "
                           "(expected at least 1)"),
    "reversed-range": (BRIEF, "content/briefs/sample.yaml:13:15: sections[0].trainings[0].when:"
                              " `2008/2007` ends before it starts (expected start/end)"),
    "bad-choice": (PARTNER, "content/partners/org.yaml:2:7: kind: `international-organization` "
                            "is not one of the choices (expected 'state', 'government-body', "
                            "'ministry', 'agency', 'international-organisation', "
                            "'regional-organisation', 'eu-body', 'ngo', 'union', "
                            "'state-body' or 'state-enterprise')"),
}


def check_fails(project: Path, first_line: str) -> list[str]:
    result = run_in_process(project)
    lines = result.err.splitlines()
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    assert lines[0] == first_line
    assert not (project / "output").exists(), "a failed build wrote output"
    return lines


def test_each_case_is_exactly_its_own_mistake(tmp_path: Path) -> None:
    """One mistake per fixture: so each case fails if its own check is removed,
    instead of passing on a neighbour's error."""
    for name, (target, first_line) in CASES.items():
        project = make_project(tmp_path / name, files={
            target: (ROOTS / "errors" / f"{name}.yaml").read_text()})
        lines = [line for line in run_in_process(project, "check").err.splitlines()
                 if line.startswith(("content/", "templates/"))]
        assert lines == [first_line], name


@pytest.mark.parametrize("case", sorted(CASES))
def test_content_mistake_is_placed(case: str, tmp_path: Path) -> None:
    target, first_line = CASES[case]
    text = (ROOTS / "errors" / f"{case}.yaml").read_text(encoding="utf-8")
    check_fails(make_project(tmp_path / "p", files={target: text}), first_line)


def test_all_mistakes_are_reported_at_once(tmp_path: Path) -> None:
    text = (ROOTS / "errors" / "many-errors.yaml").read_text(encoding="utf-8")
    project = make_project(tmp_path / "p", files={
        BRIEF: text,
        PARTNER: (ROOTS / "errors" / "bad-choice.yaml").read_text(encoding="utf-8"),
    })
    lines = check_fails(project, "content/briefs/sample.yaml:10:10: sources[0].url: "
                                 "`ftp://example.org/` is not a web address (expected a "
                                 "URL starting with https:// (or http:// where the site "
                                 "has no https))")
    assert lines[1:] == [
        "content/briefs/sample.yaml:14:5: sections[0].titel: unknown key `titel`; did you mean "
        "`title`? (expected one of title, body, partners, timeline, agreements, trainings, "
        "events, working_groups, meetings, projects, tables, quotes)",
        "content/partners/org.yaml:2:7: kind: `international-organization` is not one of the "
        "choices (expected 'state', 'government-body', 'ministry', 'agency', "
        "'international-organisation', 'regional-organisation', 'eu-body', 'ngo', 'union', "
        "'state-body' or 'state-enterprise')",
        "failed: sample (2 error(s); their previous outputs are untouched)",
    ]


def test_invalid_utf8_names_the_byte(tmp_path: Path) -> None:
    data = (ROOTS / "sample" / BRIEF).read_bytes().replace(b"Sample brief", b"Sample \xff brief")
    project = make_project(tmp_path / "p", files={BRIEF: data})
    check_fails(project, "content/briefs/sample.yaml:1:15: invalid UTF-8 at byte offset 14 "
                         "(expected a UTF-8 encoded file)")


def test_check_command_reports_the_same_and_writes_nothing(tmp_path: Path) -> None:
    target, first_line = CASES["bad-date"]
    text = (ROOTS / "errors" / "bad-date.yaml").read_text(encoding="utf-8")
    project = make_project(tmp_path / "p", files={target: text})
    result = run_in_process(project, "check")
    assert result.code == 1
    assert result.err.splitlines()[0] == first_line
