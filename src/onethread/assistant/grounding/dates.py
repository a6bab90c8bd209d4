"""Dates, weekdays and times of day, in English, French, Spanish, German and Portuguese.

A date's candidates are ISO strings: "2026-11-03", "--11-03" when the year is not written,
"2026-11" for a month. "03/11/2026" is 3 November in French and March 11 in American
English; when the language does not say which, both readings are kept, and the matcher
then asks a source for the same ambiguity rather than for either reading.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from onethread.assistant.grounding.fact import Conventions, Fact, lowered_words
from onethread.assistant.grounding.numbers import alternation

MONTHS: dict[str, int] = {}
for _month, _spellings in enumerate(
    (
        "january jan janvier janv enero ene januar jänner janeiro",
        "february feb février fevrier févr fevr febrero februar fevereiro fev",
        "march mar mars marzo märz maerz mär março",
        "april apr avril avr abril abr",
        "may mai mayo maio",
        "june jun juin junio juni junho",
        "july jul juillet juil julio juli julho",
        "august aug août aout agosto ago",
        "september sep sept septembre septiembre setiembre setembro",
        "october oct octobre octubre oktober okt outubro",
        "november nov novembre noviembre novembro",
        "december dec décembre decembre diciembre dic dezember dez dezembro",
    ),
    start=1,
):
    for _spelling in _spellings.split():
        MONTHS[_spelling] = _month

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Full names, safe to read anywhere in a text.
WEEKDAYS: dict[str, int] = {}
# Short forms, read only in front of a date ("Tue, Nov 3"): "sun" or "sat" alone are words.
WEEKDAY_PREFIXES: dict[str, int] = {}
for _day, (_full, _short) in enumerate(
    (
        ("monday lundi lunes montag segunda-feira", "mon segunda"),
        ("tuesday mardi martes dienstag terça-feira terca-feira", "tue tues terça terca"),
        ("wednesday mercredi miércoles miercoles mittwoch quarta-feira", "wed quarta"),
        ("thursday jeudi jueves donnerstag quinta-feira", "thu thur thurs quinta"),
        ("friday vendredi viernes freitag sexta-feira", "fri sexta"),
        ("saturday samedi sábado sabado samstag sonnabend", "sat"),
        ("sunday dimanche domingo sonntag", "sun"),
    )
):
    for _spelling in _full.split():
        WEEKDAYS[_spelling] = _day
    for _spelling in _short.split():
        WEEKDAY_PREFIXES[_spelling] = _day
WEEKDAY_PREFIXES.update(WEEKDAYS)

_MONTH = rf"(?i:(?P<m>{alternation(MONTHS)}))(?!\w)(?:\.(?=\s*\d))?"
_YEAR = r"(?:,?\s+(?i:de\s+)?(?P<y>\d{4})(?!\d))?"
# Patterns start at a digit, or are tried only where a month name was found: a regex that
# starts with a long alternation of names is tried at every character and costs ten times more.
_DAY_FIRST = re.compile(
    r"(?<![\w.,])(?P<d>\d{1,2})(?i:st|nd|rd|th|er|º|°|ª|\.)?\s+(?i:(?:of|de)\s+)?" + _MONTH + _YEAR
)
_MONTH_FIRST_AT = re.compile(
    _MONTH + r"\s+(?i:the\s+)?(?P<d>\d{1,2})(?i:st|nd|rd|th)?(?!\d|[.,:]\d|\s*%)" + _YEAR
)
_MONTH_YEAR_AT = re.compile(_MONTH + r",?\s+(?i:(?:de|of)\s+)?(?P<y>\d{4})(?!\d)")
# A weekday written just before a date: "Tuesday, 3 November", "Tue the 3rd of November".
_WEEKDAY_BEFORE = re.compile(
    r"(?<!\w)(?P<wd>[^\W\d_]+(?:-feira)?)\.?,?\s+(?i:(?:the|le|el|den|der|o|dia)\s+)?\Z"
)
_WORD = re.compile(r"[^\W\d_]+")

_ISO = re.compile(
    r"(?<![\w.\-/])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:T(?P<th>[01]\d|2[0-3]):(?P<tm>[0-5]\d)(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?!\d)"
)
_YEAR_FIRST = re.compile(r"(?<![\w.\-/])(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?![\d/])")
_NUMERIC = re.compile(
    r"(?<![\w.\-/])(?P<a>\d{1,2})(?:(?P<slash>[/\-])(?P<b>\d{1,2})(?P=slash)(?P<y>\d{4}|\d{2})"
    r"|\.(?P<bd>\d{1,2})\.(?P<yd>\d{4}))(?![\d/\-]|[.,]\d)"
)


def iso(year: int | None, month: int, day: int | None) -> str | None:
    """The candidate string for a date, or None when no such day exists."""
    if day is None:
        return f"{year:04d}-{month:02d}" if year is not None and 1 <= month <= 12 else None
    try:
        date(year if year is not None else 2000, month, day)  # 2000: 29 February exists
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year is not None else f"--{month:02d}-{day:02d}"


def parse_candidate(candidate: str) -> tuple[int | None, int, int | None]:
    """(year, month, day) of a candidate made by ``iso``."""
    if candidate.startswith("--"):
        return None, int(candidate[2:4]), int(candidate[5:7])
    parts = candidate.split("-")
    return int(parts[0]), int(parts[1]), int(parts[2]) if len(parts) == 3 else None


def weekday_of(candidate: str) -> int | None:
    year, month, day = parse_candidate(candidate)
    return date(year, month, day).weekday() if year is not None and day is not None else None


def _date_fact(
    text: str, match: re.Match[str], candidates: set[str | None], numbers: set[int]
) -> Iterator[Fact]:
    """The date of ``match`` (with a weekday written before it), then that weekday if the
    calendar disagrees with it."""
    valid = frozenset(candidate for candidate in candidates if candidate is not None)
    if not valid:
        return
    start = match.start()
    before = _WEEKDAY_BEFORE.search(text, max(0, start - 40), start)
    weekday = WEEKDAY_PREFIXES.get(before["wd"].lower()) if before else None
    if before is not None and weekday is not None:
        start = before.start()
    yield Fact(
        "date",
        text[start : match.end()],
        valid,
        start,
        match.end(),
        numbers=frozenset(str(number) for number in numbers),
    )
    if before is None or weekday is None:
        return
    if all(weekday_of(candidate) == weekday for candidate in valid):
        return  # the weekday agrees with the calendar: it adds nothing to check
    yield Fact(
        "weekday",
        before["wd"],
        frozenset({WEEKDAY_NAMES[weekday]}),
        before.start("wd"),
        before.end("wd"),
    )


def _after_word_start(text: str, start: int) -> bool:
    return start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")


def _named_month_dates(text: str) -> Iterator[Fact]:
    for match in _DAY_FIRST.finditer(text):
        year = int(match["y"]) if match["y"] else None
        day, month = int(match["d"]), MONTHS[match["m"].lower()]
        yield from _date_fact(text, match, {iso(year, month, day)}, {day} | _years(year))
    if lowered_words(text).isdisjoint(MONTHS):
        return
    for word in _WORD.finditer(text):
        if word[0].lower() not in MONTHS or _after_word_start(text, word.start()):
            continue
        day_match = _MONTH_FIRST_AT.match(text, word.start())
        if day_match is not None:
            year = int(day_match["y"]) if day_match["y"] else None
            day, month = int(day_match["d"]), MONTHS[day_match["m"].lower()]
            readings = {iso(year, month, day)}
            yield from _date_fact(text, day_match, readings, {day} | _years(year))
            continue
        month_match = _MONTH_YEAR_AT.match(text, word.start())
        if month_match is not None:
            year = int(month_match["y"])
            readings = {iso(year, MONTHS[month_match["m"].lower()], None)}
            yield from _date_fact(text, month_match, readings, {year})


def _years(year: int | None) -> set[int]:
    return set() if year is None else {year}


def _numeric_dates(text: str, conventions: Conventions) -> Iterator[Fact]:
    for match in _ISO.finditer(text):
        year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
        yield from _date_fact(text, match, {iso(year, month, day)}, {year, month, day})
        if match["th"] is not None:
            clock = f"{match['th']}:{match['tm']}"
            yield Fact(
                "time", clock, frozenset({clock}), match.start("th"), match.end("tm"), frozenset()
            )
    for match in _YEAR_FIRST.finditer(text):
        year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
        yield from _date_fact(text, match, {iso(year, month, day)}, {year, month, day})
    for match in _NUMERIC.finditer(text):
        first = int(match["a"])
        if match["bd"] is not None:  # 03.11.2026: the dotted form is always day first
            second, year = int(match["bd"]), int(match["yd"])
            readings = {iso(year, second, first)}
        else:
            second, year = int(match["b"]), int(match["y"])
            year += 2000 if year < 100 else 0
            day_first, month_first = iso(year, second, first), iso(year, first, second)
            if conventions.day_first is None or day_first is None or month_first is None:
                readings = {day_first, month_first}
            else:
                readings = {day_first if conventions.day_first else month_first}
        yield from _date_fact(text, match, readings, {first, second, year})


def find_dates(text: str, conventions: Conventions) -> Iterator[Fact]:
    """Dates, each with the time or wrong weekday written inside it (nested facts)."""
    taken: list[tuple[int, int]] = []
    outer: Fact | None = None
    for fact in (*_numeric_dates(text, conventions), *_named_month_dates(text)):
        if fact.kind != "date":  # a part of the date just yielded
            if outer is not None:
                yield fact
            continue
        outer = None
        if any(fact.start < end and start < fact.end for start, end in taken):
            continue  # "November 2026" inside "3 November 2026"
        outer = fact
        taken.append((fact.start, fact.end))
        yield fact


_WEEKDAY_WORDS = frozenset(name.split("-")[0] for name in WEEKDAYS)


def find_weekdays(text: str, conventions: Conventions) -> Iterator[Fact]:
    if lowered_words(text).isdisjoint(_WEEKDAY_WORDS):
        return
    for word in _WORD.finditer(text):
        name, end = word[0].lower(), word.end()
        if text[end : end + 6].lower() == "-feira":  # Portuguese: "segunda-feira"
            name, end = name + "-feira", end + 6
        weekday = WEEKDAYS.get(name)
        if weekday is None or _after_word_start(text, word.start()):
            continue
        value = frozenset({WEEKDAY_NAMES[weekday]})
        yield Fact("weekday", text[word.start() : end], value, word.start(), end)


_BEFORE_TIME = r"(?<![\w:.,])"
_MERIDIEM = re.compile(
    _BEFORE_TIME + r"(?P<h>1[0-2]|0?[1-9])(?::(?P<m>[0-5]\d))?\s?(?i:(?P<ap>[ap])\.?\s?m\b\.?)"
)
_CLOCK = re.compile(
    _BEFORE_TIME
    + r"(?P<h>[01]?\d|2[0-3])(?::(?P<m>[0-5]\d)(?::[0-5]\d)?(?:\s?(?i:uhr|h)(?!\w))?"
    + r"|\s?h\s?(?P<fm>[0-5]\d)|(?:\.(?P<dm>[0-5]\d))?\s?(?i:uhr)(?!\w))(?!\d|[.,]\d)"
)
_FRENCH_HOUR = re.compile(_BEFORE_TIME + r"(?P<h>[01]?\d|2[0-3])\s?h(?!\w)")


def _clock(hour: int, minute: int) -> str:
    return f"{hour:02d}:{minute:02d}"


def _all_times(text: str, conventions: Conventions) -> Iterator[Fact]:
    for match in _MERIDIEM.finditer(text):
        hour = int(match["h"]) % 12 + (12 if match["ap"].lower() == "p" else 0)
        value = _clock(hour, int(match["m"] or 0))
        yield Fact("time", match[0], frozenset({value}), match.start(), match.end())
    for match in _CLOCK.finditer(text):
        minute = match["m"] or match["fm"] or match["dm"] or "0"
        value = _clock(int(match["h"]), int(minute))
        yield Fact("time", match[0], frozenset({value}), match.start(), match.end())
    if conventions.french_hours:
        for match in _FRENCH_HOUR.finditer(text):
            value = _clock(int(match["h"]), 0)
            yield Fact("time", match[0], frozenset({value}), match.start(), match.end())


def find_times(text: str, conventions: Conventions) -> Iterator[Fact]:
    """Times of day; "2:30 pm" is read once, as 14:30, and not again as 02:30."""
    taken: list[Fact] = []
    for fact in _all_times(text, conventions):
        if not any(fact.start < other.end and other.start < fact.end for other in taken):
            taken.append(fact)
            yield fact
