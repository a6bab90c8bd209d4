"""PDF (pypdf): text per page, regrouped into paragraphs; the outline, if any, as headings.

A PDF has no markup for headings or paragraphs, only positioned lines. When the file has
an outline (bookmarks), each page goes under the outline entry that starts on or before
it; otherwise each page is a section headed "Page N", which also makes a citation say
where the passage is. Lines are joined into paragraphs at blank lines and after a short
line that ends a sentence; a word hyphenated across lines is joined again.
"""

from __future__ import annotations

import io
import re
from typing import Any

from onethread.errors import InvalidInput
from onethread.knowledge.documents import Document, Section
from onethread.knowledge.models import ArticleFormat

_SENTENCE_END = (".", "!", "?", ":", "。")
_HYPHENATED = re.compile(r"[^\W\d_]-$")
SHORT_LINE_RATIO = 0.75  # a sentence-ending line this much shorter than the widest ends a paragraph
HEADING_LINE_RATIO = 0.6  # a paragraph's unpunctuated first line this short stands alone


def read_pdf(data: bytes, fallback_title: str) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidInput("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata_title = (reader.metadata.title if reader.metadata else None) or ""
        outline = _outline_starts(reader)
    except InvalidInput:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        raise InvalidInput(f"the PDF could not be read: {error}") from error
    paragraphs = [page_paragraphs(text) for text in pages]
    first_line = next((ln.strip() for text in pages for ln in text.splitlines() if ln.strip()), "")
    title = str(metadata_title).strip() or (first_line if len(first_line) <= 120 else "")
    title = title or fallback_title
    sections = _sections(paragraphs, outline)
    return Document(
        title=title,
        format=ArticleFormat.PDF,
        body="\n\n".join("\n\n".join(p) for p in paragraphs if p),
        sections=sections,
    )


def page_paragraphs(text: str) -> list[str]:
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n")]
    widest = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
                current = ""
            continue
        if not current and _looks_like_a_heading(line, widest):
            paragraphs.append(line)
            continue
        if current and _HYPHENATED.search(current):
            current = current[:-1] + line
        else:
            current = f"{current} {line}" if current else line
        if line.endswith(_SENTENCE_END) and len(line) < widest * SHORT_LINE_RATIO:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def _outline_starts(reader: Any) -> list[tuple[int, str]]:
    """(first page index, title) of each outline entry, nested ones included, by page."""
    starts: list[tuple[int, str]] = []

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
                continue
            try:
                page = reader.get_destination_page_number(item)
            except (KeyError, ValueError, TypeError, AttributeError):
                continue
            title = str(getattr(item, "title", "") or "").strip()
            if page is not None and page >= 0 and title:
                starts.append((page, title))

    walk(list(reader.outline or []))
    return sorted(starts, key=lambda start: start[0])


def _sections(paragraphs: list[list[str]], outline: list[tuple[int, str]]) -> list[Section]:
    sections: list[Section] = []
    for index, page in enumerate(paragraphs):
        if not page:
            continue
        titles = [title for start, title in outline if start <= index]
        heading = titles[-1] if titles else f"Page {index + 1}"
        if sections and sections[-1].headings == (heading,):
            previous = sections.pop()
            sections.append(Section((heading,), previous.text + "\n\n" + "\n\n".join(page)))
        else:
            sections.append(Section((heading,), "\n\n".join(page)))
    return sections


def _looks_like_a_heading(line: str, widest: int) -> bool:
    """A short line that starts a paragraph and ends without punctuation: a title line."""
    return (
        len(line) < widest * HEADING_LINE_RATIO
        and line[:1].isupper()
        and not line.endswith((*_SENTENCE_END, ",", ";"))
    )
