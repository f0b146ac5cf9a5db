"""The register: archive/register.csv, the archive's evidence of every version.

One row per version, appended when it is published and never rewritten: the
version's record as its bag states it, the SHA-256 of its tag manifest
(`tagmanifest-sha256.txt`, which holds the digests of bag-info.txt and of the
payload manifests, so of every byte of the version), the SHA-256 of the row
before it as written (the first row: of the header line), and, when the
organisation has a seal key, the row sealed with it (archive/seal.py). So a
version deleted, renamed or changed in any file, bag-info.txt included, no
longer matches its row, even with every bag manifest recomputed; a row changed
or removed breaks the chain after it; and with a key a rewritten register
lacks seals only the key can make.

Rows are written by the csv module, one physical line each (every value is
cleaned of line breaks, archive/bag.py), and read line by line, so each
finding names its line.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefing.archive import bag
from briefing.archive.seal import Sealer, read_data_seal, seal_data
from briefing.archive.snapshot import SOURCE
from briefing.orchestration.output import write_atomically

REGISTER = "register.csv"
TAG_MANIFEST = "tagmanifest-sha256.txt"
LEGACY_COLUMNS = ("date", "slug", "version", "reference", "title", "languages", "marking",
                  "seal", "files", "supersedes")
# A register begun before versions recorded their changes keeps this header and
# its rows their 13 columns (rewriting it would break its chain); a register
# begun since has the `changes` column: the number of changes the version
# records against the one before (data/changes.json), empty for a first version.
CHAINED_COLUMNS = (*LEGACY_COLUMNS, "tag_manifest_sha256", "previous_row_sha256", "row_seal")
COLUMNS = (*LEGACY_COLUMNS, "changes", "tag_manifest_sha256", "previous_row_sha256",
           "row_seal")
SEALED = len(COLUMNS) - 1  # a row's seal covers every column before it
UNSEALED_EDITION = "unsealed"
MAX_BYTES = 256 << 20  # far beyond any real register; a bigger file is not read


@dataclass(frozen=True)
class Row:
    """One version's row, as read from register.csv."""

    line: int  # its line in register.csv (the header is line 1)
    values: dict[str, str]
    columns: tuple[str, ...] = COLUMNS  # its register's: COLUMNS or CHAINED_COLUMNS

    @property
    def identifier(self) -> str:
        return f"{self.values['date']}_{self.values['slug']}_v{self.values['version']}"

    def sealed_part(self) -> bytes:
        """The bytes its seal holds: the row without its seal, as the csv module
        writes it."""
        return encode([self.values[name] for name in self.columns[:-1]])


@dataclass(frozen=True)
class Register:
    rows: list[Row]
    problems: list[str]  # `line N: what is wrong`, in order
    head: str  # SHA-256 of the last line: keep it elsewhere to detect a cut tail


def encode(values: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue().encode("utf-8")


HEADER = encode(COLUMNS)
HEADERS = {HEADER: COLUMNS, encode(CHAINED_COLUMNS): CHAINED_COLUMNS}


def described(edition: Path, name: str, columns: tuple[str, ...] = COLUMNS) -> list[str]:
    """The row's record columns for a bag at `edition` (published as `name`),
    from the bag itself: everything before `previous_row_sha256`, of `columns`."""
    values = _described(edition, name)
    return [values[column] for column in columns[:columns.index("previous_row_sha256")]]


def _described(edition: Path, name: str) -> dict[str, str]:
    try:
        opened = bag.open_bag(edition)
        tag_manifest = hashlib.sha256((edition / TAG_MANIFEST).read_bytes()).hexdigest()
    except Exception:  # a damaged bag still gets a row; the audit says what is wrong
        parts = name.rsplit("_", 2)
        return dict(zip(COLUMNS, [parts[0], parts[1] if len(parts) > 1 else "",
                                  parts[2].removeprefix("v") if len(parts) > 2 else "",
                                  *[""] * 9], strict=False))
    info = opened.info
    files = sorted(f"{path.removeprefix('data/')}={digests.get('sha256', '')}"
                   for path, digests in opened.payload_entries().items()
                   if not path.startswith(f"data/{SOURCE}/"))
    seal = bag.field(info, "Seal")
    values = [bag.field(info, "Brief-Date"), bag.field(info, "Brief-Slug"),
              bag.field(info, "Edition-Version"), bag.field(info, "Brief-Reference"),
              bag.field(info, "External-Description"), bag.field(info, "Languages"),
              bag.field(info, "Marking"),
              seal.partition(" (")[0] if seal.startswith("PAdES") else UNSEALED_EDITION,
              " ".join(files), bag.field(info, "Supersedes"), _changes(edition), tag_manifest]
    return dict(zip(COLUMNS, [bag.clean(value) for value in values], strict=False))


def _changes(edition: Path) -> str:
    """The number of changes the version records (docs/changes.md), or ""."""
    from briefing.changes.report import CHANGES_JSON, recorded_count

    path = edition / "data" / CHANGES_JSON
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_BYTES:
            return ""
        return recorded_count(path.read_bytes())
    except OSError:
        return ""


def append(archive: Path, edition: Path, name: str, sealer: Sealer | None) -> None:
    """Add the version at `edition` (to be published as `name`) as the register's
    last row, chained to the row before and sealed if there is a key. The file
    is replaced whole, its old bytes unchanged: it is never left half written."""
    path = archive / REGISTER
    old = path.read_bytes() if path.exists() else HEADER
    write_atomically(path, _appended(old, edition, name, sealer))


def _appended(old: bytes, edition: Path, name: str, sealer: Sealer | None) -> bytes:
    """`old` (a register's bytes) with the version's row after its last line,
    of the columns its header names."""
    if not old.endswith(b"\n"):
        old += b"\n"
    columns = HEADERS.get(old[:old.find(b"\n") + 1], COLUMNS)
    last = old[old.rstrip(b"\n").rfind(b"\n") + 1:]
    values = [*described(edition, name, columns), hashlib.sha256(last).hexdigest()]
    seal = seal_data(sealer, encode(values)) if sealer else ""
    return old + encode([*values, seal])


def restart(archive: Path, editions: list[Path], sealer: Sealer | None) -> None:
    """A register of the form before the chain (made afresh from the bags at
    every publish, so no evidence) becomes a chain of the editions as they are
    now, in the order `editions` gives; replaced in one step."""
    data = HEADER
    for edition in editions:
        data = _appended(data, edition, edition.name, sealer)
    write_atomically(archive / REGISTER, data)


def is_legacy(archive: Path) -> bool:
    try:
        with (archive / REGISTER).open("rb") as handle:
            return handle.readline() == encode(LEGACY_COLUMNS)
    except OSError:
        return False


def read(archive: Path) -> Register:
    """register.csv, its chain checked line by line."""
    path = archive / REGISTER
    try:
        if path.is_symlink() or not path.is_file():
            raise FileNotFoundError
        if path.stat().st_size > MAX_BYTES:
            return Register([], [f"line 1: the file is larger than any register "
                                 f"({MAX_BYTES >> 20} MiB); not read"], "")
        data = path.read_bytes()
    except OSError:
        return Register([], ["missing (or not a file)"], "")
    *ended, tail = data.split(b"\n")
    lines = [line + b"\n" for line in ended] + ([tail] if tail else [])  # tail: no line end
    if not lines or lines[0] not in HEADERS:
        legacy = bool(lines) and lines[0] == encode(LEGACY_COLUMNS)
        return Register([], ["line 1: " + (
            "has the form before the chain (no digests): the next publish starts the chain"
            if legacy else f"is not a register's header (expected {','.join(COLUMNS)})")],
            "")
    rows, problems, previous = [], [], lines[0]
    columns = HEADERS[lines[0]]
    for number, raw in enumerate(lines[1:], start=2):
        problem = _problem(raw, previous, columns)
        if problem:
            problems.append(f"line {number}: {problem}")
        else:
            values = next(csv.reader([raw.decode("utf-8")]))
            rows.append(Row(number, dict(zip(columns, values, strict=True)), columns))
        previous = raw
    return Register(rows, problems, hashlib.sha256(previous).hexdigest())


def _problem(raw: bytes, previous: bytes, columns: tuple[str, ...]) -> str:
    """What is wrong with one line of the register, given the line before it."""
    if not raw.endswith(b"\n"):
        return "the last line has no line end: the register was cut or edited"
    try:
        parsed = list(csv.reader([raw.decode("utf-8")]))
    except (UnicodeDecodeError, csv.Error) as err:
        return f"is not a CSV row in UTF-8 ({err})"
    if len(parsed) != 1 or len(parsed[0]) != len(columns):
        return f"has {len(parsed[0]) if parsed else 0} fields (expected {len(columns)})"
    if parsed[0][columns.index("previous_row_sha256")] != hashlib.sha256(previous).hexdigest():
        return ("previous_row_sha256 is not the SHA-256 of the line before: a row before "
                "it was changed, removed or inserted, or this one was")
    return ""


def seal_problems(register: Register, sealed_editions: set[str], trust: list[Any]
                  ) -> list[str]:
    """Every row's seal checked against `trust`; a row must be sealed if its
    edition is (`sealed_editions`) or if any row before it was: a register is
    not unsealed half way, so rewritten rows cannot simply drop their seals."""
    problems, seen_seal = [], False
    for row in register.rows:
        seal = row.values["row_seal"]
        if not seal:
            if seen_seal or row.identifier in sealed_editions:
                problems.append(f"line {row.line}: the row of {row.identifier} is not "
                                "sealed, " + ("though its edition is" if row.identifier in
                                              sealed_editions else "though rows before it "
                                              "are") + ": the register was rewritten")
            continue
        seen_seal = True
        checked = read_data_seal(seal, row.sealed_part(), trust)
        if checked.problems:
            problems.append(f"line {row.line}: the row's seal (by {checked.signer}): "
                            + "; ".join(checked.problems))
    return problems
