"""The build, top to bottom: gather, validate, render, write, remember.

A brief is the unit of success: its files are written only when every one of
its editions has rendered in every format, so a mistake leaves its previous
good outputs exactly as they were, and one broken brief does not stop the
others. Unchanged outputs are not rebuilt (see cache.py); editions render in
parallel processes.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from briefing.cache import Cache, options_key
from briefing.errors import BuildFailed, Problem, UsageError
from briefing.output import exclusive, remove_stale_temporaries, write_all
from briefing.workers import Limits, render_all

if TYPE_CHECKING:  # the model and renderers are imported only when there is work
    from briefing.model import Brief, Project
    from briefing.render.html import Edition

    Rendered = tuple[Edition, str, bytes, float]

OUTPUT = "output"
FORMATS = ("pdf", "docx")


@dataclass(frozen=True)
class Written:
    path: Path
    size: int
    seconds: float


@dataclass
class Result:
    written: list[Written] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)  # outputs already up to date
    failed: dict[str, list[Problem]] = field(default_factory=dict)  # slug -> problems
    problems: list[Problem] = field(default_factory=list)  # in files no brief uses

    @property
    def ok(self) -> bool:
        return not self.failed and not self.problems


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def done(self, name: str, written: list[Written]) -> None: ...


class _Silent:
    def start(self, total: int) -> None:
        pass

    def done(self, name: str, written: list[Written]) -> None:
        pass


def check(root: Path, slugs: Sequence[str] = (), *, allow_fallback: bool = False) -> Project:
    """Validate content (all of it, or what `slugs` use) and compile every
    template, without rendering; raise BuildFailed with every problem."""
    from briefing.fonts import glyph_problems
    from briefing.load import gather
    from briefing.render.html import check_templates, environment

    loaded = gather(root, allow_fallback=allow_fallback)
    _known(slugs, loaded.brief_files)
    problems = ([p for slug in slugs for p in loaded.blame(slug)] if slugs
                else list(loaded.problems))
    project = loaded.project
    if project is not None:
        every = {brief.slug: list(brief.languages) for brief in project.briefs
                 if not slugs or brief.slug in slugs}
        problems += glyph_problems(project, root, every)
    problems += check_templates(environment(root))
    if problems or project is None:
        raise BuildFailed(problems)
    return project


def build(
    root: Path,
    slugs: Sequence[str] = (),
    languages: Sequence[str] = (),
    formats: Sequence[str] = FORMATS,
    *,
    allow_fallback: bool = False,
    force: bool = False,
    jobs: int = 1,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> Result:
    """Build what is asked, skipping what is up to date."""
    with exclusive(root):
        return _build(root, slugs, languages, formats, allow_fallback, force, jobs,
                      limits or Limits(), progress or _Silent())


def _build(root: Path, slugs: Sequence[str], languages: Sequence[str], formats: Sequence[str],
           allow_fallback: bool, force: bool, jobs: int, limits: Limits,
           progress: Progress) -> Result:
    cache = Cache.open(root)
    every = sorted(path.stem for path in (root / "content" / "briefs").glob("*.yaml"))
    _known(slugs, every)
    chosen = list(slugs) or every
    if not force and (fresh := cache.up_to_date(chosen, languages, formats, allow_fallback)):
        return Result(fresh=fresh)
    return _Build(root, cache, chosen, languages, formats, allow_fallback, force).run(
        jobs, limits, progress)


class _Build:
    """One run of the build, after the cache said there is work to do."""

    def __init__(self, root: Path, cache: Cache, slugs: list[str], languages: Sequence[str],
                 formats: Sequence[str], allow_fallback: bool, force: bool) -> None:
        from briefing.load import gather

        self.root, self.cache, self.formats = root, cache, formats
        self.allow_fallback, self.force = allow_fallback, force
        self.loaded = gather(root, allow_fallback=allow_fallback)
        self.result = Result(problems=self.loaded.unattributed())
        self.tasks: dict[str, list[tuple[Edition, list[str]]]] = {}
        self.in_language = False  # whether any chosen brief is published in `languages`
        for slug in slugs:
            self._plan(slug, languages)
        if languages and not self.in_language and not self.result.failed:
            raise UsageError(f"no brief is published in {', '.join(languages)}")

    def _plan(self, slug: str, languages: Sequence[str]) -> None:
        from briefing.fonts import glyph_problems
        from briefing.render.html import Edition

        problems = self.loaded.blame(slug)
        if problems or not self.loaded.has_brief(slug):
            self.result.failed[slug] = problems
            return
        project = self.loaded.project
        brief = project.brief(slug)
        chosen = [lang for lang in brief.languages if not languages or lang in languages]
        self.in_language = self.in_language or bool(chosen)
        problems = glyph_problems(project, self.root, {slug: chosen})
        if problems:
            self.result.failed[slug] = problems
            return
        files = self.loaded.dependencies(slug)
        self.tasks[slug] = []
        for language in chosen:
            for kind in brief.documents:
                fallback = fallback_language(project, brief, language)
                edition = Edition(brief, language, fallback, kind)
                todo = []
                for fmt in self.formats:
                    key = options_key(language, kind, fmt, self.allow_fallback)
                    output = _output(edition, fmt)
                    if not self.force and self.cache.fresh(output, self.cache.fingerprint(
                            files, key)):
                        self.result.fresh.append(output)
                    else:
                        todo.append(fmt)
                if todo:
                    self.tasks[slug].append((edition, todo))

    def run(self, jobs: int, limits: Limits, progress: Progress) -> Result:
        work = [task for tasks in self.tasks.values() for task in tasks]
        progress.start(len(work))
        remove_stale_temporaries(self.root / OUTPUT)
        pending = {slug: len(tasks) for slug, tasks in self.tasks.items()}
        rendered: dict[str, list[Rendered]] = {slug: [] for slug in self.tasks}
        problems: dict[str, list[Problem]] = {slug: [] for slug in self.tasks}
        for edition, outputs, trouble in render_all(self.root, self.loaded.project, work, jobs,
                                                    limits):
            slug = edition.brief.slug
            rendered[slug] += [(edition, *output) for output in outputs]
            problems[slug] += trouble
            pending[slug] -= 1
            written = [] if pending[slug] else self._finish(slug, rendered[slug], problems[slug])
            progress.done(edition.name, written)
        for slug, tasks in self.tasks.items():
            if not tasks:  # everything of this brief was already up to date
                self._remember(slug)
        self.cache.save()
        return self.result

    def _finish(self, slug: str, rendered: list[Rendered], problems: list[Problem]
                ) -> list[Written]:
        """Write a brief's files once all of its editions rendered; else none of them."""
        if problems:
            self.result.failed[slug] = problems
            return []
        files = self.loaded.dependencies(slug)
        outputs = {self.root / _output(edition, fmt): data for edition, fmt, data, _ in rendered}
        inside = (self.root / OUTPUT).resolve()
        for path in outputs:  # slugs are validated; this is the last line of defence
            if not path.resolve().is_relative_to(inside):
                raise ValueError(f"refusing to write outside output/: {path}")
        try:
            write_all(outputs)
        except OSError as err:
            where = _output(rendered[0][0], rendered[0][1])
            self.result.failed[slug] = [Problem(
                where, 1, 1, f"could not write the outputs of `{slug}`: {err.strerror}",
                expected="a writable output/ folder with free space")]
            return []
        written = []
        for edition, fmt, data, seconds in rendered:
            output = _output(edition, fmt)
            key = options_key(edition.language, edition.kind, fmt, self.allow_fallback)
            self.cache.record(output, self.cache.fingerprint(files, key))
            written.append(Written(self.root / output, len(data), seconds))
        self._remember(slug)
        self.result.written += written
        return written

    def _remember(self, slug: str) -> None:
        from briefing.render.html import Edition

        brief = self.loaded.project.brief(slug)
        editions = [(language, kind) for language in brief.languages for kind in brief.documents]
        outputs = dict(self.cache.briefs.get(slug, {}).get("outputs", {}))
        for language, kind in editions:
            for fmt in self.formats:
                outputs[f"{language}/{kind}/{fmt}"] = _output(Edition(brief, language, None, kind),
                                                              fmt)
        self.cache.remember(slug, self.loaded.dependencies(slug), editions, outputs)


def _output(edition: Edition, fmt: str) -> str:
    return f"{OUTPUT}/{edition.brief.slug}/{edition.name}.{fmt}"


def fallback_language(project: Project, brief: Brief, language: str) -> str | None:
    """The language shown where `language` lacks text (the loader allowed it)."""
    from briefing.load import missing_translations

    if not missing_translations(project, brief, language):
        return None
    return next(other for other in brief.languages if other != language)


def _known(slugs: Sequence[str], briefs: Collection[str]) -> None:
    for slug in slugs:
        if slug not in briefs:
            raise UsageError(f"no brief `{slug}` (briefs: {', '.join(sorted(briefs))})")


def default_jobs() -> int:
    return os.cpu_count() or 1
