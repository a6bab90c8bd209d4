"""Facts that point at something: order and invoice identifiers, links, emails, phones.

An invented link or phone number is as harmful as an invented price, so they are facts too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from onethread.assistant.grounding.fact import Conventions, Fact

_URL = re.compile(r"(?i)\bhttps?://[^\s<>\"'()\[\]{}]+")
_EMAIL = re.compile(r"(?i)(?<![\w.+-])[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?!\w)")
_PHONE = re.compile(r"(?<![\w+])\+\d[\d\x20().-]{6,}\d(?!\d)")
_IDENTIFIER = re.compile(
    # "#A1234", "#1042"
    r"(?<![\w#])#(?P<hash>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?![\w-])"
    # "INV-1042", "ord-2026-0012": a short prefix of letters, a hyphen, then a digit
    r"|(?<![\w-])(?P<dashed>[A-Za-z]{1,6}(?:-[A-Za-z0-9]+)*-\d[A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)(?![\w-])"
    # "A1234", "INV1042": capitals then at least two digits
    r"|(?<![\w-])(?P<glued>[A-Z]{1,6}\d{2,}[A-Z0-9]*)(?![\w-])"
)
_DIGIT_RUN = re.compile(r"\d+")
_TRAILING_PUNCTUATION = ".,;:!?"


def find_links(text: str, conventions: Conventions) -> Iterator[Fact]:
    for match in _URL.finditer(text):
        url = match[0].rstrip(_TRAILING_PUNCTUATION)
        scheme, _, rest = url.partition("://")
        host, slash, path = rest.partition("/")
        value = f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")
        yield Fact("url", url, frozenset({value}), match.start(), match.start() + len(url))


def find_emails(text: str, conventions: Conventions) -> Iterator[Fact]:
    for match in _EMAIL.finditer(text):
        yield Fact("email", match[0], frozenset({match[0].lower()}), match.start(), match.end())


def find_phones(text: str, conventions: Conventions) -> Iterator[Fact]:
    for match in _PHONE.finditer(text):
        digits = "+" + "".join(_DIGIT_RUN.findall(match[0]))
        yield Fact("phone", match[0], frozenset({digits}), match.start(), match.end())


def find_identifiers(text: str, conventions: Conventions) -> Iterator[Fact]:
    for match in _IDENTIFIER.finditer(text):
        identifier = match["hash"] or match["dashed"] or match["glued"]
        runs = _DIGIT_RUN.findall(identifier)
        if not runs:
            continue  # "#general" is a hashtag, not a reference
        yield Fact(
            "identifier",
            match[0],
            frozenset({identifier.upper()}),
            match.start(),
            match.end(),
            numbers=frozenset(str(int(run)) for run in runs),
        )


def last_digit_run(identifier: str) -> str | None:
    """The trailing number of an identifier ("INV-1042" -> "1042"), as written."""
    runs = _DIGIT_RUN.findall(identifier)
    return runs[-1] if runs else None
