"""The questions the assistant could not ground in a period, grouped by meaning.

A question counts when the assistant's decision (``assistant.decided``) says it found no
grounded answer for it, in whole (the decision's reason) or in part (a handed-off part):
``ungrounded``, ``no_knowledge`` or ``low_confidence``. The question is the customer's
last message before that decision. Similar questions are clustered with the assistant's
own encoder, so that one knowledge gap asked ten ways counts ten times in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.assistant.encoder import TextEncoder
from onethread.conversations.models import Direction, Message
from onethread.events.models import Event
from onethread.events.types import EventType

GAP_REASONS = frozenset({"ungrounded", "no_knowledge", "low_confidence"})
SIMILAR = 0.45  # cosine to a group's centre to join it (MiniLM: same question ≥ 0.5, others ≤ 0.25)
EXAMPLES = 3


@dataclass(frozen=True)
class Question:
    conversation_id: int
    text: str
    reason: str
    topics: tuple[str, ...]
    asked_at: datetime


@dataclass
class Gap:
    """Questions that mean the same; ``label`` is the one nearest their centre."""

    label: str
    questions: list[Question] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def examples(self) -> list[str]:
        return list(dict.fromkeys(q.text for q in self.questions))[:EXAMPLES]

    @property
    def reasons(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for question in self.questions:
            counted[question.reason] = counted.get(question.reason, 0) + 1
        return counted

    @property
    def conversation_ids(self) -> list[int]:
        return sorted({q.conversation_id for q in self.questions})


def _gap_reason(data: dict[str, Any]) -> str | None:
    """The decision's reason if it is a gap, else the first handed-off part's that is."""
    reasons = [data.get("reason"), *(part.get("reason") for part in data.get("handed_off") or [])]
    return next((str(reason) for reason in reasons if reason in GAP_REASONS), None)


async def unanswered_questions(
    session: AsyncSession, workspace_id: int, start: datetime, end: datetime
) -> list[Question]:
    """Every question of ``[start, end)`` the assistant could not ground, oldest first."""
    decisions = (
        await session.execute(
            select(Event.conversation_id, Event.created_at, Event.data)
            .where(
                Event.workspace_id == workspace_id,
                Event.type == EventType.ASSISTANT_DECIDED.value,
                Event.created_at >= start,
                Event.created_at < end,
            )
            .order_by(Event.id)
        )
    ).all()
    missed = [
        (conversation_id, at, reason, data)
        for conversation_id, at, data in decisions
        if conversation_id is not None and (reason := _gap_reason(data)) is not None
    ]
    if not missed:
        return []
    asked = await _customer_messages(session, workspace_id, {m[0] for m in missed}, end)
    questions = []
    for conversation_id, at, reason, data in missed:
        text = _last_before(asked.get(conversation_id, []), at)
        if text:
            topics = tuple(str(t.get("name")) for t in data.get("topics") or [] if t.get("name"))
            questions.append(Question(conversation_id, text, reason, topics, at))
    return questions


async def _customer_messages(
    session: AsyncSession, workspace_id: int, conversation_ids: set[int], end: datetime
) -> dict[int, list[tuple[datetime, str]]]:
    by_conversation: dict[int, list[tuple[datetime, str]]] = {}
    ids = sorted(conversation_ids)
    for offset in range(0, len(ids), 500):
        rows = await session.execute(
            select(Message.conversation_id, Message.created_at, Message.text)
            .where(
                Message.workspace_id == workspace_id,
                Message.conversation_id.in_(ids[offset : offset + 500]),
                Message.direction == Direction.INBOUND.value,
                Message.created_at < end,
            )
            .order_by(Message.conversation_id, Message.created_at, Message.id)
        )
        for conversation_id, at, text in rows:
            by_conversation.setdefault(conversation_id, []).append((at, text))
    return by_conversation


def _last_before(messages: Sequence[tuple[datetime, str]], moment: datetime) -> str | None:
    before = [text for at, text in messages if at <= moment and text.strip()]
    return before[-1].strip() if before else None


def cluster(questions: Sequence[Question], encoder: TextEncoder) -> list[Gap]:
    """Questions grouped by meaning, the largest group first (ties: the earliest asked)."""
    if not questions:
        return []
    vectors = encoder.encode([q.text for q in questions])
    members: list[list[int]] = []
    centres: list[NDArray[np.float32]] = []
    for index, vector in enumerate(vectors):
        scores = [float(centre @ vector) for centre in centres]
        best = int(np.argmax(scores)) if scores else -1
        if best >= 0 and scores[best] >= SIMILAR:
            members[best].append(index)
            centre = vectors[members[best]].mean(axis=0)
            centres[best] = centre / max(float(np.linalg.norm(centre)), 1e-9)
        else:
            members.append([index])
            centres.append(vector)
    gaps = []
    for group, centre in zip(members, centres, strict=True):
        nearest = group[int(np.argmax(vectors[group] @ centre))]
        gaps.append(Gap(questions[nearest].text, [questions[i] for i in group]))
    return sorted(gaps, key=lambda gap: -gap.count)
