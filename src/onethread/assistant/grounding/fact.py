"""What a fact is, and the writing conventions used to read one.

A ``Fact`` is a piece of text a customer could act on: a number, an amount of money, a
percentage, a date, a time, a duration, an identifier, a link, an email address or a phone
number. ``candidates`` holds its normalised readings: one for most facts, several when the
text itself is ambiguous ("03/11/2026" in English, "1.234" in an unknown language). Two
facts are compared through their candidates, never through their surface text, so "$12.50"
and "12.5 USD" or "15%" and "15 percent" are the same fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal

FactKind = Literal[
    "number",
    "money",
    "percent",
    "date",
    "weekday",
    "time",
    "duration",
    "identifier",
    "url",
    "email",
    "phone",
]

DecimalMark = Literal["point", "comma"]

# Languages that write 12,50 (and 1.234,50 or 1 234,50) rather than 12.50.
DECIMAL_COMMA_LANGUAGES = frozenset(
    {"fr", "es", "de", "pt", "it", "nl", "ca", "pl", "cs", "sv", "da", "nb", "fi", "tr", "ru"}
)
# Regions whose Spanish writes a decimal point.
DECIMAL_POINT_REGIONS = frozenset({"MX", "US", "PR", "DO", "GT", "HN", "NI", "SV", "PA"})
# English-speaking regions that write the day first (03/11 is 3 November).
DAY_FIRST_ENGLISH_REGIONS = frozenset({"GB", "UK", "IE", "AU", "NZ", "IN", "ZA", "SG"})


@dataclass(frozen=True)
class Conventions:
    """How a text writes numbers and dates; ``None`` means "unknown: keep every reading"."""

    decimal_mark: DecimalMark | None = None
    day_first: bool | None = None
    french_hours: bool = False  # "14h" is a time of day, not a duration

    @classmethod
    def for_language(cls, language: str | None) -> Conventions:
        if not language:
            return cls()
        primary, _, region = language.replace("_", "-").partition("-")
        primary, region = primary.lower(), region.upper()
        if primary == "en":
            if region == "US":
                return cls("point", day_first=False)
            return cls("point", day_first=True if region in DAY_FIRST_ENGLISH_REGIONS else None)
        if primary in DECIMAL_COMMA_LANGUAGES:
            mark: DecimalMark = "point" if region in DECIMAL_POINT_REGIONS else "comma"
            return cls(mark, day_first=True, french_hours=primary == "fr")
        return cls()


@dataclass(frozen=True)
class Fact:
    """One fact found in a text, at ``text[start:end]``.

    ``numbers`` are the plain numeric values it carries (the amount of a price, the day and
    year of a date, the digits of an identifier), so that a bare number in a reply can be
    matched against a fact written more fully in a source. ``currency`` is set for money.
    """

    kind: FactKind
    text: str
    candidates: frozenset[str]
    start: int
    end: int
    numbers: frozenset[str] = frozenset()
    currency: str | None = None

    @property
    def value(self) -> str:
        """The normalised value; ambiguous facts list their readings joined by " | "."""
        return " | ".join(sorted(self.candidates))

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


def canonical_number(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 12.50 -> "12.5", 1E+3 -> "1000"."""
    normal = value.normalize()
    text = format(normal, "f")
    return "0" if text in {"-0", "0"} else text


def decimal_or_none(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=64)
def lowered_words(text: str) -> frozenset[str]:
    """The distinct words of ``text`` in lower case: finders that look for named things
    (months, weekdays, number words, currency words) skip a text that names none."""
    return frozenset(word.lower() for word in _WORD.findall(text))
