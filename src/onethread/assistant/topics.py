"""The playbook's topics as a router: trained on their example phrasings, semantic.

``build_router`` turns a playbook into a ``TopicRouting`` for ``understanding.py``:
each message and each of its clauses is routed, every topic whose calibrated
confidence passes is kept (with the clause that carried it), and a message below the
threshold is out of scope.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from onethread.assistant.decision import TopicMatch
from onethread.assistant.encoder import TextEncoder
from onethread.playbook.schemas import Playbook

# Used when the playbook sets no threshold and its examples are too few to calibrate.
DEFAULT_THRESHOLD = 0.5


class ExampleRouter:
    """Nearest examples by cosine, per topic the best of its examples."""

    def __init__(self, playbook: Playbook, encoder: TextEncoder) -> None:
        self.encoder = encoder
        self.names: list[str] = []
        self.domains: dict[str, str] = {}
        texts: list[str] = []
        for topic in playbook.topics:
            self.domains[topic.name] = topic.domain.value
            for _language, example in topic.all_examples():
                texts.append(example)
                self.names.append(topic.name)
        self.vectors = encoder.encode(texts) if texts else np.zeros((0, encoder.dim), np.float32)
        self.labels = np.array(self.names)
        self.threshold = playbook.settings.confidence_threshold or DEFAULT_THRESHOLD

    def _scores(self, vector: NDArray[np.float32]) -> dict[str, float]:
        similarities = self.vectors @ vector
        best: dict[str, float] = {}
        for name, score in zip(self.names, similarities.tolist(), strict=True):
            if score > best.get(name, -1.0):
                best[name] = score
        return best

    def route(
        self,
        text: str,
        vector: NDArray[np.float32],
        segments: Sequence[tuple[str, NDArray[np.float32]]] = (),
    ) -> list[TopicMatch]:
        if not self.names:
            return []
        found: dict[str, TopicMatch] = {}
        for segment, segment_vector in [(text, vector), *segments]:
            scores = self._scores(segment_vector)
            name = max(scores, key=lambda n: scores[n])
            score = scores[name]
            if score >= self.threshold and (name not in found or score > found[name].confidence):
                found[name] = TopicMatch(name, round(score, 4), segment, self.domains[name])
        return sorted(found.values(), key=lambda match: text.find(match.segment))


def build_router(playbook: Playbook, encoder: TextEncoder) -> ExampleRouter:
    return ExampleRouter(playbook, encoder)
