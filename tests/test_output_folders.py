"""A brief's outputs: no stale files, switched all together, and an exit code
that does not depend on what the cache remembers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import docx
import lxml.html
from changes import MOMENTS, kill_at
from conftest import REPO, ROOTS, make_project, output_files, run_in_process
from readers import pdf_text

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
    """A broken partner file no brief uses fails every run alike."""
    project = make_project(tmp_path / "p", files={"content/partners/unused.yaml": "name: [x\n"})
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


def edition_marks(project: Path) -> set[str]:
    """The edition number each visible output of the brief was built from."""
    marks = set()
    for path in output_files(project).values():
        if path.suffix == ".html":
            text = lxml.html.document_fromstring(path.read_bytes()).text_content()
        else:
            text = pdf_text(path) if path.suffix == ".pdf" else "\n".join(
                p.text for p in docx.Document(str(path)).paragraphs)
        marks |= {word for word in text.split() if word.startswith("Edition-")}
    return marks


def test_a_brief_is_switched_all_together_even_when_killed(tmp_path: Path) -> None:
    """Kill the build at each telling moment in turn (changes.MOMENTS: before
    its first write, while its files are written and renamed, at and right
    after the switch, while the old generation goes, while the cache is saved):
    the files a reader sees always come from one build."""
    project = make_project(tmp_path / "p")
    brief = project / BRIEF
    text = brief.read_text()
    brief.write_text(text.replace("title: Sample brief", "title: Sample Edition-0"))
    assert run_in_process(project, "build").code == 0
    assert edition_marks(project) == {"Edition-0"}
    command = [sys.executable, str(REPO / "build.py"), "-C", str(project), "build", "-j", "1"]
    for number, (name, moment) in enumerate(MOMENTS.items(), start=1):
        brief.write_text(text.replace("title: Sample brief", f"title: Sample Edition-{number}"))
        assert kill_at(command, project / "output", moment), f"the build ended before {name}"
        marks = edition_marks(project)
        assert len(marks) == 1, (name, marks)
    assert run_in_process(project, "build").code == 0
    assert edition_marks(project) == {f"Edition-{len(MOMENTS)}"}
    assert not [p for p in (project / "output").iterdir()
                if p.name.endswith(".gen") and p.name != (project / "output/sample").readlink()
                .name]
