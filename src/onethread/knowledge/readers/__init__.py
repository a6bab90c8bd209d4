"""Readers: a file's bytes → a ``Document`` (title, body, sections, declared language)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePosixPath

from onethread.errors import InvalidInput
from onethread.knowledge.documents import Document
from onethread.knowledge.models import ArticleFormat
from onethread.knowledge.readers.html import read_html
from onethread.knowledge.readers.markdown import read_markdown
from onethread.knowledge.readers.pdf import read_pdf
from onethread.knowledge.readers.text import read_text

EXTENSIONS: dict[str, ArticleFormat] = {
    ".md": ArticleFormat.MARKDOWN,
    ".markdown": ArticleFormat.MARKDOWN,
    ".html": ArticleFormat.HTML,
    ".htm": ArticleFormat.HTML,
    ".txt": ArticleFormat.TEXT,
    ".text": ArticleFormat.TEXT,
    ".pdf": ArticleFormat.PDF,
}

_TEXT_READERS: dict[ArticleFormat, Callable[[str, str], Document]] = {
    ArticleFormat.MARKDOWN: read_markdown,
    ArticleFormat.HTML: read_html,
    ArticleFormat.TEXT: read_text,
}


class UnsupportedFormat(InvalidInput):
    code = "unsupported_format"


def format_of(filename: str) -> ArticleFormat:
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    try:
        return EXTENSIONS[suffix]
    except KeyError:
        known = ", ".join(sorted(EXTENSIONS))
        raise UnsupportedFormat(
            f"{filename!r}: unknown format {suffix or '(no extension)'!r}; known: {known}"
        ) from None


def title_from_filename(filename: str) -> str:
    """``guides/reset-your_password.md`` → ``Reset your password``."""
    stem = PurePosixPath(filename.replace("\\", "/")).stem
    words = re.sub(r"[-_]+", " ", stem).strip()
    return (words[:1].upper() + words[1:]) if words else "Untitled"


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else Windows-1252, the usual other encoding."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_document(data: bytes, filename: str, format: ArticleFormat | None = None) -> Document:
    """Parse ``data``; the format comes from ``filename``'s extension unless given."""
    kind = format or format_of(filename)
    fallback = title_from_filename(filename)
    if kind is ArticleFormat.PDF:
        return read_pdf(data, fallback)
    if b"\x00" in data[:4096]:
        raise InvalidInput(f"{filename!r} is not a text file")
    return read_text_as(decode_text(data), kind, fallback)


def read_text_as(text: str, format: ArticleFormat, fallback_title: str) -> Document:
    if format is ArticleFormat.PDF:
        raise InvalidInput("a PDF article is uploaded as a file, not sent as text")
    return _TEXT_READERS[format](text.replace("\x00", ""), fallback_title)


__all__ = [
    "EXTENSIONS",
    "UnsupportedFormat",
    "decode_text",
    "format_of",
    "read_document",
    "read_text_as",
    "title_from_filename",
]
