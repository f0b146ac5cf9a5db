"""Failures stay local: a worker that runs out of time or memory, is killed by a
signal or meets a bug fails only its own edition; every other brief is written.

Real builds in real processes. Two briefs: `other` (content/briefs/other.yaml,
rendered first) misbehaves through one line added to the layout template,
and `sample` must be written all the same. The limits that stop `other` are
real ones too: --timeout and --memory, and RLIMIT_CPU set on the build as an
administrator's `ulimit -t` would, so that the kernel kills the worker.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, ROOTS, Run, make_project, run_cli, run_in_process

from briefing.content.load import load_project
from briefing.orchestration import pipeline
from briefing.orchestration.workers import (
    TASKS_PER_WORKER,
    Job,
    Limits,
    RenderBugs,
    Stop,
    render_all,
)
from briefing.render.edition import Edition

LAYOUT = "templates/layout.html.j2"
BODY = '<body class="{{ kind }}">\n'
# Template loops: 10**10 turns (the sandbox allows ranges of 100000), hours of work.
FOR_EVER = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
# 768 MiB of text, computed from content so that Jinja cannot fold it at compile time.
# Doubled 40 times while rendering (the sandbox refuses `*` that large at once):
# only the worker's memory limit stops it.
BIG_TEXT = ('{% set text = namespace(big="x" ~ brief.reference) %}'
            '{% for _ in range(40) %}{% set text.big = text.big ~ text.big %}{% endfor %}'
            '<p>{{ text.big|length }}</p>')
# Jinja's own truncate filter asserts: an exception Briefing does not expect.
ASSERTS = '{{ "abcdef"|truncate(1) }}'
HINT = "(expected a smaller document, or higher --timeout / --memory limits)"
SAMPLE = ("output/sample/2020-01-15_sample_en.pdf", "output/sample/2020-01-15_sample_en.docx")


def two_briefs(tmp_path: Path, snippet: str, reference: str = "R-2") -> Path:
    """The sample project plus `other`; the brief with `reference` runs `snippet`."""
    layout = (REPO / LAYOUT).read_text(encoding="utf-8")
    assert BODY in layout, "the layout changed: put the snippet somewhere every kind renders"
    guarded = f'{{% if brief.reference == "{reference}" %}}{snippet}{{% endif %}}\n'
    return make_project(tmp_path / "p", files={
        "content/briefs/other.yaml": (ROOTS / "sample" / "other-brief.yaml").read_text(),
        LAYOUT: layout.replace(BODY, BODY + guarded, 1)})


def run_limited(project: Path, limits: dict[int, tuple[int, int]], *args: str,
                temp: Path | None = None) -> Run:
    """run_cli, with resource limits set on the build (its workers inherit them),
    and `temp` as its temporary directory if given."""
    def apply() -> None:
        for which, values in limits.items():
            resource.setrlimit(which, values)

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if temp is not None:
        env["TMPDIR"] = str(temp)
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "-C", str(project), *args],
                          capture_output=True, text=True, env=env, timeout=300,
                          preexec_fn=apply)
    return Run(done.returncode, done.stdout, done.stderr)


def assert_only_other_failed(project: Path, result: Run, message: str) -> None:
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    assert result.err.splitlines() == [
        f"content/briefs/other.yaml:1:1: {message} {HINT}",
        "failed: other (1 error(s); their previous outputs are untouched)"]
    assert result.out.splitlines()[-1] == "built 3 file(s)"
    assert all((project / name).stat().st_size > 0 for name in SAMPLE)
    assert not (project / "output/other").exists()


def test_a_template_loop_times_out_alone_and_leaves_no_temporary_files(
        tmp_path: Path) -> None:
    """With -j 1 the one worker is stuck in `other`: the build kills it at the
    time limit, and `sample` needs its replacement, which copies WeasyPrint's
    fonts into the render's temporary folder. Afterwards the build's own
    temporary directory is as empty as before."""
    project = two_briefs(tmp_path, FOR_EVER)
    temp = tmp_path / "tmp"
    temp.mkdir()
    # The limit is far above what `sample` needs on a slow, busy machine (it took
    # over 2 s with the suite running beside it), and `other` never ends.
    result = run_limited(project, {}, "build", "--timeout", "15", "-j", "1", temp=temp)
    assert_only_other_failed(project, result,
                             "rendering 2021-03-01_other_en took longer than 15 s")
    assert sorted(p.name for p in temp.iterdir()) == []


@pytest.mark.parametrize(("cpu", "killed_by"), [
    ((4, resource.RLIM_INFINITY), "SIGXCPU (CPU time limit exceeded)"),  # the soft limit
    ((4, 4), "SIGKILL (Killed)"),  # the hard limit
])
def test_a_worker_killed_by_a_signal_fails_only_its_edition(
        tmp_path: Path, cpu: tuple[int, int], killed_by: str) -> None:
    """The kernel kills the looping worker after 4 s of CPU; the build, waiting,
    uses far less, and the next worker starts its own count."""
    project = two_briefs(tmp_path, FOR_EVER)
    result = run_limited(project, {resource.RLIMIT_CPU: cpu}, "build", "-j", "1")
    assert_only_other_failed(
        project, result, f"the process rendering 2021-03-01_other_en was killed by {killed_by}")


def test_running_out_of_memory_fails_only_its_edition(tmp_path: Path) -> None:
    project = two_briefs(tmp_path, BIG_TEXT)
    result = run_cli(project, "build", "--memory", "512", "-j", "1")
    assert_only_other_failed(project, result,
                             "rendering 2021-03-01_other_en needed more than 512 MiB")


def test_a_bug_fails_its_edition_the_rest_is_written_and_the_exit_says_bug(
        tmp_path: Path) -> None:
    project = two_briefs(tmp_path, ASSERTS)
    result = run_cli(project, "build", "-j", "1")
    assert result.code == 70, result.err
    lines = result.err.splitlines()
    assert lines[:3] == [
        "content/briefs/other.yaml:1:1: a bug in Briefing stopped rendering "
        "2021-03-01_other_en; its traceback follows",
        "failed: other (1 error(s); their previous outputs are untouched)",
        "a bug in Briefing stopped rendering 2021-03-01_other_en:"]
    assert lines[3] == "Traceback (most recent call last):"
    assert "AssertionError: expected length >= 3, got 1" in lines
    assert lines[-1] == ("This is a bug in Briefing, not in your content: please report it "
                         "with the traceback above.")
    assert result.out.splitlines()[-1] == "built 3 file(s)"
    assert all((project / name).stat().st_size > 0 for name in SAMPLE)
    assert not (project / "output/other").exists()
    again = run_cli(project, "build", "-j", "1")  # `sample` was remembered as built
    assert again.code == 70 and again.out.splitlines()[-1] == "built 0 file(s), 3 up to date"


def test_check_reports_a_bug_as_a_bug(tmp_path: Path) -> None:
    project = two_briefs(tmp_path, ASSERTS)
    result = run_cli(project, "check", "-j", "1")
    assert result.code == 70
    assert "AssertionError: expected length >= 3, got 1" in result.err
    assert result.err.splitlines()[-1].startswith("This is a bug in Briefing")


@pytest.mark.parametrize("jobs", [1, 2])
def test_render_all_yields_every_other_outcome_in_order_then_the_bug(
        project: Path, jobs: int) -> None:
    """An edition of a brief the project lacks: project.brief() raises
    StopIteration inside its worker; the editions around it are unaffected."""
    loaded = load_project(project)
    edition = Edition(loaded.brief("sample"), "en")
    stray = Edition(loaded.brief("sample").model_copy(update={"slug": "absent"}), "en")
    work = [Job(edition), Job(stray), Job(edition), Job(edition)]
    outcomes = []
    with pytest.raises(RenderBugs) as raised:
        outcomes.extend(render_all(loaded, work, jobs, Limits()))
    assert [job for job, _, _ in outcomes] == work
    assert [problems for _, _, problems in outcomes[::2]] == [[], []]
    assert [str(p) for p in outcomes[1][2]] == [
        "content/briefs/absent.yaml:1:1: a bug in Briefing stopped rendering "
        "2020-01-15_absent_en; its traceback follows"]
    assert outcomes[3][2] == []
    [bug] = raised.value.bugs
    assert bug.edition == "2020-01-15_absent_en"
    assert bug.traceback.startswith("Traceback (most recent call last):")
    assert bug.traceback.rstrip().endswith("StopIteration")


def test_workers_are_replaced_after_their_share_of_editions(project: Path) -> None:
    loaded = load_project(project)
    work = [Job(Edition(loaded.brief("sample"), "en"))] * (2 * TASKS_PER_WORKER + 1)
    seen = set()
    outcomes = []
    for outcome in render_all(loaded, work, 1, Limits()):
        outcomes.append(outcome)
        seen |= {child.pid for child in multiprocessing.active_children()}
    assert [problems for _, _, problems in outcomes] == [[]] * len(work)
    assert len(seen) == 3  # 20 editions, 20, then 1
    assert not multiprocessing.active_children()  # none left behind


def test_a_worker_that_dies_between_two_editions_costs_neither(project: Path) -> None:
    """Killed while it waits for its next edition: that edition goes to a new worker."""
    loaded = load_project(project)
    work = [Job(Edition(loaded.brief("sample"), "en"))] * 2
    outcomes = render_all(loaded, work, 1, Limits())
    first = next(outcomes)  # the worker is idle now; the second job is not given yet
    [worker] = multiprocessing.active_children()
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    assert [problems for _, _, problems in [first, *outcomes]] == [[], []]


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def test_a_killed_build_leaves_no_worker_behind(tmp_path: Path) -> None:
    """`sample` loops for ever; once a file of `other` is written, both workers
    exist and one is busy. SIGKILL the build: the kernel must end them both."""
    project = two_briefs(tmp_path, FOR_EVER, reference="1.10")
    build = subprocess.Popen([sys.executable, str(REPO / "build.py"), "-C", str(project),
                              "build", "-j", "2"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    workers: list[int] = []
    try:
        assert build.stdout is not None
        for line in build.stdout:
            if line.startswith("wrote output/other/"):
                break
        workers = children(build.pid)
        assert len(workers) == 2, workers
        build.kill()
        build.wait()
        for pid in workers:
            try:
                handle = os.pidfd_open(pid)
            except ProcessLookupError:
                continue  # gone already
            try:
                ready, _, _ = select.select([handle], [], [], 60)
            finally:
                os.close(handle)
            assert ready, f"worker {pid} outlived the build"
    finally:
        build.kill()
        build.wait()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--timeout", str(10**30), "argument --timeout: must be at most 2147483647 "
                               "(about 68 years)"),
    ("--memory", str(10**30), "argument --memory: must be at most 8796093022207 "
                              "(the most setrlimit(2) takes)"),
    ("--memory", "1.5", "argument --memory: '1.5' is not a whole number"),
])
def test_limits_beyond_what_the_system_takes_are_usage_errors(
        project: Path, option: str, value: str, message: str) -> None:
    result = run_in_process(project, "build", option, value)
    assert result.code == 2
    assert result.err.splitlines()[-1].endswith(f"error: {message}")
    assert not (project / "output").exists()


def test_memory_above_the_hard_limit_is_refused_and_the_default_fits(project: Path) -> None:
    """Under `ulimit -v 3000` (MiB, hard and soft), asking for 4000 MiB is a usage
    error; the default (4096) is lowered to what the build may have."""
    limit = {resource.RLIMIT_AS: (3000 * 2**20, 3000 * 2**20)}
    refused = run_limited(project, limit, "build", "--memory", "4000")
    assert refused.code == 2
    assert refused.err.splitlines()[-1].endswith(
        "error: argument --memory: must be at most 3000 (the hard limit of this "
        "process's address space, `ulimit -H -v`)")
    built = run_limited(project, limit, "build")
    assert built.code == 0, built.err
    assert all((project / name).stat().st_size > 0 for name in SAMPLE)
    shown = " ".join(run_limited(project, limit, "build", "--help").out.split())
    assert "in MiB (default: 3000)" in shown


class _StopAfterFirst:
    """A build's progress that stops the build once its first edition is done."""

    def __init__(self, stop: Stop) -> None:
        self.stop, self.done_names = stop, []

    def start(self, total: int) -> None:
        pass

    def done(self, name: str, written: list) -> None:
        self.done_names.append(name)
        self.stop.set()


def test_a_stopped_build_writes_what_it_finished_and_nothing_else(tmp_path: Path) -> None:
    """What the preview does when a save comes during its background build: the
    briefs finished are written whole, the others untouched, no worker is left,
    and the next build knows it has work to do."""
    project = make_project(tmp_path / "p", files={
        "content/briefs/other.yaml": (ROOTS / "sample" / "other-brief.yaml").read_text()})
    stop = Stop()
    progress = _StopAfterFirst(stop)
    result = pipeline.build(project, jobs=1, progress=progress, stop=stop)
    assert result.stopped and not result.ok
    assert progress.done_names == ["2021-03-01_other_en"]  # then it stopped
    assert sorted(p.name for p in (project / "output" / "other").iterdir()) == [
        "2021-03-01_other_en.docx", "2021-03-01_other_en.html", "2021-03-01_other_en.pdf"]
    assert not (project / "output" / "sample").exists()
    assert not multiprocessing.active_children()
    again = run_in_process(project)
    assert again.code == 0 and "built 3 file(s), 3 up to date" in again.out, again.out


def test_a_save_after_the_last_edition_rendered_stops_nothing(tmp_path: Path) -> None:
    """A save that comes once every edition has rendered, while the build
    finishes, left nothing unfinished: the build is whole, and does not say
    it was stopped."""
    project = make_project(tmp_path / "p")
    stop = Stop()
    progress = _StopAfterFirst(stop)  # the sample has one edition: its last
    result = pipeline.build(project, jobs=1, progress=progress, stop=stop)
    assert stop.is_set() and progress.done_names == ["2020-01-15_sample_en"]
    assert not result.stopped and result.ok
    assert len(result.written) == 3


class _SaveWhenDone:
    """A build's progress that saves `text` to `path` once an edition is done:
    an editor's save while the build writes its files."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text

    def start(self, total: int) -> None:
        pass

    def done(self, name: str, written: list) -> None:
        self.path.write_text(self.text)


def test_a_mistake_saved_while_a_build_writes_is_found_by_the_next_build(
        tmp_path: Path) -> None:
    """The build remembers the project it validated as clean, not the project
    as it is when the build ends: a partner file no brief names, broken while
    the build was writing, fails the next build (the exit code never depends
    on the cache)."""
    project = make_project(tmp_path / "p")
    stray = project / "content/partners/stray.yaml"
    result = pipeline.build(project, jobs=1,
                            progress=_SaveWhenDone(stray, "name: Stray\nkind: nonsense\n"))
    assert result.ok and len(result.written) == 3
    again = run_in_process(project)
    assert again.code == 1 and "content/partners/stray.yaml:2:7: kind:" in again.err, again
