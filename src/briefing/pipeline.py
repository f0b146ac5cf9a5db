"""The build, top to bottom: gather, validate, render every HTML, write.

Nothing is written until every selected edition has rendered in every format,
so a mistake anywhere leaves the previous good outputs exactly as they were.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from briefing.errors import BuildFailed, Problem, UsageError
from briefing.fonts import glyph_problems
from briefing.load import load_project, missing_translations
from briefing.model import Brief, Project
from briefing.output import remove_stale_temporaries, write_atomically
from briefing.render.html import Edition, check_templates, environment, render_html

OUTPUT = "output"
FORMATS = ("pdf", "docx")
# Writers are imported only when a build needs them: `check` stays fast. The
# HTML itself is a format too, for template authors (`--format html`).
WRITERS = {
    "pdf": "briefing.render.pdf:write_pdf",
    "docx": "briefing.render.docx:write_docx",
    "html": "briefing.render.html:html_bytes",
}


@dataclass(frozen=True)
class Written:
    path: Path
    size: int
    seconds: float


def check(root: Path, *, allow_fallback: bool = False) -> Project:
    """Validate content and compile every template; raise BuildFailed."""
    project = load_project(root, allow_fallback=allow_fallback)
    every = {brief.slug: list(brief.languages) for brief in project.briefs}
    problems = glyph_problems(project, root, every) + check_templates(environment(root))
    if problems:
        raise BuildFailed(problems)
    return project


def build(
    root: Path,
    slugs: Sequence[str] = (),
    languages: Sequence[str] = (),
    formats: Sequence[str] = FORMATS,
    report: Callable[[Written], None] = lambda written: None,
    *,
    allow_fallback: bool = False,
) -> list[Written]:
    """Build the selected editions; return what was written."""
    project = load_project(root, allow_fallback=allow_fallback)
    editions = select(project, slugs, languages)
    env = environment(root)

    chosen: dict[str, list[str]] = {}
    for edition in editions:
        chosen.setdefault(edition.brief.slug, []).append(edition.language)
    problems: list[Problem] = glyph_problems(project, root, chosen)
    html: dict[Edition, str] = {}
    for edition in editions:
        try:
            html[edition] = render_html(env, project, edition)
        except BuildFailed as failed:
            problems += failed.problems
    if problems:
        raise BuildFailed(problems)

    rendered: list[tuple[Path, bytes, float]] = []
    for edition, document in html.items():
        for fmt in formats:
            started = time.perf_counter()
            try:
                data = _writer(fmt)(document, edition, root)
            except BuildFailed as failed:
                problems += failed.problems
                continue
            path = root / OUTPUT / edition.brief.slug / f"{edition.name}.{fmt}"
            rendered.append((path, data, time.perf_counter() - started))
    if problems:
        raise BuildFailed(problems)

    remove_stale_temporaries(root / OUTPUT)
    written = []
    for path, data, seconds in rendered:
        write_atomically(path, data)
        written.append(Written(path, len(data), seconds))
        report(written[-1])
    return written


def select(project: Project, slugs: Sequence[str], languages: Sequence[str]) -> list[Edition]:
    """The editions asked for: every declared language of every brief by default."""
    known = {brief.slug: brief for brief in project.briefs}
    for slug in slugs:
        if slug not in known:
            raise UsageError(f"no brief `{slug}` (briefs: {', '.join(sorted(known))})")
    chosen = [known[slug] for slug in slugs] if slugs else list(project.briefs)
    editions = [
        Edition(brief, language, _fallback(project, brief, language), kind)
        for brief in chosen
        for language in brief.languages
        if not languages or language in languages
        for kind in brief.documents
    ]
    if not editions:
        raise UsageError(f"no brief is published in {', '.join(languages)}")
    return editions


def _fallback(project: Project, brief: Brief, language: str) -> str | None:
    """The language shown where `language` lacks text (the loader allowed it)."""
    if not missing_translations(project, brief, language):
        return None
    return next(other for other in brief.languages if other != language)


def _writer(fmt: str) -> Callable[[str, Edition, Path], bytes]:
    module, _, name = WRITERS[fmt].partition(":")
    return getattr(importlib.import_module(module), name)
