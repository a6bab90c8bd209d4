"""What the survey flow tests share: an inbox that asks, the thread, the surveys and events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onethread.conversations.models import Conversation, Message
from onethread.events.models import Event
from onethread.surveys.models import Survey
from tests.conftest import Harness
from tests.factories import Api


async def ask_with(admin: Api, inbox_id: int, **surveys: Any) -> dict[str, Any]:
    """Turn the inbox's surveys on (and its assistant off, so only surveys answer)."""
    updated: dict[str, Any] = await admin.ok(
        "PATCH", f"/inboxes/{inbox_id}", json={"ai_mode": "off", "config": {"surveys": surveys}}
    )
    return updated


async def only_thread(harness: Harness) -> Conversation:
    async with harness.db.read_session() as session:
        [thread] = (await session.scalars(select(Conversation))).all()
    return thread


async def survey_rows(harness: Harness) -> list[Survey]:
    async with harness.db.read_session() as session:
        return list((await session.scalars(select(Survey).order_by(Survey.id))).all())


async def survey_events(harness: Harness) -> list[tuple[str, dict[str, Any]]]:
    async with harness.db.read_session() as session:
        rows = await session.scalars(
            select(Event).where(Event.type.like("survey.%")).order_by(Event.id)
        )
        return [(event.type, event.data) for event in rows.all()]


async def outbound(harness: Harness) -> list[Message]:
    async with harness.db.read_session() as session:
        rows = await session.scalars(
            select(Message).where(Message.direction == "out").order_by(Message.id)
        )
        return list(rows.all())
