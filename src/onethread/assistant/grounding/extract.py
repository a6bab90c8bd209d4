"""``extract_facts``: every fact of a text, each piece of text read once.

Finders run from the most specific to the most general; a finder's match is kept only
where no earlier finder already read that text, so "INV-2026" is one identifier and not a
number, "$12.50" is money and not a number, "30 days" a duration and not a number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from onethread.assistant.grounding.dates import find_dates, find_times, find_weekdays
from onethread.assistant.grounding.fact import Conventions, Fact
from onethread.assistant.grounding.numbers import (
    find_durations,
    find_money,
    find_numbers,
    find_percentages,
)
from onethread.assistant.grounding.references import (
    find_emails,
    find_identifiers,
    find_links,
    find_phones,
)

Finder = Callable[[str, Conventions], Iterator[Fact]]


def _has_digit(text: str) -> bool:
    return _DIGIT.search(text) is not None


_DIGIT = re.compile(r"\d")

# Each finder, and a cheap test a text must pass for the finder to find anything in it.
FINDERS: tuple[tuple[Finder, Callable[[str], bool]], ...] = (
    (find_links, lambda text: "://" in text),
    (find_emails, lambda text: "@" in text),
    (find_phones, lambda text: "+" in text),
    (find_identifiers, _has_digit),
    (find_dates, _has_digit),
    (find_times, _has_digit),
    (find_money, _has_digit),
    (find_percentages, _has_digit),
    (find_durations, lambda text: True),  # "two weeks"
    (find_weekdays, lambda text: True),
    (find_numbers, _has_digit),
)


def extract_facts(text: str, language: str | None = None) -> list[Fact]:
    """The facts of ``text`` in reading order.

    ``language`` (a BCP 47 tag such as "en", "en-US", "fr", "pt-BR") settles how numbers
    and dates are written; without it, ambiguous writings keep every reading.
    """
    conventions = Conventions.for_language(language)
    claimed: list[tuple[int, int]] = []
    facts: list[Fact] = []
    for finder, may_find in FINDERS:
        if not may_find(text):
            continue
        found = [
            fact
            for fact in finder(text, conventions)
            if not any(fact.start < end and start < fact.end for start, end in claimed)
        ]
        # A finder's own facts may nest (a date and its wrong weekday): only earlier
        # finders' spans are off limits.
        facts.extend(found)
        claimed.extend((fact.start, fact.end) for fact in found)
    facts.sort(key=lambda fact: (fact.start, -fact.end))  # a date before its weekday
    return facts
