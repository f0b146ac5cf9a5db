"""Cross-file checks on loaded content: ids resolve, dates agree, every
language is complete, every catalog has the same labels.

They run after each file has been validated on its own, and add to the same
list of problems, each placed at the field the editor must change.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from briefing.content.model import (
    LABELLED_CHOICES,
    Brief,
    Partner,
    Project,
    brief_references,
    partner_references,
    source_references,
)
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
    broken_own: Mapping[str, set[str]] | None = None,
    past: bool = False,
) -> None:
    """Cross-file checks: ids resolve, dates agree, every language is complete.

    `broken` names partner files (by id) and catalogs (as `catalog:<lang>`)
    that exist but did not load: their own problems are reported (and blamed
    on the briefs that use them), not a second time as unknown ids; and
    `broken_own` the same for each brief's own partners, which only that brief
    may name.
    """
    agreements = _agreement_ids(project, problems)
    for partner in project.partners.values():
        _check_partner(project, partner, agreements, broken, problems)
    _check_catalogs(project, problems, every_choice=not past)
    for brief in project.briefs:
        scoped = project.for_brief(brief.slug)  # with the brief's own partners
        own = project.local.get(brief.slug, {})
        unloaded = broken | (broken_own or {}).get(brief.slug, set())
        ids = agreements | _own_agreement_ids(scoped, own, agreements, problems)
        for partner in own.values():
            _check_partner(scoped, partner, ids, unloaded, problems)
        _check_brief(scoped, brief, unloaded, problems)
        if not allow_fallback:
            _check_translations(scoped, brief, problems)


def _own_agreement_ids(project: Project, own: Mapping[str, Any], shared: set[str],
                       problems: Problems) -> set[str]:
    """The agreement ids of a brief's own partners, none the same as a shared
    partner's (an id names one agreement, wherever it is shown)."""
    ids: set[str] = set()
    for partner in own.values():
        for i, agreement in enumerate(partner.agreements):
            if agreement.id is None:
                continue
            if agreement.id in shared or agreement.id in ids:
                _add(problems, project.sources[id(partner)], ("agreements", i, "id"),
                     f"agreement id `{agreement.id}` is used twice",
                     "each agreement id once across all partners, the brief's own included")
            ids.add(agreement.id)
    return ids


def _agreement_ids(project: Project, problems: Problems) -> set[str]:
    """Every agreement id, each given once across all partners."""
    seen: set[str] = set()
    for partner in project.partners.values():
        for i, agreement in enumerate(partner.agreements):
            if agreement.id is None:
                continue
            if agreement.id in seen:
                _add(problems, project.sources[id(partner)], ("agreements", i, "id"),
                     f"agreement id `{agreement.id}` is used twice",
                     "each agreement id once across all partners")
            seen.add(agreement.id)
    return seen


def _check_partner(project: Project, partner: Partner, agreements: set[str],
                   broken: set[str], problems: Problems) -> None:
    source = project.sources[id(partner)]
    for path, ref in partner_references(partner):
        _known_partner(project, source, path, ref, broken, problems)
    for i, agreement in enumerate(partner.agreements):
        at = ("agreements", i)
        for field, earlier, after in _LIFE_CYCLE:
            first, later = getattr(agreement, earlier), getattr(agreement, field)
            if first is not None and later is not None and later.surely_before(first):
                _add(problems, source, (*at, field),
                     f"{field.replace('_', ' ')} on {later} before it was {after} on {first}",
                     f"a `{field}` date on or after the `{earlier}` date")
        if agreement.superseded_by is not None:
            if agreement.superseded_by not in agreements:
                hint = difflib.get_close_matches(agreement.superseded_by, sorted(agreements), 1)
                _add(problems, source, (*at, "superseded_by"),
                     f"no agreement with id `{agreement.superseded_by}`"
                     + (f"; did you mean `{hint[0]}`?" if hint else ""),
                     "the `id` of another agreement")
            elif agreement.superseded_by == agreement.id:
                _add(problems, source, (*at, "superseded_by"),
                     "an agreement cannot supersede itself", "the `id` of another agreement")
            if agreement.status not in (None, "superseded"):
                _add(problems, source, (*at, "status"),
                     f"status `{agreement.status}` beside `superseded_by`",
                     "status `superseded`, or no status")
        elif agreement.status == "superseded":
            _add(problems, source, (*at, "status"), "superseded, but not said by what",
                 "a `superseded_by:` line naming the agreement that replaced it")
        if agreement.ended is not None and agreement.status in ("in-force", "signed"):
            _add(problems, source, (*at, "status"), f"status `{agreement.status}` beside an "
                 "`ended` date", "status `expired` or `terminated`, or no `ended` date")


# (field, the field it may not precede, what happened then)
_LIFE_CYCLE = (
    ("ratified", "signed", "signed"),
    ("in_force", "signed", "signed"),
    ("ended", "signed", "signed"),
    ("ended", "in_force", "in force"),
)


def _check_brief(project: Project, brief: Brief, broken: set[str], problems: Problems) -> None:
    source = project.sources[id(brief)]
    if brief.date.precision != "day":
        _add(problems, source, ("date",), f"`{brief.date}` is not a full date",
             "the issue date as YYYY-MM-DD")
    for path, ref in brief_references(brief):
        _known_partner(project, source, path, ref, broken, problems)
        if path[-2:-1] == ("agreements",) and ref in project.partners \
                and not project.agreements_of(ref):
            _add(problems, source, path, f"`{ref}` holds no agreement and is a party to none, "
                 "so the section would show nothing here",
                 "a partner with agreements in its own file, or named in another's `parties`")
    sources = sorted(s.id for s in brief.sources)
    for path, ref in source_references(brief):
        if ref not in sources:
            hint = difflib.get_close_matches(ref, sources, n=1)
            _add(problems, source, path, f"no source with id `{ref}`"
                 + (f"; did you mean `{hint[0]}`?" if hint else ""),
                 "the id of a source of this brief")
    _agreement_sources(project, brief, problems)
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


def _known_partner(project: Project, source: SourceMap, path: Path_, ref: str,
                   broken: set[str], problems: Problems) -> None:
    if ref in project.partners or ref in broken:
        return
    hint = difflib.get_close_matches(ref, sorted(project.partners), n=1)
    _add(problems, source, path, f"no partner with id `{ref}`"
         + (f"; did you mean `{hint[0]}`?" if hint else ""),
         "the id of a file in content/partners/")


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


def _check_catalogs(project: Project, problems: Problems, *, every_choice: bool) -> None:
    """Every catalog has the same labels, and (`every_choice`) a label for
    every choice the content format offers (`kind_ministry`,
    `agreement_status_in-force`...)."""
    every: set[str] = set().union(*(catalog.labels for catalog in project.catalogs.values()))
    if every_choice:
        every |= {f"{prefix}_{choice}" for prefix, choices in LABELLED_CHOICES.items()
                  for choice in typing.get_args(choices)}
    for catalog in project.catalogs.values():
        for name in sorted(every - set(catalog.labels)):
            _add(problems, project.sources[id(catalog)], ("labels",), f"no label `{name}`",
                 "the same labels in every catalog")


def values(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every value a record holds that is not itself a record or a list (texts,
    dates, URLs...), with its path: what checks over whole records walk."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from values(getattr(value, name), path + (name,))
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from values(item, path + (i,))
    elif isinstance(value, Mapping):  # a table's row: cells by column key
        for key, item in value.items():
            yield from values(item, path + (key,))
    else:
        yield path, value


def texts(value: Any) -> Iterator[tuple[Path_, Text]]:
    """Every Text in a record, with its path: for translation and glyph checks."""
    return ((path, text) for path, text in values(value) if isinstance(text, Text))


# A link in prose, `[text](http://...)` or `<http://...>`: its address.
_PLAIN_LINK = re.compile(r"\]\((http://[^)\s]+)|<(http://[^>\s]+)>")


def plain_http(project: Project, brief: Brief, notes: Problems) -> None:
    """Notes, not mistakes: each plain http address the brief's editions show
    (a URL field or a link in prose), placed, so the editor can look for the
    page's https address; the build goes on either way."""
    for record in project.records_of(brief):
        source = project.sources[id(record)]
        for path, value in values(record):
            written = value.written() if isinstance(value, Text) else [value]
            for address in _plain_http(written, linked=isinstance(value, Text)):
                _add(notes, source, path, f"note: `{address}` is plain http; readers are "
                     "safer on its https address, if the site has one",
                     "https:// where the site offers it; a note: the build goes on")


def _plain_http(written: list[Any], *, linked: bool) -> Iterator[str]:
    """The plain http addresses among a field's values: links in prose, or a
    URL field's own value."""
    for text in written:
        if linked:
            yield from (found[1] or found[2] for found in _PLAIN_LINK.finditer(text))
        elif isinstance(text, str) and text.startswith("http://"):
            yield text


def _agreement_sources(project: Project, brief: Brief, problems: Problems) -> None:
    """An agreement is written in a partner's file, and cites sources by the ids
    of each brief that shows it: each must be a source of this brief."""
    ids = {source.id for source in brief.sources}
    for section in brief.sections:
        for holder, agreement in dict.fromkeys(
                (holder, agreement) for ref in section.agreements
                for holder, agreement in project.agreements_of(ref)):
            partner = project.partners[holder]
            at = next(i for i, item in enumerate(partner.agreements) if item is agreement)
            for j, ref in enumerate(agreement.sources):
                if ref not in ids:
                    _add(problems, project.sources[id(partner)],
                         ("agreements", at, "sources", j),
                         f"no source with id `{ref}` in brief `{brief.slug}`, which shows "
                         "this agreement", "the id of a source of every brief showing it")


def _add(problems: Problems, source: SourceMap, path: Path_, message: str, expected: str) -> None:
    line, col = source.locate(path)
    problems.add(source.file, line, col, message, dotted(path), expected)


