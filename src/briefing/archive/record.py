"""The edition's record as verify reads it, from bytes it cannot trust: the
build manifest (of the shape an edition's record has, within a size and a
nesting Python's parser survives) and the source and manifest attached to an
archived PDF, inflated through a cap, so that a compressed bomb costs neither
memory nor time, and the source tar read as a plain tar of regular files.
"""

from __future__ import annotations

import io
import json
import tarfile
import zlib
from pathlib import Path
from typing import Any

from briefing.archive.snapshot import MANIFEST, MANIFEST_LIMIT, SOURCE_LIMIT, SOURCE_TAR


def load_manifest(data: bytes) -> tuple[dict[str, Any] | None, str]:
    """A build manifest read from `data`, and if it cannot be one, why: not
    JSON, nested beyond what Python parses (say 100,000 levels), or of another
    shape than an edition's record (a list where a mapping belongs)."""
    if len(data) > MANIFEST_LIMIT:
        return None, f"larger than any build manifest ({MANIFEST_LIMIT >> 20} MiB)"
    try:
        manifest = json.loads(data)
    except RecursionError:
        return None, "nested too deeply to be a build manifest"
    except ValueError as err:
        return None, f"not JSON ({err})"
    why = _shape(manifest)
    return (None, why) if why else (manifest, "")


# The record's fields and their types; the environment's values are strings or
# mappings of strings (archive/provenance.py).
RECORD_TYPES = {"identifier": str, "slug": str, "date": str, "version": int, "reference": str,
                "title": str, "marking": str, "languages": list, "publisher": str}


def _shape(manifest: Any) -> str:
    """Why `manifest` is not shaped as an edition's record ("" if it is), naming
    the first field that is wrong."""
    if not isinstance(manifest, dict):
        return f"expected a mapping at the top, found {_kind(manifest)}"
    wanted = {"tool": str, "code_sha256": str, "edition": dict, "outputs": list,
              "source_sha256": dict, "environment": dict}
    for key, kind in wanted.items():
        if not isinstance(manifest.get(key), kind):
            return f"{key}: expected {_kind(kind())}, found {_kind(manifest.get(key))}"
    for key, kind in RECORD_TYPES.items():
        value = manifest["edition"].get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"edition.{key}: expected {_kind(kind())}, found {_kind(value)}"
    lists = {"edition.languages": manifest["edition"]["languages"],
             "outputs": manifest["outputs"]}
    for key, value in lists.items():
        if not all(isinstance(item, str) for item in value):
            return f"{key}: expected a list of strings"
    if not all(isinstance(name, str) and name == Path(name).name and name not in ("", ".", "..")
               for name in manifest["outputs"]):
        return "outputs: expected file names, without folders"
    for name, digest in manifest["source_sha256"].items():
        if not isinstance(digest, str) or name.startswith("/") or ".." in name.split("/"):
            return f"source_sha256: {name!r}: expected a path inside the source and its digest"
    for key, value in manifest["environment"].items():
        if not isinstance(value, str) and not (isinstance(value, dict) and all(
                isinstance(item, str) for item in value.values())):
            return f"environment.{key}: expected a string or a mapping of strings"
    return ""


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", int: "a number",
            float: "a number", bool: "true or false", type(None): "nothing"}.get(
                type(value), type(value).__name__)


def attachments_of(path: Path) -> dict[str, bytes]:
    """The source and the manifest attached to an archived PDF, each inflated
    through its cap (ValueError beyond it); other attachments are not read."""
    import pikepdf

    limits = {SOURCE_TAR: SOURCE_LIMIT, MANIFEST: MANIFEST_LIMIT}
    with pikepdf.open(path) as pdf:
        return {name: _inflated(pikepdf, name, spec.get_file().obj, limits[name])
                for name, spec in pdf.attachments.items() if name in limits}


def _inflated(pikepdf: Any, name: str, stream: Any, limit: int) -> bytes:
    """An embedded file's bytes, at most `limit` of them: stored plain or with
    one FlateDecode (as every PDF Briefing writes), inflated piece by piece,
    first only counted, so a compressed bomb is refused having held no more
    than a piece of it."""
    filters = stream.get("/Filter")
    names = [] if filters is None else [filters] if isinstance(filters, pikepdf.Name) \
        else list(filters)
    raw = stream.read_raw_bytes()
    if not names:
        if len(raw) > limit:
            raise ValueError(f"its attachment {name} is larger than {limit >> 20} MiB")
        return raw
    if names != [pikepdf.Name.FlateDecode] or stream.get("/DecodeParms") is not None:
        raise ValueError(f"its attachment {name} is encoded in a way Briefing never writes "
                         f"({', '.join(map(str, names))})")
    _inflate(raw, limit, name, keep=False)
    return _inflate(raw, limit, name, keep=True)


def _inflate(raw: bytes, limit: int, name: str, keep: bool) -> bytes:
    """Inflate `raw` a MiB at a time, refusing it once it passes `limit`."""
    inflater, pieces, size = zlib.decompressobj(), [], 0
    try:
        while raw or not inflater.eof:
            piece = inflater.decompress(raw, 1 << 20)
            raw = inflater.unconsumed_tail
            size += len(piece)
            if size > limit:
                raise ValueError(f"its attachment {name} inflates to more than "
                                 f"{limit >> 20} MiB: not read (a compressed bomb?)")
            if keep:
                pieces.append(piece)
            if not piece and not raw:
                break
    except zlib.error as err:
        raise ValueError(f"its attachment {name} is damaged ({err})") from None
    return b"".join(pieces)


def untar(data: bytes) -> dict[str, bytes]:
    """The source tar's files: a plain tar (never decompressed), its regular
    members only (a sparse one, which could claim any size, makes it unreadable)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            members = tar.getmembers()
            if any(member.issparse() for member in members):
                return {}
            return {m.name: tar.extractfile(m).read() for m in members if m.isfile()}
    except tarfile.TarError:
        return {}
