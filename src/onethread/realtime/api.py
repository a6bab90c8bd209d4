"""``/api/v1/realtime``: the agents' websocket (protocol in docs/realtime.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket
from sqlalchemy import select

from onethread.agents.models import Agent, ApiToken
from onethread.agents.scopes import allows
from onethread.agents.service import agent_for_token, list_agents
from onethread.api.context import AppContext
from onethread.api.deps import SESSION_COOKIE
from onethread.db.types import MAX_ID
from onethread.events.service import events_since, last_event_id
from onethread.realtime.hub import (
    CLOSE_SIGNED_OUT,
    Connection,
    Hub,
    encode,
    event_frame,
    hub_of,
)
from onethread.realtime.presence import Entry
from onethread.realtime.sockets import (
    CONNECTION_ENDED,
    close_quietly,
    receive_json_frame,
    until_first_ends,
)

router = APIRouter(tags=["realtime"])

CLOSE_NOT_AUTHENTICATED = 4401


def _presented_token(websocket: WebSocket, query_token: str) -> str | None:
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return websocket.cookies.get(SESSION_COOKIE) or query_token or None


async def _authenticate(
    websocket: WebSocket, context: AppContext, token: str
) -> tuple[Agent, ApiToken] | None:
    presented = _presented_token(websocket, token)
    if presented is None:
        return None
    async with context.db.read_session() as session:
        found = await agent_for_token(session, presented)
    # A scoped token joins only with realtime:read (agents/scopes.py).
    if found is not None and not allows(found[1].scopes, "realtime:read"):
        return None
    return found


async def _still_valid(context: AppContext, token_id: int) -> bool:
    """Whether the token (and its agent) survived the sign-outs of the time it took to join."""
    async with context.db.read_session() as session:
        found = await session.scalar(
            select(ApiToken.id)
            .join(Agent, Agent.id == ApiToken.agent_id)
            .where(ApiToken.id == token_id, Agent.active.is_(True))
        )
    return found is not None


async def _hello(context: AppContext, hub: Hub, agent: Agent) -> tuple[int, dict[str, Any]]:
    async with context.db.read_session() as session:
        head = await last_event_id(session, agent.workspace_id)
        agents = await list_agents(session, agent.workspace_id)
    return head, {
        "type": "hello",
        "agent_id": agent.id,
        "workspace_id": agent.workspace_id,
        "last_event_id": head,
        "agents": [
            {"id": a.id, "name": a.name, "availability": a.availability} for a in agents if a.active
        ],
        "presence": hub.presence.snapshot(agent.workspace_id),
    }


async def _replay(
    websocket: WebSocket, context: AppContext, agent: Agent, after: int, head: int
) -> set[int]:
    """Send the events after ``after`` (or ``refetch``); the ids sent, to skip them live."""
    if after > head:
        await websocket.send_text(encode({"type": "refetch", "last_event_id": head}))
        return set()
    limit = context.settings.realtime_replay_limit
    async with context.db.read_session() as session:
        rows = await events_since(session, agent.workspace_id, after_id=after, limit=limit + 1)
    if len(rows) > limit:  # too many to replay: the lists read now are newer
        await websocket.send_text(encode({"type": "refetch", "last_event_id": head}))
        return set()
    for row in rows:
        await websocket.send_text(event_frame(row.as_dict()))
    return {row.id for row in rows}


async def _write(websocket: WebSocket, connection: Connection, replayed: set[int]) -> None:
    while True:
        event_id, frame = await connection.queue.get()
        if event_id < 0:  # Connection.close: the code, and the reason in place of a frame
            await websocket.close(-event_id, frame)
            return
        if event_id and event_id in replayed:
            continue
        await websocket.send_text(frame)


async def _read(websocket: WebSocket, hub: Hub, connection: Connection) -> None:
    """Client frames: ``view``, ``typing``, ``ping``; anything else is ignored."""
    while True:
        frame = await receive_json_frame(websocket)
        if not isinstance(frame, dict):
            continue
        kind = frame.get("type")
        conversation_id = frame.get("conversation_id")
        if conversation_id is not None and not isinstance(conversation_id, int):
            continue
        if kind == "ping":
            hub.presence.refresh(connection.entry)
            connection.offer(encode({"type": "pong"}))
        elif kind == "view":
            hub.presence.view(connection.entry, conversation_id)
        elif kind == "typing" and conversation_id is not None:
            typing = frame.get("kind")
            hub.presence.type(
                connection.entry, conversation_id, typing if isinstance(typing, str) else None
            )


async def realtime_socket(
    websocket: WebSocket,
    token: Annotated[str, Query(max_length=200)] = "",
    after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> None:
    """``hello``, then (with ``after``) the missed events or ``refetch``, then live frames."""
    context: AppContext = websocket.app.state.context
    await websocket.accept()  # first, so that a refusal reaches the client as a close code
    found = await _authenticate(websocket, context, token)
    if found is None:
        await websocket.close(CLOSE_NOT_AUTHENTICATED, "sign in: the token is missing or invalid")
        return
    agent, api_token = found
    hub = hub_of(context)
    entry = Entry(hub.presence.new_key(), agent.workspace_id, agent.id, agent.name)
    connection = Connection(entry, api_token.id)
    hub.connect(connection)  # before reading the head: no event slips between
    try:
        if not await _still_valid(context, api_token.id):  # revoked while it connected
            await websocket.close(CLOSE_SIGNED_OUT, "signed out")
            return
        head, hello = await _hello(context, hub, agent)
        connection.last_event_id = max(connection.last_event_id, head)
        await websocket.send_text(encode(hello))
        replayed = (
            await _replay(websocket, context, agent, after, head) if after is not None else set()
        )
        await until_first_ends(
            _read(websocket, hub, connection), _write(websocket, connection, replayed)
        )
    except CONNECTION_ENDED:
        pass
    finally:
        hub.disconnect(connection)
        await close_quietly(websocket)


router.add_api_websocket_route("/realtime", realtime_socket)
