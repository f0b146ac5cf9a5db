"""Amounts of money: a decimal amount in an ISO 4217 currency.

Editors write `budget: {amount: 531328.62, currency: EUR}`, or the short form
`EUR 531328.62`; each language shows it in its CLDR form (Babel), so the
English edition says "€531,328.62" and the Russian one "531 328,62 €".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from babel.numbers import format_currency, format_percent, get_currency_name
from pydantic_core import PydanticCustomError

from briefing.content.values import Value

_AMOUNT = re.compile(r"^\d{1,15}(\.\d{1,4})?$")
_SHORT = re.compile(r"^([A-Z]{3})\s+(\S+)$")
_EXPECTED = "an amount and an ISO 4217 currency, like `EUR 531328.62`"


@dataclass(frozen=True)
class Money(Value):
    amount: Decimal
    currency: str

    def format(self, locale: str) -> str:
        return format_currency(self.amount, self.currency, locale=locale)

    def __str__(self) -> str:
        return f"{self.currency} {self.amount}"

    @classmethod
    def parse(cls, amount: str, currency: str) -> Money:
        amount = amount.replace("_", "").strip()
        if not _AMOUNT.match(amount):
            raise PydanticCustomError(
                "money_amount", "`{amount}` is not an amount (expected digits with a dot "
                "for decimals, like 531328.62, no thousands separators)", {"amount": amount})
        if not re.fullmatch(r"[A-Z]{3}", currency) or not _known(currency):
            raise PydanticCustomError(
                "money_currency", "`{currency}` is not an ISO 4217 currency code (expected "
                "a code such as EUR, USD, AZN)", {"currency": currency})
        try:
            return cls(Decimal(amount), currency)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise PydanticCustomError("money_amount", "not an amount") from None

    @classmethod
    def _validate(cls, value: Any) -> Money:
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and (match := _SHORT.match(value.strip())):
            return cls.parse(match.group(2), match.group(1))
        if isinstance(value, dict) and set(value) == {"amount", "currency"} and all(
                isinstance(v, str) for v in value.values()):
            return cls.parse(value["amount"], value["currency"])
        raise PydanticCustomError("money_type", "this is not an amount of money (expected "
                                  "{expected})", {"expected": _EXPECTED})

    JSON_SCHEMA: ClassVar[dict[str, Any]] = {"anyOf": [
        {"type": "string", "pattern": r"^[A-Z]{3}\s+\d+(\.\d+)?$"},
        {"type": "object", "required": ["amount", "currency"], "additionalProperties": False,
         "properties": {"amount": {"type": ["string", "number"]},
                        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}}]}


@dataclass(frozen=True)
class Share(Value):
    """A share in per cent, 0 to 100 (`co_financing: 15` or `15%`)."""

    percent: Decimal

    def format(self, locale: str) -> str:
        return format_percent(self.percent / 100, locale=locale, decimal_quantization=False)

    @classmethod
    def _validate(cls, value: Any) -> Share:
        if isinstance(value, cls):
            return value
        text = value.strip().removesuffix("%").strip() if isinstance(value, str) else ""
        # The pattern first: Decimal also reads `NaN`, `sNaN` and `Infinity`, and
        # comparing a NaN raises instead of answering.
        if not re.fullmatch(r"\d+(\.\d+)?", text) or not 0 <= Decimal(text) <= 100:
            raise PydanticCustomError("share", "`{value}` is not a share (expected a "
                                      "percentage from 0 to 100, like 15 or 12.5%)",
                                      {"value": value})
        return cls(Decimal(text))

    JSON_SCHEMA: ClassVar[dict[str, Any]] = {"anyOf": [
        {"type": "number", "minimum": 0, "maximum": 100},
        {"type": "string", "pattern": r"^\d+(\.\d+)?\s*%?$"}]}


def _known(currency: str) -> bool:
    return get_currency_name(currency, locale="en") != currency
