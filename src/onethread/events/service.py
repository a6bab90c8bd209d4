from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.events.models import Event


async def events_since(
    session: AsyncSession,
    workspace_id: int,
    *,
    after_id: int = 0,
    limit: int = 200,
    conversation_id: int | None = None,
    types: list[str] | None = None,
) -> list[Event]:
    query = (
        select(Event)
        .where(Event.workspace_id == workspace_id, Event.id > after_id)
        .order_by(Event.id)
        .limit(limit)
    )
    if conversation_id is not None:
        query = query.where(Event.conversation_id == conversation_id)
    if types:
        query = query.where(Event.type.in_(types))
    return list((await session.scalars(query)).all())


async def last_event_id(session: AsyncSession, workspace_id: int) -> int:
    value = await session.scalar(
        select(func.max(Event.id)).where(Event.workspace_id == workspace_id)
    )
    return int(value or 0)
