"""A returned DOCX against the edition it came from, field by field.

Three texts of each field meet here: as built (the map in the returned file),
as returned (the official's, with pending tracked changes undone or
accepted), and as the project renders it now (the same edition built again
from the current YAML, through the build's own workers and DOCX writer, so
the texts compare like for like). What the official changed is returned
against built; whether the editor changed the field since is now against
built. Formatting is not text: bold made italic changes nothing here.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from briefing.errors import BuildFailed, Problem, shown
from briefing.review.returned import Found, Mark, Returned, outside, read_returned
from briefing.writers.fields import OBJECT

QUOTED = 60  # characters of a text quoted whole in a line; longer ones are cut around the change
CONTEXT = 20  # characters kept either side of a change in a cut quotation
_SPACES = re.compile(r"[ \t\u00a0\u202f]+")


@dataclass(frozen=True, order=True)
class Finding:
    """One thing to review, placed at the field's line in the editor's YAML."""

    path: str
    line: int
    col: int
    order: int  # where it is in the document, for findings at one place
    field: str
    message: str
    kind: str = field(default="changed", compare=False)
    detail: tuple[str, str] | None = field(default=None, compare=False)  # (before, after)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}"
        return shown(f"{where}: {self.field}: {self.message}" if self.field
                     else f"{where}: {self.message}")


@dataclass
class Group:
    """One field's text in one place of the edition: one mark, or the marks of
    a prose field's paragraphs. `returned` is None when it is not all found."""

    address: str
    occurrence: int  # among the groups of the same address
    marks: list[Mark]
    built: str
    returned: str | None = None  # pending tracked changes undone
    tracked: str | None = None  # pending tracked changes accepted
    now: str | None = None  # as the current YAML renders it; None: no longer there
    how: set[str] = field(default_factory=set)  # tag, bookmark, text

    @property
    def file(self) -> str:
        return self.address.partition("#")[0]

    @property
    def path(self) -> str:
        return self.address.partition("#")[2]

    @property
    def changed_since(self) -> bool:
        return self.now is None or same(self.now) != same(self.built)


@dataclass
class Review:
    returned: Returned
    shown_as: str
    groups: list[Group]
    findings: list[Finding]
    digest_now: str  # of the edition's HTML as the project renders it now
    root: Path
    places: dict[str, tuple[str, int, int]]  # address -> the field's file, line, column
    prose: set[str] = field(default_factory=set)  # the addresses of Markdown fields

    def at(self, address: str) -> Finding:
        """A finding's place for the field at `address` (no message yet)."""
        file, _, path = address.partition("#")
        where = self.places.get(address) or (file, 1, 1)
        order = next((i for i, mark in enumerate(self.returned.marks)
                      if mark.address == address), -1)
        return Finding(where[0], where[1], where[2], order, path, "")

    @property
    def clean(self) -> bool:
        return not self.findings


def same(text: str) -> str:
    """A text as compared: spaces of any kind as one, no-break hyphens as hyphens."""
    return _SPACES.sub(" ", text.replace("\u2011", "-").replace("\u00ad", "")).strip()


def review(root: Path, path: Path, shown_as: str) -> Review:
    """Read the returned file at `path`, find its edition in the project at
    `root`, and compare."""
    from briefing.review.edition import current_marks

    returned = read_returned(path, shown_as)
    marks_now, digest_now, places, prose = current_marks(root, returned, shown_as)
    groups = _groups(returned.marks)
    now = {(g.address, g.occurrence): g.built for g in _groups(marks_now)}
    for group in groups:
        group.now = now.get((group.address, group.occurrence))
        found = [returned.found.get(mark.tag) for mark in group.marks]
        if all(found):
            group.returned = "\n".join(f.text() for f in found)
            group.tracked = "\n".join(f.text(accept=True) for f in found)
            group.how = {f.how for f in found}
    findings = _Findings(returned, places)
    for group in groups:
        findings.group(group)
    findings.comments()
    findings.notes()
    findings.furniture()
    findings.outside()
    return Review(returned, shown_as, groups, sorted(findings.items), digest_now, root,
                  places, prose)


def _groups(marks: Iterable[Mark]) -> list[Group]:
    by_key: dict[tuple[str, str], Group] = {}
    counts: dict[str, int] = {}
    for mark in marks:
        group = by_key.get((mark.address, mark.group))
        if group is None:
            occurrence = counts.get(mark.address, 0)
            counts[mark.address] = occurrence + 1
            group = by_key[(mark.address, mark.group)] = Group(mark.address, occurrence, [], "")
        group.marks.append(mark)
    for group in by_key.values():
        group.built = "\n".join(mark.text for mark in group.marks)
    return list(by_key.values())


def quote(text: str) -> str:
    return '"' + text.replace("\n", " \u00b6 ") + '"'


def changed(before: str, after: str) -> str:
    """`"before" → "after"`, cut around the change when the texts are long."""
    if len(before) <= QUOTED and len(after) <= QUOTED:
        return f"{quote(before)} \u2192 {quote(after)}"
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    blocks = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    start_a, start_b = blocks[0][1], blocks[0][3]
    end_a, end_b = blocks[-1][2], blocks[-1][4]

    def cut(text: str, start: int, end: int) -> str:
        """Around [start, end), whole words only."""
        head = max(0, start - CONTEXT)
        head = text.rfind(" ", 0, head) + 1 if head else 0
        tail = min(len(text), end + CONTEXT)
        tail = len(text) if text.find(" ", tail) < 0 else text.find(" ", tail)
        return ("\u2026" if head else "") + text[head:tail] + ("\u2026" if tail < len(text) else "")
    return f"{quote(cut(before, start_a, end_a))} \u2192 {quote(cut(after, start_b, end_b))}"


class _Findings:
    def __init__(self, returned: Returned, places: dict[str, tuple[str, int, int]]) -> None:
        self.returned = returned
        self.places = places
        self.items: list[Finding] = []
        self.order = {mark.tag: i for i, mark in enumerate(returned.marks)}
        self.by_tag = {mark.tag: mark for mark in returned.marks}

    def add(self, address: str, order: int, message: str, kind: str,
            detail: tuple[str, str] | None = None, field_name: str | None = None) -> None:
        file, _, path = address.partition("#")
        where = self.places.get(address) or (file, 1, 1)
        self.items.append(Finding(where[0], where[1], where[2], order,
                                  path if field_name is None else field_name,
                                  message, kind, detail))

    def group(self, group: Group) -> None:
        order = self.order[group.marks[0].tag]
        lost = [mark for mark in group.marks if mark.tag not in self.returned.found]
        if lost:
            texts = " \u00b6 ".join(mark.text for mark in lost)
            self.add(group.address, order, f"not found in the returned file: its anchors and "
                     f"its text are gone (built as {quote(texts)}); removed, or moved and "
                     "rewritten: see the file", "lost", (group.built, ""))
            return
        assert group.returned is not None and group.tracked is not None
        by_text = " (found by its text: its anchors were lost)" if "text" in group.how else ""
        if same(group.returned) != same(group.built):
            self.add(group.address, order, f"changed {changed(group.built, group.returned)}"
                     + by_text, "changed", (group.built, group.returned))
        for change, text in _changes(self.returned.found[mark.tag] for mark in group.marks):
            who = f" by {change.author}" if change.author else ""
            when = f" on {change.date}" if change.date else ""
            self.add(group.address, order, f"tracked {change.kind} {quote(text)}{who}{when}, "
                     "not yet accepted" + by_text, change.kind)
        official = same(group.tracked) != same(group.built)
        if official and group.changed_since:
            now = "the field is no longer there" if group.now is None else \
                f"built as {quote(group.built)}, now {quote(group.now)}"
            self.add(group.address, order, f"the YAML changed since the edition was built "
                     f"({now}): the official's edit cannot simply be applied", "conflict",
                     (group.built, group.now or ""))

    def comments(self) -> None:
        """Each comment on the fields its anchor touches, else beside the field before it."""
        anchors: dict[str, list[tuple[int, str]]] = {}  # comment -> (paragraph, text)
        for p, paragraph in enumerate(self.returned.paragraphs):
            for chunk in paragraph.chunks:
                for number in chunk.comments:
                    anchors.setdefault(number, []).append((p, chunk.text))
        owners: dict[int, str] = {}
        for found in self.returned.found.values():
            for chunk in found.chunks:
                owners.setdefault(id(chunk), found.mark.tag)
        for number, comment in sorted(self.returned.comments.items(),
                                      key=lambda item: _number(item[0])):
            chunks = [(p, c) for p, paragraph in enumerate(self.returned.paragraphs)
                      for c in paragraph.chunks if number in c.comments]
            anchor = "".join(c.text for _, c in chunks).strip()
            tags = list(dict.fromkeys(owners[id(c)] for _, c in chunks if id(c) in owners))
            who = f" by {comment.author}" if comment.author else ""
            when = f" on {comment.date}" if comment.date else ""
            on = f" on {quote(anchor)}" if anchor else ""
            if tags:
                for tag in tags:
                    mark = self.by_tag[tag]
                    self.add(mark.address, self.order[tag],
                             f"comment{who}{when}{on}: {quote(comment.text)}", "comment")
                continue
            paragraph = chunks[0][0] if chunks else len(self.returned.paragraphs)
            before = self._before(paragraph)
            self.add(before.address if before else f"{self._brief_file()}#",
                     self.order[before.tag] if before else -1,
                     f"comment{who}{when}{on}, outside any field"
                     + (f" (after {before.address.partition('#')[2]})" if before else "")
                     + f": {quote(comment.text)}", "comment",
                     field_name="" if before is None else None)

    def notes(self) -> None:
        """Footnotes changed, added or removed, told at the field that refers to them."""
        owners: dict[int, str] = {}
        for found in self.returned.found.values():
            for chunk in found.chunks:
                owners.setdefault(id(chunk), found.mark.tag)
        now = [(owners.get(id(c), ""), self.returned.notes.get(c.note, ""))
               for paragraph in self.returned.paragraphs for c in paragraph.chunks if c.note]
        built = self.returned.built_notes
        if built is None:  # a map from before the notes were kept
            return
        matcher = difflib.SequenceMatcher(None, [same(t) for _, t in built],
                                          [same(t) for _, t in now], autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                continue
            olds, news = built[i1:i2], now[j1:j2]
            if op == "replace" and len(olds) == len(news):
                pairs = [(i1 + k, old, new) for k, (old, new) in enumerate(zip(olds, news,
                                                                                strict=True))]
            else:
                pairs = [(i1 + k, old, None) for k, old in enumerate(olds)] + \
                        [(i2, None, new) for new in news]
            for number, old, new in pairs:
                tag = (new or old)[0] if (new or old)[0] else (old or new)[0]
                mark = self.by_tag.get(tag)
                what = (f"added {quote(new[1])}" if old is None else
                        f"removed {quote(old[1])}" if new is None else
                        f"changed {changed(old[1], new[1])}")
                self.add(mark.address if mark else f"{self._brief_file()}#",
                         self.order[mark.tag] if mark else -1,
                         f"footnote {number + 1}: {what}", "footnote",
                         (old[1] if old else "", new[1] if new else ""),
                         field_name=None if mark else "")

    def furniture(self) -> None:
        """The page headers and footers: text added or gone, told at the brief."""
        built, now = self.returned.built_furniture, self.returned.furniture
        if built is None:  # a map from before the headers were kept: nothing to compare
            return
        for text in sorted(now - built):
            self.add(f"{self._brief_file()}#", -1, f"page header or footer: added {quote(text)}",
                     "outside", ("", text), field_name="")
        for text in sorted(built - now):
            self.add(f"{self._brief_file()}#", -1,
                     f"page header or footer: removed {quote(text)}", "outside", (text, ""),
                     field_name="")

    def _before(self, paragraph: int) -> Mark | None:
        found = [f for f in self.returned.found.values() if f.at[0] <= paragraph]
        if not found:
            return None
        return max(found, key=lambda f: (f.at, self.order[f.mark.tag])).mark

    def _brief_file(self) -> str:
        return f"content/briefs/{self.returned.brief}.yaml"

    def outside(self) -> None:
        """Text added, changed or removed outside every field: never lost, told
        beside the field before it (or in it, for a paragraph that holds one)."""
        built = [(same(text), tags) for text, tags in zip(
            self.returned.outline, self.returned.outline_marks, strict=True)]
        built = [(text, tags) for text, tags in built if text]
        now = [(same(text), tags) for text, tags in outside(self.returned)]
        now = [(text, tags) for text, tags in now if text]
        matcher = difflib.SequenceMatcher(None, [t for t, _ in built], [t for t, _ in now],
                                          autojunk=False)
        last: str | None = None  # the last field seen in the returned paragraphs
        seen: list[tuple[str | None, bool]] = []  # each paragraph's field, and if it holds it
        upto: list[str | None] = []  # the last field in or before each paragraph
        for _, tags in now:
            seen.append((tags[0], True) if tags else (last, False))
            last = tags[-1] if tags else last
            upto.append(last)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                continue
            olds = [built[i][0] for i in range(i1, i2)]
            news = [now[j][0] for j in range(j1, j2)]
            if j2 > j1:  # text in returned paragraphs: told with their own field, if any
                near, holds = seen[j1]
            else:  # a paragraph gone: told after the field before it
                near, holds = (upto[j1 - 1] if j1 else None), False
            if op == "replace" and len(olds) == len(news):
                pairs = [(old, new) for old, new in zip(olds, news, strict=True)]
            else:
                pairs = [(old, "") for old in olds] + [("", new) for new in news]
            for old, new in pairs:
                if not old.replace(OBJECT, "").strip() and not new.replace(OBJECT, "").strip():
                    continue  # only fields: what became of them is told field by field
                shown_old, shown_new = old.replace(OBJECT, "[field]"), new.replace(OBJECT,
                                                                                   "[field]")
                what = (f"added {quote(shown_new)}" if not old else
                        f"removed {quote(shown_old)}" if not new else
                        f"changed {changed(shown_old, shown_new)}")
                mark = self.by_tag.get(near) if near else None
                where = ("" if mark is None else ", in this field's paragraph" if holds
                         else ", after this field")
                self.add(mark.address if mark else f"{self._brief_file()}#",
                         self.order[mark.tag] if mark else -1,
                         f"text outside any field{where}: {what}", "outside", (old, new),
                         field_name=None if mark else "")


def _changes(found: Iterable[Found]) -> list[tuple[object, str]]:
    """The pending tracked changes in a field, each once with its text."""
    texts: dict[tuple[str, str, str, str], str] = {}
    changes = {}
    for item in found:
        for chunk in item.chunks:
            if chunk.change is not None:
                key = (chunk.change.kind, chunk.change.number, chunk.change.author,
                       chunk.change.date)
                texts[key] = texts.get(key, "") + chunk.text
                changes[key] = chunk.change
    return [(changes[key], text) for key, text in texts.items() if text]


def _number(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (0, text)


def refuse(shown_as: str, why: str, expected: str) -> BuildFailed:
    return BuildFailed([Problem(shown_as, 1, 1, why, expected=expected)])
