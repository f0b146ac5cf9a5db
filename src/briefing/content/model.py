"""The one document model: typed, immutable, and free of YAML.

The loader builds these objects from content/; everything after it (templates,
writers) reads only them. Field names are the YAML keys editors type, and each
docstring is what `docs/content.md` says about the record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from briefing.content.dates import PartialDate, Period
from briefing.content.text import Prose, Text, printable

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
Slug = Annotated[str, StringConstraints(pattern=f"^{SLUG.pattern}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
# The pattern lets controls other than whitespace through; `printable` names them.
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://[^\s<>\"']+$"),
                     AfterValidator(printable)]
Plain = Annotated[str, AfterValidator(printable)]  # a string that is not a Text


def _once_each(items: tuple[str, ...]) -> tuple[str, ...]:
    twice = sorted({item for item in items if items.count(item) > 1})
    if twice:
        raise PydanticCustomError("duplicate_item", "`{item}` is listed twice (expected "
                                  "each once)", {"item": twice[0]})
    return items


def _known_locale(locale: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError, TypeError):
        raise PydanticCustomError("locale", "`{locale}` is not a CLDR locale (expected a "
                                  "locale such as en_GB, az, ru)", {"locale": locale}) from None
    return locale


class Record(BaseModel):
    """Base of every content record: unknown keys are errors, nothing mutates."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --- the publisher -----------------------------------------------------------

class Publisher(Record):
    """content/publisher.yaml: who issues the briefs."""

    name: Text
    short_name: Text
    address: Text | None = None
    website: HttpsUrl | None = None


# --- partners: reusable records, one file each ---------------------------------

PartnerKind = Literal[
    "international-organisation", "regional-organisation", "union", "state-body"
]


class Office(Record):
    place: Text
    region: Text | None = None
    opened: PartialDate
    note: Text | None = None


class Agreement(Record):
    title: Text
    signed: PartialDate
    ratified: PartialDate | None = None
    ratified_by: Text | None = None
    note: Text | None = None


class Milestone(Record):
    date: PartialDate
    text: Text


class Partner(Record):
    """content/partners/<id>.yaml; briefs refer to it by <id>."""

    id: Slug
    name: Text
    short_name: Text | None = None
    kind: PartnerKind
    country: Text | None = None
    website: HttpsUrl | None = None
    summary: Prose | None = None
    offices: tuple[Office, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    milestones: tuple[Milestone, ...] = ()

    @property
    def label(self) -> Text:
        """The short name where there is one: what tables and running text use."""
        return self.short_name or self.name


# --- briefs ------------------------------------------------------------------

class KeyFact(Record):
    value: Text
    label: Text


class Training(Record):
    title: Text
    where: Text
    when: Period | None = None
    organiser: Slug | None = None
    audience: Text | None = None
    programme: Text | None = None


class WorkingGroup(Record):
    topic: Text
    framework: Text | None = None
    note: Text | None = None


class Meeting(Record):
    partner: Slug
    when: Period | None = None
    topics: Text | None = None
    outcome: Text | None = None


class Event(Record):
    title: Text
    when: Period | None = None
    where: Text | None = None
    note: Text | None = None


class Quote(Record):
    text: Text
    by: Text
    role: Text | None = None
    when: PartialDate | None = None
    source: Slug | None = None


class Section(Record):
    """A numbered part of the brief: prose first, then its typed blocks."""

    id: Slug
    title: Text
    body: Prose | None = None
    partners: tuple[Slug, ...] = ()
    timeline: tuple[Slug, ...] = ()
    agreements: tuple[Slug, ...] = ()
    trainings: tuple[Training, ...] = ()
    events: tuple[Event, ...] = ()
    working_groups: tuple[WorkingGroup, ...] = ()
    meetings: tuple[Meeting, ...] = ()
    quotes: tuple[Quote, ...] = ()


class Contact(Record):
    """Who answers questions about the brief (shown on the one-page note)."""

    name: Text
    role: Text | None = None
    phone: Plain | None = None
    email: Plain | None = None


DocumentKind = Literal["report", "note"]


class Source(Record):
    id: Slug
    title: Text
    publisher: Text | None = None
    url: HttpsUrl | None = None
    note: Text | None = None


class Brief(Record):
    """content/briefs/<slug>.yaml: one briefing report."""

    slug: Slug
    title: Text
    subtitle: Text | None = None
    date: PartialDate
    reference: Plain = Field(min_length=1, max_length=80)
    marking: Text
    languages: Annotated[tuple[Language, ...], AfterValidator(_once_each)] = Field(
        min_length=1)
    department: Text
    documents: Annotated[tuple[DocumentKind, ...], AfterValidator(_once_each)] = ("report",)
    contact: Contact | None = None
    audience: tuple[Text, ...] = ()
    partners: tuple[Slug, ...] = ()
    summary: Prose | None = None
    key_facts: tuple[KeyFact, ...] = ()
    key_points: tuple[Text, ...] = ()
    sections: tuple[Section, ...] = Field(min_length=1)
    sources: tuple[Source, ...] = ()


# --- the fixed words of each language ----------------------------------------------

class Catalog(BaseModel):
    """templates/i18n/<lang>.yaml: the CLDR locale and every fixed word."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: Language
    locale: Annotated[str, AfterValidator(_known_locale)]
    labels: Mapping[str, str]

    @property
    def tag(self) -> str:
        """The BCP 47 tag (`en-GB`) for HTML `lang`, PDF /Lang and Word's w:lang."""
        return self.locale.replace("_", "-")


# --- everything, resolved ----------------------------------------------------

class Locator(Protocol):
    def locate(self, path: tuple[str | int, ...]) -> tuple[int, int]: ...

    @property
    def file(self) -> Path: ...


@dataclass(frozen=True)
class Project:
    """All content, validated and cross-checked: what the renderers receive.

    `sources` remembers where each record was written, so that checks after
    loading (glyph coverage, say) can still point at `file:line:col`.
    """

    publisher: Publisher
    partners: Mapping[str, Partner]
    briefs: tuple[Brief, ...]
    catalogs: Mapping[str, Catalog]
    sources: Mapping[int, Locator] = field(default_factory=dict, repr=False, compare=False)

    def brief(self, slug: str) -> Brief:
        return next(b for b in self.briefs if b.slug == slug)

    def records_of(self, brief: Brief) -> list[BaseModel]:
        """The records a brief's editions show: itself, the publisher, its partners."""
        ids = [ref for path, ref in brief_references(brief) if path[-1] != "source"]
        return [brief, self.publisher] + [
            self.partners[i] for i in dict.fromkeys(ids) if i in self.partners]

    def where(self, record: BaseModel, path: tuple[str | int, ...]) -> tuple[Path, int, int]:
        source = self.sources[id(record)]
        return (source.file, *source.locate(path))


def brief_references(brief: Brief) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every id a brief refers to, with its path: partners, and sources in quotes."""
    for i, ref in enumerate(brief.partners):
        yield ("partners", i), ref
    for s, section in enumerate(brief.sections):
        at: tuple[str | int, ...] = ("sections", s)
        for name in ("partners", "timeline", "agreements"):
            for i, ref in enumerate(getattr(section, name)):
                yield (*at, name, i), ref
        for i, training in enumerate(section.trainings):
            if training.organiser:
                yield (*at, "trainings", i, "organiser"), training.organiser
        for i, meeting in enumerate(section.meetings):
            yield (*at, "meetings", i, "partner"), meeting.partner
        for i, quote in enumerate(section.quotes):
            if quote.source:
                yield (*at, "quotes", i, "source"), quote.source
