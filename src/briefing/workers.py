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
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from briefing.errors import BuildFailed, Problem, Problems
from briefing.output import forget_locks

if TYPE_CHECKING:
    from briefing.model import Project
    from briefing.render.html import Edition

    Outcome = tuple[Edition, list[tuple[str, bytes, float]], list[Problem]]

# Writers are imported only when a build needs them: `check` stays fast. The
# HTML itself is a format too, for template authors (`--format html`).
WRITERS = {
    "pdf": "briefing.render.pdf:write_pdf",
    "docx": "briefing.render.docx:write_docx",
    "html": "briefing.render.html:html_bytes",
}
TASKS_PER_WORKER = 20  # then the pool is replaced


@dataclass(frozen=True)
class Limits:
    """How long one edition may render, and how much memory a worker may map."""

    seconds: int = 300
    memory_mib: int = 4096


class _OutOfTime(BaseException):
    """Raised in a worker by SIGALRM; BaseException so no library swallows it."""


_STATE: dict[str, object] = {}


def render_all(root: Path, project: Project, work: list[tuple[Edition, list[str]]], jobs: int,
               limits: Limits) -> Iterator[Outcome]:
    """Render each (edition, formats); yield (edition, outputs, problems) in order."""
    _STATE.update(root=root, project=project, limits=limits)
    context = multiprocessing.get_context("fork")
    batch = max(1, jobs) * TASKS_PER_WORKER
    for start in range(0, len(work), batch):
        chunk = work[start:start + batch]
        with ProcessPoolExecutor(min(jobs, len(chunk)), mp_context=context,
                                 initializer=_start_worker, initargs=(limits,)) as pool:
            futures = [(edition, pool.submit(_render, edition, formats))
                       for edition, formats in chunk]
            for edition, future in futures:
                try:
                    yield future.result()
                except (BrokenProcessPool, MemoryError):  # died, or could not send its result
                    yield edition, [], [_problem(project, edition, (
                        f"the renderer of {edition.name} stopped abruptly, most likely out of "
                        f"memory (limit {limits.memory_mib} MiB)"))]


def _start_worker(limits: Limits) -> None:
    """Die with the build (a killed build leaves no orphans), hold none of its
    locks, and live within the memory limit."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the build already died before we got here
        os._exit(1)
    forget_locks()
    for name in ("briefing.render.pdf", "briefing.render.docx", "PIL.Image", "PIL.PngImagePlugin",
                 "cairosvg"):
        importlib.import_module(name)  # map the libraries before the limit applies
    size = limits.memory_mib * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (size, hard if hard != resource.RLIM_INFINITY
                                            and hard < size else size))


def _render(edition: Edition, formats: list[str]) -> Outcome:
    """One edition in the asked formats, within the time limit."""
    root, project, limits = _STATE["root"], _STATE["project"], _STATE["limits"]

    def out_of_time(signum: int, frame: object) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(limits.seconds)
    try:
        return _render_formats(root, project, edition, formats)
    except _OutOfTime:
        return edition, [], [_problem(project, edition, (
            f"rendering {edition.name} took longer than {limits.seconds} s"))]
    except (MemoryError, ImportError) as err:
        if isinstance(err, ImportError) and "failed to map" not in str(err):
            raise
        return edition, [], [_problem(project, edition, (
            f"rendering {edition.name} needed more than {limits.memory_mib} MiB"))]
    except OSError as err:  # the machine, not the content: a full disk, say
        return edition, [], [_problem(project, edition, (
            f"could not render {edition.name}: {err.strerror or err}"))]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _render_formats(root: Path, project: Project, edition: Edition, formats: list[str]
                    ) -> Outcome:
    from briefing.render.html import environment, render_html

    if "env" not in _STATE:
        _STATE["env"] = environment(root)
    try:
        html = render_html(_STATE["env"], project, edition)
    except BuildFailed as failed:
        return edition, [], failed.problems
    outputs, problems = [], []
    for fmt in formats:
        started = time.perf_counter()
        try:
            data = _writer(fmt)(html, edition, root)
        except BuildFailed as failed:
            problems += failed.problems
            continue
        outputs.append((fmt, data, time.perf_counter() - started))
    return edition, outputs, problems


def _problem(project: Project, edition: Edition, message: str) -> Problem:
    """A runaway render is blamed on the brief: its content is what grew."""
    brief = project.brief(edition.brief.slug)  # the edition came pickled: find the original
    file, _, _ = project.where(brief, ())
    problems = Problems(Path(_STATE["root"]))
    problems.add(file, 1, 1, message,
                 expected="a smaller document, or higher --timeout / --memory limits")
    return problems.items[0]


def _writer(fmt: str) -> Callable[[str, Edition, Path], bytes]:
    module, _, name = WRITERS[fmt].partition(":")
    return getattr(importlib.import_module(module), name)
