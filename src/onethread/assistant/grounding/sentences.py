"""``unsupported_sentences``: sentences of generated text that no source sentence backs.

A reply can invent without a single number ("Refunds are available for any reason."), so
generated text is also checked sentence by sentence. A sentence is supported when:

- lexically, at least ``LEXICAL_SUPPORT_THRESHOLD`` of its content words (``words.py``)
  appear in one source window (a source sentence, or two adjacent ones, so that a sentence
  joining two source sentences still counts), or
- semantically, with an encoder, its cosine to one source window is at least
  ``SEMANTIC_SUPPORT_THRESHOLD`` (a paraphrase with other words);

and in both cases the window agrees with it on negation: "we do not refund annual plans"
shares every word with "we refund annual plans" and says the opposite. Sentences with
fewer than ``MIN_CONTENT_WORDS`` content words ("Thanks!", "Sorry about that.") are too
short to judge; boilerplate the caller adds itself (a greeting, the handoff line) is passed
as ``allowed`` and passes when it repeats nearly every content word of an allowed sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from onethread.assistant.encoder import TextEncoder
from onethread.assistant.grounding.words import content_stems, negates, words

LEXICAL_SUPPORT_THRESHOLD = 0.5
# Set on all-MiniLM-L6-v2 against the refund passages of tests/assistant/test_grounding.py:
# close paraphrases scored 0.77-0.78, invented policies on the same topic up to 0.60, looser
# paraphrases 0.52-0.62 (rejected: the caller falls back to its template).
SEMANTIC_SUPPORT_THRESHOLD = 0.75
ALLOWED_MATCH_THRESHOLD = 0.85
MIN_CONTENT_WORDS = 2


@dataclass(frozen=True)
class SentenceSupport:
    sentence: str
    judged: bool  # False: too short to judge, or allowed boilerplate
    lexical: float  # best share of its content words found in one source window
    semantic: float | None  # best cosine to a source window, when an encoder was used
    supported: bool


_BOUNDARY = re.compile(r"(?<=[.!?…])\s+|\s*\n+\s*")
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+")
_ABBREVIATION = re.compile(
    r"(?i)(?:\b(?:e\.g|i\.e|etc|mr|mrs|ms|dr|vs|approx|no|nr|inc|ltd|st|a\.m|p\.m|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)|\b\w)\.$"
)


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of ``text``, without bullets; "Nov. 3" stays whole."""
    sentences: list[str] = []
    for raw in _BOUNDARY.split(text):
        piece = _BULLET.sub("", raw).strip()
        if not piece:
            continue
        if sentences and _ABBREVIATION.search(sentences[-1]) and not _ends_line(text, piece):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def _ends_line(text: str, piece: str) -> bool:
    """Whether ``piece`` starts a new line in ``text`` (then it is never merged back)."""
    index = text.find(piece)
    return index > 0 and "\n" in text[max(0, index - 3) : index]


@dataclass(frozen=True)
class _Window:
    text: str
    words: frozenset[str]
    negative: bool

    @classmethod
    def of(cls, text: str) -> _Window:
        folded = words(text)
        return cls(text, content_stems(folded), negates(folded))

    def joined(self, next_window: _Window) -> _Window:
        """The window of this sentence and the next, without reading either again."""
        return _Window(
            f"{self.text} {next_window.text}",
            self.words | next_window.words,
            self.negative or next_window.negative,
        )


def _windows(texts: Sequence[str]) -> list[_Window]:
    windows: list[_Window] = []
    for text in texts:
        sentences = [_Window.of(sentence) for sentence in split_sentences(text)]
        windows.extend(sentences)
        windows.extend(a.joined(b) for a, b in pairwise(sentences))
    return windows


def _coverage(words: frozenset[str], window: _Window) -> float:
    return len(words & window.words) / len(words)


def sentence_support(
    reply: str,
    sources: Sequence[str],
    encoder: TextEncoder | None = None,
    *,
    allowed: Sequence[str] = (),
    lexical_threshold: float = LEXICAL_SUPPORT_THRESHOLD,
    semantic_threshold: float = SEMANTIC_SUPPORT_THRESHOLD,
) -> list[SentenceSupport]:
    """How well each sentence of ``reply`` is backed by ``sources`` (see the module doc)."""
    windows = _windows(sources)
    allowed_windows = _windows(allowed)
    results: list[SentenceSupport | None] = []
    pending: list[tuple[int, _Window, float]] = []  # lexically unsupported: for the encoder
    for sentence in split_sentences(reply):
        mine = _Window.of(sentence)
        if len(mine.words) < MIN_CONTENT_WORDS or any(
            other.negative == mine.negative
            and _coverage(mine.words, other) >= ALLOWED_MATCH_THRESHOLD
            for other in allowed_windows
        ):
            results.append(SentenceSupport(sentence, False, 1.0, None, True))
            continue
        agreeing = [window for window in windows if window.negative == mine.negative]
        lexical = max((_coverage(mine.words, window) for window in agreeing), default=0.0)
        if lexical >= lexical_threshold or encoder is None:
            results.append(
                SentenceSupport(sentence, True, lexical, None, lexical >= lexical_threshold)
            )
            continue
        results.append(None)
        pending.append((len(results) - 1, mine, lexical))
    if pending:
        assert encoder is not None
        _judge_semantically(pending, windows, encoder, semantic_threshold, results)
    return [result for result in results if result is not None]


def _judge_semantically(
    pending: list[tuple[int, _Window, float]],
    windows: list[_Window],
    encoder: TextEncoder,
    threshold: float,
    results: list[SentenceSupport | None],
) -> None:
    vectors = encoder.encode([item.text for _, item, _ in pending] + [w.text for w in windows])
    sentences, sources = vectors[: len(pending)], vectors[len(pending) :]
    cosines = sentences @ sources.T if len(windows) else np.zeros((len(pending), 0))
    for row, (index, item, lexical) in enumerate(pending):
        agreeing = [col for col, window in enumerate(windows) if window.negative == item.negative]
        semantic = float(cosines[row, agreeing].max()) if agreeing else 0.0
        results[index] = SentenceSupport(item.text, True, lexical, semantic, semantic >= threshold)


def unsupported_sentences(
    reply: str,
    sources: Sequence[str],
    encoder: TextEncoder | None = None,
    *,
    allowed: Sequence[str] = (),
    lexical_threshold: float = LEXICAL_SUPPORT_THRESHOLD,
    semantic_threshold: float = SEMANTIC_SUPPORT_THRESHOLD,
) -> list[str]:
    """The sentences of ``reply`` that no source backs (see the module doc)."""
    return [
        support.sentence
        for support in sentence_support(
            reply,
            sources,
            encoder,
            allowed=allowed,
            lexical_threshold=lexical_threshold,
            semantic_threshold=semantic_threshold,
        )
        if not support.supported
    ]
