"""The in-memory hybrid index: BM25 over index terms + cosine over embeddings, per language.

Scores, each in [0, 1] so that one threshold (the playbook's ``knowledge_threshold``)
can be held against them:

- **lexical**: the passage's BM25 score (k1 = 1.2, b = 0.75) divided by the most the
  query could score: (k1 + 1) times the sum of the IDFs of its distinct terms, a query
  word the language's passages never use counting with the largest IDF. So it is 0
  without any query term, about 0.45 for a passage of average length that has each
  query term once, and tends to 1 as they repeat; scaling (rather than clipping) keeps
  BM25's order intact.
- **semantic**: the cosine of the query vector and the passage's embedding, clipped
  below at 0 (a passage without an embedding scores 0).
- **score** (hybrid): ``w · semantic + (1 - w) · lexical``, ``w = Fusion.semantic_weight``.
  A linear blend of two calibrated scores, rather than reciprocal rank fusion, because a
  rank carries no confidence: the assistant must be able to say "nothing here is good
  enough" and hand off. Without a query vector, or in a language none of whose
  passages has an embedding, the score is the lexical one alone.

Each language has its own index (its own stopwords, stemming and IDFs); a query is
scored against one language, or against all of them with the results merged. Articles
are added and replaced one at a time (their terms are computed once, when they are
added); ``build`` then reassembles the arrays of the languages that changed, which is
vectorised NumPy work (tens of milliseconds for 10,000 chunks). A search is a few
array operations over the language's passages: about a millisecond for 10,000 of them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from onethread.assistant.knowledge.terms import index_terms

SearchMode = Literal["hybrid", "lexical", "semantic"]
FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class Fusion:
    semantic_weight: float = 0.6  # chosen on StackFAQ and DSTC11 (docs/benchmarks.md)
    k1: float = 1.2
    b: float = 0.75


@dataclass(frozen=True)
class IndexedChunk:
    """One passage as the index holds it. ``chunk_key`` is ``<source_key>#<ordinal>``."""

    chunk_key: str
    article_key: str
    title: str
    heading: str
    text: str
    language: str
    chunk_id: int | None = None
    article_id: int | None = None
    vector: FloatArray | None = None


@dataclass(frozen=True)
class Passage:
    """A search result: where it comes from, what it says, and how well it matches."""

    article_id: int | None
    article_key: str
    title: str
    chunk_id: int | None
    chunk_key: str
    heading: str
    text: str
    language: str
    score: float
    lexical: float
    semantic: float


def indexed_text(title: str, heading: str, text: str) -> str:
    """What a passage is indexed and embedded as: its title and heading path lead."""
    lead = f"{title} — {heading}" if heading else title
    return f"{lead}\n{text}" if lead else text


@dataclass(frozen=True)
class _Block:
    """One article's passages in one language, tokenised once, ready to concatenate."""

    chunks: list[IndexedChunk]
    terms: NDArray[np.int32]  # each passage's distinct term ids, passage after passage
    counts: FloatArray  # how often each of those terms occurs in its passage
    sizes: NDArray[np.int64]  # distinct terms per passage
    lengths: FloatArray  # terms per passage
    vectors: FloatArray | None  # (passages, dim), zero rows where a passage has none


class _LanguageIndex:
    """Arrays for one language, assembled at once from its articles' blocks."""

    def __init__(self, blocks: list[_Block], fusion: Fusion) -> None:
        self.chunks = [chunk for block in blocks for chunk in block.chunks]
        n = len(self.chunks)
        lengths = np.concatenate([b.lengths for b in blocks])
        average = float(lengths.mean()) if n and lengths.sum() else 1.0
        terms = np.concatenate([b.terms for b in blocks])
        counts = np.concatenate([b.counts for b in blocks])
        docs = np.repeat(np.arange(n, dtype=np.int32), np.concatenate([b.sizes for b in blocks]))
        order = np.argsort(terms)  # the order of passages within a term does not matter
        terms, counts, docs = terms[order], counts[order], docs[order]
        self.terms, starts, frequencies = np.unique(terms, return_index=True, return_counts=True)
        self.starts = starts.astype(np.int64)
        self.ends = self.starts + frequencies
        self.idf = np.log1p((n - frequencies + 0.5) / (frequencies + 0.5)).astype(np.float32)
        self.unseen_idf = math.log1p((n + 0.5) / 0.5)
        self.saturation = fusion.k1 + 1
        norm = fusion.k1 * (1 - fusion.b + fusion.b * lengths[docs] / average)
        saturated = counts * (fusion.k1 + 1) / (counts + norm)
        self.weights = (saturated * np.repeat(self.idf, frequencies)).astype(np.float32)
        self.docs = docs
        self.dense = self._dense(blocks, n)

    @staticmethod
    def _dense(blocks: list[_Block], n: int) -> FloatArray | None:
        dims = Counter(b.vectors.shape[1] for b in blocks if b.vectors is not None)
        if not dims:
            return None
        dim = dims.most_common(1)[0][0]
        matrix = np.zeros((n, dim), dtype=np.float32)
        row = 0
        for block in blocks:
            if block.vectors is not None and block.vectors.shape[1] == dim:
                matrix[row : row + len(block.chunks)] = block.vectors
            row += len(block.chunks)
        return matrix

    def lexical(self, term_ids: list[int], unseen: int) -> FloatArray:
        scores = np.zeros(len(self.chunks), dtype=np.float32)
        total_idf = unseen * self.unseen_idf
        if len(self.terms):
            positions = np.searchsorted(self.terms, term_ids)
            for term, position in zip(term_ids, positions, strict=True):
                if position < len(self.terms) and self.terms[position] == term:
                    start, end = self.starts[position], self.ends[position]
                    scores[self.docs[start:end]] += self.weights[start:end]
                    total_idf += float(self.idf[position])
                else:
                    total_idf += self.unseen_idf
        if total_idf <= 0:
            return scores
        # BM25 gives a term at most (k1 + 1) · idf: this is the best score the query can get.
        np.divide(scores, total_idf * self.saturation, out=scores)
        return scores

    def semantic(self, vector: FloatArray) -> FloatArray | None:
        if self.dense is None or vector.shape[0] != self.dense.shape[1]:
            return None
        # einsum, not BLAS: a multi-threaded gemv on a busy 2-core machine has
        # 10 ms stalls at p99, einsum's single-threaded loop does not.
        cosines: FloatArray = np.einsum(
            "ij,j->i", self.dense, vector.astype(np.float32, copy=False)
        )
        return np.clip(cosines, 0.0, 1.0, out=cosines)


class KnowledgeIndex:
    """All the passages of one knowledge base, searchable per language."""

    def __init__(self, fusion: Fusion | None = None) -> None:
        self.fusion = fusion or Fusion()
        self._vocabulary: dict[str, int] = {}
        self._articles: dict[Hashable, list[_Block]] = {}
        self._languages: dict[str, _LanguageIndex] = {}
        self._dirty: set[str] = set()

    def __len__(self) -> int:
        return sum(len(b.chunks) for blocks in self._articles.values() for b in blocks)

    @property
    def languages(self) -> list[str]:
        return sorted({b.chunks[0].language for bs in self._articles.values() for b in bs})

    def set_article(self, ref: Hashable, chunks: Iterable[IndexedChunk]) -> None:
        """Add or replace an article's passages (``build`` makes them searchable)."""
        self.remove_article(ref)
        by_language: dict[str, list[IndexedChunk]] = {}
        for chunk in chunks:
            by_language.setdefault(chunk.language, []).append(chunk)
        self._articles[ref] = [self._block(group) for group in by_language.values()]
        self._dirty.update(by_language)

    def remove_article(self, ref: Hashable) -> None:
        for block in self._articles.pop(ref, []):
            self._dirty.add(block.chunks[0].language)

    def build(self) -> None:
        """Reassemble the arrays of every language whose passages changed."""
        for language in sorted(self._dirty):
            blocks = [
                b for bs in self._articles.values() for b in bs if b.chunks[0].language == language
            ]
            if blocks:
                self._languages[language] = _LanguageIndex(blocks, self.fusion)
            else:
                self._languages.pop(language, None)
        self._dirty.clear()

    def search(
        self,
        query_text: str,
        query_vector: FloatArray | None = None,
        *,
        language: str | None = None,
        k: int = 5,
        mode: SearchMode = "hybrid",
    ) -> list[Passage]:
        """The ``k`` best passages with a score above 0, best first."""
        if self._dirty:
            self.build()
        targets = [language] if language else sorted(self._languages)
        found: list[Passage] = []
        for code in targets:
            index = self._languages.get(code)
            if index is not None:
                found += self._search_one(index, code, query_text, query_vector, k, mode)
        found.sort(key=lambda passage: -passage.score)
        return found[:k]

    def _search_one(
        self,
        index: _LanguageIndex,
        language: str,
        query_text: str,
        query_vector: FloatArray | None,
        k: int,
        mode: SearchMode,
    ) -> list[Passage]:
        terms = dict.fromkeys(index_terms(query_text, language))
        known = [self._vocabulary[t] for t in terms if t in self._vocabulary]
        lexical = index.lexical(known, unseen=len(terms) - len(known))
        semantic = index.semantic(query_vector) if query_vector is not None else None
        if mode == "lexical" or semantic is None:
            scores = lexical if mode != "semantic" else np.zeros_like(lexical)
        elif mode == "semantic":
            scores = semantic
        else:
            weight = self.fusion.semantic_weight
            scores = weight * semantic + (1 - weight) * lexical
        count = min(k, len(scores))
        if count == 0:
            return []
        top = np.argpartition(-scores, count - 1)[:count] if count < len(scores) else None
        rows = top if top is not None else np.arange(len(scores))
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return [
            _passage(
                index.chunks[row],
                float(scores[row]),
                float(lexical[row]),
                float(semantic[row]) if semantic is not None else 0.0,
            )
            for row in rows.tolist()
            if scores[row] > 0
        ]

    def _block(self, chunks: list[IndexedChunk]) -> _Block:
        terms: list[int] = []
        counts: list[int] = []
        sizes: list[int] = []
        for chunk in chunks:
            found = Counter(
                index_terms(indexed_text(chunk.title, chunk.heading, chunk.text), chunk.language)
            )
            terms += [self._vocabulary.setdefault(term, len(self._vocabulary)) for term in found]
            counts += found.values()
            sizes.append(len(found))
        return _Block(
            chunks=chunks,
            terms=np.array(terms, dtype=np.int32),
            counts=np.array(counts, dtype=np.float32),
            sizes=np.array(sizes, dtype=np.int64),
            lengths=np.array(
                [sum(counts[end - size : end]) for size, end in _ends(sizes)], dtype=np.float32
            ),
            vectors=_stack([chunk.vector for chunk in chunks]),
        )


def _ends(sizes: list[int]) -> list[tuple[int, int]]:
    ends, total = [], 0
    for size in sizes:
        total += size
        ends.append((size, total))
    return ends


def _stack(vectors: list[FloatArray | None]) -> FloatArray | None:
    """The vectors as rows (zeros where missing), or None if none has one."""
    present = [v for v in vectors if v is not None]
    if not present:
        return None
    dim = Counter(v.shape[0] for v in present).most_common(1)[0][0]
    matrix = np.zeros((len(vectors), dim), dtype=np.float32)
    for row, vector in enumerate(vectors):
        if vector is not None and vector.shape[0] == dim:
            matrix[row] = vector
    return matrix


def _passage(chunk: IndexedChunk, score: float, lexical: float, semantic: float) -> Passage:
    return Passage(
        article_id=chunk.article_id,
        article_key=chunk.article_key,
        title=chunk.title,
        chunk_id=chunk.chunk_id,
        chunk_key=chunk.chunk_key,
        heading=chunk.heading,
        text=chunk.text,
        language=chunk.language,
        score=round(score, 6),
        lexical=round(lexical, 6),
        semantic=round(semantic, 6),
    )
