"""The event log of the caller's workspace, for clients resuming from an event id."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from onethread.api.deps import CurrentCaller, ReadSession
from onethread.db.types import MAX_ID, Id
from onethread.events.service import events_since, last_event_id

router = APIRouter(tags=["events"])


class EventOut(BaseModel):
    id: int
    type: str
    conversation_id: int | None
    contact_id: int | None
    message_id: int | None
    agent_id: int | None
    data: dict[str, Any]
    created_at: datetime


class EventPage(BaseModel):
    items: list[EventOut]
    last_event_id: int = Field(description="Pass as `after` to get the next page.")
    head_event_id: int = Field(description="The newest event of the workspace right now.")


@router.get("/events", response_model=EventPage)
async def list_events(
    caller: CurrentCaller,
    session: ReadSession,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="return events with a larger id")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    conversation: Id | None = None,
    type: Annotated[list[str] | None, Query(description="only these event types")] = None,
) -> EventPage:
    rows = await events_since(
        session,
        caller.workspace_id,
        after_id=after,
        limit=limit,
        conversation_id=conversation,
        types=type,
    )
    items = [
        EventOut(
            id=e.id,
            type=e.type,
            conversation_id=e.conversation_id,
            contact_id=e.contact_id,
            message_id=e.message_id,
            agent_id=e.agent_id,
            data=e.data,
            created_at=e.created_at,
        )
        for e in rows
    ]
    head = await last_event_id(session, caller.workspace_id)
    return EventPage(
        items=items, last_event_id=items[-1].id if items else after, head_event_id=head
    )
