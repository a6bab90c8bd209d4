"""``check_grounding``: is every fact of a reply supported by at least one source?

A reply fact is supported when one source holds a fact with the same normalised value:

- a bare number: any fact carrying that number (a price, a date's day, an identifier's
  digits), since the number alone claims less than the fact it came from;
- money: the same amount in a compatible currency ("$" matches USD and CAD, not EUR), or
  the amount as a bare number in a source that names a compatible currency;
- a date: a source date that reads the same, where the reply may leave out what the source
  says (the year, the day) but never add to it; an ambiguous "03/11/2026" is supported only
  by a source with the same two readings, and a source's ambiguous date supports no
  reply that picks one of its readings;
- a weekday: the same weekday named, or a full source date falling on it;
- an identifier: the same identifier, or its digits alone ("#1042" for "INV-1042");
- everything else (percentages, times, durations, links, emails, phones): equal values.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from onethread.assistant.grounding.dates import WEEKDAY_NAMES, parse_candidate, weekday_of
from onethread.assistant.grounding.extract import extract_facts
from onethread.assistant.grounding.fact import Fact, FactKind, lowered_words
from onethread.assistant.grounding.numbers import (
    CURRENCY_CODES,
    CURRENCY_SYMBOLS,
    CURRENCY_WORDS,
    currencies_compatible,
)
from onethread.assistant.grounding.references import last_digit_run

_WORD = re.compile(r"[^\W\d_]+")
SOURCE_CACHE_SIZE = 2048  # knowledge passages and action results recur from turn to turn


def currencies_named(text: str) -> set[str]:
    """Every currency ``text`` names, by symbol, code or word."""
    named = {code for symbol, code in CURRENCY_SYMBOLS.items() if symbol in text}
    named |= CURRENCY_CODES.intersection(_WORD.findall(text))
    named |= {CURRENCY_WORDS[word] for word in lowered_words(text) if word in CURRENCY_WORDS}
    return named


@dataclass(frozen=True)
class Evidence:
    """A source text with its own language, when sources are in several languages."""

    text: str
    language: str | None = None


@dataclass(frozen=True)
class GroundingReport:
    """The facts of a reply and those that no source supports."""

    facts: tuple[Fact, ...]
    unsupported: tuple[Fact, ...]

    @property
    def supported(self) -> bool:
        return not self.unsupported


@dataclass
class SourceFacts:
    """One source, read once: its facts by kind and what they imply."""

    by_kind: dict[FactKind, list[Fact]] = field(default_factory=lambda: defaultdict(list))
    numbers: set[str] = field(default_factory=set)
    plain_numbers: set[str] = field(default_factory=set)
    currencies: set[str] = field(default_factory=set)
    weekdays: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, text: str, language: str | None) -> SourceFacts:
        """The facts of ``text``; cached, so never change what it returns."""
        return _read_source(text, language)

    @classmethod
    def _read(cls, text: str, language: str | None) -> SourceFacts:
        source = cls()
        for fact in extract_facts(text, language):
            source.by_kind[fact.kind].append(fact)
            source.numbers |= fact.numbers
            if fact.kind == "number":
                source.plain_numbers |= fact.numbers
            if fact.kind == "weekday":
                source.weekdays |= fact.candidates
            if fact.kind == "date":
                days = {weekday_of(candidate) for candidate in fact.candidates}
                if len(days) == 1 and (day := days.pop()) is not None:
                    source.weekdays.add(WEEKDAY_NAMES[day])
        source.currencies = currencies_named(text)
        return source

    def supports(self, fact: Fact) -> bool:
        same_kind = self.by_kind.get(fact.kind, [])
        if fact.kind == "number":
            return bool(fact.numbers & self.numbers)
        if fact.kind == "money":
            return self._supports_money(fact, same_kind)
        if fact.kind == "date":
            return any(dates_agree(fact, other) for other in same_kind)
        if fact.kind == "weekday":
            return bool(fact.candidates & self.weekdays)
        if fact.kind == "identifier":
            return self._supports_identifier(fact, same_kind)
        if fact.kind == "percent":
            return any(fact.numbers & other.numbers for other in same_kind)
        return any(fact.candidates & other.candidates for other in same_kind)

    def _supports_money(self, fact: Fact, prices: list[Fact]) -> bool:
        assert fact.currency is not None
        for price in prices:
            assert price.currency is not None
            if (
                currencies_compatible(fact.currency, price.currency)
                and fact.numbers & price.numbers
            ):
                return True
        named = any(currencies_compatible(fact.currency, other) for other in self.currencies)
        return named and bool(fact.numbers & self.plain_numbers)

    def _supports_identifier(self, fact: Fact, identifiers: list[Fact]) -> bool:
        if any(fact.candidates & other.candidates for other in identifiers):
            return True
        (written,) = fact.candidates
        if not written.isdigit():
            return False
        digits = str(int(written))
        tails = {last_digit_run(next(iter(other.candidates))) for other in identifiers}
        return digits in {str(int(tail)) for tail in tails if tail} | self.plain_numbers


@lru_cache(maxsize=SOURCE_CACHE_SIZE)
def _read_source(text: str, language: str | None) -> SourceFacts:
    return SourceFacts._read(text, language)


def _covers(
    reply: tuple[int | None, int, int | None], source: tuple[int | None, int, int | None]
) -> bool:
    """The reply's reading says nothing the source's reading does not say."""
    (reply_year, reply_month, reply_day), (source_year, source_month, source_day) = reply, source
    return (
        reply_month == source_month
        and (reply_year is None or reply_year == source_year)
        and (reply_day is None or reply_day == source_day)
    )


def dates_agree(reply: Fact, source: Fact) -> bool:
    """Every reading of the reply date is a reading of the source date, and vice versa."""
    replies = [parse_candidate(candidate) for candidate in reply.candidates]
    sources = [parse_candidate(candidate) for candidate in source.candidates]
    return all(any(_covers(r, s) for s in sources) for r in replies) and all(
        any(_covers(r, s) for r in replies) for s in sources
    )


def check_grounding(
    reply: str,
    sources: Sequence[str | Evidence],
    *,
    language: str | None = None,
    source_language: str | None = None,
) -> GroundingReport:
    """Which facts of ``reply`` no source supports.

    ``language`` is the reply's language and ``source_language`` the sources' (BCP 47 tags;
    an ``Evidence`` source carries its own); either may be omitted, in which case ambiguous
    writings keep every reading: numbers then match on any reading, dates only on the same
    set of readings.
    """
    facts = tuple(extract_facts(reply, language))
    if not facts:
        return GroundingReport((), ())
    read = [
        SourceFacts.read(source.text, source.language)
        if isinstance(source, Evidence)
        else SourceFacts.read(source, source_language)
        for source in sources
    ]
    unsupported = tuple(fact for fact in facts if not any(source.supports(fact) for source in read))
    return GroundingReport(facts, unsupported)
