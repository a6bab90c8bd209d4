"""Understanding one customer turn: language, topics, slots, sentiment, a human request.

The message is encoded once; the same vector serves topic routing, the out-of-scope
decision and knowledge retrieval (docs/assistant.md, "one encoding per turn").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from onethread.assistant.decision import TopicMatch, Understanding
from onethread.assistant.encoder import TextEncoder
from onethread.assistant.language import detect_language
from onethread.assistant.segments import split_segments
from onethread.assistant.signals import asks_for_human, sentiment
from onethread.assistant.slots import extract_slots

# Below this confidence the detected language is a guess: keep the thread's language.
LANGUAGE_CONFIDENCE = 0.35

_SMALL_TALK = re.compile(
    r"^\W*(hi|hello|hey|hola|bonjour|salut|hallo|olá|ola|good (morning|afternoon|evening)|"
    r"thanks?( you)?( so much| a lot)?|thank u|thx|ty|merci( beaucoup)?|gracias|danke( schön)?|"
    r"obrigad[oa]|ok(ay)?|great|perfect|cool|parfait|genial|super|bye|goodbye|au revoir|adiós|"
    r"tchau|cheers)\W*$",
    re.IGNORECASE,
)
_THANKS = re.compile(r"thank|thx|\bty\b|merci|gracias|danke|obrigad|cheers", re.IGNORECASE)


class TopicRouting(Protocol):
    """A router trained on the playbook's topic examples (``assistant/topics.py``)."""

    def route(
        self,
        text: str,
        vector: NDArray[np.float32],
        segments: Sequence[tuple[str, NDArray[np.float32]]] = (),
    ) -> list[TopicMatch]: ...


def clauses(text: str) -> list[str]:
    """The clauses of a message that may each carry a topic (none when it has one)."""
    found = [segment.text for segment in split_segments(text)]
    return found if len(found) > 1 else []


def encode_turn(
    encoder: TextEncoder, text: str, segments: list[str] | None = None
) -> tuple[NDArray[np.float32], list[tuple[str, NDArray[np.float32]]]]:
    """The message and its clauses (or the given segments), encoded in one batch: the
    only encoding of a turn."""
    if segments is None or len(segments) < 2:
        segments = clauses(text)
    vectors = encoder.encode([text, *segments])
    return vectors[0], list(zip(segments, vectors[1:], strict=True))


def small_talk(text: str) -> str | None:
    """``"thanks"`` or ``"hello"`` when the whole message is a courtesy, else None."""
    if not _SMALL_TALK.match(text.strip()):
        return None
    return "thanks" if _THANKS.search(text) else "hello"


def understand(
    text: str,
    vector: NDArray[np.float32],
    segments: Sequence[tuple[str, NDArray[np.float32]]],
    router: TopicRouting,
    *,
    languages: Sequence[str],
    thread_language: str | None,
    default_language: str = "en",
) -> Understanding:
    language, confidence = detect_language(text, languages or None)
    if confidence < LANGUAGE_CONFIDENCE and thread_language:
        language = thread_language  # a short message keeps the thread's language
    elif confidence == 0:
        language = default_language  # no evidence at all ("ok", "hello")
    return Understanding(
        text=text,
        language=language,
        language_confidence=confidence,
        topics=router.route(text, vector, segments),
        slots={kind.value: value for kind, value in extract_slots(text).items()},
        sentiment=sentiment(text),
        asks_for_human=asks_for_human(text),
    )
