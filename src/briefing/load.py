"""Gather and validate all content into one `Project`, or report every mistake.

Reads in the order a reader would check: each file on its own (YAML, then the
schema), then the references between files. Nothing is raised until all files
have been looked at, so the editor gets the whole list at once.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from briefing.errors import BuildFailed, Problem, Problems
from briefing.model import (
    SLUG,
    Brief,
    Catalog,
    Partner,
    Project,
    Publisher,
    brief_references,
)
from briefing.text import Text
from briefing.yamlsource import Path_, SourceMap, dotted, read_yaml

CONTENT = "content"
CATALOGS = "templates/i18n"


@dataclass(frozen=True)
class Loaded:
    """Everything that loaded, and every problem found, so that one broken
    brief need not stop the others: `blame` says which problems concern a brief."""

    root: Path
    project: Project | None  # None when a file every brief needs is broken
    problems: tuple[Problem, ...]
    brief_files: Mapping[str, str]  # slug -> content/briefs/<slug>.yaml, valid or not

    def dependencies(self, slug: str) -> set[str]:
        """The files a brief's outputs are made from (besides templates and fonts)."""
        files = {self.brief_files[slug], f"{CONTENT}/publisher.yaml"}
        files |= {f"{CATALOGS}/{path.name}" for path in (self.root / CATALOGS).glob("*.yaml")}
        brief = self.project.brief(slug) if self.project and self.has_brief(slug) else None
        if brief is not None:
            files |= {f"{CONTENT}/partners/{ref}.yaml" for path, ref in brief_references(brief)
                      if path[-1] != "source"}
        return files

    def has_brief(self, slug: str) -> bool:
        return self.project is not None and any(b.slug == slug for b in self.project.briefs)

    def blame(self, slug: str) -> list[Problem]:
        files = self.dependencies(slug)
        return [problem for problem in self.problems if problem.path in files]

    def unattributed(self) -> list[Problem]:
        """Problems in files no brief depends on (an unused partner, say)."""
        used = set().union(*(self.dependencies(slug) for slug in self.brief_files))
        return [problem for problem in self.problems if problem.path not in used]


def load_project(root: Path, *, allow_fallback: bool = False) -> Project:
    """Load content/ and the language catalogs under `root`; raise BuildFailed."""
    loaded = gather(root, allow_fallback=allow_fallback)
    if loaded.problems or loaded.project is None:
        raise BuildFailed(list(loaded.problems))
    return loaded.project


def gather(root: Path, *, allow_fallback: bool = False) -> Loaded:
    """Load and check everything, collecting problems instead of stopping at them."""
    problems = Problems(root)
    content = root / CONTENT
    sources: dict[int, SourceMap] = {}

    def read(file: Path, model: type[BaseModel], **injected: str) -> Any:
        found = read_yaml(file, problems)
        if found is None:
            return None
        data, source = found
        if not isinstance(data, dict):
            problems.add(file, 1, 1, "the file is not a mapping", expected="`key: value` lines")
            return None
        for key, value in injected.items():
            if key in data:
                line, col = source.locate((key,), key=True)
                problems.add(file, line, col, f"`{key}` comes from the file name",
                             field=key, expected="no such key")
                return None
            if not SLUG.fullmatch(value):
                problems.add(file, 1, 1, f"file name `{value}` is not a valid {key}",
                             expected="lowercase letters, digits and hyphens, like `iom`")
                return None
            data = {key: value, **data}
        try:
            record = model.model_validate(data)
        except ValidationError as err:
            report_validation(err, model, source, problems)
            return None
        sources[id(record)] = source
        return record

    publisher = read(content / "publisher.yaml", Publisher) if (
        content / "publisher.yaml").is_file() else _missing(problems, content / "publisher.yaml")
    partners = {}
    for file in sorted((content / "partners").glob("*.yaml")):
        partner = read(file, Partner, id=file.stem)
        if partner is not None:
            partners[partner.id] = partner
    briefs = []
    brief_files = {}
    for file in sorted((content / "briefs").glob("*.yaml")):
        brief_files[file.stem] = problems.relative(file)
        brief = read(file, Brief, slug=file.stem)
        if brief is not None:
            briefs.append(brief)
    catalogs = {}
    for file in sorted((root / CATALOGS).glob("*.yaml")):
        catalog = read(file, Catalog)
        if catalog is not None:
            catalogs[catalog.language] = catalog
    if not brief_files:
        problems.add(content / "briefs", 1, 1, "there are no briefs",
                     expected="at least one content/briefs/<slug>.yaml")
    if publisher is None:
        return Loaded(root, None, tuple(problems.items), brief_files)
    project = Project(publisher, partners, tuple(briefs), catalogs, sources)
    broken = {file.stem for file in (content / "partners").glob("*.yaml")} - set(partners)
    check_references(project, problems, allow_fallback=allow_fallback, broken=broken)
    return Loaded(root, project, tuple(problems.items), brief_files)


def check_references(
    project: Project,
    problems: Problems,
    *,
    allow_fallback: bool,
    broken: set[str],
) -> None:
    """Cross-file checks: ids resolve, dates agree, every language is complete.

    `broken` names partner files that exist but did not load: their own
    problems are reported (and blamed on the briefs that use them), not a
    second time as unknown ids.
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
            if language not in project.catalogs:
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


# --- turning pydantic's errors into the editor's -------------------------------

def report_validation(
    err: ValidationError, model: type[BaseModel], source: SourceMap, problems: Problems
) -> None:
    errors = err.errors(include_url=False)
    for error in errors:
        loc: Path_ = tuple(error["loc"])
        kind, ctx = error["type"], error.get("ctx", {})
        if kind == "too_short" and any(
            len(other["loc"]) > len(loc) and tuple(other["loc"][: len(loc)]) == loc
            for other in errors
        ):
            continue  # pydantic counts only the valid items; the item errors say more
        if kind == "extra_forbidden":
            allowed = field_names(model, loc[:-1])
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
            message = f"unknown key `{loc[-1]}`" + (f"; did you mean `{hint[0]}`?" if hint else "")
            line, col = source.locate(loc, key=True)
            problems.add(source.file, line, col, message, dotted(loc),
                         "one of " + ", ".join(allowed))
            continue
        if kind == "missing":
            line, col = source.locate(loc[:-1])
            problems.add(source.file, line, col, "required key is missing", dotted(loc),
                         f"a `{loc[-1]}:` line")
            continue
        message, expected = _wording(kind, error, ctx)
        line, col = source.locate(loc)
        problems.add(source.file, line, col, message, dotted(loc), expected)


def _wording(kind: str, error: dict[str, Any], ctx: dict[str, Any]) -> tuple[str, str]:
    shown = error.get("input")
    shown = f"`{shown}`" if isinstance(shown, str) else "this value"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        if pattern.startswith("^https"):
            return f"{shown} is not an https address", "a URL starting with https://"
        if "a-z0-9" in pattern:
            return f"{shown} is not a valid id", "lowercase letters, digits and hyphens, like `iom`"
        return f"{shown} is not a language code", "a code such as en, az, ru"
    if kind == "literal_error":
        return f"{shown} is not one of the choices", ctx.get("expected", "")
    if kind in ("string_type", "str_type"):
        return "this is not text", "a string"
    if kind in ("tuple_type", "list_type"):
        return "this is not a list", "a list of `- item` lines"
    if kind in ("model_type", "model_attributes_type", "dict_type", "mapping_type"):
        return "this is not a mapping", "`key: value` lines"
    if kind == "too_short":
        return "too few items", f"at least {ctx.get('min_length')}"
    if kind == "string_too_long":
        return "this text is too long", f"at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return "this text is empty", "some text"
    message = error["msg"]
    if "(expected " in message:
        message, _, rest = message.partition(" (expected ")
        return message, rest.rstrip(")")
    return message[0].lower() + message[1:], ""


def field_names(model: type[BaseModel], loc: Path_) -> list[str]:
    """The keys allowed at `loc` inside `model`: for "did you mean" suggestions."""
    current: Any = model
    for part in loc:
        current = _without_none(current)
        if isinstance(part, int):
            current = typing.get_args(current)[0] if typing.get_origin(current) is tuple else None
        elif _is_record(current) and part in current.model_fields:
            current = current.model_fields[part].annotation
        else:
            return []
    current = _without_none(current)
    if not _is_record(current):
        return []
    return [name for name in current.model_fields if name not in ("id", "slug")]


def _without_none(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return options[0] if len(options) == 1 else annotation
    return annotation


def _is_record(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _add(problems: Problems, source: SourceMap, path: Path_, message: str, expected: str) -> None:
    line, col = source.locate(path)
    problems.add(source.file, line, col, message, dotted(path), expected)


def _missing(problems: Problems, file: Path) -> None:
    problems.add(file, 1, 1, "file is missing", expected="the publisher's name and short name")
    return None


