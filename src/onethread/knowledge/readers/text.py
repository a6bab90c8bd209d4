"""Plain text: paragraphs split by blank lines; a short first line is the title."""

from __future__ import annotations

from onethread.knowledge.documents import Document, Section
from onethread.knowledge.models import ArticleFormat

MAX_TITLE_CHARS = 120


def read_text(text: str, fallback_title: str) -> Document:
    content = text.replace("\r\n", "\n").strip()
    first, _, rest = content.partition("\n")
    looks_like_title = (
        0 < len(first.strip()) <= MAX_TITLE_CHARS
        and not first.rstrip().endswith((".", ",", ";", ":"))
        and (not rest or rest.startswith("\n") or not rest.strip())
    )
    title = first.strip() if looks_like_title else fallback_title
    remainder = rest.strip() if looks_like_title else content
    return Document(
        title=title,
        format=ArticleFormat.TEXT,
        body=content,
        sections=[Section((), remainder)] if remainder else [],
    )
