"""The playbook's topics as a router: trained on their example phrasings, calibrated.

``build_router`` trains ``routing.TopicRouter`` on every example of every topic (in
every language; the topic's title and description count as phrasings too) and on the
playbook's ``out_of_scope`` examples, which teach it where to stop: the out-of-scope
threshold is chosen by cross-fitting on those examples (``calibration.py``), unless the
playbook's ``confidence_threshold`` sets it. A message below the threshold is out of
scope, and the assistant hands it off instead of guessing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from onethread.assistant.decision import TopicMatch
from onethread.assistant.encoder import TextEncoder
from onethread.assistant.routing import TopicRouter
from onethread.playbook.schemas import Playbook

OUT_OF_SCOPE = "__out_of_scope__"
# The share of a real inbox's messages that no topic covers, as calibration assumes it.
# Higher than a benchmark's 10%: handing off a covered question costs a person a minute;
# answering an uncovered one with the wrong topic breaks "grounded or silent".
INBOX_OOS_SHARE = 0.3


class PlaybookRouter:
    """A ``TopicRouter`` whose labels are the playbook's topic names."""

    def __init__(self, router: TopicRouter | None, domains: dict[str, str]) -> None:
        self.router = router
        self.domains = domains

    def route(
        self,
        text: str,
        vector: NDArray[np.float32],
        segments: Sequence[tuple[str, NDArray[np.float32]]] = (),
    ) -> list[TopicMatch]:
        if self.router is None:
            return []
        return [
            TopicMatch(
                found.label, round(found.confidence, 4), found.segment, self.domains[found.label]
            )
            for found in self.router.route(text, vector, segments)
            if found.label in self.domains
        ]


def build_router(playbook: Playbook, encoder: TextEncoder) -> PlaybookRouter:
    texts: list[str] = []
    labels: list[str] = []
    described: dict[str, list[str]] = {}
    for topic in playbook.topics:
        for _language, example in topic.all_examples():
            texts.append(example)
            labels.append(topic.name)
        described[topic.name] = [t for t in (topic.title, topic.description) if t]
    domains = {topic.name: topic.domain.value for topic in playbook.topics}
    if len(domains) < 2:  # nothing to tell apart: a one-topic playbook is not routed
        return PlaybookRouter(None, domains)
    for example in playbook.out_of_scope:
        texts.append(example)
        labels.append(OUT_OF_SCOPE)
    router = TopicRouter.train_calibrated(
        texts,
        labels,
        encoder,
        oos_label=OUT_OF_SCOPE,
        label_texts=described,
        oos_share=INBOX_OOS_SHARE,
    )
    fixed = playbook.settings.confidence_threshold
    if fixed is not None:
        router = router.with_threshold(fixed, router.calibration)
    return PlaybookRouter(router, domains)
