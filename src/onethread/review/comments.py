"""What customers wrote with their survey answers in a period (``survey.answered``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.events.models import Event
from onethread.events.types import EventType

COMMENTS_LISTED = 100


@dataclass(frozen=True)
class Comment:
    conversation_id: int | None
    kind: str  # csat or nps
    score: int
    text: str
    at: datetime


async def survey_comments(
    session: AsyncSession, workspace_id: int, start: datetime, end: datetime
) -> list[Comment]:
    """The answers that came with a comment, lowest score first (they need reading first)."""
    rows = await session.execute(
        select(Event.conversation_id, Event.data, Event.created_at)
        .where(
            Event.workspace_id == workspace_id,
            Event.type == EventType.SURVEY_ANSWERED.value,
            Event.created_at >= start,
            Event.created_at < end,
        )
        .order_by(Event.id)
    )
    comments = [
        Comment(conversation_id, str(data["kind"]), int(data["score"]), text.strip(), at)
        for conversation_id, data, at in rows
        if isinstance(text := data.get("comment"), str) and text.strip()
    ]
    comments.sort(key=lambda c: (c.kind, c.score, c.at))
    return comments[:COMMENTS_LISTED]
