"""Nothing stale stays beside a fresh output: a brief's folder holds files of
one version of its sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_project, output_files

from briefing.cli import main

SEMANTIC = "output/sample/2020-01-15_sample_en.semantic.html"


def test_a_format_built_from_earlier_sources_goes_with_the_next_build(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p")
    assert main(["-C", str(project), "build", "--format", "semantic", "--format", "html"]) == 0
    assert SEMANTIC in output_files(project)
    brief = project / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text(encoding="utf-8").replace(
        "title: Sample brief", "title: Sample brief, revised"), encoding="utf-8")
    assert main(["-C", str(project), "build", "--format", "html"]) == 0
    shown = output_files(project)
    assert SEMANTIC not in shown, "the semantic HTML of the earlier title stayed"
    assert "revised" in shown["output/sample/2020-01-15_sample_en.html"].read_text()
    capsys.readouterr()
    assert main(["-C", str(project), "build", "--format", "html"]) == 0
    assert capsys.readouterr().out == "built 0 file(s), 1 up to date\n"


def test_a_format_still_fresh_is_kept_when_another_is_rebuilt(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path / "p")
    assert main(["-C", str(project), "build", "--format", "semantic", "--format", "html"]) == 0
    assert main(["-C", str(project), "build", "--format", "html", "--force"]) == 0
    assert SEMANTIC in output_files(project)
