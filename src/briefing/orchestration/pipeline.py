"""The build, top to bottom: validate, plan what is stale, render, write, remember.

A brief is the unit of success: its files are written only when every one of
its editions has rendered in every format, so a mistake leaves its previous
good outputs exactly as they were, and one broken brief does not stop the
others. Unchanged outputs are not rebuilt (see cache.py); editions render in
parallel worker processes (see workers.py).

One exception, for the editor's loop (`watch`, `serve`: see scheduler.py):
the edition named `first` renders before everything else, and each of its
files is written the moment it is whole, before the rest of its brief; the
rest follows the rule above.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from briefing.content.model import SLUG
from briefing.errors import BuildFailed, Problem, UsageError
from briefing.files import CACHE, OUTPUT, ProjectFiles
from briefing.orchestration.cache import Cache, options_key
from briefing.orchestration.output import (
    brief_links,
    exclusive,
    remove_abandoned_generations,
    remove_folder,
    remove_stale_temporaries,
    switch_folder,
)
from briefing.orchestration.progress import Progress, Silent, Written
from briefing.orchestration.validate import Validation, known, validate_content
from briefing.orchestration.workers import (
    LAYOUT,
    Bug,
    Job,
    Limits,
    RenderBugs,
    Stop,
    render_all,
)
from briefing.render.edition import Edition, editions, slug_of
from briefing.writers.registry import BUILD_FORMATS, DEFAULT_FORMATS, WRITERS

if TYPE_CHECKING:
    from briefing.orchestration.workers import Outcome


@dataclass
class Result:
    written: list[Written] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)  # outputs already up to date
    failed: dict[str, list[Problem]] = field(default_factory=dict)  # slug -> problems
    problems: list[Problem] = field(default_factory=list)  # in files no brief uses
    bugs: list[Bug] = field(default_factory=list)  # editions stopped by a bug in Briefing
    stopped: bool = False  # told to stop before it was done (see workers.Stop)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.problems and not self.bugs and not self.stopped


def output_name(edition: Edition, fmt: str) -> str:
    """output/<slug>/<edition name>.<suffix>: where a format of an edition goes."""
    return ProjectFiles.output(edition.brief.slug, edition.name, WRITERS[fmt].suffix)


def build(
    root: Path,
    slugs: Sequence[str] = (),
    languages: Sequence[str] = (),
    formats: Sequence[str] = DEFAULT_FORMATS,
    *,
    allow_fallback: bool = False,
    force: bool = False,
    jobs: int = 1,
    limits: Limits | None = None,
    progress: Progress | None = None,
    stop: Stop | None = None,
    first: str | None = None,
) -> Result:
    """Build what is asked, skipping what is up to date. Once `stop` is set the
    build ends: the briefs finished are written, the others left as they were.

    `first` (an edition's name, or a brief's slug for its first edition to
    build) is rendered before all else, its HTML and PDF each in a worker of
    its own, and each of its files is written as soon as it is whole."""
    _usable_output(root)
    files = ProjectFiles(root)  # the command's one view of the project, handed down
    with exclusive(root):
        cache = Cache.open(files)
        every = sorted(files.briefs())
        known(slugs, every)
        chosen = list(slugs) or every
        # The fast path only answers for a project unchanged since a build that
        # found no problem at all: the exit code never depends on the cache.
        # The project is read for its digest before it is validated: a save
        # made while this build runs is not taken as validated by it.
        read = cache.project_digest()
        if not force and cache.clean == read and (
                fresh := cache.up_to_date(chosen, languages, formats, allow_fallback)):
            return Result(fresh=fresh)
        validation = validate_content(files, chosen, languages, allow_fallback=allow_fallback)
        run = _Build(root, cache, validation, languages, formats, allow_fallback, force, read)
        return run.run(jobs, limits or Limits(), progress or Silent(), stop, first)


def _usable_output(root: Path) -> None:
    """output/ is a folder, or not there yet: anything else stops the build
    before it starts, in words (a file named `output` cannot hold the briefs)."""
    output = root / OUTPUT
    if (output.exists() or output.is_symlink()) and not output.is_dir():
        raise BuildFailed([Problem(OUTPUT, 1, 1, "is not a folder, so no brief can be "
                                   "written into it", expected="`output` moved away or "
                                   "removed: the build makes the folder itself")])


class _Build:
    """One run of the build, after the cache said there is work to do."""

    def __init__(self, root: Path, cache: Cache, validation: Validation,
                 languages: Sequence[str], formats: Sequence[str], allow_fallback: bool,
                 force: bool, read: str) -> None:
        self.root, self.cache, self.validation = root, cache, validation
        self.read = read  # the project's digest as this build read it
        self.formats, self.allow_fallback, self.force = tuple(formats), allow_fallback, force
        self.result = Result(failed=validation.failed, problems=validation.unattributed)
        self.jobs: dict[str, list[Job]] = {}
        in_language = False  # whether any chosen brief is published in `languages`
        for slug in validation.valid:
            chosen = validation.editions(slug, languages)
            in_language = in_language or bool(chosen)
            self.jobs[slug] = [job for edition in chosen if (job := self._plan(slug, edition))]
        if languages and not in_language and not self.result.failed:
            raise UsageError(f"no brief is published in {', '.join(languages)}")

    def _plan(self, slug: str, edition: Edition) -> Job | None:
        """The job for the formats of `edition` that are not up to date, if any."""
        files = self.validation.dependencies(slug)
        todo = []
        for fmt in self.formats:
            output = output_name(edition, fmt)
            key = options_key(edition.language, edition.kind, fmt, self.allow_fallback)
            if not self.force and self.cache.fresh(output, self.cache.fingerprint(files, key)):
                self.result.fresh.append(output)
            else:
                todo.append(fmt)
        return Job(edition, tuple(todo)) if todo else None

    def _phases(self, first: str | None) -> tuple[list[list[Job]], Edition | None]:
        """The jobs in the order they render, and the edition written early.
        `first`'s HTML and PDF are two jobs rendered before anything else
        starts, so that they have the cores to themselves (its DOCX beside
        its PDF made the PDF 1.3x to 1.6x slower on two busy cores); then the
        rest of it, of its brief, and the other briefs."""
        work = [job for planned in self.jobs.values() for job in planned]
        planned = self.jobs.get(slug_of(first), []) if first else []
        lead = next((job for job in planned
                     if first in (job.edition.name, job.edition.brief.slug)), None)
        if lead is None:
            return [work], None
        split = [replace(lead, formats=(fmt,)) for fmt in ("html", "pdf")
                 if fmt in lead.formats]
        rest = tuple(fmt for fmt in lead.formats if fmt not in ("html", "pdf"))
        then = [replace(lead, formats=rest)] if rest else []
        slug = lead.edition.brief.slug
        then += [job for job in planned if job is not lead]
        then += [job for other, jobs in self.jobs.items() if other != slug for job in jobs]
        return [split, then], lead.edition

    def _outcomes(self, phases: list[list[Job]], jobs: int, limits: Limits,
                  stop: Stop | None) -> Iterator[Outcome]:
        """Each phase's outcomes, one phase after the other; RenderBugs at the
        end, with every phase's bugs."""
        bugs: list[Bug] = []
        laid_out: dict[str, bytes] = {}  # an edition's print PDF, for its later jobs
        for work in phases:
            if not work or (stop is not None and stop.is_set()):
                continue
            work = [replace(job, laid_out=laid_out[job.edition.name])
                    if job.edition.name in laid_out else job for job in work]
            try:
                for job, outputs, problems in render_all(self.validation.project, work, jobs,
                                                         limits, stop):
                    for fmt, data, _ in outputs:
                        if fmt == LAYOUT:
                            laid_out[job.edition.name] = data
                    yield job, outputs, problems
            except RenderBugs as found:
                bugs += found.bugs
        if bugs:
            raise RenderBugs(bugs)

    def run(self, jobs: int, limits: Limits, progress: Progress, stop: Stop | None,
            first: str | None = None) -> Result:
        phases, early = self._phases(first)
        work = [job for phase in phases for job in phase]
        progress.start(len(work))
        remove_stale_temporaries(self.root / OUTPUT)
        remove_abandoned_generations(self.root / OUTPUT)
        pending = {slug: sum(job.edition.brief.slug == slug for job in work)
                   for slug in self.jobs}
        rendered: dict[str, list[tuple[Edition, str, bytes, float]]] = {
            slug: [] for slug in self.jobs}
        problems: dict[str, list[Problem]] = {slug: [] for slug in self.jobs}
        outcomes = self._outcomes(phases, jobs, limits, stop)  # none: no project loaded
        try:
            for job, outputs, trouble in outcomes:
                slug = job.edition.brief.slug
                made = [(job.edition, *output) for output in outputs]
                problems[slug] += trouble
                pending[slug] -= 1
                written = []
                if job.edition is early and made and not trouble:  # its files go now
                    written = self._write_early(slug, made)
                else:
                    rendered[slug] += made
                if not pending[slug]:
                    written += self._finish(slug, rendered[slug], problems[slug])
                progress.done(job.edition.name, written)
        except RenderBugs as bugs:  # raised once every other edition was written
            self.result.bugs += bugs.bugs
        # Stopped: told to stop with editions still to render (a save after
        # the last one rendered leaves nothing unfinished).
        self.result.stopped = stop is not None and stop.is_set() and any(pending.values())
        for slug, planned in self.jobs.items():
            if not planned:  # everything of this brief was already up to date
                self._remember(slug)
        self._forget_deleted_briefs()
        # Clean only if the project stayed as it was read: a file changed while
        # the build ran may have been validated in either state.
        self.cache.mark_clean(self.read if self.result.ok
                              and self.cache.project_digest() == self.read else None)
        if (trouble := self.cache.save()) is not None:
            self.result.problems.append(Problem(CACHE, 1, 1, trouble, expected=(
                "a writable output/ folder with free space; the outputs written are whole")))
        return self.result

    def _forget_deleted_briefs(self) -> None:
        """Outputs of briefs that no longer exist (deleted, or renamed to another
        slug) go, and the cache forgets them: those the cache knows, and any
        brief's folder output/ shows that it does not (`brief_links`); nothing
        else in output/ is touched."""
        existing = set(self.validation.files.briefs())
        shown = set(self.cache.briefs) | brief_links(self.root / OUTPUT)
        for slug in sorted(shown - existing):
            remove_folder(self.root / OUTPUT / slug)
            self.cache.forget(slug)

    def _finish(self, slug: str, rendered: list[tuple[Edition, str, bytes, float]],
                problems: list[Problem]) -> list[Written]:
        """Write a brief's files once all of its editions rendered; else none of them."""
        if problems or slug in self.result.failed:  # (its edition written early failed)
            self.result.failed[slug] = self.result.failed.get(slug, []) + problems
            return []
        files = self.validation.dependencies(slug)
        # Kept from the current files: this brief's other outputs under their
        # current names, and only those made from the sources as they are now (a
        # `semantic.html` of an earlier source is not kept beside the new PDF).
        # Anything else there (an old date, a language or document no longer
        # made, a format built from older sources) is stale, and is left behind.
        brief = self.validation.brief(slug)
        current = {Path(output).name
                   for edition in editions(self.validation.project, brief)
                   for fmt in BUILD_FORMATS
                   if self.cache.fresh(output := output_name(edition, fmt),
                                       self.cache.fingerprint(files, options_key(
                                           edition.language, edition.kind, fmt,
                                           self.allow_fallback)))}
        folder = self.root / OUTPUT / slug
        stale = folder.is_dir() and any(path.name not in current for path in folder.iterdir())
        written = self._switch(slug, rendered, current) if rendered or stale else []
        if slug not in self.result.failed:
            self._remember(slug)
        return written

    def _write_early(self, slug: str, rendered: list[tuple[Edition, str, bytes, float]]
                     ) -> list[Written]:
        """A file of the edition built first, written now, beside every file the
        brief's folder shows. The rest of the brief is written, or not, when
        it is done: another edition that fails keeps its previous files. Of
        the first edition, each format stands on its own: its HTML, out
        before its PDF, stays new if the PDF then fails (that failure is
        printed, and the PDF keeps its previous file), for the HTML is
        whole and made from the sources as they are."""
        folder = self.root / OUTPUT / slug
        shown = {path.name for path in folder.iterdir()} if folder.is_dir() else set()
        return self._switch(slug, rendered, shown)

    def _switch(self, slug: str, rendered: list[tuple[Edition, str, bytes, float]],
                keep: set[str]) -> list[Written]:
        """`rendered` into output/<slug> in one step, with the `keep` files of
        the folder as it is; each output recorded in the cache."""
        files = self.validation.dependencies(slug)
        folder = self.root / OUTPUT / slug
        if not SLUG.fullmatch(slug):  # slugs are validated; this is the last line of defence
            raise ValueError(f"refusing to write outside output/: {slug!r}")
        outputs = {Path(output_name(edition, fmt)).name: data
                   for edition, fmt, data, _ in rendered}
        try:
            switch_folder(folder, outputs, keep=keep)
        except OSError as err:
            where = output_name(rendered[0][0], rendered[0][1]) if rendered else str(folder)
            self.result.failed[slug] = [Problem(
                where, 1, 1, f"could not write the outputs of `{slug}`: {err.strerror}",
                expected="a writable output/ folder with free space")]
            return []
        shown = {path.name for path in folder.iterdir()}
        self.cache.keep_only(f"{OUTPUT}/{slug}", shown)
        written = []
        for edition, fmt, data, seconds in rendered:
            output = output_name(edition, fmt)
            key = options_key(edition.language, edition.kind, fmt, self.allow_fallback)
            self.cache.record(output, self.cache.fingerprint(files, key))
            written.append(Written(self.root / output, len(data), seconds))
        self.result.written += written
        return written

    def _remember(self, slug: str) -> None:
        brief = self.validation.brief(slug)
        made = [(language, kind) for language in brief.languages for kind in brief.documents]
        outputs = {key: path for key, path in
                   self.cache.briefs.get(slug, {}).get("outputs", {}).items()
                   if tuple(key.split("/")[:2]) in made}  # forget editions no longer made
        for language, kind in made:
            for fmt in self.formats:
                outputs[f"{language}/{kind}/{fmt}"] = output_name(
                    Edition(brief, language, None, kind), fmt)
        self.cache.remember(slug, self.validation.dependencies(slug), made, outputs)


# Render processes beyond this many per core only add memory: each one maps a
# whole WeasyPrint (about 70 MiB) to share the same cores.
MAX_JOBS_PER_CORE = 4


def default_jobs() -> int:
    return os.cpu_count() or 1
