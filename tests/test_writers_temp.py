"""Nothing left behind: render workers clean their temporary folders (WeasyPrint
copies the fonts it uses into a `weasyprint-*` folder of about 4 MB) whether
they finish, time out (a SIGKILL from the build) or die with a build killed
outright. `watch`, `serve`, `check` and `publish` render through the same
workers, so the same mechanism covers them.

Each build runs with a TMPDIR of its own, so that other tests running beside
it cannot change the count.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

from conftest import REPO, Run, make_project
from readers import pdf_text
from test_editor_loop import SAMPLE, WAIT_BOUND, Printed
from test_workers import FOR_EVER, children, two_briefs


def run_in(temp: Path, project: Path, *args: str) -> Run:
    """build.py as a user runs it, with `temp` as its temporary directory."""
    temp.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(temp)}
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "-C", str(project), *args],
                          capture_output=True, text=True, env=env, timeout=300)
    return Run(done.returncode, done.stdout, done.stderr)


def test_a_worker_killed_by_its_time_limit_after_other_work_leaves_no_temporary_files(
        tmp_path: Path) -> None:
    """With -j 2 and three briefs, `sample` (the third job) goes to whichever
    worker finished its first brief, WeasyPrint's font copies made, and loops
    there until the build kills it; the other worker idles meanwhile. The
    temporary directory is as empty afterwards as before. (test_workers.py
    kills a worker stuck in its first job, with -j 1.)"""
    project = two_briefs(tmp_path, FOR_EVER, reference="1.10")
    other = (project / "content/briefs/other.yaml").read_text()
    (project / "content/briefs/another.yaml").write_text(
        other.replace("title: Other brief", "title: Another brief")
        .replace("reference: R-2", "reference: R-3"))
    temp = tmp_path / "tmp"
    result = run_in(temp, project, "build", "--timeout", "15", "-j", "2")
    assert result.code == 1, result.err
    assert "content/briefs/sample.yaml:1:1: rendering 2020-01-15_sample_en took longer " \
           "than 15 s" in result.err
    for brief in ("another", "other"):
        assert (project / f"output/{brief}/2021-03-01_{brief}_en.pdf").stat().st_size > 0
    assert sorted(p.name for p in temp.iterdir()) == []


def test_the_folder_of_a_killed_build_goes_with_the_next_render(tmp_path: Path) -> None:
    """`sample` loops for ever; once `other` is written (its worker made its font
    copies), SIGKILL the build: its workers die with it, its folder stays. The
    next command that renders, in any project, removes it."""
    project = two_briefs(tmp_path, FOR_EVER, reference="1.10")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(temp)}
    build = subprocess.Popen([sys.executable, str(REPO / "build.py"), "-C", str(project),
                              "build", "-j", "2"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert build.stdout is not None
        for line in build.stdout:
            if line.startswith("wrote output/other/"):
                break
        workers = children(build.pid)
        build.kill()
    finally:
        build.kill()
        build.wait()
    for pid in workers:
        wait_for_exit(pid)
    left = [path.name for path in temp.iterdir()]
    assert len(left) == 1 and left[0].startswith("briefing-render-"), left  # the kill's
    other = make_project(tmp_path / "q")
    assert run_in(temp, other, "check").code == 0
    assert sorted(p.name for p in temp.iterdir()) == []


def wait_for_exit(pid: int) -> None:
    """Until process `pid` is gone (the kernel ends a killed build's workers)."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        ready, _, _ = select.select([handle], [], [], 60)
    finally:
        os.close(handle)
    assert ready, f"worker {pid} outlived the build"


def test_a_watch_run_leaves_no_temporary_files(tmp_path: Path) -> None:
    """`watch` builds, then rebuilds on a save, through the same workers; once
    it is stopped, its temporary directory is as empty as before."""
    project = make_project(tmp_path / "p")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(temp)}
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "-C", str(project), "watch", "-j", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert process.stdout is not None
    printed = Printed(process.stdout)
    try:
        printed.wait_for(lambda: any("watching" in line for line in printed.lines))
        brief = project / "content/briefs/sample.yaml"
        brief.write_text(brief.read_text().replace("Sample brief", "Sample brief, revised"))
        printed.wait_for(lambda: "revised" in pdf_text(project / f"{SAMPLE}.pdf"))
        printed.wait_for(lambda: sum("built" in line for line in printed.lines) >= 2)
    finally:
        process.terminate()
        process.wait(timeout=WAIT_BOUND)
    assert sorted(p.name for p in temp.iterdir()) == []
