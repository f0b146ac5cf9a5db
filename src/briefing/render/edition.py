"""An edition: one brief in one language as one kind of document.

It is the unit every writer makes a file for, and the unit a render worker
takes on. Its name is the output files' name, so it is stated here once.
"""

from __future__ import annotations

from dataclasses import dataclass

from briefing.content.checks import missing_translations
from briefing.content.model import Brief, Project


@dataclass(frozen=True)
class Edition:
    """`fallback` is the language shown, visibly marked, where a translation is
    missing (only with --allow-fallback); such an edition is a draft."""

    brief: Brief
    language: str
    fallback: str | None = None
    kind: str = "report"

    @property
    def draft(self) -> bool:
        return self.fallback is not None

    @property
    def template(self) -> str:
        """Each kind of document is one template: `report.html.j2`, `note.html.j2`."""
        return f"{self.kind}.html.j2"

    @property
    def name(self) -> str:
        """`<date>_<slug>_<lang>` for the report, `<date>_<slug>_<kind>_<lang>` otherwise."""
        kind = "" if self.kind == "report" else f"_{self.kind}"
        return f"{self.brief.date.iso()}_{self.brief.slug}{kind}_{self.language}"


def slug_of(name: str) -> str:
    """The brief of an edition's name (`Edition.name`, read back); a brief's
    slug (no `_`) stands for itself."""
    parts = name.split("_")
    return parts[1] if len(parts) >= 3 else name


def editions(project: Project, brief: Brief, languages: tuple[str, ...] | list[str] = ()
             ) -> list[Edition]:
    """Every edition of `brief` (in `languages` only, when given), in the order
    the brief declares its languages and documents."""
    return [Edition(brief, language, fallback_language(project, brief, language), kind)
            for language in brief.languages if not languages or language in languages
            for kind in brief.documents]


def fallback_language(project: Project, brief: Brief, language: str) -> str | None:
    """The language shown where `language` lacks text (the loader allowed it)."""
    if not missing_translations(project, brief, language):
        return None
    return next(other for other in brief.languages if other != language)
