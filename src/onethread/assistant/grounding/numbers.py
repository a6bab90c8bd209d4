"""Numbers as people write them (12.50, 12,50, 1,234.50, 1.234,50, 1 234,50) and the facts
built on them: money, percentages, durations and bare numbers.

A separator followed by exactly three digits is the one real ambiguity ("1,234" is 1234 in
English and 1.234 in German): the text's language decides, and when it is unknown both
readings are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import lru_cache

from onethread.assistant.grounding.fact import Conventions, Fact, canonical_number, lowered_words

SPACES = " \u00a0\u202f\u2009"
_ANY_SPACE = re.compile(f"[{SPACES}]")

# Currency spellings -> a canonical code; "$" and "peso" stay generic (many countries).
CURRENCY_SYMBOLS = {
    "US$": "USD",
    "U$S": "USD",
    "CA$": "CAD",
    "C$": "CAD",
    "AU$": "AUD",
    "A$": "AUD",
    "NZ$": "NZD",
    "MX$": "MXN",
    "HK$": "HKD",
    "S$": "SGD",
    "R$": "BRL",
    "$": "$",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₺": "TRY",
    "₽": "RUB",
}
_CODES = """USD EUR GBP BRL JPY CHF CAD AUD NZD MXN INR CNY SEK NOK DKK PLN ZAR ARS CLP COP HKD
    SGD TRY RUB KRW"""
CURRENCY_CODES = frozenset(_CODES.split())
CURRENCY_WORDS = {
    "us dollars": "USD",
    "u.s. dollars": "USD",
    "dollars": "$",
    "dollar": "$",
    "dólares": "$",
    "dolares": "$",
    "dólar": "$",
    "dolar": "$",
    "euros": "EUR",
    "euro": "EUR",
    "pounds sterling": "GBP",
    "pounds": "GBP",
    "pound": "GBP",
    "pfund": "GBP",
    "libras esterlinas": "GBP",
    "libras": "GBP",
    "reais": "BRL",
    "pesos": "peso",
    "peso": "peso",
    "yen": "JPY",
}
DOLLAR_CURRENCIES = frozenset({"USD", "CAD", "AUD", "NZD", "MXN", "HKD", "SGD"})
PESO_CURRENCIES = frozenset({"MXN", "ARS", "CLP", "COP"})

PERCENT_WORDS = (
    r"percent|per\s?cent|pour\s?cent|por\s?ciento|por\s?cento|prozent|pct"  # case-insensitive
)

# Duration units: spellings (en, fr, es, de, pt) -> (base unit, how many base units).
DURATION_UNITS: dict[str, tuple[str, int]] = {}
for _spellings, _base, _factor in (
    (
        "business days|business day|working days|working day|jours ouvrés|jours ouvrables|"
        "jour ouvré|jour ouvrable|días hábiles|dias hábiles|dias habiles|días habiles|día hábil|"
        "dia hábil|dias úteis|dias uteis|dia útil|dia util|werktagen|werktage|werktag|"
        "arbeitstagen|arbeitstage|arbeitstag",
        "business_day",
        1,
    ),
    ("seconds|second|secs|sec|segundos|segundo|secondes|seconde|sekunden|sekunde", "s", 1),
    ("minutes|minute|mins|min|minutos|minuto|minuten", "s", 60),
    ("hours|hour|hrs|hr|h|heures|heure|horas|hora|stunden|stunde|std", "s", 3600),
    ("days|day|jours|jour|días|día|dias|dia|tagen|tage|tag", "day", 1),
    ("weeks|week|wks|wk|semaines|semaine|semanas|semana|wochen|woche", "day", 7),
    ("months|month|mois|meses|mes|mês|monaten|monate|monat", "month", 1),
    ("years|year|yrs|yr|années|année|ans|an|años|año|anos|ano|jahren|jahre|jahr", "month", 12),
):
    for _spelling in _spellings.split("|"):
        DURATION_UNITS.setdefault(_spelling, (_base, _factor))

# Spelled-out amounts, read only in front of a duration unit ("two weeks", "trois jours").
NUMBER_WORDS: dict[str, int] = {}
for _value, _words in (
    (1, "one un une uno una ein eine einen einem um uma"),
    (2, "two deux dos zwei dois duas"),
    (3, "three trois tres três drei"),
    (4, "four quatre cuatro vier quatro"),
    (5, "five cinq cinco fünf fuenf"),
    (6, "six seis sechs"),
    (7, "seven sept siete sieben sete"),
    (8, "eight huit ocho acht oito"),
    (9, "nine neuf nueve neun nove"),
    (10, "ten dix diez zehn dez"),
    (11, "eleven onze once elf"),
    (12, "twelve douze doce zwölf zwoelf doze"),
    (14, "fourteen quatorze catorce vierzehn catorze"),
    (15, "fifteen quinze quince fünfzehn"),
    (20, "twenty vingt veinte zwanzig vinte"),
    (30, "thirty trente treinta dreißig dreissig trinta"),
    (45, "forty-five quarante-cinq cuarenta-y-cinco"),
    (60, "sixty soixante sesenta sechzig sessenta"),
    (90, "ninety quatre-vingt-dix noventa neunzig"),
):
    for _word in _words.split():
        NUMBER_WORDS[_word] = _value


def alternation(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first so that "days" wins over "day"."""
    ordered = sorted(words, key=len, reverse=True)
    return "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in ordered)


@lru_cache(maxsize=8)
def number_pattern(conventions: Conventions) -> str:
    """The regex (no groups) of one written number under ``conventions``."""
    # A plain space groups thousands in French, and elsewhere only before a decimal comma.
    plain_space = (
        r"(?:\x20\d{3})+" if conventions.decimal_mark == "comma" else r"(?:\x20\d{3})+(?=,\d)"
    )
    grouped = (
        r"\d{1,3}(?:(?:,\d{3})+|(?:\.\d{3})+|(?:[\u00a0\u202f\u2009]\d{3})+|"
        + plain_space
        + r")(?:[.,]\d+)?(?!\d)"
    )
    return rf"(?:{grouped}|\d+(?:[.,]\d+)?(?!\d))"


def read_number(surface: str, conventions: Conventions) -> frozenset[Decimal]:
    """Every value ``surface`` can mean under ``conventions`` (one unless ambiguous)."""
    spaced = _ANY_SPACE.search(surface) is not None
    digits = _ANY_SPACE.sub("", surface)
    commas, points = digits.count(","), digits.count(".")
    if commas and points:
        decimal_sep = "," if digits.rfind(",") > digits.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        return frozenset({Decimal(digits.replace(group_sep, "").replace(decimal_sep, "."))})
    if commas + points == 0:
        return frozenset({Decimal(digits)})
    separator = "," if commas else "."
    if commas + points > 1:
        return frozenset({Decimal(digits.replace(separator, ""))})
    whole, fraction = digits.split(separator)
    as_decimal = Decimal(f"{whole}.{fraction}")
    if spaced or len(fraction) != 3 or whole.startswith("0") or len(whole) > 3:
        return frozenset({as_decimal})
    as_grouped = Decimal(whole + fraction)
    mark = conventions.decimal_mark
    if mark is None:
        return frozenset({as_decimal, as_grouped})
    separator_is_decimal = (separator == ",") == (mark == "comma")
    return frozenset({as_decimal if separator_is_decimal else as_grouped})


def _numbers(values: frozenset[Decimal]) -> frozenset[str]:
    return frozenset(canonical_number(value) for value in values)


def canonical_currency(spelling: str) -> str:
    if spelling in CURRENCY_SYMBOLS:
        return CURRENCY_SYMBOLS[spelling]
    if spelling in CURRENCY_CODES:
        return spelling
    return CURRENCY_WORDS[" ".join(spelling.lower().split())]


def currencies_compatible(first: str, second: str) -> bool:
    """Same currency, or a generic "$" / "peso" against one of its countries' codes."""
    if first == second:
        return True
    pair = {first, second}
    if "$" in pair:
        return bool(pair & DOLLAR_CURRENCIES)
    if "peso" in pair:
        return bool(pair & PESO_CURRENCIES)
    return False


@lru_cache(maxsize=8)
def _money_regex(conventions: Conventions) -> re.Pattern[str]:
    number = number_pattern(conventions)
    symbols = alternation(CURRENCY_SYMBOLS)
    codes = alternation(CURRENCY_CODES)
    words = alternation(CURRENCY_WORDS)
    before = rf"(?<![\w$])(?P<pcur>{symbols}|(?<![A-Za-z]){codes}(?![A-Za-z]))\s?(?P<pnum>{number})"
    after = (
        rf"(?<![\w.,])(?P<snum>{number})\s?"
        rf"(?P<scur>{symbols}|{codes}(?![A-Za-z])|(?i:{words})(?!\w))"
    )
    return re.compile(f"{before}|{after}")


def find_money(text: str, conventions: Conventions) -> Iterator[Fact]:
    for match in _money_regex(conventions).finditer(text):
        number = match["pnum"] or match["snum"]
        currency = canonical_currency(match["pcur"] or match["scur"])
        amounts = _numbers(read_number(number, conventions))
        yield Fact(
            "money",
            match[0],
            frozenset(f"{currency} {amount}" for amount in amounts),
            match.start(),
            match.end(),
            numbers=amounts,
            currency=currency,
        )


@lru_cache(maxsize=8)
def _percent_regex(conventions: Conventions) -> re.Pattern[str]:
    number = number_pattern(conventions)
    return re.compile(rf"(?<![\w.,])(?P<num>{number})\s?(?:%|(?i:{PERCENT_WORDS})(?!\w))")


def find_percentages(text: str, conventions: Conventions) -> Iterator[Fact]:
    for match in _percent_regex(conventions).finditer(text):
        values = _numbers(read_number(match["num"], conventions))
        yield Fact("percent", match[0], values, match.start(), match.end(), numbers=values)


@lru_cache(maxsize=8)
def _duration_regex(conventions: Conventions) -> re.Pattern[str]:
    number = number_pattern(conventions)
    units = alternation(DURATION_UNITS)
    return re.compile(rf"(?<![\w.,])(?P<num>{number})[\s-]?(?i:(?P<unit>{units}))(?!\w)")


# Spelled-out durations are tried only where a number word starts (see dates.py on why).
_WORD_DURATION_AT = re.compile(
    rf"(?i:(?P<word>{alternation(NUMBER_WORDS)}))[\s-]?(?i:(?P<unit>{alternation(DURATION_UNITS)}))(?!\w)"
)
_NUMBER_WORD_STARTS = frozenset(word.split("-")[0] for word in NUMBER_WORDS)
_WORD = re.compile(r"[^\W\d_]+")


def _duration(match: re.Match[str], amounts: frozenset[Decimal]) -> Fact:
    base, factor = DURATION_UNITS[" ".join(match["unit"].lower().split())]
    return Fact(
        "duration",
        match[0],
        frozenset(f"{canonical_number(amount * factor)} {base}" for amount in amounts),
        match.start(),
        match.end(),
        numbers=_numbers(amounts),
    )


def find_durations(text: str, conventions: Conventions) -> Iterator[Fact]:
    for match in _duration_regex(conventions).finditer(text):
        yield _duration(match, read_number(match["num"], conventions))
    if lowered_words(text).isdisjoint(_NUMBER_WORD_STARTS):
        return
    for word in _WORD.finditer(text):
        start = word.start()
        if word[0].lower() not in _NUMBER_WORD_STARTS or (start and text[start - 1].isalnum()):
            continue
        spelled = _WORD_DURATION_AT.match(text, start)
        if spelled is not None:
            amount = Decimal(NUMBER_WORDS[spelled["word"].lower()])
            yield _duration(spelled, frozenset({amount}))


# A list marker ("1. ", "2) ") at the start of a line is layout, not a fact.
_LIST_MARKER = re.compile(r"(?m)^[ \t]*\d{1,2}[.)][ \t]")


@lru_cache(maxsize=8)
def _bare_number_regex(conventions: Conventions) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.,])(?:{number_pattern(conventions)})")


def find_numbers(text: str, conventions: Conventions) -> Iterator[Fact]:
    markers = {
        match.start() + len(match[0]) - len(match[0].lstrip())
        for match in _LIST_MARKER.finditer(text)
    }
    for match in _bare_number_regex(conventions).finditer(text):
        if match.start() in markers:
            continue
        values = _numbers(read_number(match[0], conventions))
        yield Fact("number", match[0], values, match.start(), match.end(), numbers=values)
