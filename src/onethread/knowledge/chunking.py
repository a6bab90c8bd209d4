"""Sections → chunks: one or more per heading path, each at most ``max_chars`` long.

A chunk is a run of whole paragraphs under one heading path; paragraphs are never cut
unless one alone is too long, and then it is cut between sentences (between words as a
last resort). Chunks do not overlap: each sentence of the article is in exactly one
chunk, so a cited passage is a span of the article and re-chunking after an edit
leaves the chunks of the untouched sections as they were (their embeddings are kept).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from onethread.knowledge.documents import Document, chunk_hash

MAX_CHUNK_CHARS = 1000  # about 250 word pieces: what all-MiniLM-L6-v2 reads in full

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile("(?<=[.!?\u3002\uff01\uff1f])\\s+")  # also CJK full stops


@dataclass(frozen=True)
class ChunkDraft:
    ordinal: int
    heading: str
    text: str
    content_hash: str


def paragraphs_of(text: str) -> list[str]:
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip()]


def chunk_document(document: Document, max_chars: int = MAX_CHUNK_CHARS) -> list[ChunkDraft]:
    """The chunks of ``document``, numbered from 0 in reading order."""
    if max_chars < 50:
        raise ValueError("max_chars must be at least 50")
    drafts: list[ChunkDraft] = []
    for section in document.sections:
        for text in pack_paragraphs(paragraphs_of(section.text), max_chars):
            drafts.append(
                ChunkDraft(
                    ordinal=len(drafts),
                    heading=section.heading,
                    text=text,
                    content_hash=chunk_hash(document.title, section.heading, text),
                )
            )
    return drafts


def pack_paragraphs(paragraphs: list[str], max_chars: int) -> Iterator[str]:
    """Greedily join consecutive paragraphs while the result fits in ``max_chars``."""
    current: list[str] = []
    size = 0
    for paragraph in paragraphs:
        for piece in _fit(paragraph, max_chars):
            added = len(piece) + (2 if current else 0)
            if current and size + added > max_chars:
                yield "\n\n".join(current)
                current, size = [], 0
                added = len(piece)
            current.append(piece)
            size += added
    if current:
        yield "\n\n".join(current)


def _fit(paragraph: str, max_chars: int) -> Iterator[str]:
    """The paragraph itself, or its sentences (or words) regrouped into fitting pieces."""
    if len(paragraph) <= max_chars:
        yield paragraph
        return
    piece = ""
    for sentence in _SENTENCE_END.split(paragraph):
        for part in _split_words(sentence, max_chars):
            joined = f"{piece} {part}" if piece else part
            if len(joined) <= max_chars:
                piece = joined
            else:
                yield piece
                piece = part
    if piece:
        yield piece


def _split_words(sentence: str, max_chars: int) -> Iterator[str]:
    if len(sentence) <= max_chars:
        yield sentence
        return
    piece = ""
    for whole in sentence.split():
        word = whole
        while len(word) > max_chars:  # a run without spaces (a URL, a hash): cut it
            if piece:
                yield piece
                piece = ""
            yield word[:max_chars]
            word = word[max_chars:]
        joined = f"{piece} {word}" if piece else word
        if len(joined) <= max_chars:
            piece = joined
        else:
            yield piece
            piece = word
    if piece:
        yield piece
