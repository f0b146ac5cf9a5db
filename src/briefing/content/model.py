"""The one document model: typed, immutable, and free of YAML.

The loader builds these objects from content/; everything after it (templates,
writers) reads only them. Field names are the YAML keys editors type, and each
docstring is what `docs/content.md` says about the record.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from briefing.content.dates import PartialDate, Period, Recurrence
from briefing.content.links import address_problem
from briefing.content.money import Money, Share
from briefing.content.text import Prose, Text, printable, visible_name
from briefing.files import ProjectFiles

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
Slug = Annotated[str, StringConstraints(pattern=f"^{SLUG.pattern}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]


def _goes_where_it_says(url: str) -> str:
    """A URL field shows its address: its host must read as what it is."""
    if (why := address_problem(url)) is not None:
        raise PydanticCustomError("url_host", "{why}", {"why": why})
    return url


# The pattern lets controls other than whitespace through; `printable` names them.
# Plain http is allowed (many government pages and web archives have no https);
# `check` notes each one, since https is preferred (checks.plain_http).
WebUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s<>\"']+$"),
                     AfterValidator(printable), AfterValidator(_goes_where_it_says)]
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


# The fields readers tell records apart by: titles, names, labels, the marking
# and the reference. Nothing in them may be invisible (`visible_name`).
NAME_FIELDS = ("title", "subtitle", "name", "short_name", "caption", "label", "by", "role",
               "publisher", "department", "marking", "reference", "place", "where")


class Record(BaseModel):
    """Base of every content record: unknown keys are errors, nothing mutates."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator(*NAME_FIELDS, check_fields=False)
    @classmethod
    def _visible(cls, value: Any) -> Any:
        return visible_name(value)


# --- the publisher -----------------------------------------------------------

class Publisher(Record):
    """content/publisher.yaml: who issues the briefs."""

    name: Text
    short_name: Text
    address: Text | None = None
    website: WebUrl | None = None


# --- partners: reusable records, one file each ---------------------------------

# What a partner is. `state-body` and `union` stay for briefs written before
# the finer kinds existed; each kind has a `kind_<kind>` label in every catalog.
PartnerKind = Literal[
    "state", "government-body", "ministry", "agency", "international-organisation",
    "regional-organisation", "eu-body", "ngo", "union", "state-body", "state-enterprise",
]


class Office(Record):
    place: Text
    region: Text | None = None
    opened: PartialDate
    note: Text | None = None


AgreementKind = Literal[
    "agreement", "treaty", "memorandum", "protocol", "working-arrangement", "action-plan",
    "exchange-of-letters", "declaration",
]
AgreementStatus = Literal["in-force", "signed", "suspended", "superseded", "expired",
                          "terminated"]


class Agreement(Record):
    """An agreement (or memorandum, protocol, working arrangement...) and its life
    cycle. Between the publisher and the partner whose file holds it, unless
    `parties` names others. Every date is optional, at the precision known."""

    id: Slug | None = None  # needed only to be named by another's `superseded_by`
    title: Text
    kind: AgreementKind = "agreement"
    parties: tuple[Slug, ...] = ()
    signed: Period | None = None  # a range for a series: `2003/2009`
    sources: tuple[Slug, ...] = ()  # the sources it is known from, by id, in each brief
    recurs: Recurrence | None = None  # a yearly action plan: `yearly`, `every 2 years`
    place: Text | None = None
    ratified: PartialDate | None = None
    ratified_by: Text | None = None
    in_force: PartialDate | None = None
    ended: PartialDate | None = None
    status: AgreementStatus | None = None
    superseded_by: Slug | None = None
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
    website: WebUrl | None = None
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
    recurs: Recurrence | None = None
    sources: tuple[Slug, ...] = ()
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
    recurs: Recurrence | None = None  # yearly commission meetings
    sources: tuple[Slug, ...] = ()
    topics: Text | None = None
    outcome: Text | None = None


EventKind = Literal[
    "meeting", "visit-incoming", "visit-outgoing", "study-visit", "conference", "training",
    "joint-exercise", "working-group", "forum", "other",
]


class Event(Record):
    title: Text
    kind: EventKind | None = None
    when: Period | None = None
    recurs: Recurrence | None = None
    sources: tuple[Slug, ...] = ()  # the sources it is known from, by id
    where: Text | None = None
    partners: tuple[Slug, ...] = ()  # the partners taking part
    participants: Text | None = None  # who else, in words
    outcome: Text | None = None
    note: Text | None = None


ProjectStatus = Literal["planned", "ongoing", "completed", "suspended", "cancelled"]


class BudgetShare(Record):
    """Who pays which part of a budget: a partner (by id) or others, in words."""

    share: Share
    by: Slug | None = None  # a partner id, shown by its name
    who: Text | None = None  # whoever else, in words: "the national authorities"

    @model_validator(mode="after")
    def _one_payer(self) -> BudgetShare:
        if (self.by is None) == (self.who is None):
            raise PydanticCustomError(
                "share_payer", "a share says whose it is once (expected `by:` a partner id, "
                "or `who:` in words, not both)")
        return self


class CooperationProject(Record):
    """A project: who pays, who implements, how much, when, and what came of it."""

    title: Text
    donors: tuple[Slug, ...] = ()
    implementers: tuple[Slug, ...] = ()
    partners: tuple[Slug, ...] = ()
    budget: Money | None = None
    co_financing: Share | None = None  # the partners' own part, beside the donors' (older)
    shares: tuple[BudgetShare, ...] = ()  # or each payer's part, said
    sources: tuple[Slug, ...] = ()
    period: Period | None = None
    status: ProjectStatus | None = None
    outcomes: tuple[Text, ...] = ()
    note: Text | None = None

    @model_validator(mode="after")
    def _shares_add_up(self) -> CooperationProject:
        if self.shares and self.co_financing is not None:
            raise PydanticCustomError(
                "shares", "`co_financing:` and `shares:` together (expected `shares:` alone: "
                "each payer with its part)")
        total = sum(share.share.percent for share in self.shares)
        if total > 100:
            raise PydanticCustomError(
                "shares", "the shares add up to {total} % (expected at most 100 %)",
                {"total": f"{total:g}"})
        return self


ColumnType = Literal["text", "date", "amount", "partner"]
COLUMN_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")


class Column(Record):
    key: Annotated[str, StringConstraints(pattern=f"^{COLUMN_KEY.pattern}$")]
    label: Text
    type: ColumnType = "text"


# A cell as its column's type reads it: prose text, a date or period, an
# amount of money, or a partner id (resolved by the cross-checks).
def _partner_id(value: Any) -> str:
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise PydanticCustomError("cell_partner", "`{value}` is not a partner id (expected "
                                  "the name of a file in content/partners/, like `iom`)",
                                  {"value": value})
    return value


CELL_TYPES: dict[str, Any] = {"text": Prose, "date": Period, "amount": Money,
                              "partner": Annotated[Any, AfterValidator(_partner_id)]}


_CELLS = {kind: TypeAdapter(annotation) for kind, annotation in CELL_TYPES.items()}


class DataTable(Record):
    """A table with the columns the editor declares, for what no block covers."""

    caption: Text
    columns: tuple[Column, ...] = Field(min_length=1)
    rows: tuple[Mapping[str, Any], ...] = Field(min_length=1)
    note: Text | None = None

    @field_validator("columns")
    @classmethod
    def _unique_keys(cls, columns: tuple[Column, ...]) -> tuple[Column, ...]:
        _once_each(tuple(column.key for column in columns))
        return columns

    @field_validator("rows", mode="before")
    @classmethod
    def _typed_cells(cls, rows: Any, info: ValidationInfo) -> Any:
        """Each cell read as its column's type, every mistake placed at its cell."""
        columns = {column.key: column for column in info.data.get("columns", ())}
        if not columns or not isinstance(rows, (list, tuple)):
            return rows
        errors: list[InitErrorDetails] = []
        typed = []
        for r, row in enumerate(rows):
            if not isinstance(row, Mapping):
                errors.append(InitErrorDetails(type=PydanticCustomError(
                    "row_type", "a row is not a mapping (expected `column: value` lines)"),
                    loc=(r,), input=row))
                continue
            cells: dict[str, Any] = {}
            for key, raw in row.items():
                if key not in columns:
                    hint = difflib.get_close_matches(str(key), list(columns), n=1)
                    errors.append(InitErrorDetails(type=PydanticCustomError(
                        "row_column", "no column `{key}`{hint} (expected one of {keys})",
                        {"key": key, "hint": f"; did you mean `{hint[0]}`?" if hint else "",
                         "keys": ", ".join(columns)}), loc=(r, key), input=raw))
                elif raw is not None:
                    try:
                        cells[key] = _CELLS[columns[key].type].validate_python(raw)
                    except ValidationError as err:
                        errors += [InitErrorDetails(type=PydanticCustomError(
                            "cell", "{msg}", {"msg": e["msg"]}), loc=(r, key, *e["loc"]),
                            input=raw) for e in err.errors(include_url=False)]
            typed.append(cells)
        if errors:
            raise ValidationError.from_exception_data("rows", errors)
        return tuple(typed)


class Quote(Record):
    text: Text
    by: Text
    role: Text | None = None
    when: PartialDate | None = None
    source: Slug | None = None
    # The language the words were said or written in, when they are quoted as
    # such in every edition: screen readers then read them in that language.
    language: Language | None = None
    # Or the language they were said in, when `text` gives them in several:
    # every other language's text is a translation, and says so.
    original: Language | None = None

    @field_validator("language")
    @classmethod
    def _as_said(cls, language: str | None, info: ValidationInfo) -> str | None:
        text = info.data.get("text")
        if language is not None and isinstance(text, Text) and text.translated:
            raise PydanticCustomError(
                "quote_language", "a quotation in its own language is one text for every "
                "edition (expected `text:` as one string, or no `language:`)")
        return language

    @field_validator("original")
    @classmethod
    def _translated(cls, original: str | None, info: ValidationInfo) -> str | None:
        text = info.data.get("text")
        if original is None or not isinstance(text, Text):
            return original
        if info.data.get("language") is not None:
            raise PydanticCustomError(
                "quote_original", "`original:` and `language:` together (expected `language:` "
                "for words quoted as said in every edition, or `original:` for words given "
                "in several languages, translated from one)")
        if not text.translated or text.in_language(original) is None:
            raise PydanticCustomError(
                "quote_original", "the words in their original language are not in `text:` "
                "(expected `text:` with a `{original}:` line, the words as said, and the "
                "translations beside it)", {"original": original})
        return original


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
    projects: tuple[CooperationProject, ...] = ()
    tables: tuple[DataTable, ...] = ()
    quotes: tuple[Quote, ...] = ()


class Contact(Record):
    """Who answers questions about the brief (shown on the one-page note)."""

    name: Text
    role: Text | None = None
    phone: Plain | None = None
    email: Plain | None = None


DocumentKind = Literal["report", "note"]
ONE_PAGE: frozenset[str] = frozenset({"note"})  # the kinds of document that must fit one page


class Source(Record):
    id: Slug
    title: Text
    publisher: Text | None = None
    date: PartialDate | None = None  # the page's or document's own date
    url: WebUrl | None = None
    note: Text | None = None


TypesettingRule = Literal["broken-word", "overflow", "heading-at-foot", "underfull-page",
                          "split-join"]
_ADDRESS = re.compile(r"^(?:@[\w-]+|(?:[\w./-]+#)?[A-Za-z_]\w*(?:\[\d+\]|\.[A-Za-z_]\w*)*)$")


class Accepted(Record):
    """A typesetting finding the editor has seen and accepts: the field it is
    in (as the finding names it) and its rule (docs/typesetting.md)."""

    field: Annotated[str, StringConstraints(pattern=_ADDRESS.pattern)]
    rule: TypesettingRule


class Typesetting(Record):
    """What the typesetting gate lets pass in this brief's PDFs."""

    accept: tuple[Accepted, ...] = ()


def _reaches(value: Any, path: tuple[str | int, ...]) -> bool:
    """Whether a field path leads somewhere in a record (a language key last)."""
    for i, part in enumerate(path):
        if isinstance(value, Text) and i == len(path) - 1 and isinstance(part, str):
            return True
        if isinstance(part, int):
            if not isinstance(value, tuple) or part >= len(value):
                return False
            value = value[part]
        elif isinstance(value, BaseModel) and part in type(value).model_fields:
            value = getattr(value, part)
        elif isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return False
    return value is not None


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
    # Shared partners (content/partners/<id>.yaml) this brief replaces with its
    # own (content/partners/<slug>/<id>.yaml): said, so no copy replaces one in silence.
    overrides: tuple[Slug, ...] = ()
    summary: Prose | None = None
    key_facts: tuple[KeyFact, ...] = ()
    key_points: tuple[Text, ...] = ()
    sections: tuple[Section, ...] = Field(min_length=1)
    sources: tuple[Source, ...] = ()
    typesetting: Typesetting | None = None
    # The annex "Changes since the edition of ..." (and the note's pointer, the
    # change bars), made once a previous version is published; false: none.
    change_annex: bool = True

    @field_validator("typesetting")
    @classmethod
    def _accepted_fields_exist(cls, value: Typesetting | None,
                               info: ValidationInfo) -> Typesetting | None:
        """A brief's own field accepted by path must be one the brief has."""
        errors = []
        for i, item in enumerate(value.accept if value is not None else ()):
            if item.field.startswith("@") or "#" in item.field:
                continue  # template text, or another file's field
            path = tuple(int(index) if index else name for index, name in
                         re.findall(r"\[(\d+)\]|\.?([^.\[]+)", item.field))
            if not _reaches(info.data, path):
                errors.append(InitErrorDetails(type=PydanticCustomError(
                    "accepted_field", "the brief has no field `{field}` (expected a field "
                    "as a typesetting finding names it, such as sections[0].title)",
                    {"field": item.field}), loc=("accept", i, "field"), input=item.field))
        if errors:
            raise ValidationError.from_exception_data("typesetting", errors)
        return value


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


# Choices each catalog names in its language, as labels `<prefix>_<choice>`.
LABELLED_CHOICES: dict[str, Any] = {
    "kind": PartnerKind, "agreement_kind": AgreementKind, "agreement_status": AgreementStatus,
    "project_status": ProjectStatus, "event_kind": EventKind,
}


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
    # Each brief's own partners (content/partners/<slug>/<id>.yaml), by slug then id.
    local: Mapping[str, Mapping[str, Partner]] = field(default_factory=dict)
    # The project folder it was loaded from (a version's own, for an old one):
    # every stage finds the templates, fonts and theme through it, and names
    # files relative to it.
    files: ProjectFiles = field(kw_only=True, compare=False)

    @property
    def root(self) -> Path:
        return self.files.root

    def brief(self, slug: str) -> Brief:
        return next(b for b in self.briefs if b.slug == slug)

    def for_brief(self, slug: str) -> Project:
        """The project as brief `slug` sees it: the shared partners, with the
        brief's own partners added (or, where the brief says `overrides`, put
        in place of a shared one of the same id)."""
        own = self.local.get(slug)
        if not own:
            return self
        return replace(self, partners={**self.partners, **own})

    def agreement(self, agreement_id: str) -> Agreement:
        """The agreement with this id, in whichever partner's file it is."""
        return next(agreement for partner in self.partners.values()
                    for agreement in partner.agreements if agreement.id == agreement_id)

    def agreements_of(self, pid: str) -> list[tuple[str, Agreement]]:
        """(the partner whose file holds it, the agreement) for every agreement
        `pid` holds or is a party to, wherever it is written: its own file's
        first, then the others' in file order. A section's `agreements: [x]`
        shows these, so an agreement is found by party, not by file."""
        own = [(pid, agreement) for agreement in self.partners[pid].agreements] \
            if pid in self.partners else []
        return own + [(holder, agreement) for holder, partner in self.partners.items()
                      if holder != pid for agreement in partner.agreements
                      if pid in agreement.parties]

    def records_of(self, brief: Brief) -> list[BaseModel]:
        """The records a brief's editions show: itself, the publisher, its partners
        and the parties of their agreements."""
        return [brief, self.publisher] + [self.partners[i] for i in self.partners_of(brief)]

    def partners_of(self, brief: Brief) -> list[str]:
        """The ids of the partners a brief names, the partners holding the
        agreements it shows by party, then those their agreements name."""
        ids = [ref for _, ref in brief_references(brief) if ref in self.partners]
        ids += [holder for path, ref in brief_references(brief)
                if {"agreements", "timeline"} & set(path)
                for holder, _ in self.agreements_of(ref)]
        for ref in list(dict.fromkeys(ids)):
            ids += [party for _, party in partner_references(self.partners[ref])]
        return [ref for ref in dict.fromkeys(ids) if ref in self.partners]

    def where(self, record: BaseModel, path: tuple[str | int, ...]) -> tuple[Path, int, int]:
        source = self.sources[id(record)]
        return (source.file, *source.locate(path))


def brief_references(brief: Brief) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every partner id a brief refers to, with its path."""
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
        for i, event in enumerate(section.events):
            for j, ref in enumerate(event.partners):
                yield (*at, "events", i, "partners", j), ref
        for i, project in enumerate(section.projects):
            for name in ("donors", "implementers", "partners"):
                for j, ref in enumerate(getattr(project, name)):
                    yield (*at, "projects", i, name, j), ref
            for j, share in enumerate(project.shares):
                if share.by is not None:
                    yield (*at, "projects", i, "shares", j, "by"), share.by
        for t, table in enumerate(section.tables):
            keys = [column.key for column in table.columns if column.type == "partner"]
            for r, row in enumerate(table.rows):
                for key in keys:
                    if isinstance(row.get(key), str):
                        yield (*at, "tables", t, "rows", r, key), row[key]


def source_references(brief: Brief) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every source id a brief's own records cite, with its path (agreements,
    written in partners' files, are checked against each brief that shows them)."""
    for s, section in enumerate(brief.sections):
        for i, quote in enumerate(section.quotes):
            if quote.source:
                yield ("sections", s, "quotes", i, "source"), quote.source
        for name in ("trainings", "meetings", "events", "projects"):
            for i, item in enumerate(getattr(section, name)):
                for j, ref in enumerate(item.sources):
                    yield ("sections", s, name, i, "sources", j), ref


def partner_references(partner: Partner) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every partner id a partner's own file names: the parties of its agreements."""
    for i, agreement in enumerate(partner.agreements):
        for j, ref in enumerate(agreement.parties):
            yield ("agreements", i, "parties", j), ref
