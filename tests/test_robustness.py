"""Nothing is lost: kills, full disks, concurrent builds, runaway renders, random input.

How a failing worker stays local to its edition: test_workers.py."""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import docx
import lxml.html
import pytest
import yaml
from changes import MOMENTS, kill_at
from conftest import REPO, ROOTS, make_project, output_files, run_cli, run_in_process
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from readers import paragraph_text, pdf_text

from briefing.content.load import load_project
from briefing.errors import BuildFailed
from briefing.files import ProjectFiles
from briefing.render.edition import Edition
from briefing.render.html import environment, render_html
from briefing.render.view import build_view

BRIEF = "content/briefs/sample.yaml"


def digests(project: Path) -> dict[str, str]:
    return {name: hashlib.sha256(p.read_bytes()).hexdigest()
            for name, p in output_files(project).items()}


def assert_all_outputs_open(project: Path) -> None:
    """Every file a reader can see opens, and there is nothing half-made among them."""
    for name, path in output_files(project).items():
        if path.suffix == ".pdf":
            done = subprocess.run(["qpdf", "--check", str(path)], capture_output=True)
            assert done.returncode == 0, (path, done.stdout)
        elif path.suffix == ".docx":
            docx.Document(str(path))
        elif path.suffix == ".html":
            assert path.read_bytes().rstrip().endswith(b"</html>"), name
        else:
            pytest.fail(f"unexpected file {name}")


def build_command(project: Path, *args: str) -> list[str]:
    command, *rest = args
    return [sys.executable, str(REPO / "build.py"), "-C", str(project), command, "-q", *rest]


def edition_marks(project: Path) -> set[str]:
    """The edition number each visible output was built from (`Edition-N` in
    the sample brief's title)."""
    marks = set()
    for path in output_files(project).values():
        if path.suffix == ".html":
            text = lxml.html.document_fromstring(path.read_bytes()).text_content()
        else:
            text = pdf_text(path) if path.suffix == ".pdf" else "\n".join(
                paragraph_text(p) for p in docx.Document(str(path)).paragraphs)
        marks |= {word for word in text.split() if word.startswith("Edition-")}
    return marks


def test_a_killed_build_loses_nothing_and_switches_each_brief_all_together(
        tmp_path: Path) -> None:
    """Killed at each telling moment of a build (changes.MOMENTS: before its
    first write, while temporaries are written and renamed, at and right after
    a brief's switch, while the old generation goes, while the cache is
    saved), a build leaves every file whole, the old one or the new, and the
    files a reader sees of a brief always come from one build."""
    project = make_project(tmp_path / "p", files={
        "content/briefs/other.yaml": (ROOTS / "sample" / "other-brief.yaml").read_text()})
    brief = project / BRIEF
    text = brief.read_text()

    def edition(number: int) -> None:
        brief.write_text(text.replace("title: Sample brief", f"title: Sample Edition-{number}"))

    edition(0)
    assert run_in_process(project).code == 0
    old = digests(project)
    edition(1)
    assert run_in_process(project, "build", "--force", "-q").code == 0
    new = digests(project)
    assert new != old
    edition(2)
    seen: list[dict[str, str]] = []
    for name, moment in MOMENTS.items():
        assert kill_at(build_command(project, "build", "--force"), project / "output",
                       moment), f"the build ended before {name}"
        assert_all_outputs_open(project)
        marks = edition_marks(project)
        assert len(marks) == 1, (name, marks)  # the brief's files all from one build
        seen.append({name: digest for name, digest in digests(project).items()
                     if not name.rsplit("/", 1)[-1].startswith(".")})
    # the next build finishes the job and cleans up what the kills left behind
    assert run_in_process(project).code == 0
    assert not [p for p in (project / "output").rglob("*.partial")]
    assert_all_outputs_open(project)
    assert edition_marks(project) == {"Edition-2"}
    live = {os.readlink(link) for link in (project / "output").iterdir() if link.is_symlink()}
    assert not [p for p in (project / "output").iterdir()
                if p.name.endswith(".gen") and p.name not in live]
    final = digests(project)
    for observed in seen:  # every file, at every moment: the previous or the next, whole
        assert set(observed) == set(new)
        for name, digest in observed.items():
            assert digest in (new[name], final[name]), name
    assert any(observed != new for observed in seen), "no kill came late enough to matter"
    assert any(observed != final for observed in seen), "every kill came too late"


ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")


@ROOT_ONLY
def test_a_full_disk_leaves_no_partial_file(tmp_path: Path) -> None:
    """output/ on a small tmpfs (room for one build: the DOCX embeds its fonts), filled up
    between builds."""
    project = make_project(tmp_path / "p")
    output = project / "output"
    output.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(output)], check=True)
    try:
        assert run_in_process(project).code == 0
        before = digests(project)
        free = os.statvfs(output).f_bavail * os.statvfs(output).f_frsize
        (output / "filler").write_bytes(b"\0" * (free - 24 * 1024))
        brief = project / BRIEF
        brief.write_text(brief.read_text().replace("Sample brief", "Sample brief, revised"))
        result = run_in_process(project)
        assert result.code == 1, result.err
        assert "Traceback" not in result.err
        assert "could not write the outputs of `sample`: No space left on device" in result.err
        (output / "filler").unlink()
        assert digests(project) == before
        assert not [p for p in output.rglob("*.partial")]
        assert run_in_process(project).code == 0  # with room again, the build completes
        assert digests(project) != before
    finally:
        subprocess.run(["umount", str(output)], check=True)


@ROOT_ONLY
def test_a_full_disk_while_saving_the_cache_is_placed(tmp_path: Path) -> None:
    """The outputs are whole and stay; the cache that could not be saved is a
    placed error (exit 1), and the next build, with no cache, renders again."""
    project = make_project(tmp_path / "p")
    cache = project / "output" / ".cache"
    cache.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(cache)], check=True)
    try:
        (cache / "filler").write_bytes(b"\0" * 4096)
        result = run_in_process(project)
        assert result.code == 1, result.err
        assert result.err.splitlines() == [
            "output/.cache/manifest.json:1:1: could not save the build cache "
            "output/.cache/manifest.json: No space left on device (expected a writable "
            "output/ folder with free space; the outputs written are whole)",
            "1 error(s) outside the briefs; the briefs' outputs are written"]
        assert_all_outputs_open(project)
        assert len(output_files(project)) == 3
        again = run_in_process(project)
        assert again.code == 1 and "built 3 file(s)" in again.out  # nothing proven fresh
    finally:
        subprocess.run(["umount", str(cache)], check=True)


def test_two_builds_at_once_both_succeed(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    command = build_command(project, "build", "-j", "1")
    first = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert first.wait(timeout=300) == 0
    assert second.wait(timeout=300) == 0
    assert_all_outputs_open(project)
    assert len(list((project / "output/sample").glob("*"))) == 3


def test_a_runaway_render_is_stopped(tmp_path: Path) -> None:
    brief = yaml.safe_load((ROOTS / "sample" / BRIEF).read_text())
    brief["sections"][1]["trainings"] = [
        {"title": f"Course {i} " * 5, "where": "Exampleland"} for i in range(3000)]
    project = make_project(tmp_path / "p", files={BRIEF: yaml.safe_dump(brief)})
    result = run_in_process(project, "build", "--timeout", "2", "--format", "pdf")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "content/briefs/sample.yaml:1:1: rendering 2020-01-15_sample_en took longer than 2 s "
        "(expected a smaller document, or higher --timeout / --memory limits)")
    assert not (project / "output/sample").exists()


def test_memory_limit_is_a_clear_error(tmp_path: Path) -> None:
    """64 MiB is less than a worker maps once it has loaded the renderers: each
    edition fails on its own with that cause, never a pool that broke."""
    project = make_project(tmp_path / "p", files={
        "content/briefs/other.yaml": (ROOTS / "sample" / "other-brief.yaml").read_text()})
    result = run_cli(project, "build", "--memory", "64", "--format", "pdf")
    assert result.code == 1
    assert result.err.splitlines() == [
        f"content/briefs/{slug}.yaml:1:1: rendering {name} needed more than 64 MiB "
        "(expected a smaller document, or higher --timeout / --memory limits)"
        for slug, name in [("other", "2021-03-01_other_en"), ("sample", "2020-01-15_sample_en")]
    ] + ["failed: other, sample (2 error(s); their previous outputs are untouched)"]
    assert not (project / "output/sample").exists()


# --- random input ------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
VALUES = st.recursive(st.none() | st.booleans() | st.integers() | TEXT,
                      lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(TEXT, inner, max_size=3), max_leaves=12)
FIELDS = ["title", "subtitle", "date", "reference", "marking", "languages", "department",
          "sections", "summary", "key_points", "key_facts", "audience", "partners", "contact"]


# Derandomized: the same examples every run, so that CI is repeatable; raise
# max_examples or drop derandomize locally to search further.
PROPERTY = {"deadline": None, "derandomize": True,
            "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]}


@pytest.fixture(scope="module")
def property_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("property") / "p")


@settings(max_examples=120, **PROPERTY)
@given(st.dictionaries(st.sampled_from(FIELDS) | TEXT, VALUES, max_size=8), st.booleans())
def test_random_documents_load_or_fail_cleanly(property_project: Path, document: dict,
                                               keep_sample: bool) -> None:
    """Any document: a content error, or a model that renders; never an exception."""
    base = yaml.safe_load((ROOTS / "sample" / BRIEF).read_text()) if keep_sample else {}
    base.update(document)
    (property_project / BRIEF).write_text(yaml.safe_dump(base, allow_unicode=True))
    try:
        project = load_project(property_project)
    except BuildFailed as failed:
        assert failed.problems
        assert all(p.path.startswith("content/") and p.line >= 1 for p in failed.problems)
        return
    for brief in project.briefs:
        try:
            edition = Edition(brief, "en")
            render_html(environment(ProjectFiles(property_project)),
                        build_view(project, edition), edition)
        except BuildFailed as failed:
            assert failed.problems


@settings(max_examples=60, **PROPERTY)
@given(st.text(max_size=300))
def test_random_yaml_text_loads_or_fails_cleanly(property_project: Path, text: str) -> None:
    (property_project / BRIEF).write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_project(property_project)
    except BuildFailed as failed:
        assert failed.problems


@settings(max_examples=8, **PROPERTY)
@given(st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]),
               min_size=1, max_size=200))
def test_random_unicode_renders_or_is_refused(property_project: Path, text: str) -> None:
    """Random Unicode all the way to PDF and DOCX: valid files, or a placed error."""
    base = yaml.safe_load((ROOTS / "sample" / BRIEF).read_text())
    base["title"] = text
    base["key_points"] = [text, text[::-1]]
    (property_project / BRIEF).write_text(yaml.safe_dump(base, allow_unicode=True))
    result = run_in_process(property_project, "build", "--force", "-j", "1")
    if result.code == 0:
        assert_all_outputs_open(property_project)
    else:
        assert result.code == 1 and "Traceback" not in result.err, result.err
        assert result.err.startswith("content/briefs/sample.yaml:"), result.err


# Mutations of a real brief, built to PDF and DOCX: the random documents above
# rarely get past validation, these mostly do, so the writers meet them too.

SECOND_BRIEF = "content/briefs/border-cooperation.yaml"
NASTY_TEXT = st.sampled_from([
    "2108-01-01", "0001-01-01", "9999/9999", "x" * 300, "W" * 3000,
    "**bold** *it* `code` [link](https://example.org/a_(b))",
    "1. one\n2. two\n\n   > quoted\n\n3. three", "- a\n  - b\n    - c\n      - d",
    "Text[^n].\n\n[^n]: The note.", "| a | b |\n|---|---|\n| 1 | - x<br>- y |",
    "<b>html</b> &#x202E; &amp; &#1;", "\u202etxt.exe", "https://example.org/\x01",
    "mailto:a@b", "İstanbul, ıi, Iİ", "Ёлка «ёж» 中文", "line\nbreak  \nhard",
    "# heading\n\n---\n\n```\ncode\n```", "eu", "frontex", "in force", "2020", "2020-02", " ", "",
])
NASTY = st.sampled_from([None, [], {}, 0, -1, 10**20, 2108, 1.5, True]) | NASTY_TEXT | VALUES


def _replacement(current: object, alike: bool) -> st.SearchStrategy:
    """A value of the kind that was there (so that validation lets many through
    to the writers), or anything."""
    if not alike:
        return NASTY
    if isinstance(current, str):
        alike: st.SearchStrategy = NASTY_TEXT | TEXT
    elif isinstance(current, bool):
        alike = st.booleans()
    elif isinstance(current, int):
        alike = st.sampled_from([0, -1, 1, 10**20, 2108, 1900])
    else:
        alike = NASTY
    return alike


def _paths(node: object, at: tuple = ()) -> list[tuple]:
    """Every place in a YAML tree a value can be replaced: keys' values and list items."""
    found = [at] if at else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*at, index))
    return found


def _at(tree: object, path: tuple) -> object:
    for step in path:
        tree = tree[step]  # type: ignore[index]
    return tree


def _mutate(tree: dict, path: tuple, action: str, value: object) -> None:
    *parents, last = path
    node = tree
    for step in parents:
        node = node[step]
    if action == "delete":
        del node[last]
    elif action == "repeat" and isinstance(node, list):
        node.insert(last, copy.deepcopy(node[last]))  # a copy: YAML would make an alias
    else:
        node[last] = value


@pytest.fixture(scope="module")
def mutation_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    project = make_project(tmp_path_factory.mktemp("mutations") / "p", root=None, files={
        "content/briefs/international-cooperation.yaml": ""})
    base = yaml.safe_load((project / SECOND_BRIEF).read_text())
    base["languages"] = ["en"]  # one language: the writers, not the count, are tested
    return project, base


@st.composite
def mutations(draw: st.DrawFn, base: dict) -> dict:
    tree = yaml.safe_load(yaml.safe_dump(base, allow_unicode=True, sort_keys=False))
    chance = draw(st.randoms(use_true_random=False))  # where: evenly over the whole brief
    for _ in range(chance.choice([1, 1, 2, 3])):
        paths = _paths(tree)
        leaves = [path for path in paths if not isinstance(_at(tree, path), dict | list)]
        path = chance.choice(leaves if chance.random() < 0.8 else paths)
        action = chance.choice(["replace", "replace", "replace", "delete", "repeat"])
        current = _at(tree, path)
        _mutate(tree, path, action, draw(_replacement(current, chance.random() < 0.85)))
    return tree


@settings(max_examples=30, **PROPERTY)
@given(st.data())
def test_mutated_briefs_build_to_pdf_and_docx_or_fail_cleanly(
        mutation_project: tuple[Path, dict], data: st.DataObject) -> None:
    """A real brief with one to three fields replaced, deleted or repeated, built
    by the command line to PDF and DOCX: valid files, or placed errors and exit
    1; never a traceback or exit 70."""
    project, base = mutation_project
    brief = data.draw(mutations(base))
    (project / SECOND_BRIEF).write_text(yaml.safe_dump(brief, allow_unicode=True,
                                                       sort_keys=False))
    result = run_in_process(project, "build", "--force", "-j", "1", "--format", "pdf",
                            "--format", "docx")
    if result.code == 0:
        assert_all_outputs_open(project)
        return
    assert result.code == 1 and "Traceback" not in result.err, result.err
    placed = [line for line in result.err.splitlines() if not line.startswith("failed:")]
    assert placed and all(line.startswith("content/") for line in placed), result.err
