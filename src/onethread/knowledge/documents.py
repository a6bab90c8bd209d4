"""What a reader makes of a file: a titled document of sections under heading paths."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from onethread.errors import InvalidInput
from onethread.knowledge.models import ArticleFormat

HEADING_SEPARATOR = " \u203a "  # a single right-pointing angle quote between headings
_LANGUAGE_CODE = re.compile(r"^([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*$")


@dataclass(frozen=True)
class Section:
    """The text under one heading path (outermost heading first); paragraphs split by
    blank lines. A document without headings has one section with an empty path."""

    headings: tuple[str, ...]
    text: str

    @property
    def heading(self) -> str:
        return HEADING_SEPARATOR.join(self.headings)


@dataclass(frozen=True)
class Document:
    """A parsed source: ``language`` is what the file declares (front matter, ``lang``)."""

    title: str
    format: ArticleFormat
    body: str
    sections: list[Section] = field(default_factory=list)
    language: str | None = None


def normalize_language(value: str) -> str:
    """``"fr-FR"`` → ``"fr"``; anything that is not an ISO 639-1 code is refused."""
    match = _LANGUAGE_CODE.match(value.strip())
    if match is None:
        raise InvalidInput(f"{value!r} is not a language code (two letters, such as 'en')")
    return match.group(1).lower()


def sha256_text(*parts: str) -> str:
    """A digest of ``parts`` that cannot collide by moving text from one part to the next."""
    digest = hashlib.sha256()
    for part in parts:
        encoded = part.encode()
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    return digest.hexdigest()


def article_hash(title: str, language: str, format: ArticleFormat, body: str) -> str:
    return sha256_text(title, language, format.value, body)


def chunk_hash(title: str, heading: str, text: str) -> str:
    """Everything a chunk's embedding is computed from: same hash, same vector."""
    return sha256_text(title, heading, text)


def chunk_key(source_key: str, ordinal: int) -> str:
    """How exports and ``onethread eval kb`` name a chunk without a database id."""
    return f"{source_key}#{ordinal}"
