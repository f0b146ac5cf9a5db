"""Knowing what need not be rebuilt, without reading any YAML.

Each output is recorded in output/.cache/manifest.json with a fingerprint of
everything it was made from: the brief's own files (its YAML, the partners it
names, the publisher, the language catalogs), every template and font, the
lock file and Briefing's own code, and the options that shape it. An output
whose fingerprint and file (size and modification time) are unchanged is
skipped. This module imports nothing heavy, so a build with nothing to do
answers at once.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from briefing.files import ARCHIVE, CACHE, ProjectFiles, Unreadable, cached, keep_cached, user_cache
from briefing.orchestration.output import write_atomically

VERSION = 1


@dataclass
class Cache:
    files: ProjectFiles
    entries: dict[str, dict[str, object]] = field(default_factory=dict)
    briefs: dict[str, list[str]] = field(default_factory=dict)
    clean: str | None = None  # the project's digest after a build with no problem at all
    _hashes: dict[str, str] = field(default_factory=dict)
    _dirty: bool = False

    @property
    def root(self) -> Path:
        return self.files.root

    @classmethod
    def open(cls, where: Path | ProjectFiles) -> Cache:
        """The manifest as last saved; a missing, unreadable or damaged one is
        an empty cache (everything is rebuilt), never an error."""
        files = ProjectFiles.of(where)
        try:
            data = json.loads(files.read(files.path(CACHE), limit=64 << 20))
        except (Unreadable, ValueError):
            return cls(files)
        if not _well_formed(data):
            return cls(files)
        return cls(files, data["outputs"], data["briefs"],
                   data.get("clean") if isinstance(data.get("clean"), str) else None)

    def save(self) -> str | None:
        """Write the manifest; on failure (a full disk) say why, and the next
        build simply rebuilds what it cannot prove fresh."""
        if not self._dirty:
            return None
        data = {"version": VERSION, "briefs": self.briefs, "outputs": self.entries,
                "clean": self.clean}
        try:
            write_atomically(self.root / CACHE,
                             json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))
        except OSError as err:
            return f"could not save the build cache {CACHE}: {err.strerror or err}"
        return None

    # -- the whole project ----------------------------------------------------------

    def project_digest(self) -> str:
        """Every input file of the project, brief or not, and Briefing's code:
        what a build's problems (and so its exit code) depend on."""
        digest = hashlib.sha256(code_digest().encode())
        for name in self.files.inputs():
            digest.update(f"\0{name}\0{self._hash(name)}".encode())
        # The published versions: a brief's change annex compares with one of
        # them (changes/annex.py), so a version added means looking again.
        archive = self.root / ARCHIVE
        if archive.is_dir():
            digest.update("\0".join(["\0archive", *sorted(
                path.name for path in archive.iterdir() if path.is_dir())]).encode())
        return digest.hexdigest()

    def mark_clean(self, clean: str | None) -> None:
        """`clean`: the project's digest as a build read it, when that build
        found no problem at all; None when it did."""
        if clean != self.clean:
            self.clean, self._dirty = clean, True

    def keep_only(self, folder: str, names: set[str]) -> None:
        """Forget the outputs under `folder` (output/<slug>) not among `names`."""
        for path in [p for p in self.entries if p.startswith(f"{folder}/")
                     and p[len(folder) + 1:] not in names]:
            del self.entries[path]
            self._dirty = True

    def forget(self, slug: str) -> None:
        """A brief that no longer exists, and its outputs."""
        known = self.briefs.pop(slug, None)
        if known is not None:
            for path in known["outputs"].values():
                self.entries.pop(path, None)
            self._dirty = True

    # -- fingerprints ---------------------------------------------------------------

    def fingerprint(self, files: Iterable[str], options: str) -> str:
        """What an output is made from: shared inputs, the brief's files, options."""
        digest = hashlib.sha256(self._shared().encode())
        for name in sorted(files):
            digest.update(f"\0{name}\0{self._hash(name)}".encode())
        digest.update(f"\0{options}".encode())
        return digest.hexdigest()

    def _shared(self) -> str:
        if "\0shared" not in self._hashes:
            digest = hashlib.sha256(code_digest().encode())
            for name in self.files.shared_inputs():
                digest.update(f"\0{name}\0{self._hash(name)}".encode())
            self._hashes["\0shared"] = digest.hexdigest()
        return self._hashes["\0shared"]

    def _hash(self, name: str) -> str:
        if name not in self._hashes:
            try:
                self._hashes[name] = self.files.digest(self.files.path(name), limit=1 << 30)
            except Unreadable:
                self._hashes[name] = "unreadable"
        return self._hashes[name]

    # -- outputs --------------------------------------------------------------------

    def fresh(self, output: str, fingerprint: str) -> bool:
        """The output exists, untouched since we wrote it, from the same inputs."""
        entry = self.entries.get(output)
        if not entry or entry.get("inputs") != fingerprint:
            return False
        try:
            stat = (self.root / output).stat()
        except OSError:
            return False
        return [stat.st_size, stat.st_mtime_ns] == entry.get("stat")

    def record(self, output: str, fingerprint: str) -> None:
        stat = (self.root / output).stat()
        self.entries[output] = {"inputs": fingerprint, "stat": [stat.st_size, stat.st_mtime_ns]}
        self._dirty = True

    def remember(self, slug: str, files: Iterable[str], editions: Iterable[tuple[str, str]],
                 outputs: dict[str, str]) -> None:
        """A brief's input files, its editions (language, kind) and its outputs
        by `options_key` without the fallback part."""
        entry = {"files": sorted(files), "editions": sorted(list(e) for e in editions),
                 "outputs": dict(sorted(outputs.items()))}
        if self.briefs.get(slug) != entry:
            self.briefs[slug] = entry
            self._dirty = True

    def up_to_date(self, slugs: Iterable[str], languages: Iterable[str],
                   formats: Iterable[str], fallback: bool) -> list[str] | None:
        """The outputs asked for, if every one of them is fresh; else None."""
        languages = set(languages)
        fresh = []
        for slug in slugs:
            known = self.briefs.get(slug)
            if not known:
                return None
            for language, kind in known["editions"]:
                if languages and language not in languages:
                    continue
                for fmt in formats:
                    path = known["outputs"].get(f"{language}/{kind}/{fmt}")
                    key = options_key(language, kind, fmt, fallback)
                    if path is None or not self.fresh(path, self.fingerprint(known["files"], key)):
                        return None
                    fresh.append(path)
        return fresh or None


def _well_formed(data: object) -> bool:
    """Whether a loaded manifest has the shape this version writes."""
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return False
    outputs, briefs = data.get("outputs"), data.get("briefs")
    if not isinstance(outputs, dict) or not isinstance(briefs, dict):
        return False
    for entry in outputs.values():
        stat = entry.get("stat") if isinstance(entry, dict) else None
        if not (isinstance(stat, list) and len(stat) == 2
                and all(isinstance(n, int) for n in stat)
                and isinstance(entry.get("inputs"), str)):
            return False
    for entry in briefs.values():
        if not (isinstance(entry, dict) and isinstance(entry.get("files"), list)
                and all(isinstance(f, str) for f in entry["files"])
                and isinstance(entry.get("editions"), list)
                and all(isinstance(e, list) and len(e) == 2 for e in entry["editions"])
                and isinstance(entry.get("outputs"), dict)
                and all(isinstance(o, str) for o in entry["outputs"].values())):
            return False
    return True


# -- checks that passed, for inputs that did not change ------------------------------------

# The newest verdicts kept, over every project and checkout of this user: empty
# files, so many; a verdict evicted while still wanted would only be asked again,
# but a test suite (or two checkouts) makes hundreds in minutes.
VERDICTS = "verdicts"  # the kind of user cache a check that found nothing is kept in
KEPT_VERDICTS = 4096


def verdicts() -> Path:
    """Where checks that found nothing are remembered: the user's cache folder
    (`$XDG_CACHE_HOME/briefing/verdicts`, else `~/.cache/briefing/verdicts`),
    never the project, so that `check` writes nothing inside it. A verdict's
    name is the digest of everything it looked at, so projects can share it."""
    return user_cache(VERDICTS)


# The libraries whose verdicts are remembered, by their installed versions: an
# upgrade in the environment (without a new lock file) asks them again.
CHECKED_BY = ("weasyprint", "tinycss2", "cssselect2", "pydyf", "fonttools", "python-docx",
              "lxml", "pyphen")
# The system libraries WeasyPrint sets text with, and how each says its version
# (a new Pango or HarfBuzz may break lines elsewhere): the same names
# WeasyPrint loads them by on Linux.
SYSTEM_LIBRARIES = (("libpango-1.0.so.0", "pango_version_string"),
                    ("libharfbuzz.so.0", "hb_version_string"),
                    ("libfontconfig.so.1", "FcGetVersion"))


@functools.cache
def system_versions() -> str:
    """The Python and the text libraries this process would lay pages out with
    (asked through ctypes: `check` imports no renderer)."""
    import ctypes
    import sys

    said = [sys.version.split()[0]]
    for name, function in SYSTEM_LIBRARIES:
        try:
            call = getattr(ctypes.CDLL(name), function)
            call.restype = ctypes.c_char_p if function.endswith("_string") else ctypes.c_int
            said.append(f"{name} {call()!r}")
        except (OSError, AttributeError):
            said.append(f"{name} missing")
    return " ".join(said)


def shared_digest(files: ProjectFiles, what: str) -> str:
    """A key for the check `what` over the shared inputs (templates, fonts, the
    lock file), Briefing's code and the checking libraries' installed
    versions: the same key, the same verdict."""
    versions = []
    for name in CHECKED_BY:
        try:
            versions.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} missing")
    digest = hashlib.sha256(f"{what}\0{code_digest()}\0{' '.join(versions)}\0"
                            f"{system_versions()}".encode())
    for name in files.shared_inputs():
        try:
            found = files.digest(files.path(name), limit=64 << 20)
        except Unreadable as err:
            found = f"unreadable: {err.why}"
        digest.update(f"\0{name}\0{found}".encode())
    return digest.hexdigest()


def passed_before(check: str, key: str) -> bool:
    return cached(VERDICTS, f"{check}-{key}") is not None


def remember_passed(check: str, key: str) -> None:
    """Note that `check` found nothing for `key`, keeping only the newest
    verdicts; never an error (a cache that cannot be written to only means
    the check runs again next time)."""
    keep_cached(VERDICTS, f"{check}-{key}", b"", KEPT_VERDICTS)


@functools.cache
def code_digest() -> str:
    """SHA-256 over Briefing's own source files: what a build was made by
    (read once: a running process goes on with the code it loaded)."""
    code = Path(__file__).resolve().parent.parent  # the whole briefing package
    digest = hashlib.sha256()
    for path in sorted(code.rglob("*.py")):
        digest.update(path.relative_to(code).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def options_key(language: str, kind: str, fmt: str, fallback: bool) -> str:
    return f"{language}/{kind}/{fmt}/fallback={fallback}"
