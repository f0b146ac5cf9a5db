"""The one validation: what `check`, `build`, `publish` and `verify` all run.

It has two halves, and every command runs both:

1. `validate_content`, in the build's own process: every content file and
   catalog on its own and against each other, every template's syntax, and
   the glyph coverage of every edition asked for.
2. Each edition's HTML, rendered in a limited worker (orchestration/workers.py) and
   checked against the HTML subset every writer supports, before any writer
   runs. `check` renders the HTML and lays its pages out, since only the
   pages tell whether a note fits and what the typesetting gate finds; the
   build goes on to write.

So `check` exits 0 exactly when `build` can render everything.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from briefing.content.checks import plain_http
from briefing.content.load import Loaded, gather
from briefing.content.model import Brief, Project
from briefing.errors import Problem, Problems, UsageError
from briefing.files import ProjectFiles
from briefing.orchestration.workers import Job, Limits, render_all
from briefing.render.edition import Edition, editions


@dataclass
class Validation:
    """What loaded, and every problem: per brief, and in files no brief uses."""

    loaded: Loaded
    slugs: list[str]  # the briefs asked for
    failed: dict[str, list[Problem]] = field(default_factory=dict)
    unattributed: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # advice, never a failure

    @property
    def files(self) -> ProjectFiles:
        """The project's files: made once by the command, handed to every stage."""
        return self.loaded.files

    @property
    def root(self) -> Path:
        return self.loaded.files.root

    @property
    def project(self) -> Project:
        assert self.loaded.project is not None, "only valid briefs are asked for"
        return self.loaded.project

    @property
    def valid(self) -> list[str]:
        """The briefs asked for that have no problem (so far)."""
        return [slug for slug in self.slugs if slug not in self.failed]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unattributed

    @property
    def problems(self) -> list[Problem]:
        return sorted({p for slug in self.failed for p in self.failed[slug]}
                      | set(self.unattributed))

    def fail(self, slug: str, problems: Sequence[Problem]) -> None:
        if problems:
            self.failed.setdefault(slug, []).extend(problems)

    def brief(self, slug: str) -> Brief:
        return self.project.brief(slug)

    def dependencies(self, slug: str) -> list[str]:
        """Every file an edition of brief `slug` is made from: its content, and
        what its change annex reads of the previous published version."""
        from briefing.changes.annex import files
        return [*self.loaded.dependencies(slug), *files(self.root, self.project, slug)]

    def editions(self, slug: str, languages: Sequence[str] = ()) -> list[Edition]:
        return editions(self.project, self.brief(slug), tuple(languages))


def validate_content(where: Path | ProjectFiles, slugs: Sequence[str] = (),
                     languages: Sequence[str] = (), *, allow_fallback: bool = False
                     ) -> Validation:
    """Half one, for the briefs `slugs` (default: all) in `languages` (default: all)."""
    from briefing.render.fonts import glyph_problems
    from briefing.render.html import check_templates, environment
    from briefing.writers.stylesheet import stylesheet_problems

    files = ProjectFiles.of(where)
    loaded = gather(files, allow_fallback=allow_fallback)
    known(slugs, loaded.brief_files)
    chosen = list(slugs) or sorted(loaded.brief_files)
    validation = Validation(loaded, chosen)
    validation.unattributed = loaded.unattributed() + check_templates(environment(files))
    shared = stylesheet_problems(files)
    shared += _shared_file_problems(files, parse_stylesheet=not shared)
    for slug in chosen:  # every brief is laid out with the one stylesheet and Word template
        validation.fail(slug, shared)
    for slug in chosen:
        validation.fail(slug, loaded.blame(slug))
        if not loaded.has_brief(slug):
            validation.failed.setdefault(slug, [])
    notes = Problems(files)
    for slug in validation.valid:
        brief = validation.brief(slug)
        shown = [lang for lang in brief.languages if not languages or lang in languages]
        validation.fail(slug, glyph_problems(validation.project, {slug: shown}))
        plain_http(validation.project, brief, notes)
    validation.notes = sorted(set(notes.items))
    return validation


def validate(where: Path | ProjectFiles, slugs: Sequence[str] = (), *,
             allow_fallback: bool = False,
             jobs: int = 1, limits: Limits | None = None) -> Validation:
    """Both halves, for `check`: every edition's HTML rendered and checked,
    nothing written."""
    validation = validate_content(where, slugs, allow_fallback=allow_fallback)
    work = [Job(edition, laid_out(edition), verdict_only=True) for slug in validation.valid
            for edition in validation.editions(slug)]
    if work:
        for job, _, problems in render_all(validation.project, work, jobs,
                                           limits or Limits()):
            validation.fail(job.edition.brief.slug, problems)
    return validation


def laid_out(edition: Edition) -> tuple[str, ...]:
    """What `check` must lay out to know what `build` would find: the
    typesetting gate (writers/typesetting.py) and a note's length are known
    only once the pages are laid out (the PDF, made and dropped)."""
    return ("pdf",)


def _shared_file_problems(files: ProjectFiles, parse_stylesheet: bool) -> list[Problem]:
    """print.css as WeasyPrint parses it (when it parses at all), and
    templates/reference.docx as python-docx opens it. A verdict that found
    nothing is remembered for the same templates, fonts and code: importing
    those two libraries alone would double the time `check` takes."""
    from briefing.orchestration.cache import passed_before, remember_passed, shared_digest
    from briefing.render.fonts import font_file_problems

    fonts = tuple(files.fonts())
    usable = bool(fonts) and not font_file_problems(files, fonts)

    def stylesheet() -> list[Problem]:
        from briefing.writers.stylesheet import stylesheet_warnings
        return stylesheet_warnings(files, with_fonts=usable)

    def word_template() -> list[Problem]:
        from briefing.writers.docx import reference_problems
        return reference_problems(files)

    checks = [("reference-docx", word_template)]
    if parse_stylesheet:
        checks.insert(0, (f"print-css-fonts-{usable}".lower(), stylesheet))
    problems = []
    for what, check in checks:
        key = shared_digest(files, what)
        if passed_before(what, key):
            continue
        found = check()
        if not found:
            remember_passed(what, key)
        problems += found
    return problems


def known(slugs: Sequence[str], briefs: Collection[str]) -> None:
    for slug in slugs:
        if slug not in briefs:
            raise UsageError(f"no brief `{slug}` (briefs: {', '.join(sorted(briefs))})")
