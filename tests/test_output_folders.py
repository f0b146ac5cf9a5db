"""A brief's outputs: no stale files, and an exit code that does not depend on
what the cache remembers. That they are switched all together, even when the
build is killed, is tested with the other kills in test_robustness.py."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOTS, make_project, output_files, run_in_process

BRIEF = "content/briefs/sample.yaml"
OTHER = "content/briefs/other.yaml"


def names(project: Path) -> list[str]:
    return sorted(output_files(project))


def cache_outputs(project: Path) -> set[str]:
    manifest = json.loads((project / "output/.cache/manifest.json").read_text())
    return set(manifest["outputs"])


def test_a_new_date_language_or_document_leaves_no_stale_file(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    brief = project / BRIEF
    assert run_in_process(project, "build").code == 0
    assert names(project) == [f"output/sample/2020-01-15_sample_en.{fmt}"
                              for fmt in ("docx", "html", "pdf")]
    brief.write_text(brief.read_text().replace("date: 2020-01-15", "date: 2020-02-01"))
    assert run_in_process(project, "build").code == 0
    assert names(project) == [f"output/sample/2020-02-01_sample_en.{fmt}"
                              for fmt in ("docx", "html", "pdf")]
    assert cache_outputs(project) == set(names(project))
    # Only the PDF asked for: the DOCX of the same date stays, nothing else.
    brief.write_text(brief.read_text().replace("date: 2020-02-01", "date: 2020-03-01"))
    assert run_in_process(project, "build", "--format", "pdf").code == 0
    assert names(project) == ["output/sample/2020-03-01_sample_en.pdf"]


def test_a_deleted_or_renamed_brief_takes_its_outputs_with_it(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", files={
        OTHER: (ROOTS / "sample" / "other-brief.yaml").read_text()})
    assert run_in_process(project, "build").code == 0
    assert any(name.startswith("output/other/") for name in names(project))
    (project / OTHER).rename(project / "content/briefs/renamed.yaml")
    assert run_in_process(project, "build").code == 0
    assert not any(name.startswith("output/other/") for name in names(project))
    assert any(name.startswith("output/renamed/") for name in names(project))
    assert not (project / "output/other").exists()
    assert not [p for p in (project / "output").iterdir() if p.name.startswith(".other.")]
    assert not any("/other/" in name for name in cache_outputs(project))
    manifest = json.loads((project / "output/.cache/manifest.json").read_text())
    assert "other" not in manifest["briefs"]


def test_nothing_but_brief_outputs_is_removed(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    keep = project / "output/archive/keep.txt"
    keep.parent.mkdir(parents=True)
    keep.write_text("an archived file")
    notes = project / "output/my-notes.txt"
    notes.write_text("mine")
    assert run_in_process(project, "build").code == 0
    (project / BRIEF).unlink()
    (project / OTHER).write_text((ROOTS / "sample" / "other-brief.yaml").read_text())
    assert run_in_process(project, "build").code == 0
    assert keep.read_text() == "an archived file" and notes.read_text() == "mine"
    assert not (project / "output/sample").exists()


def test_the_exit_code_does_not_depend_on_the_cache(tmp_path: Path) -> None:
    """A broken partner file no brief uses fails every run alike. (A brief that
    shows agreements reads every partner file, since it finds them by party:
    here the brief shows none.)"""
    brief = (ROOTS / "sample" / BRIEF).read_text().replace("    agreements: [org]\n", "")
    project = make_project(tmp_path / "p", files={"content/partners/unused.yaml": "name: [x\n",
                                                  BRIEF: brief})
    codes = [run_in_process(project, "build").code for _ in range(3)]
    assert codes == [1, 1, 1]
    assert names(project) == [f"output/sample/2020-01-15_sample_en.{fmt}"
                              for fmt in ("docx", "html", "pdf")]
    (project / "content/partners/unused.yaml").unlink()
    assert [run_in_process(project, "build").code for _ in range(2)] == [0, 0]


def test_an_unchanged_project_still_answers_from_the_cache(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    assert run_in_process(project, "build").code == 0
    again = run_in_process(project, "build", "-v")
    assert again.code == 0 and "built 0 file(s), 3 up to date" in again.out
