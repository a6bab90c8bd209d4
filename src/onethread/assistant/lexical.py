"""The fallback encoder: hashed words and character n-grams, no model and no training.

Each feature is hashed (BLAKE2b, so the same text gives the same vector in every process
and on every machine, unlike Python's salted ``hash``) to a column and a sign: a sparse
random projection of the bag of features. Words and n-grams are two groups, each scaled to
unit length before they are added, so that long words do not drown whole-word matches and
typos or inflections ("refund" / "refunds") still share most n-grams.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from hashlib import blake2b

import numpy as np
from numpy.typing import NDArray

DEFAULT_DIM = 512
NGRAM_SIZES = (3, 4, 5)
EMPTY_FEATURE = "\x00empty"

# Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, kana, Han) and
# Hangul: a run of them is a phrase, and their characters and bigrams act as the words.
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)


class LexicalEncoder:
    """Deterministic hashed bag of words + character n-grams, L2-normalised."""

    def __init__(self, dim: int = DEFAULT_DIM) -> None:
        if dim < 2:
            raise ValueError("dim must be at least 2")
        self.dim = dim
        self.name = f"lexical-hash-v1-{dim}"

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not a single string")
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            self._fill(row, text)
        return rows

    def _fill(self, row: NDArray[np.float32], text: str) -> None:
        for group in features(text):
            if group:
                row += self._project(group)
        norm = np.linalg.norm(row)
        if norm == 0:  # nothing to hash (or, rarely, features that cancelled out)
            row += self._project(Counter([EMPTY_FEATURE]))
        else:
            row /= norm

    def _project(self, counts: Counter[str]) -> NDArray[np.float32]:
        part = np.zeros(self.dim, dtype=np.float64)
        for feature, count in counts.items():
            digest = stable_hash(feature)
            sign = 1.0 if digest >> 63 else -1.0
            part[digest % self.dim] += sign * count
        norm = np.linalg.norm(part)
        # Opposite-signed collisions can cancel a group out entirely.
        return (part / norm if norm else part).astype(np.float32)


def features(text: str) -> tuple[Counter[str], Counter[str]]:
    """Word features and character n-gram features of ``text``, case- and width-folded."""
    words: Counter[str] = Counter()
    ngrams: Counter[str] = Counter()
    for token in tokens(unicodedata.normalize("NFKC", text).casefold()):
        words["w:" + token] += 1
        if token[0].isalnum():
            ngrams.update("c:" + gram for gram in character_ngrams(token))
    return words, ngrams


def tokens(text: str) -> list[str]:
    """Words (letters, digits and their combining marks, so that Devanagari or Arabic with
    vowel marks stay whole), an unspaced run split off from a spaced word beside it, and
    single symbols (emoji, currency); punctuation says little about what a message is about."""
    found: list[str] = []
    word: list[str] = []
    word_unspaced = False
    for char in text:
        kind = unicodedata.category(char)[0]
        if kind in "LNM":
            unspaced = _UNSPACED.match(char) is not None
            if word and unspaced != word_unspaced and kind != "M":
                found.append("".join(word))
                word = []
            if not word:
                word_unspaced = unspaced
            word.append(char)
            continue
        if word:
            found.append("".join(word))
            word = []
        if kind == "S":
            found.append(char)
    if word:
        found.append("".join(word))
    return found


def character_ngrams(token: str) -> list[str]:
    """3- to 5-grams of the word between boundary marks; characters and bigrams of an
    unspaced run (3-grams of Chinese would rarely match across two phrasings)."""
    marked = f"<{token}>"
    if _UNSPACED.match(token):
        return [*token, *ngrams_of(marked, 2)]
    return [gram for size in NGRAM_SIZES for gram in ngrams_of(marked, size)]


def ngrams_of(text: str, size: int) -> list[str]:
    return [text[start : start + size] for start in range(len(text) - size + 1)]


@lru_cache(maxsize=65536)
def stable_hash(feature: str) -> int:
    """A 64-bit hash of ``feature`` that is the same in every process."""
    return int.from_bytes(blake2b(feature.encode(), digest_size=8).digest(), "big")
