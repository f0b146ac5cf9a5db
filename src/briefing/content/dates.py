"""Dates at the precision the source gives: a year, a month, a day, or a range.

Editors write ISO 8601 forms (`1996`, `2006-08`, `1999-11-08`) and ranges as
two of them joined by a slash (`2007/2008`), as ISO 8601 and EDTF do. Each is
formatted with CLDR data (Babel) for the edition's locale, so the Russian
genitive ("8 ноября 1999 г.") and the Azerbaijani forms come from CLDR, not
from us.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from babel import Locale
from babel.dates import format_date, format_interval, format_skeleton
from pydantic_core import PydanticCustomError

from briefing.content.values import Value

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_ISO_PART = _ISO.pattern.strip("^$")  # the same, to stand inside a larger pattern
_EXPECTED = "YYYY, YYYY-MM or YYYY-MM-DD"
# The years a date may name. Beyond them a date is a typo (9999 for 1999, 0202
# for 2020), and near the ends of the calendar Python's dates cannot count on
# (the day after 9999-12-31 does not exist).
YEARS = range(1000, 3000)
_YEAR_SCHEMA = {"type": "integer", "minimum": YEARS.start, "maximum": YEARS.stop - 1}

# CLDR skeletons by precision: year, month and year, day month and year.
_SKELETON = {"year": "y", "month": "yMMMM", "day": "yMMMMd"}


@dataclass(frozen=True, order=True)
class PartialDate(Value):
    """A calendar date known to the year, the month or the day."""

    year: int
    month: int = 0
    day: int = 0

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    @property
    def last_day(self) -> dt.date:
        """The last day this date may mean (31 December for a year alone)."""
        if self.day:
            return self.first_day
        if self.month:
            return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return dt.date(self.year, 12, 31)

    def surely_before(self, other: PartialDate | Period) -> bool:
        """Whether this date ends before `other` can begin, whatever days are meant:
        1999 is not surely before 1999-11-08, 1998 is."""
        return self.last_day < other.first_day

    def iso(self) -> str:
        parts = [f"{self.year:04d}"]
        if self.month:
            parts.append(f"{self.month:02d}")
        if self.day:
            parts.append(f"{self.day:02d}")
        return "-".join(parts)

    def format(self, locale: str) -> str:
        if self.precision == "day":
            return format_date(self.first_day, "long", locale=locale)
        return format_skeleton(_SKELETON[self.precision], self.first_day, locale=locale)

    def __str__(self) -> str:
        return self.iso()

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        match = _ISO.match(text.strip())
        if not match:
            raise PydanticCustomError(
                "date_format", "`{text}` is not a date (expected {expected})",
                {"text": text, "expected": _EXPECTED},
            )
        year, month, day = (int(part) if part else 0 for part in match.groups())
        try:
            dt.date(year, month or 1, day or 1)
        except ValueError:
            raise PydanticCustomError(
                "date_value", "`{text}` is not a real date (expected a day that exists)",
                {"text": text},
            ) from None
        if year not in YEARS:
            raise PydanticCustomError(
                "date_year", "`{text}` is not a plausible date (expected a year from {first} "
                "to {last})", {"text": text, "first": YEARS.start, "last": YEARS.stop - 1})
        return cls(year, month, day)

    @classmethod
    def _validate(cls, value: Any) -> PartialDate:
        if isinstance(value, cls):
            return value
        if not isinstance(value, str):
            raise PydanticCustomError("date_type", "expected a date ({expected})",
                                      {"expected": _EXPECTED})
        if "/" in value:
            raise PydanticCustomError(
                "date_range",
                "`{text}` is a range, but this field takes one date (expected {expected})",
                {"text": value, "expected": _EXPECTED},
            )
        return cls.parse(value)

    JSON_SCHEMA: ClassVar[dict[str, Any]] = {"anyOf": [
        {"type": "string", "pattern": _ISO.pattern}, _YEAR_SCHEMA]}


def _day_range(start: dt.date, end: dt.date, locale: str) -> str:
    """A range of days with the month written out, as a single day is.

    CLDR has interval patterns for day ranges only with abbreviated months
    (yMMMd); Babel then prints "29-31 Oct 2018" next to "8 November 1999".
    ICU widens the fields of the nearest pattern to the skeleton asked for;
    so does this: the yMMMd interval pattern, its MMM (and LLL) made MMMM
    without the abbreviation's full stop. Where that pattern writes months as
    numbers (cs, sk), the range is two whole dates in the locale's fallback."""
    formats = Locale.parse(locale).interval_formats
    if _SKELETON["day"] in formats or "yMMMd" not in formats:
        return format_interval(start, end, _SKELETON["day"], locale=locale)
    differs = "y" if start.year != end.year else "M" if start.month != end.month else "d"
    parts = formats["yMMMd"].get(differs)
    if not parts or start == end:
        return format_interval(start, end, _SKELETON["day"], locale=locale)
    if not any(_SHORT_MONTH.search(part) for part in parts):  # months as numbers (cs, sk):
        fallback = formats.get(None) or "{0} – {1}"  # two whole dates, as CLDR falls back
        return fallback.format(*(format_date(day, "long", locale=locale) for day in (start, end)))
    return "".join(format_date(day, _SHORT_MONTH.sub(_widened, part), locale=locale)
                   for day, part in zip((start, end), parts, strict=True))


# An abbreviated month (format or stand-alone), with the full stop some
# locales write after the abbreviation (ka: `dd MMM.`).
_SHORT_MONTH = re.compile(r"(?<![ML])(MMM|LLL)(?![ML])\.?")


def _widened(found: re.Match[str]) -> str:
    return found[1] + found[1][0]


@dataclass(frozen=True)
class Period(Value):
    """One partial date, or a range of two at the same precision (`2007/2008`)."""

    start: PartialDate
    end: PartialDate | None = None

    @property
    def first_day(self) -> dt.date:
        return self.start.first_day

    @property
    def last_day(self) -> dt.date:
        return (self.end or self.start).last_day

    def surely_before(self, other: PartialDate | Period) -> bool:
        return self.last_day < other.first_day

    def format(self, locale: str) -> str:
        if self.end is None:
            return self.start.format(locale)
        skeleton = _SKELETON[self.start.precision]
        start, end = self.start.first_day, self.end.first_day
        if skeleton == _SKELETON["day"]:
            return _day_range(start, end, locale)
        return format_interval(start, end, skeleton, locale=locale)

    def iso(self) -> str:
        return self.start.iso() + (f"/{self.end.iso()}" if self.end else "")

    def __str__(self) -> str:
        return self.iso()

    @classmethod
    def _validate(cls, value: Any) -> Period:
        if isinstance(value, cls):
            return value
        if isinstance(value, PartialDate):
            return cls(value)
        if not isinstance(value, str):
            raise PydanticCustomError(
                "period_type", "expected a date or a range ({expected}, or two joined by /)",
                {"expected": _EXPECTED},
            )
        if "/" not in value:
            return cls(PartialDate.parse(value))
        first, _, last = value.partition("/")
        start, end = PartialDate.parse(first), PartialDate.parse(last)
        if start.precision != end.precision:
            raise PydanticCustomError(
                "period_precision",
                "`{text}` mixes precisions (expected both ends as years, months or days)",
                {"text": value},
            )
        if end <= start:
            raise PydanticCustomError(
                "period_order", "`{text}` ends before it starts (expected start/end)",
                {"text": value},
            )
        return cls(start, end)

    JSON_SCHEMA: ClassVar[dict[str, Any]] = {"anyOf": [
        {"type": "string", "pattern": f"^{_ISO_PART}(/{_ISO_PART})?$"}, _YEAR_SCHEMA]}


_EVERY = re.compile(r"every\s+(?:(?P<count>[1-9][0-9]?)\s+)?(?P<unit>year|month|week)s?"
                    r"|(?P<adverb>yearly|annually|monthly|weekly)")
_ADVERBS = {"yearly": "year", "annually": "year", "monthly": "month", "weekly": "week"}
_EVERY_EXPECTED = "yearly, monthly, weekly, or every N years, months or weeks (N up to 99)"


@dataclass(frozen=True)
class Recurrence(Value):
    """How often something recurs: a yearly action plan, a training plan every
    two years, meetings every six months. Written in English words in the
    YAML (`yearly`, `every 2 years`), shown in each language's words from its
    catalog (`recurs_year`, `recurs_years` with `{n}`)."""

    count: int
    unit: str  # year, month or week

    @classmethod
    def _validate(cls, value: Any) -> Recurrence:
        if isinstance(value, cls):
            return value
        found = _EVERY.fullmatch(" ".join(value.lower().split())) if isinstance(
            value, str) else None
        if found is None:
            raise PydanticCustomError("recurrence", "{shown} is not how often something recurs "
                                      "(expected {expected})",
                                      {"shown": f"`{value}`" if isinstance(value, str)
                                       else "this value", "expected": _EVERY_EXPECTED})
        if found["adverb"]:
            return cls(1, _ADVERBS[found["adverb"]])
        return cls(int(found["count"] or 1), found["unit"])

    def words(self, labels: Mapping[str, str]) -> str:
        """In a catalog's words: `yearly`, `every 2 years`, `раз в 2 г.`."""
        if self.count == 1:
            return labels[f"recurs_{self.unit}"]
        return labels[f"recurs_{self.unit}s"].replace("{n}", str(self.count))

    JSON_SCHEMA: ClassVar[dict[str, Any]] = {
        "type": "string", "pattern": r"^(yearly|annually|monthly|weekly|every "
                                     r"([1-9][0-9]? )?(year|month|week)s?)$"}
