"""Multi-label routing (one-vs-rest): any number of labels per message, as in NLU++,
where "block my card, I lost it" is ``card`` + ``cancel_close_leave_freeze`` +
``lost_stolen`` in one clause, so cutting the message into clauses would not help.

One logistic regression per label over the sentence vector (scaled by
``semantic_scale``) joined with the message's TF-IDF word and character n-grams, trained
jointly by ``linear_model.fit_one_vs_rest``. Unlike the single-label router, the lexical
features are inside the model rather than a separate vote: in a one-vs-rest model a
label is often one word ("pin", "refund"), and a joint model learns which words matter
for which label. The n-grams are kept as dense columns while training, so very large
training sets keep only their most frequent n-grams (``max_lexical_cells``).
``train_calibrated`` chooses one probability threshold for every label, the one that
maximises micro-F1 on cross-fitted predictions.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from onethread.assistant.calibration import DEFAULT_FOLDS, stratified_folds
from onethread.assistant.encoder import TextEncoder
from onethread.assistant.lexical_model import SparseRows, TfidfVocabulary, ngram_features
from onethread.assistant.linear_model import LinearModel, fit_one_vs_rest
from onethread.assistant.routing import TopicScore, encoded_vectors, npz_bytes, npz_header

Vectors = NDArray[np.float32]
FORMAT = "onethread-multilabel-router-v1"
DEFAULT_THRESHOLD = 0.5
THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)


@dataclass(frozen=True)
class MultiLabelConfig:
    c: float = 100.0
    semantic_scale: float = 2.0  # the sentence vector's weight against the unit TF-IDF row
    lexical: bool = True
    max_lexical_cells: int = 20_000_000  # training rows times n-gram columns in memory


class MultiLabelRouter:
    def __init__(
        self,
        labels: Sequence[str],
        encoder_name: str,
        model: LinearModel,
        vocabulary: TfidfVocabulary | None,
        config: MultiLabelConfig,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.labels = tuple(labels)
        self.encoder_name = encoder_name
        self.model = model
        self.vocabulary = vocabulary
        self.config = config
        self.threshold = threshold
        dim = model.weights.shape[0] - (0 if vocabulary is None else len(vocabulary.features))
        self._semantic_weights = model.weights[:dim]
        self._lexical_weights = model.weights[dim:]

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        label_sets: Sequence[Sequence[str]],
        encoder: TextEncoder,
        *,
        vectors: Vectors | None = None,
        labels: Sequence[str] | None = None,
        config: MultiLabelConfig | None = None,
    ) -> MultiLabelRouter:
        """``label_sets[i]`` are text i's labels (possibly none). ``labels``: the label
        set to learn (default: every label seen)."""
        config = config or MultiLabelConfig()
        if len(texts) != len(label_sets):
            raise ValueError("one label set per text")
        names = _label_names(label_sets, labels)
        if not names:
            raise ValueError("no labels to learn")
        vectors = encoded_vectors(texts, encoder, vectors)
        return _fit(
            names, list(texts), vectors, _indicators(label_sets, names), encoder.name, config
        )

    @classmethod
    def train_calibrated(
        cls,
        texts: Sequence[str],
        label_sets: Sequence[Sequence[str]],
        encoder: TextEncoder,
        *,
        vectors: Vectors | None = None,
        labels: Sequence[str] | None = None,
        config: MultiLabelConfig | None = None,
        folds: int = DEFAULT_FOLDS,
        seed: int = 0,
    ) -> MultiLabelRouter:
        """Train on everything, with the threshold that maximised micro-F1 on predictions
        cross-fitted over ``folds`` folds (stratified by each text's first label)."""
        config = config or MultiLabelConfig()
        names = _label_names(label_sets, labels)
        vectors = encoded_vectors(texts, encoder, vectors)
        truth = _indicators(label_sets, names)
        fold_of = stratified_folds([min(found, default="") for found in label_sets], folds, seed)
        held_out = np.zeros_like(truth)
        for fold in range(folds):
            held = np.flatnonzero(fold_of == fold)
            kept = np.flatnonzero(fold_of != fold)
            if len(held) == 0 or len(kept) == 0:
                continue
            router = _fit(
                names,
                [texts[i] for i in kept.tolist()],
                vectors[kept],
                truth[kept],
                encoder.name,
                config,
            )
            held_out[held] = router.probabilities(vectors[held], [texts[i] for i in held.tolist()])
        scores = [micro_f1(held_out >= threshold, truth > 0) for threshold in THRESHOLD_GRID]
        threshold = float(THRESHOLD_GRID[int(np.argmax(scores))])
        router = _fit(names, list(texts), vectors, truth, encoder.name, config)
        router.threshold = threshold
        return router

    def probabilities(self, vectors: Vectors, texts: Sequence[str] | None = None) -> Vectors:
        """(rows, labels): the probability that each label is present."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        logits = self.config.semantic_scale * (vectors @ self._semantic_weights) + self.model.bias
        if self.vocabulary is not None:
            if texts is None or len(texts) != len(vectors):
                raise ValueError("this router scores words too: pass the texts with the vectors")
            logits += self.vocabulary.transform(texts).dot(self._lexical_weights)
        return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float32)

    def predict(
        self, vectors: Vectors, texts: Sequence[str] | None = None
    ) -> list[list[TopicScore]]:
        """Per row, every label at or above the threshold, most probable first."""
        rows = []
        for row in self.probabilities(vectors, texts):
            chosen = np.flatnonzero(row >= self.threshold)
            chosen = chosen[np.argsort(-row[chosen])]
            rows.append([TopicScore(self.labels[j], float(row[j])) for j in chosen])
        return rows

    def to_bytes(self) -> bytes:
        header = {
            "format": FORMAT,
            "labels": list(self.labels),
            "encoder_name": self.encoder_name,
            "config": asdict(self.config),
            "threshold": self.threshold,
            "vocabulary": None if self.vocabulary is None else self.vocabulary.features,
        }
        arrays: dict[str, Any] = {
            "weights": self.model.weights,
            "bias": self.model.bias,
        }
        if self.vocabulary is not None:
            arrays["idf"] = self.vocabulary.idf
        return npz_bytes(header, arrays)

    @classmethod
    def from_bytes(cls, data: bytes) -> MultiLabelRouter:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            header = npz_header(stored, FORMAT, "multi-label router")
            vocabulary = None
            if header["vocabulary"] is not None:
                vocabulary = TfidfVocabulary(header["vocabulary"], stored["idf"])
            return cls(
                header["labels"],
                header["encoder_name"],
                LinearModel(stored["weights"], stored["bias"], multi_label=True),
                vocabulary,
                MultiLabelConfig(**header["config"]),
                header["threshold"],
            )


def micro_f1(predicted: NDArray[np.bool_], truth: NDArray[np.bool_]) -> float:
    true_positives = float((predicted & truth).sum())
    denominator = float(predicted.sum() + truth.sum())
    return 2 * true_positives / denominator if denominator else 1.0


def _indicators(label_sets: Sequence[Sequence[str]], names: Sequence[str]) -> Vectors:
    index = {name: column for column, name in enumerate(names)}
    truth = np.zeros((len(label_sets), len(names)), dtype=np.float32)
    for row, found in enumerate(label_sets):
        for label in found:
            if label in index:
                truth[row, index[label]] = 1.0
    return truth


def _label_names(label_sets: Sequence[Sequence[str]], labels: Sequence[str] | None) -> list[str]:
    return sorted(set(labels or ()) | {label for found in label_sets for label in found})


def _fit(
    names: Sequence[str],
    texts: list[str],
    vectors: Vectors,
    truth: Vectors,
    encoder_name: str,
    config: MultiLabelConfig,
) -> MultiLabelRouter:
    features = config.semantic_scale * vectors
    vocabulary = None
    if config.lexical:
        counts = [ngram_features(text) for text in texts]
        keep = config.max_lexical_cells // max(len(texts), 1)
        vocabulary = _most_frequent(TfidfVocabulary.fit(counts), keep)
        lexical = _dense(vocabulary.transform_counts(counts), len(vocabulary.features))
        features = np.hstack([features, lexical])
    model = fit_one_vs_rest(features, truth, c=config.c)
    return MultiLabelRouter(names, encoder_name, model, vocabulary, config)


def _most_frequent(vocabulary: TfidfVocabulary, keep: int) -> TfidfVocabulary:
    """The vocabulary cut to the ``keep`` features found in the most texts."""
    if len(vocabulary.features) <= keep:
        return vocabulary
    order = np.argsort(vocabulary.idf, kind="stable")[:keep]
    order.sort()
    return TfidfVocabulary([vocabulary.features[i] for i in order], vocabulary.idf[order])


def _dense(rows: SparseRows, width: int) -> Vectors:
    matrix = np.zeros((len(rows), width), dtype=np.float32)
    row_of_entry = np.repeat(np.arange(len(rows)), np.diff(rows.indptr))
    matrix[row_of_entry, rows.indices] = rows.values
    return matrix
