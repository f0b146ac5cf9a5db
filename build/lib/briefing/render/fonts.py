"""The project's fonts, and the check that they can show every character.

WeasyPrint only warns when a glyph is missing and quietly falls back to some
other font; here a character that the fonts in fonts/ cannot show fails the
build, placed at the content field that contains it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from briefing.content.checks import texts
from briefing.content.model import Project
from briefing.content.yamlsource import dotted
from briefing.errors import Problem, Problems
from briefing.files import FONTS, ProjectFiles

# Characters that are layout, not glyphs: line breaks and the like.
_INVISIBLE = {0x09, 0x0A, 0x0D, 0xAD, 0x200B, 0x200C, 0x200D}


def glyph_problems(project: Project, root: Path, languages: dict[str, list[str]]) -> list[Problem]:
    """Characters of the chosen editions (slug -> languages) the fonts cannot show."""
    fonts = tuple(ProjectFiles(root).fonts())
    problems = Problems(root)
    if not fonts:
        problems.add(root / FONTS, 1, 1, "the project's fonts are not installed",
                     expected="the font files in fonts/: run `make build` once")
        return problems.items
    covered = coverage(fonts)
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
def coverage(fonts: tuple[Path, ...]) -> frozenset[int]:
    """Code points that every one of the font files has a glyph for."""
    from fontTools.ttLib import TTFont  # WeasyPrint's own dependency; only needed here

    return frozenset.intersection(*(frozenset(TTFont(str(path), lazy=True).getBestCmap())
                                    for path in fonts))
