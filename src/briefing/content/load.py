"""Gather and validate all content into one `Project`, or report every mistake.

Reads in the order a reader would check: each file on its own (YAML, then the
schema), then the references between files. Nothing is raised until all files
have been looked at, so the editor gets the whole list at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from briefing.content.checks import check_references
from briefing.content.diagnostics import report_validation
from briefing.content.model import (
    SLUG,
    Brief,
    Catalog,
    Partner,
    Project,
    Publisher,
    brief_references,
)
from briefing.content.yamlsource import SourceMap, read_yaml
from briefing.errors import BuildFailed, Problem, Problems
from briefing.files import BRIEFS, PARTNERS, PUBLISHER, ProjectFiles


@dataclass(frozen=True)
class Loaded:
    """Everything that loaded, and every problem found, so that one broken
    brief need not stop the others: `blame` says which problems concern a brief."""

    files: ProjectFiles
    project: Project | None  # None when a file every brief needs is broken
    problems: tuple[Problem, ...]
    brief_files: Mapping[str, str]  # slug -> content/briefs/<slug>.yaml, valid or not

    def dependencies(self, slug: str) -> set[str]:
        """The files a brief's outputs are made from (besides templates and fonts)."""
        layout = self.files
        files = {self.brief_files[slug], PUBLISHER}
        files |= {layout.relative(path) for path in layout.catalogs().values()}
        own = layout.local_partners().get(slug, {})
        files |= {layout.relative(path) for path in own.values()}
        brief = self.project.brief(slug) if self.project and self.has_brief(slug) else None
        if brief is not None:
            partners = layout.partners()
            named = [ref for _, ref in brief_references(brief)]
            scoped = self.project.for_brief(slug)
            # Agreements are found by party, in whichever file holds them: a
            # brief that shows agreements or a timeline reads every partner file.
            by_party = any(section.agreements or section.timeline for section in brief.sections)
            files |= {layout.relative(path) for ref, path in partners.items()
                      if ref not in own and (by_party or ref in named
                                             or ref in scoped.partners_of(brief))}
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


def load_project(where: Path | ProjectFiles, *, allow_fallback: bool = False) -> Project:
    """Load content/ and the language catalogs of a project; raise BuildFailed."""
    loaded = gather(where, allow_fallback=allow_fallback)
    if loaded.problems or loaded.project is None:
        raise BuildFailed(list(loaded.problems))
    return loaded.project


def gather(where: Path | ProjectFiles, *, allow_fallback: bool = False,
           past: bool = False) -> Loaded:
    """Load and check everything, collecting problems instead of stopping at them.
    `where` is the project's folder, or the files object a command made of it:
    the project loaded keeps it, and hands it to every stage. A `past` version
    (a published version's source, a git revision: versions.py) is read only
    to be compared, so its catalogs need no label for a choice the content
    format offers today but did not offer then."""
    layout = ProjectFiles.of(where)
    problems = Problems(layout)
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

    publisher_file = layout.path(PUBLISHER)
    publisher = read(publisher_file, Publisher) if publisher_file.exists() or \
        publisher_file.is_symlink() else _missing(problems, publisher_file)
    partners = {}
    for file in layout.partners().values():
        partner = read(file, Partner, id=file.stem)
        if partner is not None:
            partners[partner.id] = partner
    local: dict[str, dict[str, Partner]] = {}
    for slug, own in layout.local_partners().items():
        for file in own.values():
            partner = read(file, Partner, id=file.stem)
            if partner is not None:
                local.setdefault(slug, {})[partner.id] = partner
    briefs = []
    brief_files = {}
    for slug, file in layout.briefs().items():
        brief_files[slug] = problems.relative(file)
        brief = read(file, Brief, slug=slug)
        if brief is not None:
            briefs.append(brief)
    catalogs = {}
    for file in layout.catalogs().values():
        catalog = read(file, Catalog)
        if catalog is not None:
            catalogs[catalog.language] = catalog
    for unread in layout.unread():
        problems.add(unread.path, 1, 1, unread.why, expected=unread.expected)
    if not brief_files:
        problems.add(layout.path(BRIEFS), 1, 1, "there are no briefs",
                     expected="at least one content/briefs/<slug>.yaml")
    if publisher is None:
        return Loaded(layout, None, tuple(problems.items), brief_files)
    project = Project(publisher, partners, tuple(briefs), catalogs, sources, local,
                      files=layout)
    _check_overrides(project, layout, problems)
    broken = (set(layout.partners()) - set(partners)) | {
        f"catalog:{language}" for language in set(layout.catalogs()) - set(catalogs)}
    broken_own = {slug: {pid for pid in own if pid not in local.get(slug, {})}
                  for slug, own in layout.local_partners().items()}  # each brief's alone
    check_references(project, problems, allow_fallback=allow_fallback, broken=broken,
                     broken_own=broken_own, past=past)
    return Loaded(layout, project, tuple(problems.items), brief_files)


def _check_overrides(project: Project, layout: ProjectFiles, problems: Problems) -> None:
    """A brief's own partner with a shared partner's id replaces it only where
    the brief says so in `overrides`; an override names a partner it has."""
    own_files = layout.local_partners()
    for brief in project.briefs:
        own = project.local.get(brief.slug, {})
        for pid in own:
            if pid in project.partners and pid not in brief.overrides:
                problems.add(own_files[brief.slug][pid], 1, 1,
                             f"`{pid}` is also a shared partner ({PARTNERS}/{pid}.yaml), and "
                             f"brief `{brief.slug}` does not say it replaces it",
                             expected=f"`overrides: [{pid}]` in the brief, or another id")
        source = project.sources[id(brief)]
        for i, pid in enumerate(brief.overrides):
            if pid not in own:
                line, col = source.locate(("overrides", i))
                problems.add(source.file, line, col, f"no partner `{pid}` of this brief's own "
                             f"to put in place of the shared one", field=f"overrides[{i}]",
                             expected=f"{PARTNERS}/{brief.slug}/{pid}.yaml")


def _missing(problems: Problems, file: Path) -> None:
    problems.add(file, 1, 1, "file is missing", expected="the publisher's name and short name")
    return None


