"""Canned responses: every agent reads and inserts them; admins write them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from onethread.api.deps import AdminCaller, CurrentCaller, ReadSession, WriteSession
from onethread.canned import actions, service
from onethread.canned.schemas import CannedCreate, CannedOut, CannedUpdate
from onethread.db.types import Id

router = APIRouter(tags=["canned responses"])


@router.get("/canned_responses", response_model=list[CannedOut])
async def list_canned(
    caller: CurrentCaller,
    session: ReadSession,
    q: Annotated[str | None, Query(max_length=200, description="Shortcut, title or text")] = None,
) -> list[CannedOut]:
    found = await service.list_canned(session, caller.workspace_id, q)
    return [CannedOut.model_validate(canned) for canned in found]


@router.post("/canned_responses", response_model=CannedOut, status_code=201)
async def create_canned(
    body: CannedCreate, caller: AdminCaller, session: WriteSession
) -> CannedOut:
    canned = await actions.do_create_canned(
        session,
        caller.workspace_id,
        shortcut=body.shortcut,
        title=body.title,
        text=body.text,
        by_agent_id=caller.agent.id,
    )
    await session.commit()
    return CannedOut.model_validate(canned)


@router.patch("/canned_responses/{canned_id}", response_model=CannedOut)
async def update_canned(
    canned_id: Id, body: CannedUpdate, caller: AdminCaller, session: WriteSession
) -> CannedOut:
    canned = await service.access_canned(session, caller.workspace_id, canned_id)
    await actions.do_update_canned(
        session,
        canned,
        shortcut=body.shortcut,
        title=body.title,
        text=body.text,
        by_agent_id=caller.agent.id,
    )
    await session.commit()
    return CannedOut.model_validate(canned)


@router.delete("/canned_responses/{canned_id}", status_code=204)
async def delete_canned(canned_id: Id, caller: AdminCaller, session: WriteSession) -> Response:
    canned = await service.access_canned(session, caller.workspace_id, canned_id)
    await actions.do_delete_canned(session, canned, by_agent_id=caller.agent.id)
    await session.commit()
    return Response(status_code=204)
