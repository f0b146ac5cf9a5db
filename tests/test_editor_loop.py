"""The editor's loop: incremental and parallel builds, failures that stay local."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ROOTS, make_project, run_cli

SAMPLE = "output/sample/2020-01-15_sample_en"
OTHER = "output/other/2021-03-01_other_en"


@pytest.fixture
def two_briefs(tmp_path: Path) -> Path:
    project = make_project(tmp_path / "p", files={
        "content/briefs/other.yaml": (ROOTS / "sample" / "other-brief.yaml").read_text()})
    result = run_cli(project, "-j", "2")
    assert result.code == 0, result.err
    return project


def stamps(project: Path) -> dict[str, int]:
    return {str(p.relative_to(project)): p.stat().st_mtime_ns
            for p in (project / "output").rglob("*") if p.suffix in (".pdf", ".docx")}


def rebuilt(project: Path, *args: str) -> set[str]:
    before = stamps(project)
    result = run_cli(project, *args)
    assert result.code == 0, result.err
    after = stamps(project)
    return {name for name in after if after[name] != before.get(name)}


def test_nothing_changed_means_nothing_rebuilt(two_briefs: Path) -> None:
    result = run_cli(two_briefs)
    assert result.out == "built 0 file(s), 4 up to date\n"
    assert rebuilt(two_briefs) == set()


def test_a_partner_change_rebuilds_only_the_briefs_that_name_it(two_briefs: Path) -> None:
    partner = two_briefs / "content/partners/org.yaml"
    partner.write_text(partner.read_text().replace("Capital", "Capital City"))
    assert rebuilt(two_briefs) == {f"{SAMPLE}.pdf", f"{SAMPLE}.docx"}


def test_a_template_change_rebuilds_everything(two_briefs: Path) -> None:
    css = two_briefs / "templates/print.css"
    css.write_text(css.read_text() + "\n/* a reviewed change */\n")
    assert rebuilt(two_briefs) == {f"{SAMPLE}.pdf", f"{SAMPLE}.docx",
                                   f"{OTHER}.pdf", f"{OTHER}.docx"}


def test_force_rebuilds_and_a_touched_output_is_remade(two_briefs: Path) -> None:
    assert len(rebuilt(two_briefs, "--force")) == 4
    (two_briefs / f"{OTHER}.pdf").write_bytes(b"not a pdf")
    assert rebuilt(two_briefs) == {f"{OTHER}.pdf"}
    assert (two_briefs / f"{OTHER}.pdf").read_bytes().startswith(b"%PDF")


def test_one_failing_brief_does_not_stop_the_others(two_briefs: Path) -> None:
    brief = two_briefs / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text().replace("date: 2020-01-15", "date: 2020-13-15"))
    css = two_briefs / "templates/print.css"
    css.write_text(css.read_text() + "\n/* touch everything */\n")
    before = stamps(two_briefs)
    result = run_cli(two_briefs)
    assert result.code == 1
    assert result.err.splitlines() == [
        "content/briefs/sample.yaml:3:7: date: `2020-13-15` is not a real date "
        "(expected a day that exists)",
        "failed: sample (1 error(s); their previous outputs are untouched)",
    ]
    after = stamps(two_briefs)
    assert after[f"{OTHER}.pdf"] != before[f"{OTHER}.pdf"]
    assert after[f"{SAMPLE}.pdf"] == before[f"{SAMPLE}.pdf"]


def test_parallel_and_serial_builds_give_the_same_bytes(two_briefs: Path, tmp_path: Path) -> None:
    serial = make_project(tmp_path / "serial", files={
        "content/briefs/other.yaml": (ROOTS / "sample" / "other-brief.yaml").read_text()})
    assert run_cli(serial, "-j", "1").code == 0
    for name in (f"{SAMPLE}.pdf", f"{SAMPLE}.docx", f"{OTHER}.pdf", f"{OTHER}.docx"):
        assert (serial / name).read_bytes() == (two_briefs / name).read_bytes(), name


def test_quiet_and_plain_logs(project: Path) -> None:
    result = run_cli(project, "-q")
    assert (result.code, result.out, result.err) == (0, "", "")
    result = run_cli(project, "--force")
    assert result.out.splitlines()[0].startswith(f"wrote {SAMPLE}.")
    assert result.out.splitlines()[-1] == "built 2 file(s)"
    result = run_cli(project, "-v")
    assert result.out == "built 0 file(s), 2 up to date\n"


def test_jobs_must_be_positive(project: Path) -> None:
    assert run_cli(project, "-j", "0").code == 2
    assert not (project / "output").exists()
    assert os.cpu_count()
