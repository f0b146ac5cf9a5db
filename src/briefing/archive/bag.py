"""An edition as a BagIt 1.0 bag (RFC 8493), written and read by the Library
of Congress's `bagit` package.

bagit-python 1.9 writes `BagIt-Version: 0.97` whatever it is asked, so the
bag is made with it and then declared 1.0, which it is in every detail the
RFC sets (UTF-8 tag files without a byte-order mark, payload manifests and
tag manifests in SHA-256 and SHA-512, `Payload-Oxum`, `Bagging-Date` as
YYYY-MM-DD), and its tag manifests are made again over the new bagit.txt.

Every value written into bag-info.txt goes through `clean` first, and bag-info
is read back only with bagit's own reader, so that what was written is what
is read: no value can carry a line break (nor the separators some readers take
for one) and so start a field of its own. bagit-python itself is such a
reader: it reads tag files through `codecs`, which splits lines where
str.splitlines does (U+2028, U+2029, U+0085, VT, FF, FS, GS, RS), while its
writer strips only CR and LF.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path
from typing import Any

VERSION = "1.0"
ENCODING = "UTF-8"
CHECKSUMS = ("sha256", "sha512")  # RFC 8493 2.4: both supported, SHA-512 by default
BAGIT_TXT = f"BagIt-Version: {VERSION}\nTag-File-Character-Encoding: {ENCODING}\n"
INFO = "bag-info.txt"
# The tag files of an edition, and nothing else beside data/.
TAG_FILES = ("bagit.txt", INFO, *(f"manifest-{a}.txt" for a in CHECKSUMS),
             *(f"tagmanifest-{a}.txt" for a in CHECKSUMS))

# Controls (C0, DEL, C1 with NEL U+0085) and the line and paragraph separators.
_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# bagit logs a failure (a full disk) with its traceback before raising it; the
# error publish reports says it in one line.
logging.getLogger("bagit").addHandler(logging.NullHandler())


def clean(value: str) -> str:
    """A value as bag-info.txt, register.csv and the build manifest hold it: every
    control character and line or paragraph separator (CR, LF, U+0085, U+2028,
    U+2029) becomes a space, and the ends are trimmed (as bagit trims them on
    reading), so the value reads back exactly as written."""
    return _BREAKING.sub(" ", value).strip()


def make(folder: Path, fields: dict[str, str | list[str]]) -> None:
    """Turn `folder` (its files become the payload, under data/) into a BagIt
    1.0 bag with `fields` in bag-info.txt. Payload-Oxum is counted by bagit."""
    import bagit

    info = {label: [clean(v) for v in value] if isinstance(value, list) else clean(value)
            for label, value in fields.items()}
    bagit.make_bag(str(folder), info, checksums=list(CHECKSUMS))
    (folder / "bagit.txt").write_bytes(BAGIT_TXT.encode())
    bagit.Bag(str(folder)).save()  # bag-info.txt and the tag manifests, over bagit.txt 1.0


def open_bag(edition: Path) -> Any:
    """The edition as bagit reads it (raises bagit.BagError if it cannot, or
    if the folder holds what no reader should open, see `unsafe`)."""
    import bagit

    found = unsafe(edition)
    if found:
        raise bagit.BagError(f"holds what a bag never does, not read: {', '.join(found[:5])}")
    return bagit.Bag(str(edition))


TAG_LIMIT = 64 << 20  # a tag file beyond this is no edition's (theirs are KiB)


def unsafe(edition: Path) -> list[str]:
    """What in a folder (a copy or a transfer, perhaps) no reader should open:
    links, devices, pipes and sockets, which could read another file or
    block or stream for ever, and tag files too large to be an edition's.
    A bag holds files and folders only; nothing here is followed or opened."""
    found = []
    for parent, folders, files in os.walk(edition):  # links to folders not entered
        for name in [*folders, *files]:
            path = Path(parent, name)
            mode = path.lstat().st_mode
            where = path.relative_to(edition).as_posix()
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                found.append(f"{where} (a link, device or pipe)")
            elif where in TAG_FILES and path.lstat().st_size > TAG_LIMIT:
                found.append(f"{where} (larger than {TAG_LIMIT >> 20} MiB)")
    return sorted(found)


def info(edition: Path) -> dict[str, str | list[str]]:
    """bag-info.txt, as bagit reads it (a label given twice has a list)."""
    import bagit

    try:
        return open_bag(edition).info
    except (bagit.BagError, OSError, UnicodeDecodeError):
        return {}


def field(found: dict[str, str | list[str]], label: str) -> str:
    """One field's value ("" if absent; a repeated one's first)."""
    value = found.get(label, "")
    return value[0] if isinstance(value, list) else value


def values(found: dict[str, str | list[str]], label: str) -> list[str]:
    """Every value of a field that may be given more than once."""
    value = found.get(label, [])
    return value if isinstance(value, list) else [value]
