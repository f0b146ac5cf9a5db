"""The changes as terminal text and as JSON (the archive's data/changes.*).

Text: a title, then each group (the brief, key facts, key points, each
section, each partner, the sources) with one line per change; changed prose
follows its line as its changed paragraphs, words removed as `[-...-]` and
added as `{+...+}` (wdiff's marks). JSON: every change with its fields' old
and new values (as compare.plain writes them) and its sentence in every
language of the brief; sorted keys, so the same versions give the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from briefing.changes.compare import Change, Changes, Group, Piece, plain, trimmed
from briefing.changes.wording import Wording, sentences
from briefing.errors import shown

CHANGES_JSON = "changes.json"  # in an edition's data/: against the version before it
CHANGES_TXT = "changes.txt"
MARKS = {"same": ("", ""), "removed": ("[-", "-]"), "added": ("{+", "+}")}


@dataclass(frozen=True)
class Since:
    """The version compared against: a published version, or a git revision."""

    version: int | None = None
    date: str | None = None  # ISO
    identifier: str | None = None  # the published version's folder name
    revision: str | None = None

    def said(self, wording: Wording) -> str:
        if self.version is not None and self.date:
            return wording.since_version(self.version, self.date)
        return wording.label("change_since_revision", revision=self.revision or "")

    def record(self) -> dict[str, Any]:
        return {key: value for key, value in (
            ("version", self.version), ("date", self.date), ("identifier", self.identifier),
            ("revision", self.revision)) if value is not None}


def marked(pieces: tuple[Piece, ...]) -> str:
    return "".join(MARKS[kind][0] + text + MARKS[kind][1] for kind, text in trimmed(pieces))


def text(changes: Changes, language: str, since: Since) -> str:
    """The summary in `language`, as the terminal and changes.txt show it."""
    wording = Wording(changes, language)
    lines = [wording.title(since.said(wording)),
             wording.label("change_count", count=str(len(changes)))]
    for heading, said in sentences(changes, language):
        lines += ["", heading]
        for sentence in said:
            if len(sentence.details) > 1:  # one line for each thing said of the record
                lines.append(f"  - {sentence.name}:")
                lines += [f"      {detail}" for detail in sentence.details]
            else:
                lines.append(f"  - {sentence.text}")
            lines += [f"      {marked(paragraph)}" for paragraph in sentence.paragraphs]
    return "\n".join(shown(line) for line in lines) + "\n"


def as_json(changes: Changes, since: Since) -> bytes:
    """The machine-readable record: the same versions give the same bytes."""
    wordings = {language: Wording(changes, language) for language in changes.languages}
    record = {
        "brief": changes.slug,
        "since": since.record(),
        "count": len(changes),
        "languages": list(changes.languages),
        "changes": [_change(change, changes, wordings) for change in changes.changes],
    }
    return (json.dumps(record, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _change(change: Change, changes: Changes, wordings: dict[str, Wording]) -> dict[str, Any]:
    languages = tuple(changes.languages)
    found: dict[str, Any] = {
        "kind": change.kind,
        "what": change.what,
        "key": change.key,
        "group": _group(change.group),
        "fields": [{"field": f.field, "old": plain(f.old, languages),
                    "new": plain(f.new, languages),
                    **({"added": plain(f.added, languages)} if f.added else {}),
                    **({"removed": plain(f.removed, languages)} if f.removed else {})}
                   for f in change.fields],
        "said": {},
    }
    if change.kind in ("added", "removed"):
        found["record"] = plain(change.record, languages)
    if change.holder:
        found["partner"] = change.holder
    if change.position:
        found["position"] = {"old": change.position[0], "new": change.position[1]}
    if change.moved_from:
        found["moved_from"] = _group(change.moved_from)
    for language, wording in wordings.items():
        sentence = wording.sentence(change)
        found["said"][language] = {"text": sentence.text,
                                   "paragraphs": [[list(piece) for piece in paragraph]
                                                  for paragraph in sentence.paragraphs]}
    return found


def _group(group: Group) -> dict[str, str]:
    return {"kind": group.kind, **({"id": group.id} if group.id else {})}


@dataclass(frozen=True)
class Summary:
    """What `briefing changes` prints: the text, or a note that there is
    nothing to compare against."""

    changes: Changes | None
    since: Since | None
    note: str = ""
    languages: tuple[str, ...] = ()  # the working brief's, with or without changes


def summary(root: Any, slug: str, since: str | None) -> Summary:
    """The working folder's brief `slug` against `since`: a published version's
    number, a git revision, or (None) the latest published version."""
    from briefing.archive.publish import versions
    from briefing.changes.compare import compare
    from briefing.errors import UsageError
    from briefing.files import ARCHIVE, ProjectFiles
    from briefing.versions import published, revision, working

    if slug not in ProjectFiles(root).briefs():
        raise UsageError(f"no brief {slug!r} (expected the name of a file in content/briefs/)")
    if since is not None and since.isdigit():
        old = published(root, slug, int(since))
    elif since is not None:
        old = revision(root, slug, since)
    else:
        old = published(root, slug)
    new = working(root, slug)
    if old is None:
        return Summary(None, None, f"no previous version: brief {slug!r} has no published "
                       f"version in {ARCHIVE}/ (`briefing publish {slug}` makes one; "
                       "--since REV compares with a git revision)",
                       new.project.brief(slug).languages)
    if old.number is not None:
        found = [p for p in versions(root / ARCHIVE, slug) if p == old.edition]
        mark = Since(old.number, old.date, found[0].name if found else None)
    else:
        mark = Since(revision=since)
    changes = compare(old.project, new.project, slug)
    return Summary(changes, mark, languages=changes.languages)


def edition_changes(root: Any, previous: Any, files: dict[str, bytes], slug: str
                    ) -> dict[str, bytes]:
    """An edition's change record against the version before it (`previous`,
    its folder): changes.json and changes.txt (in the brief's first language),
    from the two versions' sources alone, so the same sources give the same
    bytes wherever they are compared (publish, and verify's rebuild). If the
    previous version cannot be read (its folder is gone, or its source no
    longer loads), the record says why instead of listing changes; one whose
    source differs from its bag's manifest is refused (`versions.Untrusted`)."""
    from briefing.archive.publish import VERSION_NAME
    from briefing.changes.compare import compare
    from briefing.errors import BuildFailed, UsageError
    from briefing.versions import Untrusted, archived, snapshot

    match = VERSION_NAME.match(previous.name)
    since = Since(int(match.group(3)), match.group(1), previous.name) if match else Since()
    new = snapshot(files, slug, "this version").project
    language = new.brief(slug).languages[0]
    try:
        old = archived(root, previous, slug).project
    except Untrusted:
        raise  # a version changed since it was published is no baseline: publish refuses
    except (BuildFailed, UsageError, OSError) as err:
        why = f"{previous.name} cannot be read: " + (
            str(err.problems[0]) if isinstance(err, BuildFailed) and err.problems else str(err))
        record = {"brief": slug, "since": since.record(), "count": None, "unavailable": why}
        return {CHANGES_JSON: (json.dumps(record, indent=1, sort_keys=True,
                                          ensure_ascii=False) + "\n").encode(),
                CHANGES_TXT: f"{why}\n".encode()}
    changes = compare(old, new, slug)
    return {CHANGES_JSON: as_json(changes, since),
            CHANGES_TXT: text(changes, language, since).encode()}


def recorded_count(data: bytes) -> str:
    """The number of changes an edition's changes.json records ("" if none)."""
    try:
        count = json.loads(data).get("count")
    except (ValueError, AttributeError, RecursionError):
        return ""
    return str(count) if isinstance(count, int) and not isinstance(count, bool) else ""
