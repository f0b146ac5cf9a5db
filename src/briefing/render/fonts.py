"""The project's fonts, and the check that they can show every character.

WeasyPrint only warns when a glyph is missing and quietly falls back to some
other font; here a character that the fonts in fonts/ cannot show fails the
build, placed at the content field that contains it.
"""

from __future__ import annotations

import hashlib
import io
import struct
from functools import cache
from pathlib import Path

from briefing.content.checks import texts
from briefing.content.model import Brief, Project
from briefing.content.yamlsource import dotted
from briefing.errors import Problem, Problems
from briefing.files import FONT_SUMS, FONTS, ProjectFiles, Unreadable, same_file

# Characters that are layout, not glyphs: line breaks and the like.
_INVISIBLE = {0x09, 0x0A, 0x0D, 0xAD, 0x200B, 0x200C, 0x200D}
MAX_FONT_BYTES = 64 * 2**20  # a font file larger than this is not one a brief needs


def glyph_problems(project: Project, languages: dict[str, list[str]]) -> list[Problem]:
    """Characters of the chosen editions (slug -> languages) the fonts cannot show."""
    files = project.files
    fonts = tuple(files.fonts())
    problems = Problems(files)
    if not fonts:
        problems.add(files.path(FONTS), 1, 1, "the project's fonts are not installed",
                     expected="the font files in fonts/: run `make build` once")
        return problems.items
    damaged = font_file_problems(files, fonts)
    if damaged:
        return damaged
    covered = coverage(fonts)
    for brief in project.briefs:
        for language in languages.get(brief.slug, []):
            for record in project.for_brief(brief.slug).records_of(brief):
                for path, text in texts(record):
                    shown = text.in_language(language)
                    for char in sorted(set(shown or "")):
                        if ord(char) not in covered and ord(char) not in _INVISIBLE:
                            file, line, col = project.where(record, path)
                            problems.add(file, line, col,
                                         f"character {char!r} (U+{ord(char):04X}) is not in the "
                                         f"project's fonts (brief `{brief.slug}`, language "
                                         f"`{language}`)", dotted(path),
                                         "characters that the fonts in fonts/ cover")
    return problems.items


def html_glyph_problems(html: str, project: Project, brief: Brief, language: str
                        ) -> list[Problem]:
    """Characters of an edition's rendered text the fonts cannot show, however
    they entered it: an entity in prose, a plain field (an e-mail address, a
    reference), a catalog's words, a template. The content check above names
    text fields; this one sees what the PDF will draw, and places each
    character where it was written: a content field, the catalog, a template."""
    import lxml.html

    files = project.files
    fonts = tuple(files.fonts())
    if not fonts:
        return []  # reported once, by glyph_problems
    covered = coverage(fonts)
    tree = lxml.html.document_fromstring(html)
    shown = "".join(tree.body.itertext()) + "".join(tree.head.xpath("./title//text()"))
    missing = sorted({char for char in shown
                      if ord(char) not in covered and ord(char) not in _INVISIBLE})
    problems = Problems(files)
    for char in missing:
        file, line, col = _written_at(char, files, project, brief, language)
        problems.add(file, line, col, f"character {char!r} (U+{ord(char):04X}) is not in the "
                     f"project's fonts (brief `{brief.slug}`, language `{language}`)",
                     expected="characters that the fonts in fonts/ cover")
    return problems.items


def _written_at(char: str, files: ProjectFiles, project: Project, brief: Brief,
                language: str) -> tuple[Path, int, int]:
    """Where `char` (or an entity naming it) was written, in the order an editor
    would look: the brief and its records, the edition's catalog, the templates."""
    records = [project.sources[id(record)].file for record in project.records_of(brief)]
    catalog = files.catalogs().get(language)
    templates = [files.path(name) for name in files.templates() if name.endswith(".j2")]
    needles = (char, f"&#{ord(char)};", f"&#x{ord(char):x};", f"&#x{ord(char):X};")
    for path in [*records, *([catalog] if catalog else []), *templates]:
        try:
            text = files.read(path).decode("utf-8")
        except (OSError, ValueError):
            continue
        hits = [index for needle in needles if (index := text.find(needle)) >= 0]
        if hits:
            index = min(hits)
            line = text.count("\n", 0, index) + 1
            return path, line, index - (text.rfind("\n", 0, index) + 1) + 1
    return project.sources[id(brief)].file, 1, 1


def font_file_problems(files: ProjectFiles, fonts: tuple[Path, ...]) -> list[Problem]:
    """Font files that are not what `make build` installed (fonts/SHA256SUMS
    lists their digests) or are not fonts at all: each a placed problem,
    before any of them is used."""
    listed = _listed_digests(files)
    problems = Problems(files)
    expected = "the font as installed: run `make build` to copy it again"
    for path in fonts:
        try:
            digest = files.digest(path, MAX_FONT_BYTES)
        except Unreadable as err:
            problems.add(path, 1, 1, f"the font file {err.why}", expected=err.expected)
            continue
        if listed.get(path.name, digest) != digest:
            problems.add(path, 1, 1, f"the font file is damaged: its SHA-256 is not the one "
                         f"{FONT_SUMS} lists", expected=expected)
        elif (why := _unusable(digest, files, path)) is not None:
            problems.add(path, 1, 1, f"the font file is not a usable font ({why})",
                         expected=expected)
    return problems.items


_USABLE: dict[str, str | None] = {}  # a font's SHA-256 -> why it is not usable, if it is not


def _unusable(digest: str, files: ProjectFiles, path: Path) -> str | None:
    """Why the font of this digest is not one that maps characters, or None;
    known once per process for the same bytes (validation and every render
    ask). What is remembered is filed under the digest of the bytes it was
    found in: a file changed since `digest` was taken is judged as it is now."""
    from fontTools.ttLib import TTFont, TTLibError

    if digest in _USABLE:
        return _USABLE[digest]
    try:
        data = files.read(path, MAX_FONT_BYTES)
    except Unreadable as err:  # gone or replaced since its digest was taken
        return f"it {err.why}"
    read = hashlib.sha256(data).hexdigest()
    try:
        usable = bool(TTFont(io.BytesIO(data), lazy=True).getBestCmap())
        _USABLE[read] = None if usable else "it maps no characters"
    except (TTLibError, AssertionError, KeyError, ValueError, struct.error) as err:
        _USABLE[read] = str(err)
    return _USABLE[read]


def _listed_digests(files: ProjectFiles) -> dict[str, str]:
    """fonts/SHA256SUMS as file name -> digest (no file: nothing listed)."""
    try:
        text = files.read(files.path(FONT_SUMS)).decode("utf-8", "replace")
    except Unreadable:
        return {}
    return {name.strip(): digest for digest, _, name in
            (line.partition("  ") for line in text.splitlines()) if name.strip()}


def coverage(fonts: tuple[Path, ...]) -> frozenset[int]:
    """Code points that every one of the font files has a glyph for: read
    once per process and state of the files (a font replaced while `serve`
    runs is read again)."""
    def stamp(path: Path) -> tuple[int, ...]:
        try:
            return same_file(path.stat())
        except OSError:
            return ()

    return _coverage(tuple((path, stamp(path)) for path in fonts))


@cache
def _coverage(fonts: tuple[tuple[Path, tuple[int, ...]], ...]) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # WeasyPrint's own dependency; only needed here

    return frozenset.intersection(*(frozenset(TTFont(str(path), lazy=True).getBestCmap())
                                    for path, _ in fonts))
