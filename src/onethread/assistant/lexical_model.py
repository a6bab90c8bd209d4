"""The router's lexical complement: TF-IDF word and character n-grams scored by naive Bayes.

Sentence vectors carry the meaning; exact words carry what they blur (product names,
"pin" against "password", "top up" against "transfer"). A multinomial naive Bayes over
TF-IDF features trains by counting, scores a message in well under a millisecond, and its
log-probabilities are added to the semantic model's with a small weight (see
``routing.py``). Features: lower-cased words, word bigrams, and character 2- to 5-grams inside
each word padded with spaces, so "refund" and "refunds" share most of their features.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from onethread.assistant.linear_model import log_softmax

NGRAM_SIZES = (2, 3, 4, 5)
DEFAULT_ALPHA = 0.1

_WORD = re.compile(r"[^\W_]+")


def ngram_features(text: str) -> Counter[str]:
    """Word, word-bigram and within-word character n-gram counts of ``text``."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    counts: Counter[str] = Counter()
    for index, word in enumerate(words):
        counts["w " + word] += 1
        if index:
            counts[f"b {words[index - 1]} {word}"] += 1
        padded = f" {word} "
        for size in NGRAM_SIZES:
            for start in range(len(padded) - size + 1):
                counts["c" + padded[start : start + size]] += 1
    return counts


@dataclass(frozen=True)
class SparseRows:
    """Rows of TF-IDF weights in compressed-row form (``indptr``/``indices``/``values``)."""

    indptr: NDArray[np.int64]
    indices: NDArray[np.int64]
    values: NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def dot(self, matrix: NDArray[np.float32]) -> NDArray[np.float32]:
        """``rows @ matrix`` for a dense (vocabulary, k) matrix."""
        out = np.zeros((len(self), matrix.shape[1]), dtype=np.float32)
        for row in range(len(self)):
            start, end = self.indptr[row], self.indptr[row + 1]
            if end > start:
                out[row] = self.values[start:end] @ matrix[self.indices[start:end]]
        return out


class TfidfVocabulary:
    """Feature → column, with the smoothed inverse document frequency of each column."""

    def __init__(self, features: Sequence[str], idf: NDArray[np.float32]) -> None:
        self.features = list(features)
        self.idf = idf
        self.index = {feature: column for column, feature in enumerate(self.features)}
        self.is_char = np.array([feature[0] == "c" for feature in self.features], dtype=bool)

    @classmethod
    def fit(cls, counts: Sequence[Counter[str]]) -> TfidfVocabulary:
        """The vocabulary of texts given by their ``ngram_features``."""
        document_frequency: Counter[str] = Counter()
        for text_counts in counts:
            document_frequency.update(text_counts.keys())
        features = sorted(document_frequency)
        df = np.array([document_frequency[f] for f in features], dtype=np.float64)
        idf = np.log((1 + len(counts)) / (1 + df)) + 1.0
        return cls(features, idf.astype(np.float32))

    def transform(self, texts: Sequence[str]) -> SparseRows:
        """Sublinear TF times IDF rows; unknown features are dropped."""
        return self.transform_counts([ngram_features(text) for text in texts])

    def transform_counts(self, counts: Sequence[Counter[str]]) -> SparseRows:
        indptr = [0]
        indices: list[int] = []
        values: list[float] = []
        for text_counts in counts:
            known = [
                (column, count)
                for feature, count in text_counts.items()
                if (column := self.index.get(feature)) is not None
            ]
            if known:
                columns = np.array([column for column, _ in known], dtype=np.int64)
                # One vectorised log per text: this runs for every message routed.
                tf = 1.0 + np.log(np.array([count for _, count in known], dtype=np.float64))
                weights = tf.astype(np.float32) * self.idf[columns]
                # Words and character n-grams are scaled to unit length separately, so that
                # the many n-grams of a long word do not drown the whole-word matches.
                is_char = self.is_char[columns]
                for group in (is_char, ~is_char):
                    norm = np.linalg.norm(weights[group])
                    if norm:
                        weights[group] /= norm
                indices.extend(columns.tolist())
                values.extend(weights.tolist())
            indptr.append(len(indices))
        return SparseRows(
            np.array(indptr, dtype=np.int64),
            np.array(indices, dtype=np.int64),
            np.array(values, dtype=np.float32),
        )


@dataclass(frozen=True)
class NaiveBayes:
    """Multinomial naive Bayes over TF-IDF rows with a uniform prior over labels (the
    semantic model already knows how frequent each label is)."""

    vocabulary: TfidfVocabulary
    feature_log_prob: NDArray[np.float32]  # (vocabulary, labels)

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        indicators: NDArray[np.float32],
        *,
        alpha: float = DEFAULT_ALPHA,
    ) -> NaiveBayes:
        """``indicators`` is (texts, labels) 0/1: a text counts towards each of its labels."""
        counts = [ngram_features(text) for text in texts]
        vocabulary = TfidfVocabulary.fit(counts)
        rows = vocabulary.transform_counts(counts)
        row_of_entry = np.repeat(np.arange(len(rows)), np.diff(rows.indptr))
        totals = np.empty((len(vocabulary.features), indicators.shape[1]), dtype=np.float64)
        for label in range(indicators.shape[1]):
            weight = rows.values * indicators[row_of_entry, label]
            totals[:, label] = np.bincount(
                rows.indices, weights=weight, minlength=len(vocabulary.features)
            )
        totals += alpha
        log_prob = np.log(totals) - np.log(totals.sum(axis=0, keepdims=True))
        return cls(vocabulary, log_prob.astype(np.float32))

    def log_proba(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Posterior log-probabilities of the labels; a text with no known feature gets a
        uniform row."""
        return log_softmax(self.vocabulary.transform(texts).dot(self.feature_log_prob))
