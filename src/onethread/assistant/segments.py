"""Cutting a message into the clauses that may each carry a topic.

"I was double-charged and the export button is broken" holds two topics; routed as one
text, each topic gets half the router's confidence and neither may pass the threshold.
Routed clause by clause, each passes on its own. The cut is deliberately cheap: sentence
punctuation, then clause connectors ("and", "but", "also", and their equivalents in a few
languages), then a comma, each only where both sides keep at least ``MIN_WORDS`` words, so
"terms and conditions" or "Marks and Spencer" stay whole. Over-cutting costs little: the
whole message is routed too, and a fragment that means nothing stays below the threshold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_WORDS = 3
MAX_SEGMENTS = 4

# After a sentence end followed by space, or after CJK sentence punctuation, or at a line break.
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|(?<=[\u3002\uff01\uff1f\uff1b])|\s*\n+\s*")
_CONNECTORS = (
    # English
    "and also", "and then", "as well as", "also", "and", "but", "plus", "besides",
    "additionally", "on top of that", "another thing", "oh and",
    # French, Spanish, Portuguese, Italian, German, Dutch
    "et aussi", "et", "mais", "aussi", "en plus",
    "y también", "y", "pero", "además", "también",
    "e também", "e", "mas", "além disso", "também",
    "ma", "inoltre", "anche",
    "und auch", "und", "aber", "außerdem", "auch",
    "en ook", "en", "maar", "ook",
)  # fmt: skip
_CONNECTOR = re.compile(
    r",?\s+(?:"
    + "|".join(
        re.escape(word).replace(r"\ ", r"\s+")
        for word in sorted(set(_CONNECTORS), key=len, reverse=True)
    )
    + r")\s+",
    re.IGNORECASE,
)
_COMMA = re.compile(r",\s+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Segment:
    """A clause of a message: its text and where it sits in the message."""

    text: str
    start: int
    end: int


def split_segments(text: str, *, min_words: int = MIN_WORDS) -> list[Segment]:
    """The clauses of ``text`` in order; a single segment (the stripped text) when it has
    nothing to cut. At most ``MAX_SEGMENTS``: the last one keeps the rest of the text."""
    spans = [(0, len(text))]
    for pattern in (_SENTENCE, _CONNECTOR, _COMMA):
        spans = [piece for span in spans for piece in _cut(text, span, pattern, min_words)]
    segments = [_stripped(text, start, end) for start, end in spans]
    found = [segment for segment in segments if segment.text]
    if len(found) > MAX_SEGMENTS:
        last = found[MAX_SEGMENTS - 1]
        found = [*found[: MAX_SEGMENTS - 1], _stripped(text, last.start, found[-1].end)]
    return found


def _cut(
    text: str, span: tuple[int, int], pattern: re.Pattern[str], min_words: int
) -> list[tuple[int, int]]:
    """Cut ``span`` at the matches of ``pattern`` whose both sides are long enough."""
    start, end = span
    pieces: list[tuple[int, int]] = []
    piece_start = start
    for match in pattern.finditer(text, start, end):
        left = text[piece_start : match.start()]
        right = text[match.end() : end]
        if _long_enough(left, min_words) and _long_enough(right, min_words):
            pieces.append((piece_start, match.start()))
            piece_start = match.end()
    pieces.append((piece_start, end))
    return pieces


def _long_enough(fragment: str, min_words: int) -> bool:
    words = _WORD.findall(fragment)
    if len(words) >= min_words:
        return True
    # Scripts written without spaces (Chinese, Japanese, Thai): count characters instead.
    return len(words) == 1 and len(words[0]) >= 2 * min_words and not words[0].isascii()


def _stripped(text: str, start: int, end: int) -> Segment:
    piece = text[start:end]
    leading = len(piece) - len(piece.lstrip(" ,;:-\t"))
    trailing = len(piece.rstrip(" ,;:-\t"))
    return Segment(piece[leading:trailing], start + leading, start + trailing)
