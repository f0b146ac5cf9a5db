"""Rendering editions in worker processes, each under a time and memory limit.

Workers are forked from the build, so they inherit the loaded project instead
of reading the YAML again; a fresh pool for each batch keeps their memory
from growing over long builds. Every render runs in a worker, even with
`-j 1`, so that a runaway document (a table of a million rows, a template
loop) is stopped by its limits without taking the build down with it.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import resource
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from briefing.build.output import forget_locks
from briefing.errors import BuildFailed, Problem, Problems
from briefing.render.edition import Edition
from briefing.writers.registry import WRITERS, Attachment, Request

if TYPE_CHECKING:
    from briefing.content.model import Project

    Outcome = tuple["Job", list[tuple[str, bytes, float]], list[Problem]]

TASKS_PER_WORKER = 20  # then the pool is replaced
# What every worker maps before its memory limit applies; writers add theirs.
PRELOAD = ("briefing.render.html", "briefing.render.view", "briefing.writers.subset")
EXTRA_PRELOAD = {"docx": ("PIL.Image", "PIL.PngImagePlugin", "cairosvg")}


@dataclass(frozen=True)
class Job:
    """One edition to render: its HTML, checked against what every writer
    supports, then written in `formats` (none: validation only)."""

    edition: Edition
    formats: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Limits:
    """How long one edition may render, and how much memory a worker may map."""

    seconds: int = 300
    memory_mib: int = 4096


@dataclass(frozen=True)
class RenderOptions:
    """How many worker processes, under which limits: every rendering command's."""

    jobs: int = 1
    limits: Limits = Limits()


class _OutOfTime(BaseException):
    """Raised in a worker by SIGALRM; BaseException so no library swallows it."""


_STATE: dict[str, object] = {}


def render_all(root: Path, project: Project, work: list[Job], jobs: int,
               limits: Limits) -> Iterator[Outcome]:
    """Render each job; yield (job, outputs, problems) in order."""
    _STATE.update(root=root, project=project, limits=limits)
    _STATE.pop("env", None)
    context = multiprocessing.get_context("fork")
    formats = {fmt for job in work for fmt in job.formats}
    preload = PRELOAD + tuple(dict.fromkeys(
        name for fmt in sorted(formats)
        for name in (WRITERS[fmt].module, *EXTRA_PRELOAD.get(fmt, ()))))
    batch = max(1, jobs) * TASKS_PER_WORKER
    for start in range(0, len(work), batch):
        chunk = work[start:start + batch]
        with ProcessPoolExecutor(min(jobs, len(chunk)), mp_context=context,
                                 initializer=_start_worker, initargs=(limits, preload)) as pool:
            futures = [(job, pool.submit(_render, job)) for job in chunk]
            for job, future in futures:
                try:
                    yield future.result()
                except (BrokenProcessPool, MemoryError):  # died, or could not send its result
                    yield job, [], [_problem(project, job.edition, (
                        f"the renderer of {job.edition.name} stopped abruptly, most likely out "
                        f"of memory (limit {limits.memory_mib} MiB)"))]


def _start_worker(limits: Limits, preload: tuple[str, ...]) -> None:
    """Die with the build (a killed build leaves no orphans), hold none of its
    locks, and live within the memory limit."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the build already died before we got here
        os._exit(1)
    forget_locks()
    for name in preload:
        importlib.import_module(name)  # map the libraries before the limit applies
    size = limits.memory_mib * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (size, hard if hard != resource.RLIM_INFINITY
                                            and hard < size else size))


def _render(job: Job) -> Outcome:
    """One edition in the asked formats, within the time limit."""
    edition = job.edition
    root, project, limits = _STATE["root"], _STATE["project"], _STATE["limits"]

    def out_of_time(signum: int, frame: object) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(limits.seconds)
    try:
        return _render_formats(root, project, job)
    except _OutOfTime:
        return job, [], [_problem(project, edition, (
            f"rendering {edition.name} took longer than {limits.seconds} s"))]
    except (MemoryError, ImportError) as err:
        if isinstance(err, ImportError) and "failed to map" not in str(err):
            raise
        return job, [], [_problem(project, edition, (
            f"rendering {edition.name} needed more than {limits.memory_mib} MiB"))]
    except OSError as err:  # the machine, not the content: a full disk, say
        return job, [], [_problem(project, edition, (
            f"could not render {edition.name}: {err.strerror or err}"))]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _render_formats(root: Path, project: Project, job: Job) -> Outcome:
    from briefing.render.html import environment, render_html
    from briefing.render.view import build_view
    from briefing.writers.subset import subset_problems

    edition = job.edition
    if "env" not in _STATE:
        _STATE["env"] = environment(root)
    brief = project.brief(edition.brief.slug)
    try:
        html = render_html(_STATE["env"], build_view(project, edition), edition)
    except BuildFailed as failed:
        return job, [], failed.problems
    brief_file, _, _ = project.where(brief, ())
    problems = subset_problems(html, root, edition.template,
                               Problems(root).relative(brief_file))
    if problems:
        return job, [], problems
    outputs = []
    for fmt in job.formats:
        started = time.perf_counter()
        try:
            data = WRITERS[fmt].load()(Request(html, edition, root, job.attachments))
        except BuildFailed as failed:
            problems += failed.problems
            continue
        outputs.append((fmt, data, time.perf_counter() - started))
    return job, outputs, problems


def _problem(project: Project, edition: Edition, message: str) -> Problem:
    """A runaway render is blamed on the brief: its content is what grew."""
    brief = project.brief(edition.brief.slug)  # the edition came pickled: find the original
    file, _, _ = project.where(brief, ())
    problems = Problems(Path(_STATE["root"]))
    problems.add(file, 1, 1, message,
                 expected="a smaller document, or higher --timeout / --memory limits")
    return problems.items[0]
