"""The topic router: which of a business's topics a message is about, with a calibrated
confidence, several topics per message, and "none of them" (out of scope).

Three scorers, combined by a weighted sum of their log-probabilities (then renormalised):

- **semantic** (always): softmax regression over the frozen sentence vector of the message
  (``linear_model.py``); this is the router, the others only nudge it;
- **lexical** (``lexical_weight``, 0.2): naive Bayes over TF-IDF word and character
  n-grams (``lexical_model.py``), for exact words that sentence vectors blur;
- **neighbours** (``neighbour_weight``, 0.3, only up to ``max_neighbour_examples``
  examples): a soft vote of the most similar examples, which helps most when each topic
  has few examples and keeps the per-message cost tiny.

Label names ("card_arrival" → "card arrival") are added as one more example of their
label. ``train_calibrated`` cross-fits the router on its training data to choose the
out-of-scope threshold (``calibration.py``). Prediction takes precomputed vectors, so a
message is encoded once for routing, out-of-scope detection and retrieval.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from onethread.assistant.calibration import (
    DEFAULT_FOLDS,
    DEFAULT_OOS_SHARE,
    Calibration,
    choose_threshold,
    stratified_folds,
)
from onethread.assistant.encoder import TextEncoder
from onethread.assistant.lexical_model import NaiveBayes, TfidfVocabulary
from onethread.assistant.linear_model import LinearModel, fit_softmax, log_softmax
from onethread.assistant.segments import split_segments

Vectors = NDArray[np.float32]
FORMAT = "onethread-topic-router-v1"
_KNN_FLOOR = 1e-4  # keeps log(vote) finite for labels no neighbour voted for


@dataclass(frozen=True)
class RouterConfig:
    c: float = 10.0  # inverse L2 strength of the softmax regression (scikit-learn's C)
    lexical_weight: float = 0.2
    neighbour_weight: float = 0.3
    neighbour_temperature: float = 0.05
    max_neighbour_examples: int = 3000
    label_names_as_examples: bool = True
    min_clause_confidence: float = 0.6  # a topic found only in a clause needs this much


@dataclass(frozen=True)
class TopicScore:
    label: str
    confidence: float


@dataclass(frozen=True)
class RoutedTopic:
    """A topic found in a message, with the clause that carried it (or the whole text)."""

    label: str
    confidence: float
    segment: str


@dataclass(frozen=True)
class _Examples:
    """Training examples with their vectors and label indices (label names included)."""

    texts: list[str]
    vectors: Vectors
    targets: NDArray[np.intp]

    def subset(self, rows: NDArray[np.intp]) -> _Examples:
        return _Examples([self.texts[i] for i in rows], self.vectors[rows], self.targets[rows])


class TopicRouter:
    """A trained router; ``threshold`` 0 means nothing is ever out of scope."""

    def __init__(
        self,
        labels: Sequence[str],
        encoder_name: str,
        semantic: LinearModel,
        lexical: NaiveBayes | None,
        neighbours: tuple[Vectors, NDArray[np.intp]] | None,
        config: RouterConfig,
        threshold: float = 0.0,
        calibration: Calibration | None = None,
    ) -> None:
        self.labels = tuple(labels)
        self.encoder_name = encoder_name
        self.semantic = semantic
        self.lexical = lexical
        self.neighbours = neighbours
        self.config = config
        self.threshold = threshold
        self.calibration = calibration
        self._neighbour_onehot: Vectors | None = None
        if neighbours is not None:
            self._neighbour_onehot = np.zeros((len(neighbours[1]), len(labels)), np.float32)
            self._neighbour_onehot[np.arange(len(neighbours[1])), neighbours[1]] = 1.0

    # -- training ---------------------------------------------------------------------

    @classmethod
    def train(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        encoder: TextEncoder,
        *,
        vectors: Vectors | None = None,
        label_texts: Mapping[str, Sequence[str]] | None = None,
        config: RouterConfig | None = None,
    ) -> TopicRouter:
        """A router for single-label examples. ``vectors``: the texts already encoded by
        ``encoder``. ``label_texts``: more phrasings per label (titles, descriptions)."""
        config = config or RouterConfig()
        label_names, examples = _examples(texts, labels, encoder, vectors, label_texts, config)
        return _fit(label_names, examples, encoder.name, config)

    @classmethod
    def train_calibrated(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        encoder: TextEncoder,
        *,
        oos_label: str | None = "oos",
        vectors: Vectors | None = None,
        label_texts: Mapping[str, Sequence[str]] | None = None,
        config: RouterConfig | None = None,
        folds: int = DEFAULT_FOLDS,
        seed: int = 0,
        oos_share: float = DEFAULT_OOS_SHARE,
    ) -> TopicRouter:
        """Train on every in-scope example and set the out-of-scope threshold.

        The threshold is chosen on held-out predictions made by cross-fitting: the examples
        are cut into ``folds`` stratified folds, and each fold is predicted by a router
        trained on the others. Examples labelled ``oos_label`` are never a topic: each is
        predicted by one of the fold routers, and with them the threshold maximises the
        ``oos`` objective; without any, the ``selective`` one (see ``calibration.py``).
        """
        config = config or RouterConfig()
        is_oos = np.array([label == oos_label for label in labels], dtype=bool)
        all_vectors = encoded_vectors(texts, encoder, vectors)
        in_rows = np.flatnonzero(~is_oos)
        in_texts = [texts[i] for i in in_rows.tolist()]
        in_labels = [labels[i] for i in in_rows.tolist()]
        label_names, examples = _examples(
            in_texts, in_labels, encoder, all_vectors[in_rows], label_texts, config
        )
        n_real = len(in_texts)  # label-name examples come after these and are never held out
        fold_of = stratified_folds(in_labels, folds, seed)
        oos_texts = [texts[i] for i in np.flatnonzero(is_oos).tolist()]
        oos_vectors = all_vectors[is_oos]
        oos_fold = np.arange(len(oos_texts)) % folds
        in_confidence = np.zeros(n_real)
        in_correct = np.zeros(n_real, dtype=bool)
        oos_confidence = np.zeros(len(oos_texts))
        for fold in range(folds):
            held = np.flatnonzero(fold_of == fold)
            if len(held) == 0:
                continue
            kept = np.concatenate(
                [np.flatnonzero(fold_of != fold), np.arange(n_real, len(examples.texts))]
            )
            router = _fit(label_names, examples.subset(kept), encoder.name, config)
            probabilities = router.confidences(
                examples.vectors[held], [examples.texts[i] for i in held.tolist()]
            )
            in_confidence[held] = probabilities.max(axis=1)
            in_correct[held] = probabilities.argmax(axis=1) == examples.targets[held]
            oos_rows = np.flatnonzero(oos_fold == fold)
            if len(oos_rows):
                oos_probabilities = router.confidences(
                    oos_vectors[oos_rows], [oos_texts[i] for i in oos_rows]
                )
                oos_confidence[oos_rows] = oos_probabilities.max(axis=1)
        calibration = choose_threshold(
            in_confidence,
            in_correct,
            oos_confidence if oos_texts else None,
            oos_share=oos_share,
        )
        router = _fit(label_names, examples, encoder.name, config)
        return router.with_threshold(calibration.threshold, calibration)

    def with_threshold(
        self, threshold: float, calibration: Calibration | None = None
    ) -> TopicRouter:
        return TopicRouter(
            self.labels,
            self.encoder_name,
            self.semantic,
            self.lexical,
            self.neighbours,
            self.config,
            threshold,
            calibration,
        )

    # -- prediction -------------------------------------------------------------------

    def confidences(self, vectors: Vectors, texts: Sequence[str] | None = None) -> Vectors:
        """(rows, labels) probabilities of the combined scorers. ``texts`` (the same
        messages as ``vectors``) is needed when the router has a lexical part."""
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        parts: list[tuple[float, Vectors]] = []
        if self.lexical is not None:
            if texts is None:
                raise ValueError("this router scores words too: pass the texts with the vectors")
            if len(texts) != len(vectors):
                raise ValueError("texts and vectors must describe the same messages")
            parts.append((self.config.lexical_weight, self.lexical.log_proba(texts)))
        if self.neighbours is not None:
            parts.append((self.config.neighbour_weight, self._neighbour_log_vote(vectors)))
        semantic_weight = 1.0 - sum(weight for weight, _ in parts)
        combined = semantic_weight * self.semantic.log_proba(vectors)
        for weight, log_p in parts:
            combined += weight * log_p
        return np.exp(log_softmax(combined))

    def _neighbour_log_vote(self, vectors: Vectors) -> Vectors:
        assert self.neighbours is not None
        assert self._neighbour_onehot is not None
        similarity = (vectors @ self.neighbours[0].T) / self.config.neighbour_temperature
        votes = np.exp(log_softmax(similarity)) @ self._neighbour_onehot
        return np.asarray(np.log(votes + _KNN_FLOOR), dtype=np.float32)

    def predict(
        self, vectors: Vectors, texts: Sequence[str] | None = None, *, top: int = 3
    ) -> list[list[TopicScore]]:
        """Per row, the ``top`` labels by confidence, best first (threshold not applied)."""
        probabilities = self.confidences(vectors, texts)
        ranked = np.argsort(-probabilities, axis=1)[:, :top]
        return [
            [TopicScore(self.labels[j], float(row[j])) for j in order]
            for row, order in zip(probabilities, ranked, strict=True)
        ]

    def decide(self, vector: Vectors, text: str | None = None) -> TopicScore | None:
        """The message's topic, or None when it is out of scope (below the threshold)."""
        best = self.predict(vector, None if text is None else [text], top=1)[0][0]
        return best if best.confidence >= self.threshold else None

    def route(
        self,
        text: str,
        vector: Vectors,
        segments: Sequence[tuple[str, Vectors]] = (),
    ) -> list[RoutedTopic]:
        """Every topic of a message: the whole text and each clause (given with its
        vector) are routed. The whole text's topics pass at the threshold; a clause's only
        at ``min_clause_confidence`` or above, since a clause read out of context is more
        often wrong. Each label is kept once, with the unit that gave it the highest
        confidence, in the order they appear. An uncalibrated router (threshold 0) keeps
        only the best label of each unit."""
        units = [(text, np.asarray(vector, dtype=np.float32).reshape(-1))]
        units += [(segment, np.asarray(v, dtype=np.float32).reshape(-1)) for segment, v in segments]
        probabilities = self.confidences(np.stack([v for _, v in units]), [t for t, _ in units])
        clause_bar = max(self.threshold, self.config.min_clause_confidence)
        found: dict[str, RoutedTopic] = {}
        for index, ((unit_text, _), row) in enumerate(zip(units, probabilities, strict=True)):
            bar = self.threshold if index == 0 else clause_bar
            passing = np.flatnonzero(row >= bar)
            if self.threshold <= 0:
                passing = passing[passing == int(row.argmax())]
            for column in passing.tolist():
                label, confidence = self.labels[column], float(row[column])
                previous = found.get(label)
                if previous is None or confidence > previous.confidence:
                    found[label] = RoutedTopic(label, confidence, unit_text)
        return sorted(found.values(), key=lambda match: _position(text, match.segment))

    def route_message(
        self, text: str, encoder: TextEncoder, *, vector: Vectors | None = None
    ) -> list[RoutedTopic]:
        """Segment, encode (in one batch, reusing ``vector`` for the whole text when
        given) and ``route`` a message; an empty list means out of scope."""
        if encoder.name != self.encoder_name:
            raise ValueError(f"router trained on {self.encoder_name}, not {encoder.name}")
        clauses = routed_clauses(text)
        to_encode = clauses if vector is not None else [text, *clauses]
        encoded = encoder.encode(to_encode) if to_encode else np.zeros((0, encoder.dim), np.float32)
        if vector is None:
            vector, encoded = encoded[0], encoded[1:]
        return self.route(text, vector, list(zip(clauses, encoded, strict=True)))

    # -- serialisation ----------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """A self-contained ``.npz`` (no pickle): arrays plus a JSON header."""
        header = {
            "format": FORMAT,
            "labels": list(self.labels),
            "encoder_name": self.encoder_name,
            "config": asdict(self.config),
            "threshold": self.threshold,
            "calibration": None if self.calibration is None else self.calibration.as_dict(),
            "vocabulary": None if self.lexical is None else self.lexical.vocabulary.features,
        }
        arrays: dict[str, Any] = {
            "weights": self.semantic.weights,
            "bias": self.semantic.bias,
        }
        if self.lexical is not None:
            arrays["idf"] = self.lexical.vocabulary.idf
            arrays["feature_log_prob"] = self.lexical.feature_log_prob
        if self.neighbours is not None:
            arrays["neighbour_vectors"], arrays["neighbour_targets"] = self.neighbours
        return npz_bytes(header, arrays)

    @classmethod
    def from_bytes(cls, data: bytes) -> TopicRouter:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            header = npz_header(stored, FORMAT, "topic router")
            lexical = None
            if header["vocabulary"] is not None:
                vocabulary = TfidfVocabulary(header["vocabulary"], stored["idf"])
                lexical = NaiveBayes(vocabulary, stored["feature_log_prob"])
            neighbours = None
            if "neighbour_vectors" in stored:
                neighbours = (stored["neighbour_vectors"], stored["neighbour_targets"])
            calibration = header["calibration"]
            return cls(
                header["labels"],
                header["encoder_name"],
                LinearModel(stored["weights"], stored["bias"], multi_label=False),
                lexical,
                neighbours,
                RouterConfig(**header["config"]),
                header["threshold"],
                None if calibration is None else Calibration(**calibration),
            )


def routed_clauses(text: str) -> list[str]:
    """The clauses ``route_message`` routes besides the whole text: none for one clause."""
    clauses = [segment.text for segment in split_segments(text)]
    return clauses if len(clauses) > 1 else []


def npz_bytes(header: Mapping[str, Any], arrays: Mapping[str, Any]) -> bytes:
    """A self-contained ``.npz`` (no pickle): ``header`` as JSON, then ``arrays``."""
    buffer = io.BytesIO()
    np.savez(buffer, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **arrays)
    return buffer.getvalue()


def npz_header(stored: Mapping[str, Any], expected_format: str, what: str) -> dict[str, Any]:
    """The JSON header of an ``npz_bytes`` file, checked to be ``expected_format``."""
    header: dict[str, Any] = json.loads(stored["header"].tobytes().decode())
    if header.get("format") != expected_format:
        raise ValueError(f"not a {what} ({header.get('format')!r})")
    return header


def label_name_text(label: str) -> str:
    """``card_arrival`` → ``card arrival``: a label's name read as a phrase."""
    return " ".join(label.replace("_", " ").replace("-", " ").split())


def encoded_vectors(texts: Sequence[str], encoder: TextEncoder, vectors: Vectors | None) -> Vectors:
    """``vectors`` checked against ``texts`` (one row each), or the texts encoded now."""
    if vectors is None:
        return encoder.encode(list(texts)) if texts else np.zeros((0, encoder.dim), np.float32)
    if len(vectors) != len(texts):
        raise ValueError("one vector per text")
    return np.asarray(vectors, dtype=np.float32)


def _examples(
    texts: Sequence[str],
    labels: Sequence[str],
    encoder: TextEncoder,
    vectors: Vectors | None,
    label_texts: Mapping[str, Sequence[str]] | None,
    config: RouterConfig,
) -> tuple[list[str], _Examples]:
    if len(texts) != len(labels):
        raise ValueError("one label per text")
    label_names = sorted(set(labels) | set(label_texts or {}))
    if len(label_names) < 2:
        raise ValueError("a router needs at least two labels")
    extra = [
        (phrase, label) for label, phrases in (label_texts or {}).items() for phrase in phrases
    ]
    if config.label_names_as_examples:
        extra += [(label_name_text(label), label) for label in label_names]
    all_texts = [*texts, *(phrase for phrase, _ in extra)]
    all_labels = [*labels, *(label for _, label in extra)]
    all_vectors = encoded_vectors(texts, encoder, vectors)
    if extra:
        all_vectors = np.vstack([all_vectors, encoder.encode([phrase for phrase, _ in extra])])
    index = {label: column for column, label in enumerate(label_names)}
    targets = np.array([index[label] for label in all_labels], dtype=np.intp)
    return label_names, _Examples(all_texts, all_vectors, targets)


def _fit(
    label_names: Sequence[str], examples: _Examples, encoder_name: str, config: RouterConfig
) -> TopicRouter:
    semantic = fit_softmax(examples.vectors, examples.targets, len(label_names), c=config.c)
    lexical = None
    if config.lexical_weight > 0:
        indicators = np.zeros((len(examples.targets), len(label_names)), dtype=np.float32)
        indicators[np.arange(len(examples.targets)), examples.targets] = 1.0
        lexical = NaiveBayes.fit(examples.texts, indicators)
    neighbours = None
    if config.neighbour_weight > 0 and len(examples.texts) <= config.max_neighbour_examples:
        neighbours = (examples.vectors.copy(), examples.targets.copy())
    return TopicRouter(label_names, encoder_name, semantic, lexical, neighbours, config)


def _position(text: str, segment: str) -> int:
    found = text.find(segment)
    return found if found >= 0 else len(text)
