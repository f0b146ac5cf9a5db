"""The strict loader: text stays text, YAML tricks are refused, positions are kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOTS, make_project

from briefing.content.dates import PartialDate
from briefing.content.load import load_project
from briefing.content.text import Text
from briefing.content.yamlsource import PARSERS, read_yaml
from briefing.errors import BuildFailed, Problems

PARTNER = "content/partners/org.yaml"
BRIEF = "content/briefs/sample.yaml"


def first_problem(project: Path) -> str:
    with pytest.raises(BuildFailed) as failed:
        load_project(project)
    return str(failed.value.problems[0])


def test_values_stay_the_text_the_editor_typed(tmp_path: Path) -> None:
    partner = ("name: yes\nshort_name: 1.10\nkind: state-body\ncountry: NO\n"
               "agreements:\n  - title: Agreement\n    signed: 2000\n")  # the brief shows them
    brief = (ROOTS / "sample" / BRIEF).read_text().replace('reference: "1.10"', "reference: 1.10")
    project = load_project(make_project(tmp_path / "p", files={PARTNER: partner, BRIEF: brief}))
    org = project.partners["org"]
    assert (org.name, org.short_name, org.country) == (Text("yes"), Text("1.10"), Text("NO"))
    assert project.briefs[0].reference == "1.10"
    assert project.briefs[0].key_facts[0].value == Text("1996")


def test_dates_keep_their_precision(tmp_path: Path) -> None:
    project = load_project(make_project(tmp_path / "p"))
    offices = project.partners["org"].offices
    assert [o.opened for o in offices] == [PartialDate(1996), PartialDate(2006, 8)]
    assert offices[1].opened.precision == "month"


def test_byte_order_mark_and_crlf_are_accepted(tmp_path: Path) -> None:
    text = (ROOTS / "sample" / BRIEF).read_text().replace("\n", "\r\n")
    data = b"\xef\xbb\xbf" + text.encode()
    project = load_project(make_project(tmp_path / "p", files={BRIEF: data}))
    assert project.briefs[0].title == Text("Sample brief")


def test_control_characters_are_refused(tmp_path: Path) -> None:
    brief = (ROOTS / "sample" / BRIEF).read_text().replace("Sample brief", "Sample\x07brief")
    project = make_project(tmp_path / "p", files={BRIEF: brief})
    assert first_problem(project) == (
        "content/briefs/sample.yaml:1:14: character U+0007 is not allowed "
        "(expected printable text)")


def test_deep_nesting_is_a_content_error(tmp_path: Path) -> None:
    brief = "title: " + "[" * 5000 + "]" * 5000 + "\n"
    project = make_project(tmp_path / "p", files={BRIEF: brief})
    assert first_problem(project).startswith("content/briefs/sample.yaml:1:")
    assert "nesting deeper than 40 levels" in first_problem(project)


def test_huge_files_are_refused(tmp_path: Path) -> None:
    brief = "title: " + "x" * (3 * 1024 * 1024) + "\n"
    project = make_project(tmp_path / "p", files={BRIEF: brief})
    assert first_problem(project).startswith(
        "content/briefs/sample.yaml:1:1: the file is 3145736 bytes (expected at most")


def test_id_comes_from_the_file_name(tmp_path: Path) -> None:
    partner = (ROOTS / "sample" / PARTNER).read_text()
    project = make_project(tmp_path / "p", files={PARTNER: "id: other\n" + partner})
    assert first_problem(project) == (
        "content/partners/org.yaml:1:1: id: `id` comes from the file name (expected no such key)")


def test_file_names_must_be_slugs(tmp_path: Path) -> None:
    brief = (ROOTS / "sample" / BRIEF).read_text()
    project = make_project(tmp_path / "p", files={"content/briefs/Bad Name.yaml": brief})
    assert first_problem(project) == (
        "content/briefs/Bad Name.yaml:1:1: file name `Bad Name` is not a valid slug "
        "(expected lowercase letters, digits and hyphens, like `iom`)")


def test_per_language_text_and_missing_translations(tmp_path: Path) -> None:
    """A plain string serves every language; a mapping must name each one."""
    brief = (ROOTS / "sample" / BRIEF).read_text()
    brief = brief.replace("title: Sample brief", "title:\n  en: Sample brief\n  az: Nümunə")
    brief = brief.replace("subtitle: Every block the templates know",
                          "subtitle:\n  en: Every block the templates know")
    brief = brief.replace("languages: [en]", "languages: [en, az, ru]")
    catalog = (Path(__file__).parent.parent / "templates/i18n/en.yaml").read_text()
    files = {BRIEF: brief}
    for language in ("az", "ru"):
        files[f"templates/i18n/{language}.yaml"] = catalog.replace(
            "language: en", f"language: {language}").replace("locale: en_GB", f"locale: {language}")
    project = make_project(tmp_path / "p", files=files)
    with pytest.raises(BuildFailed) as failed:
        load_project(project)
    assert [str(p) for p in failed.value.problems] == [
        "content/briefs/sample.yaml:2:3: title: no 'ru' text (expected a translation for every "
        "language of brief `sample`)",
        "content/briefs/sample.yaml:5:3: subtitle: no 'az' text (expected a translation for "
        "every language of brief `sample`)",
        "content/briefs/sample.yaml:5:3: subtitle: no 'ru' text (expected a translation for "
        "every language of brief `sample`)",
    ]
    loaded = load_project(project, allow_fallback=True)
    assert loaded.briefs[0].title.in_language("az") == "Nümunə"
    assert loaded.partners["org"].name.in_language("ru") == "Example Organisation"


@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_both_parsers_read_the_same_values(tmp_path: Path, parser: str) -> None:
    """Null means null with LibYAML and with the pure-Python parser alike;
    quoted nulls and everything else stay the text typed."""
    text = ("a: ~\nb: null\nc:\nd: '~'\ne: \"null\"\nf: NO\ng: 1.10\nh: 2006-08\n"
            "i: [~, x]\nj: Null\nk: NULL\n")
    file = tmp_path / "f.yaml"
    file.write_text(text)
    problems = Problems(tmp_path)
    data, source = read_yaml(file, problems, parser=parser)
    assert problems.items == []
    assert data == {"a": None, "b": None, "c": None, "d": "~", "e": "null", "f": "NO",
                    "g": "1.10", "h": "2006-08", "i": [None, "x"], "j": None, "k": None}
    assert source.locate(("h",)) == (8, 4)


def test_libyaml_is_the_parser_in_use() -> None:
    assert "libyaml" in PARSERS


def test_a_null_subtitle_is_no_subtitle(tmp_path: Path) -> None:
    brief = (ROOTS / "sample" / BRIEF).read_text().replace(
        "subtitle: Every block the templates know", "subtitle: ~")
    partner = (ROOTS / "sample" / PARTNER).read_text() + "\n"
    partner = partner.replace("    ratified_by: Parliament", "    ratified_by: null")
    project = load_project(make_project(tmp_path / "p", files={BRIEF: brief, PARTNER: partner}))
    assert project.briefs[0].subtitle is None
    assert project.partners["org"].agreements[0].ratified_by is None


@pytest.mark.parametrize(("lines", "first"), [
    ("key_points:\n  - First point.\n - Second point.\n",
     "6:2: indentation: this line, at column 2, does not line up with the keys of the block "
     "that starts at 1:1 (expected the block's keys at column 1, or a value indented under "
     "its key)"),
    ("sections:\n  - id: a\n    title: A\n   body: x\n",
     "7:4: indentation: this line, at column 4, does not line up with the list that starts at "
     "5:3 (expected each `-` of that list at column 3, and what belongs to an item indented "
     "under it)"),
    ("department: Test\n  audience: x\n",
     "5:11: indentation, or an unquoted `: `: a `key:` here is indented under a plain value, "
     "or the value holds a colon and a space (expected the key lined up with the keys above "
     "it, or the value in quotes)"),
    ("key_points:\n  - First point.\nfoo\n",
     "7:1: indentation, or a missing colon: line 6 is neither a `key: value` nor indented "
     "under a key (expected `key: value`, or text indented under the key it belongs to)"),
])
def test_an_indentation_mistake_says_indentation(tmp_path: Path, lines: str,
                                                 first: str) -> None:
    """The parser's words ("did not find expected '-' indicator, while parsing a
    block collection") become an editor's: which line breaks which block."""
    from briefing.content.yamlsource import read_yaml
    from briefing.errors import Problems

    file = tmp_path / "brief.yaml"
    file.write_text("title: T\ndate: 2020-01-15\nlanguages: [en]\n" + lines, encoding="utf-8")
    problems = Problems(tmp_path)
    assert read_yaml(file, problems) is None
    assert [str(problem) for problem in problems.items] == [f"brief.yaml:{first}"]
