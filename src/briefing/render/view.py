"""What templates receive: an edition's content, resolved for its language.

Templates never see the model. Every text field arrives as a plain string in
the edition's language, every prose field as HTML, every date as its CLDR
form (with `.iso` beside it), every reference as the record it names, and
every `id` attribute the document needs as an anchor handed out here, once,
so that two ids can never collide. Any Jinja filter works on any value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from markupsafe import Markup
from pydantic import BaseModel

from briefing.content.dates import PartialDate, Period, Recurrence
from briefing.content.model import (
    Agreement,
    Brief,
    Column,
    CooperationProject,
    DataTable,
    Event,
    Partner,
    Project,
    Section,
    Source,
)
from briefing.content.money import Money, Share
from briefing.content.prose import render_prose, render_prose_inline
from briefing.content.text import Prose, Text
from briefing.render.edition import Edition
from briefing.render.fields import Field, FieldMarkup, address
from briefing.render.figures import WIDTH, Figure, Moment, data_url, timeline_parts
from briefing.render.layout import metrics
from briefing.render.theme import Theme

# Anchors the templates use for parts of every brief; claimed before any
# editor-chosen id, so a section called `summary` gets `summary-2`.
FIXED_ANCHORS = ("contents", "summary", "sources")


class Node:
    """A record as templates see it: its fields as attributes, already resolved.

    Printing a whole record is a template mistake (it has no one text), so
    `str()` refuses; `{{ brief.title }}` is what a template means.
    """

    __slots__ = ("_fields", "_kind")

    def __init__(self, kind: str, fields: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_fields", dict(fields))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(f"{self._kind} has no field `{name}` (it has: "
                                 f"{', '.join(sorted(self._fields))})") from None

    def __getitem__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise KeyError(name) from None

    def __contains__(self, name: str) -> bool:
        return name in self._fields

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("the view is read-only")

    def __repr__(self) -> str:
        return f"<{self._kind}>"

    def fields(self) -> list[str]:
        return sorted(self._fields)


class Dated(str):
    """A date or period as printed in the edition's language; `.iso` is its ISO form."""

    __slots__ = ("iso",)
    iso: str

    def __new__(cls, shown: str, iso: str) -> Dated:
        value = super().__new__(cls, shown)
        value.iso = iso
        return value


class Fallback(str):
    """Text shown in another language because its translation is missing (drafts)."""

    __slots__ = ("lang",)
    lang: str

    def __new__(cls, text: str, lang: str) -> Fallback:
        value = super().__new__(cls, text)
        value.lang = lang
        return value


class Anchors:
    """Hands out `id`s, each once: a wanted id already taken gets `-2`, `-3`..."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def claim(self, wanted: str) -> str:
        anchor, n = wanted, 1
        while anchor in self.taken:
            n += 1
            anchor = f"{wanted}-{n}"
        self.taken.add(anchor)
        return anchor


def build_view(project: Project, edition: Edition, annex: Any = None) -> dict[str, Any]:
    """The template context of one edition (its brief's own partners included);
    `annex` (changes/annex.py) is what changed since the previous version."""
    viewer = _Viewer(project.for_brief(edition.brief.slug), edition)
    context = viewer.context()
    context["changes"] = annex.view(edition.language, viewer.anchors.claim("changes")) \
        if annex is not None else None
    return context


class _OnDemand(Mapping[str, Node]):
    """Partners' views, each made when first asked for: an edition resolves
    only the partners its brief shows, in its own language. (A project's other
    partners need not be written in the languages of this brief.)"""

    def __init__(self, make: Callable[[str], Node], known: Mapping[str, Any]) -> None:
        self.make, self.known = make, known
        self.made: dict[str, Node] = {}

    def __getitem__(self, pid: str) -> Node:
        if pid not in self.made:
            if pid not in self.known:
                raise KeyError(pid)
            self.made[pid] = self.make(pid)
        return self.made[pid]

    def __iter__(self) -> Iterator[str]:
        return iter(self.known)

    def __len__(self) -> int:
        return len(self.known)


class _Viewer:
    def __init__(self, project: Project, edition: Edition) -> None:
        self.project, self.edition = project, edition
        self.catalog = project.catalogs[edition.language]
        self.locale = self.catalog.locale
        self.labels = dict(self.catalog.labels)
        self.anchors = Anchors()
        self.source_numbers: dict[str, tuple[int, str]] = {}
        self.cited_in: dict[str, list[Node]] = {}
        self.citing: Node | None = None  # the section whose records are being made
        self.unplaced: set[str] = set()  # agreements whose anchor no row has taken yet
        self.partners = _OnDemand(lambda pid: self.partner(project.partners[pid]),
                                  project.partners)

    def context(self) -> dict[str, Any]:
        edition = self.edition
        anchors = {name: self.anchors.claim(name) for name in FIXED_ANCHORS}
        return {
            "brief": self.brief_node(edition.brief),
            "publisher": self.resolve(self.project.publisher),
            "partners": self.partners,
            "anchors": anchors,
            "labels": self.labels,
            "lang": edition.language,
            "lang_tag": self.catalog.tag,
            "locale": self.locale,
            "kind": edition.kind,
            "draft": edition.draft,
            "fallback": edition.fallback,
            "edition": edition.name,
            "alternates": self.alternates(),
        }

    def alternates(self) -> tuple[Node, ...]:
        """The same document in the brief's other languages: tag, name, file."""
        brief = self.edition.brief
        return tuple(Node("alternate", {
            "tag": self.project.catalogs[language].tag,
            "name": language_name(self.project.catalogs[language].locale),
            "href": Edition(brief, language, None, self.edition.kind).name + ".html",
        }) for language in brief.languages
            if language != self.edition.language and language in self.project.catalogs)

    # -- values ----------------------------------------------------------------------

    def text(self, value: Text) -> str:
        """A text field in the edition's language, or marked fallback text."""
        shown = value.in_language(self.edition.language)
        if shown is None and self.edition.fallback is not None:
            other = value.in_language(self.edition.fallback)
            if other is not None:
                return Fallback(other, self.edition.fallback)
        if shown is None:  # the loader reports missing translations before any rendering
            raise ValueError(f"no '{self.edition.language}' text for {value!r}")
        at = address(self.project, value, self.edition.language)
        return shown if at is None else Field(shown, at)

    def resolve(self, value: Any, kind: str = "") -> Any:
        """Any model value as templates see it (records become `Node`s)."""
        if isinstance(value, Prose):
            shown = self.text(value)
            html = Markup(render_prose(shown))
            if isinstance(shown, Fallback):
                return Markup('<div class="fallback" lang="{}">{}</div>').format(shown.lang, html)
            return FieldMarkup(html, shown.at) if isinstance(shown, Field) else html
        if isinstance(value, Text):
            return self.text(value)
        if isinstance(value, (PartialDate, Period)):
            return Dated(value.format(self.locale), value.iso())
        if isinstance(value, (Money, Share)):
            return value.format(self.locale)
        if isinstance(value, Recurrence):
            return value.words(self.labels)
        if isinstance(value, BaseModel):
            return Node(kind or type(value).__name__.lower(), {
                name: self.resolve(getattr(value, name)) for name in type(value).model_fields})
        if isinstance(value, tuple):
            return tuple(self.resolve(item) for item in value)
        return value

    def translated_from(self, original: str | None) -> str | None:
        """A translated quotation's note, `translation; the original is in
        Russian`, in the edition's language; None in the original's own edition."""
        if original is None or original == self.edition.language:
            return None
        name = language_name(original, self.locale)
        return self.labels["quote_translated"].replace("{language}", name)

    def record(self, value: BaseModel, **overrides: Any) -> Node:
        """A record resolved field by field, with some fields given their view.
        A record's `sources` (ids it cites) become citations: number and anchor."""
        fields = {name: self.resolve(getattr(value, name)) for name in type(value).model_fields}
        if not isinstance(value, Brief) and "sources" in fields:
            fields["sources"] = self.cite(value.sources)
        fields.update(overrides)
        return Node(type(value).__name__.lower(), fields)

    def cite(self, ids: tuple[str, ...]) -> tuple[Node, ...]:
        """Citations of the brief's sources, each remembered with the section
        citing it, for the list of sources to link back."""
        cited = []
        for sid in ids:
            number, anchor = self.source_numbers.get(sid, (None, None))
            if number is None:  # checked: only a brief's own sources are cited
                continue
            if self.citing is not None and self.citing not in self.cited_in[sid]:
                self.cited_in[sid].append(self.citing)
            cited.append(Node("citation", {"number": number, "anchor": anchor}))
        return tuple(cited)

    # -- records ---------------------------------------------------------------------

    def partner(self, partner: Partner) -> Node:
        # A profile with nothing to show under its name is one line, not a heading.
        has_details = bool(partner.summary or partner.website or partner.offices
                           or partner.milestones)
        return self.record(partner, label=self.text(partner.label),
                           kind_label=self.labels[f"kind_{partner.kind}"],
                           has_details=has_details)

    def brief_node(self, brief: Brief) -> Node:
        self.source_numbers = {source.id: (number, self.anchors.claim(f"source-{source.id}"))
                               for number, source in enumerate(brief.sources, start=1)}
        self.cited_in = {source.id: [] for source in brief.sources}
        # One anchor for each agreement, on the first row that shows it: by party,
        # the same agreement may be in two sections' tables.
        shown = {agreement_id: self.anchors.claim(f"agreement-{agreement_id}")
                 for agreement_id in dict.fromkeys(
                     agreement.id for section in brief.sections
                     for _, agreement in self.agreements_by_party(section.agreements)
                     if agreement.id)}
        self.unplaced = set(shown)
        sections = []
        for number, section in enumerate(brief.sections, start=1):
            anchor = self.anchors.claim(section.id)
            self.citing = Node("cited", {"anchor": anchor, "number": number,
                                         "title": self.text(section.title)})
            sections.append(self.record(
                section,
                anchor=anchor,
                partners=tuple(self.profile(pid) for pid in section.partners),
                timeline=self.timeline(section.timeline, section, brief)
                if section.timeline else None,
                agreements=tuple(self.agreement(agreement, holder, shown) for holder, agreement
                                 in self.agreements_by_party(section.agreements)),
                trainings=tuple(self.record(item, organiser=self.partners.get(item.organiser))
                                for item in section.trainings),
                events=tuple(self.record(
                    item, partners=self.named(item.partners),
                    kind_label=self.labels[f"event_kind_{item.kind}"] if item.kind else None)
                    for item in section.events),
                meetings=tuple(self.record(item, partner=self.partners[item.partner])
                               for item in section.meetings),
                projects=tuple(self.record(
                    item, donors=self.named(item.donors),
                    implementers=self.named(item.implementers),
                    partners=self.named(item.partners),
                    shares=tuple(Node("share", {
                        "payer": self.partners[share.by].label if share.by is not None
                        else self.text(share.who), "share": share.share.format(self.locale)})
                        for share in item.shares),
                    status_label=self.labels[f"project_status_{item.status}"]
                    if item.status else None) for item in section.projects),
                tables=tuple(self.table(table) for table in section.tables),
                quotes=tuple(self.record(
                    item, source=(self.cite((item.source,)) or (None,))[0]
                    if item.source else None,
                    # marked only where it differs from the edition's own
                    language=item.language if item.language != self.edition.language
                    else None, translation=self.translated_from(item.original))
                    for item in section.quotes),
            ))
        self.citing = None
        return self.record(brief, partners=self.named(brief.partners),
                           sections=tuple(sections), sources=self.sources(brief.sources))

    def named(self, ids: tuple[str, ...]) -> tuple[Node, ...]:
        return tuple(self.partners[pid] for pid in ids)

    def agreements_by_party(self, parties: tuple[str, ...]) -> list[tuple[str, Agreement]]:
        """The agreements each partner holds or is a party to, each once."""
        found: dict[int, tuple[str, Agreement]] = {}
        for pid in parties:
            for holder, agreement in self.project.agreements_of(pid):
                found.setdefault(id(agreement), (holder, agreement))
        return list(found.values())

    def place(self, shown: dict[str, str], agreement_id: str | None) -> str | None:
        """An agreement's anchor, the first time a row shows it; None after."""
        if agreement_id not in self.unplaced:
            return None
        self.unplaced.discard(agreement_id)
        return shown[agreement_id]

    def agreement(self, agreement: Agreement, holder: str, shown: dict[str, str]) -> Node:
        """An agreement's row: its parties by name (the publisher and the partner
        whose file holds it, unless it names others) and what replaced it."""
        parties = ([self.partners[pid].label for pid in agreement.parties] if agreement.parties
                   else [self.text(self.project.publisher.short_name),
                         self.partners[holder].label])
        successor = None
        if agreement.superseded_by:
            target = self.project.agreement(agreement.superseded_by)
            successor = Node("successor", {"title": self.text(target.title),
                                           "anchor": shown.get(agreement.superseded_by)})
        return self.record(
            agreement, partner=self.partners[holder], parties=tuple(parties),
            anchor=self.place(shown, agreement.id),
            kind_label=self.labels[f"agreement_kind_{agreement.kind}"],
            status_label=self.labels[f"agreement_status_{agreement.status}"]
            if agreement.status else None,
            superseded_by=successor)

    def table(self, table: DataTable) -> Node:
        """An editor's table, with only the columns that have a value in some row."""
        columns = [column for column in table.columns
                   if any(row.get(column.key) is not None for row in table.rows)]
        rows = tuple(tuple(self.cell(column, row.get(column.key)) for column in columns)
                     for row in table.rows)
        return self.record(table, columns=tuple(self.record(column) for column in columns),
                           rows=rows)

    def cell(self, column: Column, value: Any) -> Any:
        if value is None:
            return None
        if column.type == "partner":
            return self.partners[value].label
        if column.type == "text":  # one paragraph sits in its cell without margins
            shown = self.text(value)
            html = Markup(render_prose_inline(shown))
            if isinstance(shown, Fallback):
                return Markup('<span class="fallback" lang="{}">{}</span>').format(
                    shown.lang, html)
            return FieldMarkup(html, shown.at) if isinstance(shown, Field) else html
        return self.resolve(value)

    def profile(self, pid: str) -> Node:
        """A partner as profiled in a section: the partner, with an anchor of its own."""
        partner = self.partners[pid]
        return Node("partner", {**partner._fields,
                                "anchor": self.anchors.claim(f"partner-{pid}")})

    def sources(self, sources: tuple[Source, ...]) -> tuple[Node, ...]:
        """The list of sources, once each, with the sections that cite them."""
        return tuple(self.record(source, number=self.source_numbers[source.id][0],
                                 anchor=self.source_numbers[source.id][1],
                                 cited_in=tuple(self.cited_in[source.id]))
                     for source in sources)

    def timeline(self, ids: tuple[str, ...], section: Section, brief: Brief) -> Node:
        """The partners' offices, milestones and the agreements they hold or are a
        party to; the section's projects and events, and those anywhere in the
        brief that the partners take part in. `parts` are the SVG figures that
        show them, each small enough for a page, drawn in the theme's looks when
        a template reads them; `undated` names what has no date, so that nothing
        the timeline should show is dropped in silence."""
        involved = set(ids)
        projects = [project for other in brief.sections for project in other.projects
                    if other is section or involved & {*project.donors, *project.implementers,
                                                      *project.partners}]
        events = [event for other in brief.sections for event in other.events
                  if other is section or involved & set(event.partners)]
        agreements = [agreement for _, agreement in self.agreements_by_party(ids)]
        moments = sorted([*self.moments(ids), *self.agreement_moments(agreements),
                          *self.project_moments(projects), *self.event_moments(events)])
        undated = [self.text(item.title) for item in agreements
                   if not any(self.life_cycle(item))]
        undated += [self.text(item.title) for item in projects if item.period is None]
        undated += [self.text(item.title) for item in events if item.when is None]
        return Node("timeline", {
            "parts": TimelineParts(tuple(moments)),
            "partners": tuple(self.partners[pid] for pid in ids),
            "moments": tuple(_moment(moment) for moment in moments),
            "undated": tuple(dict.fromkeys(undated)),
        })

    def agreement_moments(self, agreements: list[Agreement]) -> Iterator[Moment]:
        for agreement in agreements:
            yield from self.life_cycle(agreement)

    def event_moments(self, events: list[Event]) -> Iterator[Moment]:
        """An event, where its date is known: its kind, then its title."""
        for event in events:
            if event.when is None:
                continue
            title = self.text(event.title)
            if event.kind is not None:
                title = f"{self.labels[f'event_kind_{event.kind}']}: {title}"
            if event.recurs is not None:
                title += f" ({event.recurs.words(self.labels)})"
            yield Moment(event.when.start, event.when.format(self.locale), title)

    def moments(self, ids: tuple[str, ...]) -> Iterator[Moment]:
        """Offices opened and milestones (agreements: `agreement_moments`)."""
        labels, locale, say = self.labels, self.locale, self.text
        for partner in (self.project.partners[pid] for pid in ids):
            for office in partner.offices:
                place = say(office.place) + (f" ({say(office.region)})" if office.region else "")
                yield Moment(office.opened, office.opened.format(locale),
                             f"{say(partner.label)}: {labels['timeline_office']} {place}")
            for milestone in partner.milestones:
                yield Moment(milestone.date, milestone.date.format(locale), say(milestone.text))

    def life_cycle(self, agreement: Agreement) -> Iterator[Moment]:
        """Each dated step of an agreement; its parties named when it says them,
        since by party a timeline shows agreements the brief's publisher is no
        party to."""
        labels, locale = self.labels, self.locale
        title = self.text(agreement.title)
        if agreement.parties:
            title += " (" + ", ".join(self.partners[pid].label for pid in agreement.parties) + ")"
        if agreement.signed:
            yield Moment(agreement.signed.start, agreement.signed.format(locale),
                         f"{title}: {labels['timeline_signed']}")
        if agreement.ratified:
            how = (f"{labels['timeline_ratified_by']} {self.text(agreement.ratified_by)}"
                   if agreement.ratified_by else labels["timeline_ratified"])
            yield Moment(agreement.ratified, agreement.ratified.format(locale), f"{title}: {how}")
        if agreement.in_force:
            yield Moment(agreement.in_force, agreement.in_force.format(locale),
                         f"{title}: {labels['timeline_in_force']}")
        if agreement.ended:
            how = labels["timeline_terminated" if agreement.status == "terminated"
                         else "timeline_expired"]
            yield Moment(agreement.ended, agreement.ended.format(locale), f"{title}: {how}")

    def project_moments(self, projects: list[CooperationProject]) -> Iterator[Moment]:
        """A project's start and end, where its period is known."""
        for project in projects:
            if project.period is None:
                continue
            title = self.text(project.title)
            start, end = project.period.start, project.period.end
            yield Moment(start, start.format(self.locale),
                         f"{title}: {self.labels['timeline_project_start']}")
            if end is not None:
                yield Moment(end, end.format(self.locale),
                             f"{title}: {self.labels['timeline_project_end']}")



def language_name(locale: str, in_locale: str | None = None) -> str:
    """A language's name in itself (English, azərbaycan, русский), from CLDR."""
    from babel import Locale

    name = Locale.parse(locale).get_language_name(in_locale) or locale
    return name[:1].upper() + name[1:] if in_locale is None else name


class TimelineParts(Figure):
    """A timeline as the pictures that show it: each a part Node with `src` (a
    data: URL), `width`, `moments` (date, text) and `number` of `count`.
    Splitting needs the theme and the fonts, so it happens when drawn."""

    def __init__(self, moments: tuple[Moment, ...]) -> None:
        self.moments = moments

    def draw(self, theme: Theme) -> tuple[Node, ...]:
        parts = timeline_parts(list(self.moments), theme, metrics())
        return tuple(Node("timeline_part", {
            "src": data_url(part.svg), "width": WIDTH, "number": number,
            "count": len(parts), "moments": tuple(_moment(m) for m in part.moments),
        }) for number, part in enumerate(parts, start=1))


def _moment(moment: Moment) -> Node:
    return Node("moment", {"date": moment.shown, "text": moment.label})


def plain(value: Any) -> str:
    """A value as plain text (for attributes and metadata), fallback marks dropped."""
    return str.__str__(value) if isinstance(value, str) else str(value)

