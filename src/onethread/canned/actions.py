"""Writing canned responses, each change with its event."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.canned.models import CannedResponse
from onethread.canned.service import shortcut_taken
from onethread.db.types import utcnow
from onethread.errors import Conflict
from onethread.events.log import append_event
from onethread.events.types import EventType


async def _unique(
    session: AsyncSession, workspace_id: int, shortcut: str, except_id: int | None = None
) -> None:
    if await shortcut_taken(session, workspace_id, shortcut, except_id):
        raise Conflict(f"the shortcut /{shortcut} is taken", details={"shortcut": shortcut})


async def do_create_canned(
    session: AsyncSession,
    workspace_id: int,
    *,
    shortcut: str,
    title: str,
    text: str,
    by_agent_id: int,
) -> CannedResponse:
    await _unique(session, workspace_id, shortcut)
    now = utcnow()
    canned = CannedResponse(
        workspace_id=workspace_id,
        shortcut=shortcut,
        title=title,
        text=text,
        created_at=now,
        updated_at=now,
    )
    session.add(canned)
    await session.flush()
    append_event(
        session,
        workspace_id,
        EventType.CANNED_RESPONSE_SAVED,
        agent_id=by_agent_id,
        data={"id": canned.id, "shortcut": shortcut, "created": True},
    )
    return canned


async def do_update_canned(
    session: AsyncSession,
    canned: CannedResponse,
    *,
    shortcut: str | None,
    title: str | None,
    text: str | None,
    by_agent_id: int,
) -> CannedResponse:
    if shortcut is not None and shortcut != canned.shortcut:
        await _unique(session, canned.workspace_id, shortcut, canned.id)
        canned.shortcut = shortcut
    if title is not None:
        canned.title = title
    if text is not None:
        canned.text = text
    canned.updated_at = utcnow()
    append_event(
        session,
        canned.workspace_id,
        EventType.CANNED_RESPONSE_SAVED,
        agent_id=by_agent_id,
        data={"id": canned.id, "shortcut": canned.shortcut, "created": False},
    )
    return canned


async def do_delete_canned(
    session: AsyncSession, canned: CannedResponse, *, by_agent_id: int
) -> None:
    append_event(
        session,
        canned.workspace_id,
        EventType.CANNED_RESPONSE_DELETED,
        agent_id=by_agent_id,
        data={"id": canned.id, "shortcut": canned.shortcut},
    )
    await session.delete(canned)
