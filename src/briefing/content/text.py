"""Text fields: one string for every language, or one string per language."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic_core import PydanticCustomError

from briefing.content.prose import prose_problems
from briefing.content.values import Value

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


class Text(Value):
    """A text field as the editor wrote it.

    `Text("Baku")` reads the same in every language; `Text({"en": ..., "az":
    ...})` has one string per language. `in_language` never guesses: a missing
    translation is None, and the loader reports it.
    """

    __slots__ = ("_by_language", "_single")

    def __init__(self, value: str | Mapping[str, str]) -> None:
        if isinstance(value, str):
            self._single: str | None = value
            self._by_language: dict[str, str] = {}
        else:
            self._single = None
            self._by_language = dict(value)

    @property
    def translated(self) -> bool:
        """Whether it has one string per language (not one for all)."""
        return self._single is None

    def written(self) -> list[str]:
        """Every string the editor wrote: the one, or each language's."""
        return [self._single] if self._single is not None else list(self._by_language.values())

    def in_language(self, language: str) -> str | None:
        if self._single is not None:
            return self._single
        return self._by_language.get(language)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Text)
            and type(other) is type(self)
            and (self._single, self._by_language) == (other._single, other._by_language)
        )

    def __hash__(self) -> int:
        return hash((self._single, tuple(sorted(self._by_language.items()))))

    def __repr__(self) -> str:
        shown = self._single if self._single is not None else self._by_language
        return f"{type(self).__name__}({shown!r})"

    @classmethod
    def _validate(cls, value: Any) -> Text:
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls(_non_empty(value))
        if isinstance(value, Mapping) and value:
            for language, text in value.items():
                if not isinstance(language, str) or not LANGUAGE_CODE.match(language):
                    raise PydanticCustomError(
                        "text_language",
                        "`{language}` is not a language code (expected a code such as en, az, ru)",
                        {"language": language},
                    )
                if not isinstance(text, str):
                    raise PydanticCustomError(
                        "text_type", "the `{language}` text is not text (expected a string)",
                        {"language": language},
                    )
                _non_empty(text)
            return cls(value)
        raise PydanticCustomError(
            "text_type",
            "this is not text (expected a string, or a mapping of language code to string)",
        )

    JSON_SCHEMA: ClassVar[dict[str, Any]] = {
        "anyOf": [
            {"type": "string", "minLength": 1},
            {"type": "number"},  # `1.10` unquoted: a YAML 1.2 editor sees a number
            {
                "type": "object",
                "patternProperties": {"^[a-z]{2,3}$": {"type": "string", "minLength": 1}},
                "additionalProperties": False,
            },
        ]
    }


class Prose(Text):
    """A text field written in CommonMark (raw HTML is not allowed)."""

    @classmethod
    def _validate(cls, value: Any) -> Text:
        prose = super()._validate(value)
        texts = [prose._single] if prose._single is not None else prose._by_language.values()
        for text in texts:
            printable(html.unescape(text))  # `&#x202E;` is the character it names
            if found := prose_problems(text):  # all of them: each is said at the field
                raise PydanticCustomError("prose", "{first}", {"first": found[0],
                                                               "all": tuple(found)})
        return prose


def _non_empty(text: str) -> str:
    if not text.strip():
        raise PydanticCustomError("text_empty", "text is empty (expected some words)")
    return printable(text)


# Line breaks and tabs are text; other control characters, lone surrogates and
# the invisible bidirectional overrides (which can disguise what text says) are not.
_ALLOWED_CONTROLS = {"\n", "\t", "\r"}
# Lone surrogates, and the Unicode line and paragraph separators (U+2028,
# U+2029: no font draws them, and they split lines where YAML sees none).
_REFUSED = {"Cs", "Zl", "Zp"}
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Invisible characters no text in any language needs, which can only hide
# something: U+FEFF inside text (a byte-order mark at the start of a file is
# fine, and U+2060 is the word joiner), the invisible mathematical operators,
# the deprecated format characters, interlinear annotations and the tag
# characters (which spell hidden ASCII).
_INVISIBLE = {"\ufeff", *map(chr, range(0x2061, 0x2065)), *map(chr, range(0x206A, 0x2070)),
              *map(chr, range(0xFFF9, 0xFFFC)), "\U000e0001", *map(chr, range(0xE0020, 0xE0080)),
              # noncharacters: never text (rendering marks fields with them, render/fields.py)
              *map(chr, range(0xFDD0, 0xFDF0)), "\ufffe", "\uffff"}


def printable(text: str) -> str:
    """Refuse characters that are not text: controls (also when written as YAML
    escapes such as "\\x07"), lone surrogates, bidirectional overrides and the
    invisible characters no language needs."""
    for char in text:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in _ALLOWED_CONTROLS) or category in _REFUSED \
                or char in _BIDI_CONTROLS or char in _INVISIBLE:
            raise PydanticCustomError(
                "text_control", "character U+{code} is not allowed (expected printable text)",
                {"code": f"{ord(char):04X}"})
    return text


# Titles and names are how readers tell things apart, so nothing in them may be
# invisible: no format character (Unicode category Cf: zero-width space, word
# joiner, soft hyphen, direction marks, U+180E...), the combining grapheme
# joiner, or the Hangul fillers that draw as blank letters. The zero-width
# joiner and non-joiner stay where a script needs them to shape its letters
# (Persian, the Indic scripts): right after a letter or mark of a script other
# than Latin, Greek or Cyrillic, whose letters have look-alikes and never join.
_INVISIBLE_IN_NAMES = set("\u034f\u115f\u1160\u3164\uffa0")
_JOINERS = set("\u200c\u200d")
_UNJOINED_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")


def visible_name(value: Any) -> Any:
    """Refuse, in a title or name (a Text or a plain string), any character a
    reader cannot see; return `value` unchanged."""
    if isinstance(value, Text):
        texts = [value._single] if value._single is not None else value._by_language.values()
    else:
        texts = [value] if isinstance(value, str) else []
    for text in texts:
        for i, char in enumerate(text):
            if _invisible(char, text[i - 1] if i else ""):
                raise PydanticCustomError(
                    "text_invisible", "character U+{code} ({name}) is invisible (expected "
                    "a title or name without invisible characters)",
                    {"code": f"{ord(char):04X}", "name": unicodedata.name(char, "unnamed")})
    return value


def _invisible(char: str, before: str) -> bool:
    if char in _JOINERS:
        return not before or unicodedata.category(before)[0] not in "LM" \
            or unicodedata.name(before, "").startswith(_UNJOINED_SCRIPTS) or before.isascii()
    return unicodedata.category(char) == "Cf" or char in _INVISIBLE_IN_NAMES
