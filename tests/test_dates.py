"""Dates at their precision, formatted from CLDR for each locale."""

from __future__ import annotations

import pytest
from pydantic_core import PydanticCustomError

from briefing.content.dates import PartialDate, Period

CASES = [
    ("1996", "en_GB", "1996"),
    ("2006-08", "en_GB", "August 2006"),
    ("1999-11-08", "en_GB", "8 November 1999"),
    ("2007/2008", "en_GB", "2007\u20132008"),
    ("2007/2008", "ru", "2007\u20132008"),
    ("1999-11-08", "ru", "8 ноября 1999\u202fг."),
    ("2006-08", "ru", "август 2006\u202fг."),
    ("1999-11-08", "az", "8 noyabr 1999"),
    ("2006-08", "az", "avqust 2006"),
    # Day ranges write the month out, as single days do (CLDR's own patterns
    # for day ranges abbreviate it).
    ("2018-10-29/2018-10-31", "en_GB", "29\u201331 October 2018"),
    ("2018-10-29/2018-11-02", "en_GB", "29 October\u2009\u2013\u20092 November 2018"),
    ("2018-10-29/2018-10-31", "ru", "29\u201331 октября 2018\u202fг."),
    ("2018-10-29/2019-01-02", "ru", "29 октября 2018\u202fг. \u2013 2 января 2019\u202fг."),
    ("2018-10-29/2018-10-31", "az", "2018 oktyabr 29\u201331"),
    # no abbreviation's full stop after a month written out (ka: `dd MMM.`)
    ("2018-10-29/2018-11-02", "ka", "29 ოქტომბერი \u2013 02 ნოემბერი 2018"),
    # where CLDR's pattern numbers the months (cs), two whole dates
    ("2018-10-29/2018-10-31", "cs", "29. října 2018\u2009\u2013\u200931. října 2018"),
]


@pytest.mark.parametrize(("typed", "locale", "shown"), CASES)
def test_formatting(typed: str, locale: str, shown: str) -> None:
    assert Period._validate(typed).format(locale) == shown


@pytest.mark.parametrize(("typed", "message"), [
    ("2001-02-29", "`2001-02-29` is not a real date (expected a day that exists)"),
    ("08.11.1999", "`08.11.1999` is not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)"),
    ("2007/2008-01",
     "`2007/2008-01` mixes precisions (expected both ends as years, months or days)"),
])
def test_mistakes(typed: str, message: str) -> None:
    with pytest.raises(PydanticCustomError) as err:
        Period._validate(typed)
    assert err.value.message() == message


def test_single_date_fields_refuse_ranges() -> None:
    with pytest.raises(PydanticCustomError, match="is a range"):
        PartialDate._validate("2007/2008")


def test_order_follows_the_calendar() -> None:
    assert PartialDate(1999, 11, 8) < PartialDate(2000, 2, 8) < PartialDate(2001)
