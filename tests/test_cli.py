"""The command line: exit codes 0 (done), 1 (content or template errors), 2 (usage)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli


def test_build_writes_every_format(project: Path) -> None:
    result = run_cli(project)
    assert result.code == 0, result.err
    assert result.err == ""
    written = sorted(p.name for p in (project / "output" / "sample").iterdir())
    assert written == ["2020-01-15_sample_en.docx", "2020-01-15_sample_en.html",
                       "2020-01-15_sample_en.pdf"]
    assert "built 3 file(s)" in result.out


def test_selected_brief_language_and_format(project: Path) -> None:
    result = run_cli(project, "build", "sample", "--lang", "en", "--format", "pdf")
    assert result.code == 0, result.err
    assert [p.name for p in (project / "output" / "sample").iterdir()] == [
        "2020-01-15_sample_en.pdf"]


def test_check_writes_nothing(project: Path) -> None:
    result = run_cli(project, "check")
    assert (result.code, result.out) == (0, "ok: 1 brief(s), 2 partner(s)\n")
    assert not (project / "output").exists()


@pytest.mark.parametrize("args", [
    ("--no-such-flag",),
    ("build", "--format", "odt"),
    ("build", "no-such-brief"),
    ("build", "--lang", "xx"),
    ("frobnicate", "--now"),
])
def test_usage_errors_exit_2(project: Path, args: tuple[str, ...]) -> None:
    result = run_cli(project, *args)
    assert result.code == 2
    assert "Traceback" not in result.err
    assert not (project / "output").exists()


@pytest.mark.parametrize("command", [(), ("build",), ("check",)])
def test_help(project: Path, command: tuple[str, ...]) -> None:
    result = run_cli(project, *command, "--help")
    assert result.code == 0
    assert result.out.startswith("usage: build.py")
