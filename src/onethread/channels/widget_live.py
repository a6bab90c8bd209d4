"""The widget's websocket: replies reach the visitor live, and nothing else does.

One function, ``visible_to_visitor``, decides which committed events a visitor gets:
a public ``message.created`` for their contact, on their inbox, in their workspace,
not written by themselves. Agents' notes are ``note.added`` events (and flagged
private), so they never match.

Close codes: 4401 a bad token, 4403 an origin the inbox does not allow, 4404 no such
web chat inbox.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Query, WebSocket

from onethread.api.context import AppContext
from onethread.channels.widget_access import load_widget_inbox, origin_allowed
from onethread.channels.widget_tokens import (
    MAX_TOKEN_LENGTH,
    InvalidVisitorToken,
    VisitorClaims,
    read_token,
)
from onethread.channels.widget_visitors import message_for_visitor, visitor_contact_id
from onethread.errors import NotFound
from onethread.events.bus import Subscription
from onethread.events.types import EventType
from onethread.realtime.audience import customer_may_see
from onethread.realtime.sockets import close_quietly, receive_json_frame, until_first_ends

CLOSE_BAD_TOKEN = 4401
CLOSE_ORIGIN_REFUSED = 4403
CLOSE_NO_INBOX = 4404
UNCLAIMED_KEPT = 50


def _is_public_reply(event: dict[str, Any], *, workspace_id: int, inbox_id: int) -> bool:
    data = event.get("data") or {}
    return (
        customer_may_see(event)  # the one rule of realtime/audience.py
        and event.get("workspace_id") == workspace_id
        and data.get("inbox_id") == inbox_id
    )


def visible_to_visitor(
    event: dict[str, Any], *, workspace_id: int, inbox_id: int, contact_id: int | None
) -> bool:
    """Whether a committed event is a message this visitor should see appear."""
    return (
        contact_id is not None
        and event.get("contact_id") == contact_id
        and _is_public_reply(event, workspace_id=workspace_id, inbox_id=inbox_id)
    )


@dataclass
class VisitorFeed:
    """Which messages to push. Until the first message names the contact, replies on the
    inbox are kept (a few) so that one racing the visitor's ``sync`` is not lost."""

    claims: VisitorClaims
    contact_id: int | None
    unclaimed: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=UNCLAIMED_KEPT))

    def _visible(self, event: dict[str, Any]) -> bool:
        return visible_to_visitor(
            event,
            workspace_id=self.claims.workspace_id,
            inbox_id=self.claims.inbox_id,
            contact_id=self.contact_id,
        )

    def on_event(self, event: dict[str, Any]) -> list[int]:
        """The message ids ``event`` lets this visitor see (none, mostly)."""
        data = event.get("data") or {}
        if (
            event.get("type") == EventType.CONTACT_MERGED.value
            and event.get("workspace_id") == self.claims.workspace_id
            and self.contact_id is not None
            and data.get("source_id") == self.contact_id
        ):
            self.contact_id = data.get("target_id")
        if self.contact_id is None:
            if _is_public_reply(
                event, workspace_id=self.claims.workspace_id, inbox_id=self.claims.inbox_id
            ):
                self.unclaimed.append(event)
            return []
        return [event["message_id"]] if self._visible(event) else []

    def on_contact_known(self, contact_id: int) -> list[int]:
        self.contact_id = contact_id
        waiting, self.unclaimed = list(self.unclaimed), deque(maxlen=UNCLAIMED_KEPT)
        return [event["message_id"] for event in waiting if self._visible(event)]


async def _authorize(
    websocket: WebSocket, context: AppContext, inbox_id: int, token: str
) -> VisitorClaims | None:
    """The visitor's claims, or ``None`` after closing the socket with the reason."""
    try:
        widget = await load_widget_inbox(context, inbox_id)
    except NotFound:
        await websocket.close(CLOSE_NO_INBOX, "no such web chat inbox")
        return None
    if not origin_allowed(websocket, context, widget):
        await websocket.close(CLOSE_ORIGIN_REFUSED, "this origin may not use the widget")
        return None
    try:
        claims = read_token(context.settings.effective_secret_key, token, inbox_id=widget.id)
    except InvalidVisitorToken as refused:
        await websocket.close(CLOSE_BAD_TOKEN, refused.message[:120])
        return None
    if claims.workspace_id != widget.workspace_id:
        await websocket.close(CLOSE_BAD_TOKEN, "the visitor token belongs to another inbox")
        return None
    return claims


class _Connection:
    def __init__(self, websocket: WebSocket, context: AppContext, feed: VisitorFeed) -> None:
        self.websocket = websocket
        self.context = context
        self.feed = feed
        self._sending = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._sending:
            await self.websocket.send_json(frame)

    async def push(self, message_ids: list[int]) -> None:
        for message_id in message_ids:
            async with self.context.db.read_session() as session:
                message = await message_for_visitor(session, message_id, self.feed.claims)
            if message is not None:
                await self.send({"type": "message", "message": message.model_dump(mode="json")})

    async def listen(self) -> None:
        """Client frames: ``ping`` (answered), ``sync`` (after the first message)."""
        while True:
            frame = await receive_json_frame(self.websocket)
            kind = frame.get("type") if isinstance(frame, dict) else None
            if kind == "ping":
                await self.send({"type": "pong"})
            elif kind == "sync" and self.feed.contact_id is None:
                async with self.context.db.read_session() as session:
                    contact_id = await visitor_contact_id(session, self.feed.claims)
                if contact_id is not None:
                    await self.push(self.feed.on_contact_known(contact_id))

    async def relay(self, subscription: Subscription) -> None:
        while True:
            event = await subscription.queue.get()
            if subscription.overflowed:
                subscription.overflowed = False
                await self.send({"type": "resync"})  # events were dropped: refetch history
            await self.push(self.feed.on_event(event))


async def widget_socket(
    websocket: WebSocket,
    inbox_id: int,
    token: Annotated[str, Query(max_length=MAX_TOKEN_LENGTH)] = "",
) -> None:
    """Live replies for one visitor: ``ready``, then ``message`` frames; ``pong`` to pings."""
    context: AppContext = websocket.app.state.context
    await websocket.accept()  # first, so that a refusal reaches the widget as a close code
    claims = await _authorize(websocket, context, inbox_id, token)
    if claims is None:
        return
    subscription = context.bus.subscribe()  # before reading the contact: nothing slips by
    try:
        async with context.db.read_session() as session:
            contact_id = await visitor_contact_id(session, claims)
        connection = _Connection(websocket, context, VisitorFeed(claims, contact_id))
        await connection.send({"type": "ready"})
        await until_first_ends(connection.listen(), connection.relay(subscription))
    finally:
        subscription.close()
        await close_quietly(websocket)
