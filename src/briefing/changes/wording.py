"""The changes in words, in any language of the brief, from its catalog.

Every fixed word comes from templates/i18n/<lang>.yaml (the `change_*`
labels, and the labels the documents already use for kinds and statuses);
dates, periods, amounts and shares are formatted for the catalog's locale as
the documents format them (content/dates.py, content/money.py). The new
version's catalogs are used for both versions: an old version's own words do
not matter, only its facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from briefing.changes.compare import (
    LIFE_CYCLE,
    Change,
    Changes,
    FieldChange,
    Group,
    Piece,
    paragraphs_changed,
)
from briefing.content.dates import PartialDate, Period, Recurrence
from briefing.content.model import Agreement, CooperationProject, Event, Partner
from briefing.content.money import Money, Share
from briefing.content.text import Prose, Text

# Choice fields shown by their catalog label, by record type: (field) -> label prefix.
CHOICES: dict[type, dict[str, str]] = {
    Partner: {"kind": "kind"},
    Agreement: {"kind": "agreement_kind", "status": "agreement_status"},
    CooperationProject: {"status": "project_status"},
    Event: {"kind": "event_kind"},
}
PARTNER_FIELDS = ("parties", "donors", "implementers", "partners", "organiser", "partner", "by",
                  "timeline", "agreements", "overrides")
SHORT = 60  # a key point or a quotation is named by its first words, up to this many characters


@dataclass(frozen=True)
class Sentence:
    """One change said in one language: a line, and for changed prose the
    changed paragraphs, as pieces (kept, added, removed words)."""

    text: str
    paragraphs: tuple[tuple[Piece, ...], ...] = ()
    name: str = ""  # what the record is called, and each thing said of it
    details: tuple[str, ...] = ()


class Wording:
    """The words of one language for the changes between two versions."""

    def __init__(self, changes: Changes, language: str) -> None:
        self.changes, self.language = changes, language
        catalog = changes.new.catalogs[language]
        self.labels, self.locale = catalog.labels, catalog.locale
        slug = changes.slug
        self.partners = {**changes.old.for_brief(slug).partners,
                         **changes.new.for_brief(slug).partners}
        self.sources = {source.id: source for project in (changes.old, changes.new)
                        for source in project.brief(slug).sources}

    def label(self, key: str, /, **values: str) -> str:
        text = self.labels[key]
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text

    # -- headings ------------------------------------------------------------------

    def heading(self, group: Group) -> str:
        if group.kind in ("section", "partner"):
            return self.label(f"change_group_{group.kind}", name=self.text(group.name))
        return self.label(f"change_group_{group.kind}")

    def title(self, since: str) -> str:
        return self.label("change_title", since=since)

    def since_version(self, number: int, date: PartialDate | str) -> str:
        day = date if isinstance(date, PartialDate) else PartialDate.parse(date)
        return self.label("change_since_version", number=str(number),
                          date=day.format(self.locale))

    # -- sentences -----------------------------------------------------------------

    def sentence(self, change: Change) -> Sentence:
        name = self.name(change)
        if change.kind == "added":
            return Sentence(self.label("change_added", name=name))
        if change.kind == "removed":
            return Sentence(self.label("change_removed", name=name))
        details: list[str] = []
        paragraphs: list[tuple[Piece, ...]] = []
        if change.kind == "renamed" and self.text(change.old.name) != self.text(change.new.name):
            details.append(self.label("change_renamed", old=self.text(change.old.name),
                                      new=self.text(change.new.name)))
        if change.position:
            details.append(self.label("change_moved_section", old=str(change.position[0]),
                                      new=str(change.position[1])))
        if change.moved_from:
            details.append(self.label("change_moved_block", old=self.text(change.moved_from.name),
                                      new=self.text(change.group.name)))
        fields = [f for f in change.fields if not (change.kind == "renamed" and f.field == "name")]
        if isinstance(change.new, Agreement) and any(f.field in LIFE_CYCLE for f in fields):
            details.append(self.life_cycle(change.old, change.new))
            fields = [f for f in fields if f.field not in LIFE_CYCLE]
        for found in fields:
            said, more = self.field(change, found)
            if said:
                details.append(said)
            paragraphs += more
        if not details:
            details.append(self.label("change_other_language"))
        return Sentence(f"{name}: {'; '.join(details)}", tuple(paragraphs), name,
                        tuple(details))

    def field(self, change: Change, found: FieldChange) -> tuple[str, list[tuple[Piece, ...]]]:
        """One field's change: `field: new (was: old)`, a list's items added and
        removed, or prose's changed paragraphs."""
        record = change.record
        field = self.labels.get(f"change_field_{found.field}", found.field)  # a field added
        # to the model before its catalog label still reads, by its YAML key
        old, new = found.old, found.new
        long_text = found.field == "text" and isinstance(new, Text) and len(self.text(new)) > SHORT
        if isinstance(old, Prose) or isinstance(new, Prose) or long_text:
            before, after = self.raw(old), self.raw(new)
            if " ".join(before.split()) == " ".join(after.split()):
                return "", []
            return (self.label("change_prose", field=field),
                    paragraphs_changed(before, after))
        if isinstance(old, tuple) or isinstance(new, tuple):
            added = [self.say(item, found.field, record) for item in found.added]
            removed = [self.say(item, found.field, record) for item in found.removed]
            added, removed = ([item for item in added if item not in removed],
                              [item for item in removed if item not in added])
            parts = []
            if added:  # what reads alike in this language is no change in it
                parts.append(self.label("change_list_added", items=", ".join(added)))
            if removed:
                parts.append(self.label("change_list_removed", items=", ".join(removed)))
            return (f"{field}: {', '.join(parts)}" if parts else ""), []
        before, after = self.say(old, found.field, record), self.say(new, found.field, record)
        if before == after:
            return "", []
        if change.what == "key_fact" and found.field == "value":
            return self.label("change_value", old=before, new=after), []
        return self.label("change_field", field=field, old=before, new=after), []

    def life_cycle(self, old: Agreement, new: Agreement) -> str:
        """An agreement's new stage and its old state: `entered into force on
        1 March 2026 (was: signed on 12 May 2019, not in force)`."""
        now = ""
        stages = (("ended", "change_ended_on"), ("in_force", "change_entered_into_force"),
                  ("ratified", "change_ratified_on"), ("signed", "change_signed_on"))
        for stage, label in stages:
            value = getattr(new, stage)
            if value is not None and value != getattr(old, stage):
                now = self.label(label, date=self.say(value))
                break
        if not now:
            now = self.state(new)
        return self.label("change_value", new=now, old=self.state(old))

    def state(self, agreement: Agreement) -> str:
        """Where an agreement stands: its latest stage, or its status."""
        if agreement.status in ("suspended", "superseded", "expired", "terminated"):
            return self.labels[f"agreement_status_{agreement.status}"]
        if agreement.ended is not None:
            return self.label("change_ended_on", date=self.say(agreement.ended))
        if agreement.in_force is not None:
            return self.label("change_in_force_since", date=self.say(agreement.in_force))
        if agreement.status == "in-force":
            return self.labels["agreement_status_in-force"]
        for stage, label in (("ratified", "change_ratified_on"), ("signed", "change_signed_on")):
            if getattr(agreement, stage) is not None:
                return ", ".join((self.label(label, date=self.say(getattr(agreement, stage))),
                                  self.labels["change_not_in_force"]))
        if agreement.status == "signed":
            return self.labels["agreement_status_signed"]
        return self.labels["change_not_signed"]

    def name(self, change: Change) -> str:
        """What readers call the record: `IOM office in Ganja`, `Key fact 'working groups'`."""
        record, what = change.record, change.what
        if what in ("brief", "publisher"):
            return self.labels[f"change_name_{what}"]
        if what == "meeting":
            name = self.partner(record.partner) + (
                f", {record.when.format(self.locale)}" if record.when else "")
        elif what == "quote":
            name = self.text(record.by)
        elif what == "key_point":
            name = self.short(self.text(record))
        else:
            field = {"key_fact": "label", "office": "place", "milestone": "text",
                     "working_group": "topic", "table": "caption", "partner": "name"
                     }.get(what, "title")
            name = self.short(self.text(getattr(record, field)))
        holder = self.partner(change.holder) if change.holder else ""
        return self.label(f"change_name_{what}", name=name, partner=holder)

    # -- values --------------------------------------------------------------------

    def text(self, text: Text | None) -> str:
        if text is None:
            return self.labels["change_none"]
        said = text.in_language(self.language)
        return " ".join((said if said is not None else text.written()[0]).split())

    def raw(self, text: Text | None) -> str:
        """A text as written in this language, its paragraphs kept."""
        if text is None:
            return ""
        said = text.in_language(self.language)
        return said if said is not None else text.written()[0]

    def short(self, text: str) -> str:
        if len(text) <= SHORT:
            return text
        return text[:SHORT].rsplit(" ", 1)[0] + "…"

    def partner(self, pid: str) -> str:
        partner = self.partners.get(pid)
        return self.text(partner.label) if partner else pid

    def say(self, value: Any, field: str = "", record: Any = None) -> str:
        """A value in this language: dates and amounts for its locale, choices
        and partners by their names."""
        if value is None:
            return self.labels["change_none"]
        if isinstance(value, Text):
            return self.text(value)
        if isinstance(value, (PartialDate, Period, Money, Share)):
            return value.format(self.locale)
        if isinstance(value, Recurrence):
            return value.words(self.labels)
        if isinstance(value, tuple):
            return ", ".join(self.say(item, field, record) for item in value)
        if isinstance(value, str):
            prefix = CHOICES.get(type(record), {}).get(field)
            if prefix and f"{prefix}_{value}" in self.labels:
                return self.labels[f"{prefix}_{value}"]
            if field in PARTNER_FIELDS and value in self.partners:
                return self.partner(value)
            if field in ("sources", "source") and value in self.sources:
                return self.text(self.sources[value].title)
            if field == "superseded_by":
                return next((self.text(a.title) for p in self.partners.values()
                             for a in p.agreements if a.id == value), value)
            return value
        if isinstance(value, Mapping):  # a table's row
            return "; ".join(f"{key}: {self.say(item)}" for key, item in value.items())
        if isinstance(value, BaseModel):  # a budget share, a column, a contact
            return " ".join(self.say(getattr(value, name), name, value)
                            for name in type(value).model_fields
                            if getattr(value, name) not in (None, ()))
        if isinstance(value, (Decimal, int, float, bool)):
            return str(value)
        return str(value)


def sentences(changes: Changes, language: str) -> list[tuple[str, list[Sentence]]]:
    """Every change said in `language`, under its group's heading."""
    wording = Wording(changes, language)
    return [(wording.heading(group), [wording.sentence(change) for change in found])
            for group, found in changes.groups()]


