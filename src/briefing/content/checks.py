"""Cross-file checks on loaded content: ids resolve, dates agree, every
language is complete, every catalog has the same labels.

They run after each file has been validated on its own, and add to the same
list of problems, each placed at the field the editor must change.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from briefing.content.model import Brief, Project, brief_references
from briefing.content.text import Text
from briefing.content.yamlsource import Path_, SourceMap, dotted
from briefing.errors import Problems
from briefing.files import CATALOGS


def check_references(
    project: Project,
    problems: Problems,
    *,
    allow_fallback: bool,
    broken: set[str],
) -> None:
    """Cross-file checks: ids resolve, dates agree, every language is complete.

    `broken` names partner files (by id) and catalogs (as `catalog:<lang>`)
    that exist but did not load: their own problems are reported (and blamed
    on the briefs that use them), not a second time as unknown ids.
    """
    for partner in project.partners.values():
        source = project.sources[id(partner)]
        for i, agreement in enumerate(partner.agreements):
            if agreement.ratified and agreement.ratified < agreement.signed:
                _add(problems, source, ("agreements", i, "ratified"),
                     f"ratified on {agreement.ratified} before it was signed on {agreement.signed}",
                     "a ratification date on or after the signing date")
    _check_catalogs(project, problems)
    for brief in project.briefs:
        source = project.sources[id(brief)]
        if brief.date.precision != "day":
            _add(problems, source, ("date",), f"`{brief.date}` is not a full date",
                 "the issue date as YYYY-MM-DD")
        targets = {
            "source": ({s.id for s in brief.sources}, "the id of a source of this brief"),
            "partner": (set(project.partners), "the id of a file in content/partners/"),
        }
        for path, ref in brief_references(brief):
            what = "source" if path[-1] == "source" else "partner"
            known, expected = targets[what]
            if ref not in known and not (what == "partner" and ref in broken):
                hint = difflib.get_close_matches(ref, sorted(known), n=1)
                _add(problems, source, path, f"no {what} with id `{ref}`"
                     + (f"; did you mean `{hint[0]}`?" if hint else ""), expected)
        for field in ("sections", "sources"):
            seen: set[str] = set()
            for i, item in enumerate(getattr(brief, field)):
                if item.id in seen:
                    _add(problems, source, (field, i, "id"), f"id `{item.id}` is used twice",
                         "ids unique within the brief")
                seen.add(item.id)
        if "note" in brief.documents:
            if brief.contact is None:
                _add(problems, source, ("documents",), "a note needs a `contact`",
                     "a contact with at least a name")
            if not 3 <= len(brief.key_points) <= 5:
                _add(problems, source, ("key_points",) if brief.key_points else ("documents",),
                     f"a note needs three to five key points, not {len(brief.key_points)}",
                     "3, 4 or 5 key points")
        for i, language in enumerate(brief.languages):
            if language not in project.catalogs and f"catalog:{language}" not in broken:
                _add(problems, source, ("languages", i), f"no catalog for language `{language}`",
                     f"a file {CATALOGS}/{language}.yaml")
        if not allow_fallback:
            _check_translations(project, brief, problems)


def _check_translations(project: Project, brief: Brief, problems: Problems) -> None:
    for language in brief.languages:
        for record, path in missing_translations(project, brief, language):
            _add(problems, project.sources[id(record)], path, f"no '{language}' text",
                 f"a translation for every language of brief `{brief.slug}`")


def missing_translations(
    project: Project, brief: Brief, language: str
) -> list[tuple[BaseModel, Path_]]:
    """Every text field an edition shows that has no `language` text."""
    return [(record, path) for record in project.records_of(brief)
            for path, text in texts(record) if text.in_language(language) is None]


def _check_catalogs(project: Project, problems: Problems) -> None:
    every: set[str] = set().union(*(catalog.labels for catalog in project.catalogs.values()))
    for catalog in project.catalogs.values():
        for name in sorted(every - set(catalog.labels)):
            _add(problems, project.sources[id(catalog)], ("labels",), f"no label `{name}`",
                 "the same labels in every catalog")


def texts(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Text]]:
    """Every Text in a record, with its path: for translation and glyph checks."""
    if isinstance(value, Text):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from texts(getattr(value, name), path + (name,))
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from texts(item, path + (i,))


def _add(problems: Problems, source: SourceMap, path: Path_, message: str, expected: str) -> None:
    line, col = source.locate(path)
    problems.add(source.file, line, col, message, dotted(path), expected)


