"""One answer per question: `check` and `build` agree, templates see a view,
Briefing is a real package with one command line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import lxml.html
import pytest
from conftest import REPO, ROOTS, make_project, run_in_process

from briefing import __version__

BRIEF = "content/briefs/sample.yaml"
SAMPLE_YAML = (ROOTS / "sample" / "content" / "briefs" / "sample.yaml").read_text()
REPORT = (REPO / "templates" / "report.html.j2").read_text()


def in_template(line: str) -> dict[str, str]:
    """The report template with `line` written first in its document block."""
    return {"templates/report.html.j2": REPORT.replace(
        "{% block document %}", "{% block document %}\n" + line, 1)}


def brief_with(old: str, new: str) -> dict[str, str]:
    assert old in SAMPLE_YAML
    return {BRIEF: SAMPLE_YAML.replace(old, new, 1)}


DEEP_LIST = "      - one\n        - two\n          - three\n            - four\n"

# name -> (files written over the sample project, whether both must succeed)
CASES = {
    "a section called like a part of the template": (
        brief_with("  - id: profile", "  - id: summary"), True),
    "a section called like a source anchor": (
        brief_with("  - id: activities", "  - id: source-page"), True),
    "a partner shown in two sections": (
        brief_with("    title: Activities\n", "    title: Activities\n    partners: [org]\n"),
        True),
    "an element outside the supported subset": (in_template("<video></video>"), False),
    "a list nested deeper than the writer supports": (
        brief_with("      - one\n      - two\n", DEEP_LIST), False),
    "a template expression that fails": (in_template("<p>{{ 1 / 0 }}</p>"), False),
    "a template printing a whole record": (in_template("<p>{{ brief }}</p>"), False),
    "a template printing a list": (in_template("<p>{{ brief.audience }}</p>"), False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_check_passes_exactly_when_build_can_render(tmp_path: Path, name: str) -> None:
    files, ok = CASES[name]
    checked = run_in_process(make_project(tmp_path / "c", files=files), "check")
    built_project = make_project(tmp_path / "b", files=files)
    built = run_in_process(built_project, "build", "--format", "pdf", "--format", "docx")
    assert "Traceback" not in checked.err + built.err
    assert (checked.code, built.code) == ((0, 0) if ok else (1, 1)), (checked.err, built.err)
    if ok:
        html = run_in_process(built_project, "build", "--format", "semantic")
        assert html.code == 0, html.err
        page = (built_project / "output/sample/2020-01-15_sample_en.semantic.html").read_text()
        ids = lxml.html.document_fromstring(page).xpath("//@id")
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
        links = lxml.html.document_fromstring(page).xpath("//a/@href")
        assert {href[1:] for href in links if href.startswith("#")} <= set(ids)
    else:  # the same validation: the same mistakes, placed the same way
        assert problems(checked.err) == problems(built.err)
        assert re.match(r"^(templates|content)/[\w/.-]+:\d+:\d+: ", checked.err)


def problems(err: str) -> list[str]:
    return [line for line in err.splitlines() if re.match(r"^[\w/.-]+:\d+:\d+: ", line)]


def test_a_deep_list_is_placed_at_its_field(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", files=brief_with("      - one\n      - two\n",
                                                            DEEP_LIST))
    result = run_in_process(project, "check")
    line = SAMPLE_YAML.splitlines().index("    body: |") + 1
    assert result.err.splitlines()[0] == (
        f"content/briefs/sample.yaml:{line}:11: sections[0].body: a list nested 4 deep on "
        "line 6 of the text (expected lists nested at most 3 deep)")


def test_template_mistakes_name_what_a_record_has(tmp_path: Path) -> None:
    result = run_in_process(make_project(tmp_path / "p", files=in_template("<p>{{ brief }}</p>")),
                     "check")
    first = result.err.splitlines()[0]
    assert first.startswith("templates/report.html.j2:")
    assert "a whole <brief> record" in first and "title" in first


def test_any_filter_works_on_any_value(tmp_path: Path) -> None:
    """Templates get plain strings: `upper`, `truncate`, `~` and `length` all work,
    and no Python repr reaches the document."""
    line = ("<p class=\"probe\">{{ brief.title|upper }}|{{ brief.date|truncate(6, true, '') }}"
            "|{{ brief.date.iso }}|{{ brief.title ~ '!' }}|{{ brief.sections[0].title|length }}"
            "|{{ brief.sections[1].trainings[0].organiser.label|lower }}"
            "|{{ brief.sources[0].number }}</p>")
    project = make_project(tmp_path / "p", files=in_template(line))
    result = run_in_process(project, "build", "--format", "semantic")
    assert result.code == 0, result.err
    html = (project / "output/sample/2020-01-15_sample_en.semantic.html").read_text()
    probe = lxml.html.document_fromstring(html).find_class("probe")[0].text_content()
    # (the ISO date is kept whole by a span, its hyphens as written: render/typography.py)
    assert probe == "SAMPLE BRIEF|15\u00a0Jan|2020-01-15|Sample brief!|7|exo|1"
    assert not re.search(r"Text\(|Prose\(|PartialDate\(|Period\(|object at 0x", html)


def test_wheel_holds_every_stage_and_the_console_script(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building writes build/ beside pyproject.toml
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(tmp_path), str(source)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("briefing-*.whl"))
    assert wheel.name.startswith(f"briefing-{__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names
                            if n.endswith("entry_points.txt"))
    sources = {path.relative_to(REPO / "src").as_posix()
               for path in (REPO / "src" / "briefing").rglob("*.py")}
    assert sources <= names
    assert "briefing = briefing.cli:main" in entry_points


def console(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "briefing"), *args],
                          capture_output=True, text=True, timeout=300)


def test_console_script_is_the_same_command_line(tmp_path: Path) -> None:
    assert console("--version").stdout == f"Briefing {__version__}\n"
    assert console("--help").stdout.startswith("usage: briefing ")
    project = make_project(tmp_path / "check")  # a folder named like a command
    for form in (["-C", str(project)], [f"-C{project}"], [f"--project={project}"]):
        done = console(*form, "check")
        assert (done.returncode, done.stdout) == (0, "ok: 1 brief(s), 2 partner(s)\n"), form
    done = subprocess.run([sys.executable, "-m", "briefing", "-C", str(project), "check"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_no_command_builds_everything(sample_build: Path) -> None:
    """The session's sample build is the bare command's (conftest.py), its exit 0
    asserted there."""
    assert sorted(p.name for p in (sample_build / "output" / "sample").iterdir()) == [
        "2020-01-15_sample_en.docx", "2020-01-15_sample_en.html", "2020-01-15_sample_en.pdf"]


def test_no_sys_path_manipulation() -> None:
    code = [path for top in ("src", "tests", "benchmarks", "tools")
            for path in (REPO / top).rglob("*") if path.suffix == ".py" or path.parent.name
            == "tools"] + [REPO / "build.py"]
    offenders = [path.name for path in code if path.is_file()
                 and "sys.path" in path.read_text(errors="replace")
                 and path.name != "test_one_path.py"]
    assert offenders == []
