"""No-break joins: what a reader expects never to find cut at a line's end.

`join(text, language)` puts a no-break space (U+00A0) where a line must not
end and a no-break hyphen (U+2011) inside registry numbers, in every language
the same way, with the month names of the language's CLDR locale:

- a reference: "No. 12", "№ 12", "Art. 5", "§ 3", and a registry number whose
  parts are capitals or digits ("AZ-12-345", "2021/04-17") is never cut at its
  hyphens;
- a date: "14 July 1997", "July 14", "14 июля 1997 г.", "1997 г.", "8 noyabr",
  "1999-cu il" (a number's ending: "5-й", "1990-х");
- a number and its unit or currency: "5 km", "12 %", "€ 3 000", "3 000 AZN",
  "2,5 млн"; digit groups ("3 000") stay together;
- an abbreviation and what it belongs to: "Mr. Aliyev", "e.g. a", "ст. 5",
  "т. е.", initials ("A. B. Surname").

Each replacement is one character for one character (a run of spaces becomes
one no-break space), so the typesetting gate can apply `join` to a laid-out
paragraph's text and compare positions. `join_tree` applies it to an lxml
tree's text, never inside <head>, <pre>, <code>, <script>, <style> or
attributes; `join_html` to a whole HTML document.

`hyphenation_dictionaries()` gives Pyphen, which WeasyPrint hyphenates with,
a dictionary for each edition language it has none for (Azerbaijani,
Turkish): their syllables follow one rule, a break before each consonant that a vowel
follows ("Te-le-kom-mu-ni-ka-si-ya").
"""

from __future__ import annotations

import io
import re
from functools import cache

import lxml.html
from lxml import etree

NBSP = "\u00a0"
NBHY = "\u2011"  # the no-break hyphen
_WS = r"[ \t\r\n]+"

# Units and currencies after a number (case-sensitive: "m" is a metre, "M" is not).
_UNITS = ("%", "‰", "°C", "°", "km²", "km/h", "km", "m²", "m³", "m", "cm", "mm", "ha", "kg",
          "g", "t", "l", "h", "min", "s", "kW", "MW", "GW", "kWh", "MWh", "pp", "p.p.",
          "USD", "EUR", "AZN", "RUB", "GBP", "CHF", "UAH", "GEL", "TRY", "KZT", "€", "$", "£",
          "₼", "₽", "million", "millions", "billion", "billions", "thousand", "mln", "bn",
          "км²", "км", "м²", "м", "см", "мм", "га", "кг", "г", "т", "л", "ч", "мин",
          "млн", "млрд", "тыс.", "руб.", "долл.", "евро", "манат", "чел.", "шт.", "п.п.",
          "milyon", "milyard", "min", "manat", "nəfər", "saat")
_CURRENCY_BEFORE = ("€", "$", "£", "₼", "₽", "USD", "EUR", "AZN", "RUB", "GBP", "CHF")
# Abbreviations that belong to the word or number after them.
_BEFORE = ("No.", "Nos.", "Nr.", "no.", "nr.", "№", "§", "Art.", "art.", "Arts.", "para.",
           "p.", "pp.", "vol.", "Vol.", "ch.", "Ch.", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.",
           "St.", "e.g.", "i.e.", "cf.", "approx.", "ca.",
           "ст.", "п.", "пп.", "ч.", "гл.", "т.", "им.", "см.", "г-н", "г-жа", "д-р", "проф.",
           "т. е.", "т. д.", "т. п.", "т.е.", "т.д.", "т.п.", "с.", "ул.",
           "maddə", "bənd", "səh.")
# Words that belong to the number before them ("1997 г.", "XX в.").
_AFTER_NUMBER = ("г.", "гг.", "в.", "вв.", "il", "ildə", "ilin")

_LETTER = r"[^\W\d_]"
_REGISTRY = re.compile(
    r"(?<![\w\u2011-])(?=[\w/-]*\d)(?:[A-ZА-ЯƏÜÖĞIŞÇ0-9]+)(?:[-/][A-ZА-ЯƏÜÖĞIŞÇ0-9]+)+"
    r"(?![\w-])")

# A number's ordinal or case ending: "1999-cu", "5-й", "1990-х".
_ORDINAL = re.compile(rf"(?<=\d)-(?={_LETTER}{{1,4}}(?!{_LETTER}))")


def _alternatives(words: tuple[str, ...] | list[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True))


@cache
def _months(language: str) -> tuple[str, ...]:
    """The month names of a language's CLDR locale, every form (none if unknown)."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return ()
    names = set()
    for context in ("format", "stand-alone"):
        for width in ("wide", "abbreviated"):
            names |= {name.strip() for name in locale.months[context][width].values()}
    return tuple(sorted(names | {name.capitalize() for name in names}))


@cache
def _patterns(language: str) -> tuple[re.Pattern[str], ...]:
    """Each pattern's group `s` is the space to make no-break."""
    months = _alternatives(_months(language))
    units = _alternatives(_UNITS)
    found = [
        # a digit group: "3 000", "12 345 678"
        re.compile(r"(?<=\d)(?P<s>[ \t]+)(?=\d{3}(?!\d))"),
        # a number and its unit or currency
        re.compile(rf"(?<=\d)(?P<s>{_WS})(?:{units})(?!{_LETTER}|\d)"),
        # a currency before its number
        re.compile(rf"(?<![\w])(?:{_alternatives(_CURRENCY_BEFORE)})(?P<s>{_WS})(?=\d)"),
        # an abbreviation and what follows it
        re.compile(rf"(?<![\w.])(?:{_alternatives(_BEFORE)})(?P<s>{_WS})(?=[\w\"«„“(])"),
        # a number and the word that belongs to it
        re.compile(rf"(?<=\d)(?P<s>{_WS})(?:{_alternatives(_AFTER_NUMBER)})(?!{_LETTER})"),
        # initials: "A. B. Surname"
        re.compile(r"(?<![\w.])(?:[A-ZА-ЯƏ]\.)(?P<s>[ \t]+)(?=[A-ZА-ЯƏ])"),
    ]
    if months:
        found += [  # "14 July", "July 1997", "July 14"
            re.compile(rf"(?<=\d)(?P<s>{_WS})(?:{months})(?!{_LETTER})"),
            re.compile(rf"(?<!{_LETTER})(?:{months})(?P<s>{_WS})(?=\d)"),
        ]
    return tuple(found)


def join(text: str, language: str) -> str:
    """`text` with no-break spaces and hyphens where a line must not end
    (see the module's docstring); `language` is a BCP 47 tag or CLDR locale."""
    if not text.strip():
        return text
    for pattern in _patterns(language):
        text = pattern.sub(_no_break, text)
    text = _ORDINAL.sub(NBHY, text)
    return _REGISTRY.sub(lambda match: match.group(0).replace("-", NBHY), text)


def _no_break(match: re.Match[str]) -> str:
    start, end = match.span("s")
    whole = match.group(0)
    offset = match.start()
    return whole[:start - offset] + NBSP + whole[end - offset:]


_UNTOUCHED = {"head", "pre", "code", "script", "style", "kbd", "samp", "textarea"}


NOBREAK = "nobreak"  # <span class="nobreak">: a hyphenated number kept on one line


def join_tree(tree: etree._Element, language: str) -> None:
    """Apply `join` to every text and tail of `tree`, in place, in the language
    of the nearest `lang` attribute (else `language`); never inside <head>
    (the title is metadata), <pre>, <code>, <script> or <style>, never to
    attributes.

    A word `join` gave no-break hyphens (a registry number, `1999-cu`) is set
    as `<span class="nobreak">` with its own hyphens instead: the stylesheets
    keep it on one line, and the PDF's and the page's text stay what was
    written, so that a search for `AZ-12-345` finds it. (The DOCX writer makes
    those hyphens Word's own no-break ones.) Inside a link, where a span would
    be a second link in the PDF, the no-break hyphens stay."""
    for element in list(tree.iter()):
        if not isinstance(element.tag, str):
            continue
        if element.text and not _inside_untouched(element):
            element.text = join(element.text, _language(element, language))
            if NBHY in element.text and not _linked(element):
                _spans(element, element.text)
        parent = element.getparent()
        if element.tail and parent is not None and not _inside_untouched(parent):
            element.tail = join(element.tail, _language(parent, language))
            if NBHY in element.tail and not _linked(parent):
                _spans(element, element.tail, tail=True)


_HYPHENATED = re.compile(rf"(\S*{NBHY}\S*)")


def _spans(element: etree._Element, text: str, *, tail: bool = False) -> None:
    """`text` (the element's text, or its tail) with each word holding a
    no-break hyphen made a nobreak span of its own, its hyphens plain ones."""
    parts = _HYPHENATED.split(text)
    if tail:
        element.tail = parts[0]
    else:
        element.text = parts[0]
    after = element
    for i in range(1, len(parts), 2):
        span = etree.Element("span", {"class": NOBREAK})
        span.text, span.tail = parts[i].replace(NBHY, "-"), parts[i + 1]
        if tail:
            after.addnext(span)
            after = span
        else:
            element.insert((i - 1) // 2, span)


def _linked(element: etree._Element) -> bool:
    return any(item.tag == "a" for item in (element, *element.iterancestors()))


def _inside_untouched(element: etree._Element) -> bool:
    return any(isinstance(item.tag, str) and item.tag.rpartition("}")[2] in _UNTOUCHED
               for item in (element, *element.iterancestors()))


def _language(element: etree._Element, default: str) -> str:
    for item in (element, *element.iterancestors()):
        lang = item.get("lang")
        if lang:
            return lang
    return default


def join_html(html: str) -> str:
    """An HTML document with `join_tree` applied, in its <html lang>."""
    tree = lxml.html.document_fromstring(html)
    join_tree(tree, tree.get("lang") or "en")
    out = lxml.html.tostring(tree, doctype="<!DOCTYPE html>", encoding="unicode", method="html")
    return out + "\n" if html.endswith("\n") else out


# -- hyphenation where Pyphen has no dictionary ----------------------------------------

# Languages whose syllables break before each consonant followed by a vowel, by vowels.
SYLLABIC = {"az": "aeəıioöuü", "tr": "aeıioöuü"}
_LETTERS = "abcçdeəfgğhxıijkqlmnoöprsştuüvyzw"


class _Patterns:
    """A generated hyph_*.dic, read as Pyphen reads a file (`open`, `read_text`)."""

    def __init__(self, vowels: str) -> None:
        consonants = [char for char in _LETTERS if char not in vowels]
        self.text = "UTF-8\n" + "\n".join(f"1{c}{v}" for c in consonants for v in vowels) + "\n"

    def open(self, mode: str = "rb") -> io.BytesIO:
        return io.BytesIO(self.text.encode())

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.text


def hyphenation_dictionaries() -> None:
    """Register the SYLLABIC languages' dictionaries with Pyphen, once per process."""
    import pyphen

    for language, vowels in SYLLABIC.items():
        if language not in pyphen.LANGUAGES:
            pyphen.LANGUAGES[language] = _Patterns(vowels)
            pyphen.LANGUAGES_LOWERCASE[language] = language
