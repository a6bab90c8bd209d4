"""Handoffs in the review: which topics the assistant hands off most and why, and the
handoffs that broke (read from the reports' projection, docs/metrics.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.reports.models import ReportConversation as Facts

SLOW_PICKUP_SECONDS = 3600.0
BROKEN_LISTED = 50
NO_TOPIC = "(no topic)"


@dataclass
class TopicHandoffs:
    topic: str
    conversations: int
    handoffs: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.handoffs / self.conversations if self.conversations else 0.0


@dataclass(frozen=True)
class BrokenHandoff:
    conversation_id: int
    topic: str | None
    reason: str | None
    problems: tuple[str, ...]
    pickup_seconds: float | None


def _in_week(workspace_id: int, start: int, end: int) -> list[ColumnElement[bool]]:
    return [
        Facts.workspace_id == workspace_id,
        Facts.created_at >= start,
        Facts.created_at < end,
    ]


async def topic_handoffs(
    session: AsyncSession, workspace_id: int, start: int, end: int
) -> list[TopicHandoffs]:
    """Per topic, the assistant's conversations of the week and its handoffs by reason;
    the highest handoff rate first."""
    rows = await session.execute(
        select(Facts.topic, Facts.handoff_reason, func.count())
        .where(*_in_week(workspace_id, start, end), Facts.ai_involved.is_(True))
        .group_by(Facts.topic, Facts.handoff_reason)
    )
    topics: dict[str, TopicHandoffs] = {}
    for topic, reason, count in rows:
        entry = topics.setdefault(topic or NO_TOPIC, TopicHandoffs(topic or NO_TOPIC, 0))
        entry.conversations += count
        if reason is not None:
            entry.handoffs += count
            entry.reasons[reason] = entry.reasons.get(reason, 0) + count
    return sorted(topics.values(), key=lambda t: (-t.rate, -t.handoffs, t.topic))


async def broken_handoffs(
    session: AsyncSession,
    workspace_id: int,
    start: int,
    end: int,
    *,
    slow_seconds: float = SLOW_PICKUP_SECONDS,
    business_hours: bool = False,
) -> tuple[dict[str, int], list[BrokenHandoff]]:
    """Handoffs of the week that broke: picked up slowly, transferred more than once,
    the customer repeating themselves, reopened. Counts per problem, and the worst ones."""
    pickup = Facts.handoff_pickup_bh_s if business_hours else Facts.handoff_pickup_s
    slow = pickup > slow_seconds
    rows = await session.execute(
        select(
            Facts.conversation_id,
            Facts.topic,
            Facts.handoff_reason,
            pickup,
            Facts.transfers,
            Facts.restated,
            Facts.reopens,
        )
        .where(
            *_in_week(workspace_id, start, end),
            Facts.handoff_reason.is_not(None),
            slow | (Facts.transfers > 1) | Facts.restated.is_(True) | (Facts.reopens > 0),
        )
        .order_by(Facts.conversation_id)
    )
    counts = {"slow_pickup": 0, "transferred_twice": 0, "repeated_themselves": 0, "reopened": 0}
    broken = []
    for conversation_id, topic, reason, waited, transfers, restated, reopens in rows:
        problems = tuple(
            name
            for name, hit in (
                ("slow_pickup", waited is not None and waited > slow_seconds),
                ("transferred_twice", transfers > 1),
                ("repeated_themselves", bool(restated)),
                ("reopened", reopens > 0),
            )
            if hit
        )
        for problem in problems:
            counts[problem] += 1
        broken.append(BrokenHandoff(conversation_id, topic, reason, problems, waited))
    broken.sort(key=lambda b: (-len(b.problems), -(b.pickup_seconds or 0.0), b.conversation_id))
    return counts, broken[:BROKEN_LISTED]
