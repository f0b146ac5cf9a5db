"""`briefing review --apply`: the official's plain-text edits written into the YAML.

Only what can be written back exactly is written: a field whose new text
maps onto the text the editor typed. The YAML is edited as a round trip with
ruamel.yaml, assigning scalars only, so the editor's comments, key order,
quoting, flow style and indentation stay as they were (a file whose layout
ruamel.yaml would not keep is not touched at all, and said so). A field is
refused, with both texts, when its YAML changed since the edition was built,
or when another field of its record did (a list that shifted: the same place
may hold another record now); so is an edit that falls where the text shown
is not the text written (a date formatted from `2006-08`, a word made bold
by `**`: the edit of the words inside is applied, the markup kept). Typed into a Markdown (prose)
field, what Markdown would read as markup is escaped, so it shows as typed.
The file's line endings (CRLF or LF) stay. Comments, text outside the
fields and whatever cannot be placed stay for the editor, named.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import tempfile
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from briefing.review.compare import Finding, Group, Review, changed, quote, same

# Indentations tried, in this order, until one gives the file back byte for byte:
# (mapping, sequence, offset of the dash), as ruamel.yaml's `indent()` takes them.
INDENTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (2, 4, 4), (4, 4, 0), (3, 5, 3))
_WHITE = re.compile(r"[\s\u00a0\u202f]")
_PATH = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")
_INDEX = re.compile(r"\[\d+\]")
# What Markdown reads as markup: typed into a prose field, each is escaped with a
# backslash, so that the edition shows it as typed (and no link, image or HTML comes in).
# Parentheses are markup only after `]`, which is escaped: "(2021)" stays as typed.
MARKDOWN = frozenset("*_[]<>\\#`|")


@dataclass
class Outcome:
    applied: list[Finding] = field(default_factory=list)
    left: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # the YAML files written


def apply(review: Review, *, tracked: bool) -> Outcome:
    """Write the returned texts (pending tracked changes too, with `tracked`)
    into the YAML; what is not written is in `left`, placed."""
    outcome = Outcome()
    by_address: dict[str, list[Group]] = {}
    for group in review.groups:
        by_address.setdefault(group.address, []).append(group)
    edits: dict[str, list[tuple[Group, str, Finding]]] = {}  # file -> (group, new text, at)
    for address, groups in by_address.items():
        wanted = [(g, g.tracked if tracked else g.returned) for g in groups
                  if g.returned is not None]
        wanted = [(g, text) for g, text in wanted if text is not None
                  and same(text) != same(g.built)]
        if not wanted:
            continue
        at = review.at(address)
        if len({same(text) for _, text in wanted}) > 1:
            outcome.left.append(_left(at, "not applied: the field was changed differently in "
                                      "its places in the document: " + "; ".join(
                                          quote(text) for _, text in wanted)))
            continue
        group, text = wanted[0]
        if any(g.changed_since for g in groups):
            now = "is no longer there" if group.now is None else f"reads {quote(group.now)}"
            outcome.left.append(_left(at, f"not applied: the YAML changed since the edition "
                                      f"was built: built as {quote(group.built)}, the YAML "
                                      f"now {now}; the official wrote {quote(text)}",
                                      (group.built, text)))
            continue
        sibling = _record_changed(review, group)
        if sibling is not None:
            now = "is no longer there" if sibling.now is None else f"reads {quote(sibling.now)}"
            outcome.left.append(_left(at, f"not applied: the record {_record(group.path)} "
                                      "changed since the edition was built (its list moved, or "
                                      f"it was edited): {sibling.path} was built as "
                                      f"{quote(sibling.built)}, the YAML now {now}; the "
                                      f"official wrote {quote(text)}", (group.built, text)))
            continue
        if review.places.get(address, ("",))[0] != group.file:  # the map names no loaded file
            outcome.left.append(_left(at, "not applied: the returned file names a field this "
                                      f"project did not load; the official wrote {quote(text)}"))
            continue
        edits.setdefault(group.file, []).append((group, text, at))
    for file, wanted in sorted(edits.items()):
        _apply_file(review.root, file, wanted, outcome, review.prose)
    applied = {(f.path, f.line, f.col, f.field) for f in outcome.applied}
    refused = {(f.path, f.line, f.col, f.field) for f in outcome.left}
    for item in review.findings:  # the rest of the review stays for the editor
        place = (item.path, item.line, item.col, item.field)
        if item.kind in ("changed", "conflict") and (place in applied or place in refused):
            continue  # said by the line that applied it, or by the one that refused it
        if item.kind in ("insertion", "deletion") and tracked and place in applied | refused:
            continue
        outcome.left.append(item)
    outcome.left.sort()
    return outcome


def _record(path: str) -> str:
    """The record a field belongs to: its path up to its last list index
    (`sections[0].tables[0].rows[0]`); "" for a field in no list."""
    found = list(_INDEX.finditer(path))
    return path[:found[-1].end()] if found else ""


def _record_changed(review: Review, group: Group) -> Group | None:
    """Another marked field of the same record (or the list item itself) whose
    YAML changed since the edition was built: the record may be another one now."""
    record = _record(group.path)
    if not record:
        return None
    for other in review.groups:
        if other.address == group.address or other.file != group.file:
            continue
        if (other.path == record or other.path.startswith((record + ".", record + "["))) \
                and other.changed_since:
            return other
    return None


def _left(at: Finding, message: str, detail: tuple[str, str] | None = None) -> Finding:
    return Finding(at.path, at.line, at.col, at.order, at.field, message, "left", detail)


def _apply_file(root: Path, file: str, wanted: list[tuple[Group, str, Finding]],
                outcome: Outcome, prose: set[str] | frozenset[str] = frozenset()) -> None:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.scalarstring import ScalarString

    path = root / file
    content = (root / "content").resolve()
    if path.is_symlink() or not path.resolve().is_relative_to(content):
        for _, new, at in wanted:  # a content file the loader read, written in place only
            outcome.left.append(_left(at, f"not applied: {file} is not a file of content/ "
                                      f"Briefing writes; the official wrote {quote(new)}"))
        return
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        for _, _new, at in wanted:
            outcome.left.append(_left(at, f"not applied: {file} cannot be read ({err})"))
        return
    # The file's line endings, written back as they are: all CRLF or all LF.
    newline = "\r\n" if text.count("\r\n") and text.count("\r\n") == text.count("\n") \
        else "\n"
    text = text.replace("\r\n", "\n") if newline == "\r\n" else text
    if "\r" in text:
        for _, new, at in wanted:
            outcome.left.append(_left(at, f"not applied: {file} mixes line endings (CRLF and "
                                      f"LF), so it is left untouched; the official wrote "
                                      f"{quote(new)}"))
        return
    yaml = None
    for mapping, sequence, offset in INDENTS:
        candidate = _yaml(YAML, mapping, sequence, offset)
        try:
            if _dump(candidate, candidate.load(text)) == text:
                yaml = candidate
                break
        except YAMLError:
            break
    if yaml is None:
        for _, new, at in wanted:
            outcome.left.append(_left(at, f"not applied: ruamel.yaml would not write {file} "
                                      "back as it is written (its layout), so it is left "
                                      f"untouched; the official wrote {quote(new)}"))
        return
    data = yaml.load(text)
    done = []
    for group, new, at in wanted:
        parent, key = _parent(data, group.path)
        old = None if parent is None else _get(parent, key)
        if not isinstance(old, str):
            outcome.left.append(_left(at, f"not applied: {group.path} is not a text in the "
                                      f"YAML; the official wrote {quote(new)}"))
            continue
        written = transfer(group.built, new, str(old), markdown=group.address in prose)
        if written is None:
            outcome.left.append(_left(at, "not applied: the edit falls where the text shown is "
                                      "not the text written in the YAML (formatted, or "
                                      f"marked up): {changed(group.built, new)}"))
            continue
        parent[key] = _styled(old, written) if isinstance(old, ScalarString) else written
        done.append(Finding(at.path, at.line, at.col, at.order, at.field,
                            f"applied: {changed(group.built, new)}", "applied",
                            (group.built, new)))
    if not done:
        return
    _write(path, _dump(yaml, data).replace("\n", newline))
    outcome.applied += done
    outcome.files.append(file)


def _styled(old: Any, text: str) -> Any:
    """`text` in the style of the scalar it replaces: quoted as it was, a block
    as it was; a folded block folded again at the width its lines had."""
    from ruamel.yaml.scalarstring import FoldedScalarString

    new = type(old)(text)
    if getattr(old, "comment", None) is not None:  # a comment after `>` or `|`
        new.comment = old.comment
    if isinstance(old, FoldedScalarString) and getattr(old, "fold_pos", None):
        new.fold_pos = _folds(text, _width(str(old), old.fold_pos))
    return new


def _width(text: str, folds: list[int]) -> int:
    """The longest line of a folded block as written (its folds are spaces)."""
    edges = [-1, *folds, len(text.rstrip("\n"))]
    return max(end - start - 1 for start, end in itertools.pairwise(edges))


def _folds(text: str, width: int) -> list[int]:
    """Where to fold `text` (at single spaces between words) so that no line is
    longer than `width` where a space allows it."""
    folds: list[int] = []
    start, previous = 0, None
    end = len(text.rstrip("\n"))
    for i in [*(i for i in range(1, end - 1) if text[i] == " " and not text[i - 1].isspace()
                and not text[i + 1].isspace()), end]:
        newline = text.rfind("\n", start, i)
        if newline >= 0:  # a paragraph break: its lines start afresh
            start, previous = newline + 1, None
        if i - start > width and previous is not None:
            folds.append(previous)
            start = previous + 1
        previous = i
    return folds


def _yaml(factory: Any, mapping: int, sequence: int, offset: int) -> Any:
    yaml = factory()  # round trip: comments, key order, quoting and flow style kept
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml: Any, data: Any) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _parent(data: Any, dotted: str) -> tuple[Any, str | int | None]:
    parts: list[str | int] = [int(index) if index else name
                              for index, name in _PATH.findall(dotted)]
    node = data
    for part in parts[:-1]:
        node = _get(node, part)
        if node is None:
            return None, None
    return (node, parts[-1]) if parts else (None, None)


def _get(node: Any, key: str | int) -> Any:
    try:
        return node[key]
    except (KeyError, IndexError, TypeError):
        return None


def transfer(built: str, new: str, source: str, *, markdown: bool = False) -> str | None:
    """`source` (the text the editor typed) with the edits that made `new` from
    `built` (the text the edition showed); None if an edit falls on text the
    edition shows differently from how it is typed (markup, formatting). With
    `markdown` (a prose field), what the edits bring in that Markdown reads as
    markup is escaped, so that it shows as the official typed it."""
    flat_built, flat_source = _flat(built), _flat(source)
    positions: dict[int, int] = {}  # built index -> source index, where they agree
    matcher = SequenceMatcher(None, flat_built, flat_source, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            positions[a + k] = b + k
    edits: list[tuple[int, int, str]] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, built, new, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        if i1 == i2:  # an insertion: after the character before it, else before the one after
            if i1 - 1 in positions:
                start = end = positions[i1 - 1] + 1
            elif i1 in positions or (i1 == 0 and 0 in positions):
                start = end = positions[i1]
            elif not built and not source.strip():
                start, end = 0, len(source)
            else:
                return None
        else:
            if any(k not in positions for k in range(i1, i2)):
                return None
            start, end = positions[i1], positions[i2 - 1] + 1
            if end - start != i2 - i1:
                return None
        edits.append((start, end, _typed(new[j1:j2], markdown=markdown)))
    for start, end, text in reversed(edits):
        source = source[:start] + text + source[end:]
    return source


def _flat(text: str) -> str:
    """White space of any kind as a plain space, a no-break hyphen as a hyphen:
    one character for one, so that positions stay the same."""
    return _WHITE.sub(" ", text).replace("\u2011", "-")


def _typed(text: str, *, markdown: bool = False) -> str:
    """Inserted text as an editor types it: no-break spaces and hyphens (the
    edition's typography puts them in) plain, soft hyphens out; in Markdown,
    markup characters escaped."""
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2011", "-") \
        .replace("\u00ad", "")
    return "".join("\\" + c if c in MARKDOWN else c for c in text) if markdown else text


def _write(path: Path, text: str) -> None:
    """Replace the file in one step, keeping its permissions."""
    mode = path.stat().st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
