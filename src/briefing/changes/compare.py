"""The semantic comparison of two versions of a brief.

Records are matched by id (partners, agreements with an id, sections,
sources), or where a record has none by a natural key written in the brief's
first language (a key fact's label, an office's place, an event's title: the
table `KEYS`); a record whose key changed is still matched when the rest of
it is close enough (`SIMILAR`), so a retitled event is "changed", not
"removed" and "added". Order is never compared: reordering alone is no
change, except that a section moving among the others is reported, since its
number changes. Within a matched pair, DeepDiff says which fields differ,
ignoring order within lists; the change keeps each field's old and new typed
value, so that the wording (wording.py) can say them in every language.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from deepdiff import DeepDiff
from pydantic import BaseModel

from briefing.content.dates import PartialDate, Period, Recurrence
from briefing.content.model import Brief, Project, Publisher
from briefing.content.money import Money, Share
from briefing.content.text import Text

Kind = Literal["added", "removed", "changed", "renamed", "moved"]

# The blocks a section holds, matched across the whole brief (a block moved to
# another section is "moved", not removed and added).
BLOCKS = ("trainings", "events", "working_groups", "meetings", "projects", "tables", "quotes")
# A brief's switches: how its documents are made (its change annex, accepted
# typesetting findings), not what they say; never a change.
SWITCHES = ("change_annex", "typesetting")
# Fields compared elsewhere: the records a record holds, compared as records.
NESTED: dict[str, tuple[str, ...]] = {
    "brief": ("slug", "key_facts", "key_points", "sections", "sources", *SWITCHES),
    "section": BLOCKS,
    "partner": ("id", "offices", "agreements", "milestones"),
}
# An agreement's life cycle: said as one sentence ("entered into force on ...").
LIFE_CYCLE = ("signed", "ratified", "in_force", "ended", "status")
# How close two unmatched records of one kind must be (difflib's ratio over
# their fields) to be one record changed rather than one removed, one added.
SIMILAR = 0.6


def _first(text: Text | None, language: str) -> str:
    return "" if text is None else (text.in_language(language) or text.written()[0])


# The natural key of each kind of record that has no id, in the brief's first language.
KEYS: dict[str, Callable[[Any, str], str]] = {
    "key_fact": lambda r, lang: _first(r.label, lang),
    "key_point": lambda r, lang: _first(r, lang),
    "office": lambda r, lang: _first(r.place, lang),
    "agreement": lambda r, lang: r.id or _first(r.title, lang),
    "milestone": lambda r, lang: _first(r.text, lang),
    "training": lambda r, lang: _first(r.title, lang),
    "event": lambda r, lang: _first(r.title, lang),
    "project": lambda r, lang: _first(r.title, lang),
    "working_group": lambda r, lang: _first(r.topic, lang),
    "meeting": lambda r, lang: f"{r.partner} {r.when.iso() if r.when else ''}".strip(),
    "table": lambda r, lang: _first(r.caption, lang),
    "quote": lambda r, lang: f"{_first(r.by, lang)}: {_first(r.text, lang)}",
    "section": lambda r, lang: r.id,
    "source": lambda r, lang: r.id,
    "partner": lambda r, lang: r.id,
}
# The kind of record each block of a section holds.
BLOCK_KINDS = {"trainings": "training", "events": "event", "working_groups": "working_group",
               "meetings": "meeting", "projects": "project", "tables": "table",
               "quotes": "quote"}


@dataclass(frozen=True)
class FieldChange:
    """One field of a record, old and new, as typed values of the model (a
    Text, a PartialDate, Money, a tuple...; None where it was not given). For
    a list, `added` and `removed` are its items that are new or gone."""

    field: str
    old: Any
    new: Any
    added: tuple[Any, ...] = ()
    removed: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Group:
    """Where a change is shown: the brief itself, its key facts or key points,
    a section, a partner, the sources."""

    kind: Literal["brief", "publisher", "key_facts", "key_points", "section", "partner",
                  "sources"]
    id: str = ""  # the section's or partner's id
    name: Text | None = None  # the section's title, the partner's name


@dataclass(frozen=True)
class Change:
    """One record added, removed, changed, renamed (a partner's name) or moved
    (a section among the others, a block to another section)."""

    kind: Kind
    what: str  # the kind of record: "agreement", "office", "key_fact"... (KEYS)
    key: str  # its id, or its natural key
    group: Group  # where it is now (where it was, if removed)
    old: Any = None  # the record in the old version (None if added)
    new: Any = None  # the record in the new version (None if removed)
    fields: tuple[FieldChange, ...] = ()
    holder: str = ""  # an office's, agreement's or milestone's partner id
    moved_from: Group | None = None  # a block: the section it was in
    position: tuple[int, int] | None = None  # a section: its number, old and new

    @property
    def record(self) -> Any:
        return self.new if self.new is not None else self.old


@dataclass(frozen=True)
class Changes:
    """Every change between two versions of brief `slug`, grouped as read."""

    slug: str
    languages: tuple[str, ...]  # the new version's languages: the wording's
    changes: tuple[Change, ...]
    old: Project = field(repr=False, compare=False)
    new: Project = field(repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.changes)

    def groups(self) -> list[tuple[Group, list[Change]]]:
        """The changes by group, in the order the brief reads."""
        out: dict[Group, list[Change]] = {}
        for change in self.changes:
            out.setdefault(change.group, []).append(change)
        return list(out.items())


def compare(old: Project, new: Project, slug: str) -> Changes:
    """What changed in brief `slug` from project `old` to project `new`."""
    old_brief, new_brief = old.brief(slug), new.brief(slug)
    first = new_brief.languages[0]
    languages = tuple(dict.fromkeys((*new_brief.languages, *old_brief.languages)))
    comparer = _Comparer(first, languages)
    old_items = _items(old, old_brief, first)
    new_items = _items(new, new_brief, first)
    changes = comparer.brief(old_brief, new_brief)
    changes += comparer.publisher(old.publisher, new.publisher)
    changes += comparer.sections(old_brief, new_brief)
    whole = {c.key for c in changes if c.what == "section" and c.kind in ("added", "removed")}
    # a section that came or went brings or takes its blocks: said once
    changes += [c for c in comparer.matched(old_items, new_items)
                if not (c.kind in ("added", "removed") and c.group.kind == "section"
                        and c.group.id in whole)]
    order = _order(new_items, old_items, new_brief, old_brief)
    changes.sort(key=order)
    return Changes(slug, new_brief.languages, tuple(changes), old, new)


@dataclass(frozen=True)
class _Item:
    what: str
    key: str
    record: Any
    group: Group
    holder: str = ""


def _items(project: Project, brief: Brief, first: str) -> list[_Item]:
    """Every record of the brief compared as a record, with its key and group."""
    scoped = project.for_brief(brief.slug)
    items = [_Item("key_fact", KEYS["key_fact"](fact, first), fact, Group("key_facts"))
             for fact in brief.key_facts]
    items += [_Item("key_point", KEYS["key_point"](point, first), point, Group("key_points"))
              for point in brief.key_points]
    for section in brief.sections:
        group = Group("section", section.id, section.title)
        items += [_Item(BLOCK_KINDS[name], KEYS[BLOCK_KINDS[name]](block, first), block, group)
                  for name in BLOCKS for block in getattr(section, name)]
    items += [_Item("source", source.id, source, Group("sources")) for source in brief.sources]
    for pid in scoped.partners_of(brief):
        partner = scoped.partners[pid]
        group = Group("partner", pid, partner.name)
        items.append(_Item("partner", pid, partner, group, pid))
        for name, what in (("offices", "office"), ("agreements", "agreement"),
                           ("milestones", "milestone")):
            for record in getattr(partner, name):
                key = KEYS[what](record, first)
                if not (what == "agreement" and record.id):
                    key = f"{pid}/{key}"  # without an id, one partner's own
                items.append(_Item(what, key, record, group, pid))
    return items


class _Comparer:
    def __init__(self, first: str, languages: tuple[str, ...]) -> None:
        self.first, self.languages = first, languages

    def brief(self, old: Brief, new: Brief) -> list[Change]:
        fields = self.fields("brief", old, new)
        return [Change("changed", "brief", new.slug, Group("brief"), old, new, fields)] \
            if fields else []

    def publisher(self, old: Publisher, new: Publisher) -> list[Change]:
        """Who issues the brief: its name is on the cover and in every header."""
        fields = self.fields("publisher", old, new)
        return [Change("changed", "publisher", "publisher", Group("publisher"), old, new,
                       fields)] if fields else []

    def sections(self, old: Brief, new: Brief) -> list[Change]:
        """Sections by id: added, removed, changed (title, prose, lists) and moved
        among the others (its number changes); one only pushed along by another
        added or removed is not moved."""
        before = {section.id: section for section in old.sections}
        after = {section.id: section for section in new.sections}
        common_old = [sid for sid in before if sid in after]
        common_new = [sid for sid in after if sid in before]
        matcher = difflib.SequenceMatcher(None, common_old, common_new, autojunk=False)
        kept = {sid for a, _, size in matcher.get_matching_blocks()
                for sid in common_old[a:a + size]}
        changes = []
        for number, (sid, section) in enumerate(after.items(), start=1):
            group = Group("section", sid, section.title)
            if sid not in before:
                changes.append(Change("added", "section", sid, group, None, section))
                continue
            fields = self.fields("section", before[sid], section)
            moved = sid not in kept
            if fields or moved:
                position = (list(before).index(sid) + 1, number) if moved else None
                changes.append(Change("moved" if moved else "changed", "section", sid, group,
                                      before[sid], section, fields, position=position))
        changes += [Change("removed", "section", sid, Group("section", sid, section.title),
                           section, None) for sid, section in before.items()
                    if sid not in after]
        return changes

    def matched(self, old: list[_Item], new: list[_Item]) -> list[Change]:
        changes = []
        pairs, removed, added = self.pair(old, new)
        for a, b in pairs:
            fields = self.fields(a.what, a.record, b.record)
            renamed = a.what == "partner" and any(f.field == "name" for f in fields)
            moved = a.group != b.group and a.what in BLOCK_KINDS.values()
            if fields or moved:
                kind: Kind = "renamed" if renamed else "moved" if moved else "changed"
                changes.append(Change(kind, b.what, b.key, b.group, a.record, b.record, fields,
                                      b.holder, moved_from=a.group if moved else None))
        changes += [Change("removed", i.what, i.key, i.group, i.record, None, holder=i.holder)
                    for i in removed]
        changes += [Change("added", i.what, i.key, i.group, None, i.record, holder=i.holder)
                    for i in added]
        # a partner that came or went brings or takes its records: said once
        gone = {c.key for c in changes if c.what == "partner" and c.kind != "changed"
                and c.kind in ("added", "removed")}
        return [c for c in changes if c.what == "partner" or c.kind not in ("added", "removed")
                or c.holder not in gone]

    def pair(self, old: list[_Item], new: list[_Item]
             ) -> tuple[list[tuple[_Item, _Item]], list[_Item], list[_Item]]:
        """Records matched by kind and key, then the rest by likeness."""
        by_key = {(i.what, key): i for i, key in _unique(old)}
        pairs, added = [], []
        for item, key in _unique(new):
            match = by_key.pop((item.what, key), None)
            if match is None:
                added.append(item)
            else:
                pairs.append((match, item))
        removed = list(by_key.values())
        likely = sorted(((difflib.SequenceMatcher(None, self.dumped(a.record),
                                                  self.dumped(b.record), autojunk=False
                                                  ).ratio(), i, j)
                         for i, a in enumerate(removed) for j, b in enumerate(added)
                         if a.what == b.what and a.what not in ("partner", "source")
                         and not (a.what == "agreement" and a.record.id and b.record.id)),
                        key=lambda found: (-found[0], found[1], found[2]))
        used_old, used_new = set(), set()
        for ratio, i, j in likely:
            if ratio >= SIMILAR and i not in used_old and j not in used_new:
                used_old.add(i)
                used_new.add(j)
                pairs.append((removed[i], added[j]))
        return (pairs, [a for i, a in enumerate(removed) if i not in used_old],
                [b for j, b in enumerate(added) if j not in used_new])

    def dumped(self, record: Any) -> str:
        return json.dumps(plain(record, self.languages), sort_keys=True, ensure_ascii=False)

    def fields(self, what: str, old: Any, new: Any) -> tuple[FieldChange, ...]:
        """The fields that differ, order within lists ignored (DeepDiff)."""
        if isinstance(old, Text):  # a key point
            return () if plain(old, self.languages) == plain(new, self.languages) else (
                FieldChange("text", old, new),)
        names = [name for name in type(old).model_fields if name not in NESTED.get(what, ())]
        before = {name: plain(getattr(old, name), self.languages) for name in names}
        after = {name: plain(getattr(new, name), self.languages) for name in names}
        differ = set(DeepDiff(before, after, ignore_order=True).affected_root_keys)
        out = []
        for name in names:
            if name not in differ:
                continue
            a, b = getattr(old, name), getattr(new, name)
            if isinstance(a, tuple) or isinstance(b, tuple):
                out.append(FieldChange(name, a, b, *self.items_apart(a or (), b or ())))
            else:
                out.append(FieldChange(name, a, b))
        return tuple(out)

    def items_apart(self, old: Iterable[Any], new: Iterable[Any]
                    ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """The items of a list that are new, and those that are gone."""
        before = [self.dumped(item) for item in old]
        after = [self.dumped(item) for item in new]
        added = tuple(item for item, key in zip(new, after, strict=True) if key not in before)
        removed = tuple(item for item, key in zip(old, before, strict=True) if key not in after)
        return added, removed


def _unique(items: list[_Item]) -> list[tuple[_Item, str]]:
    """Each item with its key, a repeated key numbered (`title#2`) in its order."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for item in items:
        count = seen[(item.what, item.key)] = seen.get((item.what, item.key), 0) + 1
        out.append((item, item.key if count == 1 else f"{item.key}#{count}"))
    return out


def _order(new_items: list[_Item], old_items: list[_Item], new: Brief, old: Brief
           ) -> Callable[[Change], tuple[int, int, int]]:
    """Sort key: the brief and its publisher, key facts, key points, sections,
    partners, sources;
    within a group the new version's order, removed records after."""
    sections = [s.id for s in new.sections] + [s.id for s in old.sections
                                               if s.id not in {n.id for n in new.sections}]
    partners = list(dict.fromkeys(i.group.id for i in (*new_items, *old_items)
                                  if i.group.kind == "partner"))
    rank = {"brief": 0, "publisher": 0, "key_facts": 1, "key_points": 2, "section": 3,
            "partner": 4, "sources": 5}
    new_at = {(i.what, id(i.record)): n for n, i in enumerate(new_items)}
    old_at = {(i.what, id(i.record)): n for n, i in enumerate(old_items)}

    def key(change: Change) -> tuple[int, int, int]:
        group = change.group
        within = sections.index(group.id) if group.kind == "section" else \
            partners.index(group.id) if group.kind == "partner" else 0
        if change.what in ("section", "brief", "publisher", "partner"):
            place = -1
        elif change.new is not None:
            place = new_at.get((change.what, id(change.new)), 0)
        else:
            place = len(new_items) + old_at.get((change.what, id(change.old)), 0)
        return (rank[group.kind] * 1000 + within, place, 0)
    return key


def plain(value: Any, languages: tuple[str, ...]) -> Any:
    """A value as JSON: what is compared, and what changes.json records. A text
    is its strings in the brief's languages (one string for all and the same
    string in each read alike)."""
    if isinstance(value, Text):
        return {language: value.in_language(language) for language in languages}
    if isinstance(value, BaseModel):
        return {name: plain(getattr(value, name), languages)
                for name in type(value).model_fields}
    if isinstance(value, (tuple, list)):
        return [plain(item, languages) for item in value]
    if isinstance(value, Mapping):
        return {str(key): plain(item, languages) for key, item in value.items()}
    if isinstance(value, (PartialDate, Period)):
        return value.iso()
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, Share):
        return f"{value.percent}%"
    if isinstance(value, Recurrence):
        return f"every {value.count} {value.unit}"
    if isinstance(value, Decimal):
        return str(value)
    return value


# -- prose: the changed paragraphs, their changed words marked -----------------------

Piece = tuple[Literal["same", "added", "removed"], str]
_WORDS = re.compile(r"\s+|[^\s]+")


def paragraphs_changed(old: str, new: str) -> list[tuple[Piece, ...]]:
    """The paragraphs of `new` that differ from `old` (and those removed), each
    as pieces: words kept, added, removed (difflib with its junk heuristic off:
    a common word is never skipped as noise)."""
    before = [p.strip() for p in re.split(r"\n\s*\n", old.strip()) if p.strip()]
    after = [p.strip() for p in re.split(r"\n\s*\n", new.strip()) if p.strip()]
    out: list[tuple[Piece, ...]] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            continue
        olds, news = before[a1:a2], after[b1:b2]
        for i in range(max(len(olds), len(news))):
            out.append(words_changed(olds[i] if i < len(olds) else "",
                                     news[i] if i < len(news) else ""))
    return out


def words_changed(old: str, new: str) -> tuple[Piece, ...]:
    a, b = _WORDS.findall(" ".join(old.split())), _WORDS.findall(" ".join(new.split()))
    pieces: list[Piece] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("same", "".join(a[a1:a2])))
            continue
        if a2 > a1:
            pieces.append(("removed", "".join(a[a1:a2])))
        if b2 > b1:
            pieces.append(("added", "".join(b[b1:b2])))
    return tuple(pieces)


def trimmed(pieces: tuple[Piece, ...], context: int = 8) -> tuple[Piece, ...]:
    """`pieces` with long runs of unchanged words cut to `context` words on each
    side of a change (an ellipsis for the rest): what a reader needs to find
    the change in the document."""
    out: list[Piece] = []
    for n, (kind, text) in enumerate(pieces):
        words = text.split()
        if kind != "same" or len(words) <= 2 * context + 1:
            out.append((kind, text))
            continue
        lead = text[:len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()):]
        head = words[:context] if n > 0 else []
        tail = words[-context:] if n < len(pieces) - 1 else []
        out.append((kind, lead + " ".join([*head, "…", *tail]) + trail))
    return tuple(out)


__all__ = ["Change", "Changes", "FieldChange", "Group", "compare", "paragraphs_changed",
           "plain", "trimmed", "words_changed"]
