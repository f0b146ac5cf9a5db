"""The command line's own limits: what no content or template can make it do.

Run in process (`briefing.cli.main`), as a user's command is, without paying
for a new interpreter each time.
"""

from __future__ import annotations

import resource
from pathlib import Path

import pytest
from conftest import make_project

from briefing.cli import main


def run(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, str]:
    code = main(["-C", str(project), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_template_expression_cannot_exhaust_the_process_that_reads_templates(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Jinja folds constant expressions while compiling, in the process that
    checks the templates, outside every worker's limit. With the expression
    intercepted it is computed only while rendering, and bounded there."""
    project = make_project(tmp_path / "p")
    template = project / "templates/report.html.j2"
    lines = template.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[10] = "  <p class=\"title\">{{ 'x' * 10**10 }}{{ 10 ** 10 ** 10 }}</p>\n"
    template.write_text("".join(lines), encoding="utf-8")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    # This process may map at most 6 GiB more than now: the folded string is 10 GB.
    resource.setrlimit(resource.RLIMIT_AS, (_mapped() + (6 << 30), hard))
    try:
        code, said = run(capsys, project, "check", "-j", "1")
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert code == 1, said
    assert "templates/report.html.j2:11:1:" in said
    assert "more than 10000000 characters" in said
    assert "Traceback" not in said


def test_a_broken_publisher_fails_every_brief_in_words_in_build_as_in_check(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p", files={
        "content/publisher.yaml": "nmae: Example Migration Agency\nshort_name: EMA\n"})
    outcomes = {command: run(capsys, project, command) for command in ("check", "build")}
    for command, (code, said) in outcomes.items():
        assert code == 1, (command, said)
        assert "content/publisher.yaml:1:1: nmae: unknown key `nmae`" in said, command
        assert "Traceback" not in said, command
    assert not (project / "output/sample").exists()


def test_an_output_that_is_not_a_folder_is_said_in_words(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p")
    (project / "output").write_text("not a folder\n", encoding="utf-8")
    code, said = run(capsys, project, "build", "--format", "html")
    assert code == 1, said
    assert said.startswith("output:1:1: is not a folder"), said
    assert (project / "output").read_text(encoding="utf-8") == "not a folder\n"


def test_processes_are_capped_at_a_few_per_core(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["-C", str(tmp_path), "check", "-j", "1000"])
    assert usage.value.code == 2
    assert "must be at most" in capsys.readouterr().err


def _mapped() -> int:
    """This process's address space now, in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[0])
    return pages * resource.getpagesize()


def test_check_writes_nothing_inside_the_project(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Built once, the stylesheet edited, checked twice (the first check finds
    the new stylesheet clean and remembers it, the second finds that verdict):
    not a file of the project, output/ and its cache included, is added,
    removed or touched."""
    project = make_project(tmp_path / "p")
    assert run(capsys, project, "build", "--format", "html")[0] == 0
    css = project / "templates/print.css"
    css.write_text(css.read_text(encoding="utf-8") + f"\n/* {tmp_path.name} */\n",
                   encoding="utf-8")

    def tree() -> dict[str, tuple[int, int]]:
        return {path.relative_to(project).as_posix(): (path.lstat().st_mtime_ns,
                                                         path.lstat().st_size)
                for path in sorted(project.rglob("*"))}

    before = tree()
    for _ in range(2):
        code, said = run(capsys, project, "check")
        assert code == 0, said
    assert tree() == before


def test_the_project_is_found_upwards_from_a_sub_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As git finds its repository: run from content/briefs/, a command works
    on the project above; from a folder outside any project it says so."""
    project = make_project(tmp_path / "p")
    monkeypatch.chdir(project / "content" / "briefs")
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("ok: 1 brief(s)")
    assert main(["-C", str(project / "templates" / "i18n"), "check"]) == 0
    capsys.readouterr()
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(SystemExit) as usage:
        main(["-C", str(tmp_path / "elsewhere"), "check"])
    assert usage.value.code == 2
    assert "not a Briefing project: neither" in capsys.readouterr().err


@pytest.mark.parametrize("expression", ['("%01000000000d" % 1)|length',
                                        '"x"|center(1000000000)|length'])
def test_padding_a_string_to_a_billion_characters_is_the_templates_mistake(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], expression: str) -> None:
    project = make_project(tmp_path / "p")
    template = project / "templates/report.html.j2"
    lines = template.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[10] = f"  <p class=\"title\">{{{{ {expression} }}}}</p>\n"
    template.write_text("".join(lines), encoding="utf-8")
    code, said = run(capsys, project, "check")
    assert code == 1, said
    assert "templates/report.html.j2:11:1:" in said and "more than 10000000" in said, said


def test_a_brief_named_templates_does_not_move_the_project_root(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """content/partners/templates/ (the own partners of a brief `templates`) is
    no project's templates/ folder."""
    sample = (Path(__file__).parent / "roots/sample/content/briefs/sample.yaml").read_text(
        encoding="utf-8")
    project = make_project(tmp_path / "p", files={
        "content/briefs/templates.yaml": sample,
        "content/partners/templates/local.yaml": "name: Local\nkind: ngo\n"})
    monkeypatch.chdir(project / "content" / "partners")
    assert main(["check"]) == 0, capsys.readouterr().err
