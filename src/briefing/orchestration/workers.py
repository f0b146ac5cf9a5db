"""Rendering editions in worker processes, each under a time and memory limit.

Every render runs in a worker, even with `-j 1`, so that a runaway document
(a table of a million rows, a template loop) is stopped by its limits without
taking the build down with it. Workers are forked from the build, so they
inherit the loaded project and the list of jobs instead of reading the YAML
again, and are sent only the index of their next job; each serves at most
TASKS_PER_WORKER editions and is then replaced, which keeps memory from
growing over long builds.

Failures stay local. A worker that runs out of time or memory, is killed by a
signal, exits, or meets a bug in Briefing fails only the edition it was given,
with that cause in the message; it is then killed and replaced, never given
another edition, since whatever broke may have left it in a bad state. The
other editions render as if nothing happened. A bug also yields a problem for
its edition (so its brief is not written), and once every outcome is out,
`render_all` raises `RenderBugs` with each worker's traceback.

Why not a pool library. concurrent.futures marks the whole pool broken when
one worker dies, failing every edition not yet done. pebble (5.2.3, tried)
replaces dead and timed-out workers, but all its workers share one pair of
pipes guarded by one lock between processes, held by a worker while it takes
its next task and while it sends its result. A worker killed in that window
(SIGKILL while sending a PDF, say) never releases the lock: every other
worker waits 60 s for it and exits, no time-out can fire meanwhile (stopping
a worker needs the lock), and every edition left ends in "All workers
expired", also the one that had finished. So each worker here has a pipe of
its own, and only the build reads it: a worker can only ever lose its own
edition.

Nothing is left behind. Each render has a private temporary folder, and each
worker a sub-folder of it as its TMPDIR: WeasyPrint copies the fonts it uses
into a `weasyprint-*` folder there (about 4 MB) and removes it only when its
font configuration is garbage-collected, which a worker that exits, is
killed or times out never does. The build removes a worker's folder once it
has reaped the worker, however it ended, and the render's folder at the end.
A build killed outright cannot; it holds a lock on its folder for as long as
it lives, so the next render removes every such folder no process holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import math
import multiprocessing
import os
import resource
import shutil
import signal
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefing.errors import BuildFailed, Problem, Problems
from briefing.files import BRIEFS, CONTENT_SUFFIX
from briefing.orchestration.cache import passed_before, remember_passed, shared_digest
from briefing.orchestration.output import forget_locks
from briefing.render.edition import Edition
from briefing.writers.registry import WRITERS, Attachment, Request

if TYPE_CHECKING:
    from multiprocessing.context import ForkContext, ForkProcess

    from briefing.changes.annex import Annex
    from briefing.content.model import Project

    Outcome = tuple["Job", list[tuple[str, bytes, float]], list[Problem]]

TASKS_PER_WORKER = 20  # then the worker is replaced
# What every worker maps before its memory limit applies; writers add theirs.
PRELOAD = ("briefing.render.html", "briefing.render.view", "briefing.render.fonts",
           "briefing.writers.subset", "fontTools.ttLib", "lxml.html")
EXTRA_PRELOAD = {"docx": ("PIL.Image", "PIL.PngImagePlugin", "cairosvg", "pikepdf",
                          "briefing.writers.pages")}
LAYOUT = "pdf"  # the format that lays pages out: a paged writer is given its page numbers
# The largest limits taken: a longer time is no limit (about 68 years), and
# setrlimit takes at most 2**63 - 1 bytes.
MAX_SECONDS = 2**31 - 1
MAX_MEMORY_MIB = (2**63 - 1) >> 20
LIMITS_HINT = "a smaller document, or higher --timeout / --memory limits"
SCRATCH = "briefing-render-"  # the prefix of each render's private temporary folder
_OUT_OF_MEMORY = 86  # a worker's exit status when it cannot even say it ran out of memory
_LONGEST_WAIT = 60.0  # seconds; waits are cut into such pieces, whatever the time limit


@dataclass(frozen=True)
class Job:
    """One edition to render: its HTML, checked against what every writer
    supports, then written in `formats` (none: validation only)."""

    edition: Edition
    formats: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    # `check`'s: the outputs are only laid out for what they would show, and
    # dropped; a layout that found nothing before for the same HTML, brief
    # settings and shared inputs is not made again (see `_layout_key`).
    verdict_only: bool = False
    # The edition's print PDF, made by an earlier job of the same build (the
    # edition `watch` and `serve` render first has its PDF a job of its own):
    # a paged writer reads its page numbers from it instead of laying the
    # pages out again.
    laid_out: bytes | None = field(default=None, repr=False)


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


@dataclass(frozen=True)
class Bug:
    """An unexpected exception while rendering an edition: a bug in Briefing."""

    edition: str
    traceback: str


class RenderBugs(Exception):
    """Raised by `render_all` after it yielded every outcome: one bug or more."""

    def __init__(self, bugs: list[Bug]) -> None:
        self.bugs = bugs
        super().__init__("\n".join(f"a bug in Briefing stopped rendering {bug.edition}:\n"
                                   f"{bug.traceback}" for bug in bugs))


def memory_ceiling_mib() -> int:
    """The most memory a worker can be allowed, in MiB: this process's hard
    RLIMIT_AS, which workers inherit and cannot raise (`ulimit -H -v`)."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY:
        return MAX_MEMORY_MIB
    return min(hard >> 20, MAX_MEMORY_MIB)


class Stop:
    """Set by another thread to end a `render_all` at once (the preview does,
    when a new save makes the build in progress pointless). It wakes the
    build's wait for its workers: no polling."""

    def __init__(self) -> None:
        self.signal, self._sender = multiprocessing.Pipe(duplex=False)
        self._set = False

    def set(self) -> None:
        if not self._set:
            self._set = True
            self._sender.send_bytes(b"stop")

    def is_set(self) -> bool:
        return self._set

    def clear(self) -> None:
        while self.signal.poll():
            self.signal.recv_bytes()
        self._set = False


_STATE: dict[str, Any] = {}  # what workers inherit when forked: root, project, work
_ONE_RENDER = threading.Lock()


def render_all(project: Project, work: list[Job], jobs: int, limits: Limits,
               stop: Stop | None = None, *, annex: bool | Mapping[str, Annex] = True
               ) -> Iterator[Outcome]:
    """Render each job of `project` (its content, laid out with the templates,
    theme and fonts of `project.files`) in up to `jobs` workers; yield (job,
    outputs, problems) in job order. A failed job yields its problem and nothing stops the rest;
    raise RenderBugs at the end if any job met a bug. Once `stop` is set, the
    workers are killed and nothing more is yielded. One at a time per process:
    workers inherit the jobs through `_STATE`, which a second render in
    another thread would change under the first. Each brief's change annex
    (changes/annex.py) is worked out here, once, for every command that
    renders; `annex=False` renders without it (a redline's two versions), and
    a brief -> annex mapping renders with those (`changes --since`, as a
    document)."""
    if not work:
        return
    with _ONE_RENDER:
        yield from _render_all(project, work, jobs, limits, stop, annex)


def _render_all(project: Project, work: list[Job], jobs: int, limits: Limits,
                stop: Stop | None, annex: bool | Mapping[str, Annex] = True
                ) -> Iterator[Outcome]:
    from briefing.changes.annex import annexes

    limits = replace(limits, seconds=min(limits.seconds, MAX_SECONDS),
                     memory_mib=min(limits.memory_mib, memory_ceiling_mib()))
    slugs = list(dict.fromkeys(job.edition.brief.slug for job in work)) if annex else []
    made, unread = (dict(annex), {}) if isinstance(annex, Mapping) else \
        annexes(project.files.root, project, slugs)
    if unread:  # the previous version of a brief cannot be read: its editions fail
        for job in [job for job in work if job.edition.brief.slug in unread]:
            yield job, [], unread[job.edition.brief.slug]
        work = [job for job in work if job.edition.brief.slug not in unread]
        if not work:
            return
    _STATE.update(project=project, work=work,  # workers are told only an index
                  annexes=made,
                  layouts=shared_digest(project.files, LAYOUT), limits=limits)
    _STATE.pop("env", None)
    # A writer is imported before the first job, unless every job only asks for
    # a verdict, which may well be known already: then it is imported if needed.
    preload = modules_for(fmt for job in work if not job.verdict_only for fmt in job.formats)
    bugs: list[Bug] = []
    finished: dict[int, tuple[Any, ...]] = {}
    following = 0
    for index, reply in _replies(len(work), max(1, min(jobs, len(work))), limits, preload,
                                 stop):
        finished[index] = reply
        while following in finished:
            job, reply = work[following], finished.pop(following)
            following += 1
            if reply[0] == "bug":
                bugs.append(Bug(job.edition.name, reply[1]))
            yield _outcome(project, job, reply, limits)
    if bugs:
        raise RenderBugs(bugs)


def _outcome(project: Project, job: Job, reply: tuple[Any, ...], limits: Limits
             ) -> Outcome:
    """What a worker's reply means for its job, in the user's words."""
    name = job.edition.name
    kind, *detail = reply
    if kind == "rendered":
        return job, detail[0], detail[1]
    if kind == "bug":
        return job, [], [_problem(project, job.edition, (
            f"a bug in Briefing stopped rendering {name}; its traceback follows"), "")]
    if kind == "out of time":
        message = f"rendering {name} took longer than {limits.seconds} s"
    elif kind == "out of memory":
        message = f"rendering {name} needed more than {limits.memory_mib} MiB"
    elif kind == "os error":
        message = f"could not render {name}: {detail[0]}"
    elif kind == "signal":
        message = f"the process rendering {name} was killed by {_signal(detail[0])}"
    else:
        message = f"the process rendering {name} exited with status {detail[0]} before it finished"
    return job, [], [_problem(project, job.edition, message)]


def _signal(number: int) -> str:
    """`SIGSEGV (Segmentation fault)`: the name a user can look up, and what it means."""
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    return f"{name} ({signal.strsignal(number) or 'unknown signal'})"


def _problem(project: Project, edition: Edition, message: str,
             expected: str = LIMITS_HINT) -> Problem:
    """A failed render is blamed on the brief: its content is what grew."""
    slug = edition.brief.slug  # by slug: the project knows where its own records are
    brief = next((b for b in project.briefs if b.slug == slug), None)
    files = project.files
    file = project.where(brief, ())[0] if brief else files.path(BRIEFS) / f"{slug}{CONTENT_SUFFIX}"
    problems = Problems(files)
    problems.add(file, 1, 1, message, expected=expected)
    return problems.items[0]


# --- the build's side: a private temporary folder, workers with a pipe each --------


def modules_for(formats: Iterable[str]) -> tuple[str, ...]:
    """What the render workers of a build in `formats` import: the render
    stage, each format's writer and what it needs, and the layout's writer
    for a paged format (it is given its page numbers)."""
    chosen = set(formats)
    if any(WRITERS[fmt].paged for fmt in chosen):
        chosen.add(LAYOUT)
    return PRELOAD + tuple(dict.fromkeys(
        name for fmt in sorted(chosen)
        for name in (WRITERS[fmt].module, *EXTRA_PRELOAD.get(fmt, ()))))


def preload_modules(modules: Iterable[str]) -> None:
    """Import `modules` in this process, before it forks render workers: each
    worker then has them, instead of importing its own (about 0.9 s of CPU
    for the PDF and DOCX writers, in each worker of each build, and at every
    save under `watch` and `serve`). What is imported once stays in the
    process: `watch` imports at its start what its builds need
    (`modules_for`), `serve` what its previews need, and every render imports
    its own formats' writers here before it forks (so `serve` holds the DOCX
    writer's too once it has built output/; measured, the previews were no
    slower for it: docs/performance.md)."""
    for name in modules:
        importlib.import_module(name)


class _Scratch:
    """A render's private temporary folder, locked for as long as the render
    runs: one sub-folder per worker, removed when the worker is reaped; the
    whole folder removed at the end, or by the next render if this one was
    killed."""

    def __init__(self) -> None:
        _sweep()
        while True:
            self.path = Path(tempfile.mkdtemp(prefix=SCRATCH))
            self.lock = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(self.lock, fcntl.LOCK_EX)
            with contextlib.suppress(OSError):  # a sweep took it before it was locked
                if os.path.samestat(os.fstat(self.lock), os.stat(self.path)):
                    break
            os.close(self.lock)
        self.made = 0

    def folder(self) -> Path:
        """A new worker's own temporary folder."""
        self.made += 1
        path = self.path / str(self.made)
        path.mkdir()
        return path

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self.lock)


def _sweep() -> None:
    """Remove the temporary folders of renders that were killed: those whose
    lock no process holds (a live render's is held by its build)."""
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH}*"):
        try:
            lock = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:  # gone, not a folder, or another user's
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            shutil.rmtree(path, ignore_errors=True)
        except OSError:  # held: its render is running
            pass
        finally:
            os.close(lock)


class _Worker:
    """One render process and its pipe; `index` is the job it was given."""

    def __init__(self, context: ForkContext, others: list[_Worker], limits: Limits,
                 preload: tuple[str, ...], scratch: _Scratch) -> None:
        self.conn, theirs = context.Pipe()
        self.temp = scratch.folder()
        inherited = (self.conn, *(other.conn for other in others))  # for it to close
        self.process: ForkProcess = context.Process(
            target=_serve, args=(theirs, inherited, os.getpid(), limits, preload,
                                 (self.temp, scratch.lock)),
            name="briefing-render", daemon=True)
        self.process.start()
        theirs.close()  # so that its end closing (it died) is seen here as EOF
        self.served = 0
        self.index = -1
        self.started = False  # whether it said it took its job
        self.deadline = math.inf

    def give(self, index: int, seconds: int) -> None:
        """Job `index` of the work it inherited: a few bytes, never a wait."""
        self.index, self.served, self.started = index, self.served + 1, False
        self.deadline = time.monotonic() + seconds  # counted again once it starts
        with contextlib.suppress(OSError):  # it died already: `reply` tells how
            self.conn.send(index)

    def reply(self, seconds: int) -> tuple[Any, ...] | None:
        """Its answer for its job if there is one now: what it sent, or how it
        ended; None while it is still rendering within its time."""
        while True:
            alive = self.process.is_alive()  # before reading: what it sent is there
            try:
                message = self.conn.recv() if self.conn.poll() else None
            except (EOFError, OSError):  # it closed its end: it is ending
                return self._ended()
            except Exception:  # a garbled reply is our own bug
                self.stop()
                return ("bug", traceback.format_exc())
            if message == ("started",):
                self.started, self.deadline = True, time.monotonic() + seconds
            elif message is not None:
                return message
            elif not alive:
                return self._ended()
            elif time.monotonic() >= self.deadline:
                self.stop()
                return ("out of time",)
            else:
                return None

    def _ended(self) -> tuple[Any, ...]:
        self.process.join(5)  # its end of the pipe is closed: it is exiting
        self.stop()
        code = self.process.exitcode
        assert code is not None, "stop() reaped it"
        if code == _OUT_OF_MEMORY:
            return ("out of memory",)
        return ("signal", -code) if code < 0 else ("exit", code)

    def stop(self) -> None:
        """Kill it and reap it: a worker that failed, or has served, is never reused."""
        if self.process.exitcode is None:
            self.process.kill()
        self.process.join()
        self.conn.close()
        shutil.rmtree(self.temp, ignore_errors=True)  # whatever it left, however it ended


def _replies(jobs: int, count: int, limits: Limits, preload: tuple[str, ...],
             stop: Stop | None = None) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(job index, reply) for each of `jobs` jobs, as `count` workers finish them."""
    context = multiprocessing.get_context("fork")
    waiting = deque(range(jobs))
    idle: list[_Worker] = []
    busy: list[_Worker] = []
    with contextlib.suppress(Exception):  # each worker tries again, and reports it
        preload_modules(preload)
    scratch = _Scratch()
    try:
        for _ in range(count):  # all at once
            idle.append(_Worker(context, idle, limits, preload, scratch))
        while waiting or busy:
            while waiting and len(busy) < count:
                worker = idle.pop() if idle else _Worker(context, busy, limits, preload, scratch)
                if worker.served and not worker.process.is_alive():
                    worker.stop()  # it died waiting for its next job: no job's doing
                    continue
                busy.append(worker)
                worker.give(waiting.popleft(), limits.seconds)
            soonest = min(worker.deadline for worker in busy) - time.monotonic()
            wait([w.conn for w in busy] + [w.process.sentinel for w in busy]
                 + ([stop.signal] if stop else []),
                 timeout=min(max(soonest, 0.0), _LONGEST_WAIT))
            if stop and stop.is_set():
                return  # the workers are killed below
            for worker in list(busy):
                reply = worker.reply(limits.seconds)
                if reply is None:
                    continue
                busy.remove(worker)
                if reply[0] == "rendered" and worker.served < TASKS_PER_WORKER:
                    idle.append(worker)
                    yield worker.index, reply
                    continue
                worker.stop()
                if not worker.started and worker.served > 1:
                    waiting.appendleft(worker.index)  # it died between two jobs, not of
                    continue  # this one: try it again (a fresh worker's failure counts)
                yield worker.index, reply
    finally:  # done, or the build stopped early (an error, Ctrl-C): no worker stays
        for worker in idle + busy:
            worker.stop()
        scratch.remove()


# --- the worker's side ----------------------------------------------------------


def _serve(conn: Connection, inherited: tuple[Connection, ...], build: int, limits: Limits,
           preload: tuple[str, ...], temp: tuple[Path, int]) -> None:
    """A worker's life: take a job, say it started, send what came of it; until
    the build stops it."""
    for other in inherited:
        other.close()
    try:
        _start_worker(build, limits, preload, temp)
        broken = ""
    except Exception:  # reported for each job it is given
        broken = traceback.format_exc()
    while True:
        try:
            index = conn.recv()
            conn.send(("started",))
            reply = ("bug", broken) if broken else _render(_STATE["work"][index])
            try:
                conn.send(reply)
            except (MemoryError, OSError):
                raise
            except Exception:  # a result that cannot be pickled is a bug
                conn.send(("bug", traceback.format_exc()))
        except MemoryError:  # too little left even to receive or to send the result
            try:
                conn.send(("out of memory",))
            except BaseException:
                os._exit(_OUT_OF_MEMORY)
        except (EOFError, OSError):  # the build closed the pipe, or is gone
            os._exit(0)


def _start_worker(build: int, limits: Limits, preload: tuple[str, ...],
                  temp: tuple[Path, int]) -> None:
    """Die with the build (a killed build leaves no orphans), hold none of its
    locks, leave Ctrl-C to the build, write temporary files only in the folder
    the build removes after it, and live within the memory limit."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != build:  # the build already died before we got here
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the build stops its workers itself
    forget_locks()
    folder, scratch_lock = temp
    os.close(scratch_lock)  # the build's: closing this copy leaves it locked
    tempfile.tempdir = os.environ["TMPDIR"] = str(folder)  # for us and any child
    for name in preload:
        importlib.import_module(name)  # map the libraries before the limit applies
    size = limits.memory_mib * 2**20  # at most the hard limit: render_all saw to it
    resource.setrlimit(resource.RLIMIT_AS, (size, size))


def _render(job: Job) -> tuple[Any, ...]:
    """One edition in the asked formats, as a reply to the build."""
    try:
        return ("rendered", *_render_formats(job))
    except (MemoryError, ImportError) as err:
        if isinstance(err, ImportError) and "failed to map" not in str(err):
            return ("bug", traceback.format_exc())
        return ("out of memory",)
    except OSError as err:  # the machine, not the content: a full disk, say
        return ("os error", err.strerror or str(err))
    except Exception:  # anything else is a bug in Briefing
        return ("bug", traceback.format_exc())


def _render_formats(job: Job) -> tuple[list[tuple[str, bytes, float]], list[Problem]]:
    from briefing.render.fonts import html_glyph_problems
    from briefing.render.html import environment, render_html
    from briefing.render.view import build_view
    from briefing.writers.pages import anchor_pages, needs_layout
    from briefing.writers.subset import subset_problems

    project: Project = _STATE["project"]
    files = project.files
    edition = job.edition
    if "env" not in _STATE:
        _STATE["env"] = environment(files)
    brief = project.brief(edition.brief.slug)
    annex = _STATE["annexes"].get(edition.brief.slug)
    try:
        html = render_html(_STATE["env"], build_view(project, edition, annex), edition)
    except BuildFailed as failed:
        return [], failed.problems
    if annex is not None:
        from briefing.changes.annex import bars
        html = bars(html, annex.marks(project, edition.language))
    brief_file, _, _ = project.where(brief, ())
    problems = subset_problems(html, files, edition.template, files.relative(brief_file))
    problems += html_glyph_problems(html, project, brief, edition.language)
    if problems:
        return [], problems
    request = Request(html, edition, files, job.attachments,
                      project.catalogs[edition.language].labels, project=project)
    key = _layout_key(html, edition)
    if job.verdict_only and passed_before(LAYOUT, key):
        return [], problems
    outputs = []
    laid_out = job.laid_out  # the PDF, once written: a paged writer reads its pages
    checked = False  # whether the print PDF's gates ran and found nothing
    # A PDF first (the print PDF or the archival one): a paged writer then
    # reads the page numbers from its pages, and nothing is laid out twice.
    for fmt in sorted(job.formats, key=lambda name: not WRITERS[name].lays_out):
        writer = WRITERS[fmt]
        started = time.perf_counter()
        try:
            if writer.paged and needs_layout(html, edition.kind):
                if laid_out is None:  # no PDF asked for, or it failed: lay the pages out
                    laid_out, checked = WRITERS[LAYOUT].load()(request), True
                data = writer.load()(replace(request, pages=anchor_pages(laid_out)))
            else:
                data = writer.load()(request)
        except BuildFailed as failed:  # a PDF laid out twice fails twice: said once
            problems += [problem for problem in failed.problems if problem not in problems]
            continue
        if writer.lays_out:
            laid_out = data
        checked = checked or fmt == LAYOUT
        outputs.append((fmt, data, time.perf_counter() - started))
    # Remembered only if nothing it was keyed by changed while it was laid out
    # (a template saved meanwhile): the key must say what was used.
    if checked and not problems and shared_digest(files, LAYOUT) == _STATE["layouts"]:
        remember_passed(LAYOUT, key)
    return outputs, problems


def _layout_key(html: str, edition: Edition) -> str:
    """What a layout's verdict (the typesetting and structure gates, the
    note's length, the footnotes) is a function of: the edition's HTML, what
    its brief accepts, and the shared inputs, code and libraries."""
    setting = edition.brief.typesetting
    limits = _STATE["limits"]  # a layout that fitted in more time or memory may not in less
    digest = hashlib.sha256(f"{_STATE['layouts']}\0{limits.seconds}\0{limits.memory_mib}\0"
                            f"{edition.kind}\0{edition.language}\0"
                            f"{edition.template}\0{setting!r}\0".encode())
    digest.update(html.encode())
    return digest.hexdigest()
