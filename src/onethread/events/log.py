"""Appending events inside a unit of work, and handing them to the bus after commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from onethread.db.database import PENDING_EVENTS_KEY as PENDING_KEY
from onethread.db.database import PUBLISHER_KEY
from onethread.db.types import utcnow
from onethread.events.models import Event
from onethread.events.types import EventType

Publisher = Callable[[list[dict[str, Any]]], None]


def append_event(
    session: AsyncSession,
    workspace_id: int,
    type: EventType,
    *,
    conversation_id: int | None = None,
    contact_id: int | None = None,
    message_id: int | None = None,
    agent_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Add an event row to the session; only domain ``actions`` modules call this."""
    row = Event(
        workspace_id=workspace_id,
        type=type.value,
        conversation_id=conversation_id,
        contact_id=contact_id,
        message_id=message_id,
        agent_id=agent_id,
        data=data or {},
        created_at=utcnow(),
    )
    session.add(row)
    session.sync_session.info.setdefault(PENDING_KEY, []).append(row)
    return row


_EVENTS = cast(Table, Event.__table__)
_INSERT_EVENT = insert(_EVENTS).returning(_EVENTS.c.id)


def insert_event(
    session: Session,
    workspace_id: int,
    type: EventType,
    *,
    conversation_id: int | None = None,
    contact_id: int | None = None,
    message_id: int | None = None,
    agent_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """``append_event`` for hot paths (sync, inside ``run_sync``): one INSERT now.

    The row is in the caller's transaction and published after its commit like any
    other; the returned ``Event`` stays out of the session (it is never written twice).
    """
    values: dict[str, Any] = {
        "workspace_id": workspace_id,
        "type": type.value,
        "conversation_id": conversation_id,
        "contact_id": contact_id,
        "message_id": message_id,
        "agent_id": agent_id,
        "data": data or {},
        "created_at": utcnow(),
    }
    event_id = session.connection().execute(_INSERT_EVENT, values).scalar_one()
    row = Event(id=event_id, **values)
    session.info.setdefault(PENDING_KEY, []).append(row)
    return row


_INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)


async def append_events(
    session: AsyncSession, workspace_id: int, type: EventType, rows: list[dict[str, Any]]
) -> None:
    """Many events of one type in one statement (a bulk import), published after commit.

    Each row gives some of ``conversation_id``, ``contact_id``, ``message_id``,
    ``agent_id`` and ``data``."""
    if not rows:
        return
    now = utcnow()
    values = [
        {
            "workspace_id": workspace_id,
            "type": type.value,
            "conversation_id": None,
            "contact_id": None,
            "message_id": None,
            "agent_id": None,
            "data": {},
            "created_at": now,
            **row,
        }
        for row in rows
    ]
    ids = (await session.execute(_INSERT_EVENTS, values)).scalars().all()
    # Published as ``Event.as_dict`` would make them, without building 100,000 ORM objects.
    pending = session.sync_session.info.setdefault(PENDING_KEY, [])
    pending.extend(
        {"id": id_, **row, "created_at": now.isoformat()}
        for id_, row in zip(ids, values, strict=True)
    )


def _after_commit(session: Session) -> None:
    pending: list[Event | dict[str, Any]] = session.info.pop(PENDING_KEY, [])
    publisher: Publisher | None = session.info.get(PUBLISHER_KEY)
    if pending and publisher is not None:
        publisher([row if isinstance(row, dict) else row.as_dict() for row in pending])


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def install_publish_after_commit() -> None:
    """Register the session hooks once per process (idempotent)."""
    if not sa_event.contains(Session, "after_commit", _after_commit):
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_rollback", _after_rollback)
