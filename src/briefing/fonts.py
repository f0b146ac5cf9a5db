"""The project's fonts, and the check that they can show every character.

WeasyPrint only warns when a glyph is missing and quietly falls back to some
other font; here a character that the fonts in fonts/ cannot show fails the
build, placed at the content field that contains it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from briefing.errors import Problem, Problems
from briefing.load import texts
from briefing.model import Project
from briefing.yamlsource import dotted

FONTS = "fonts"
# Characters that are layout, not glyphs: line breaks and the like.
_INVISIBLE = {0x09, 0x0A, 0x0D, 0xAD, 0x200B, 0x200C, 0x200D}


def glyph_problems(project: Project, root: Path, languages: dict[str, list[str]]) -> list[Problem]:
    """Characters of the chosen editions (slug -> languages) the fonts cannot show."""
    covered = coverage(root / FONTS)
    problems = Problems(root)
    for brief in project.briefs:
        for language in languages.get(brief.slug, []):
            for record in project.records_of(brief):
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


@cache
def coverage(folder: Path) -> frozenset[int]:
    """Code points that every font file in `folder` has a glyph for."""
    from fontTools.ttLib import TTFont  # WeasyPrint's own dependency; only needed here

    maps = [frozenset(TTFont(str(path), lazy=True).getBestCmap())
            for path in sorted(folder.glob("*.ttf"))]
    if not maps:
        return frozenset()
    return frozenset.intersection(*maps)
