"""One bus subscription per process, fanned out to the agents' sockets.

Each event is encoded once and offered to the sockets of its workspace; every socket
has a bounded queue drained by its own writer, so a slow socket never holds up the
others: when its queue overflows it is sent ``refetch`` and closed (``CLOSE_TOO_SLOW``).
A ``token.revoked`` event (sign-out) closes the sockets opened with that token, and an
``agent.updated`` deactivating an agent closes theirs (``CLOSE_SIGNED_OUT``): events reach
every process, so a sign-out on one closes the sockets on all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from onethread.api.context import AppContext
from onethread.events.api import EventOut
from onethread.events.bus import Subscription
from onethread.events.service import last_event_id
from onethread.events.types import EventType
from onethread.realtime.audience import agent_receives, notifications_for
from onethread.realtime.presence import Agents, Entry, PresenceBoard, create_relay

log = logging.getLogger(__name__)

HUB_KEY = "realtime"
QUEUE_FRAMES = 500
CLOSE_TOO_SLOW = 4408
CLOSE_SIGNED_OUT = 4401  # the code of a refused credential (``api.py``)


def event_frame(event: dict[str, Any]) -> str:
    """The ``event`` frame, with the event as ``GET /api/v1/events`` shows it."""
    shown = EventOut.model_validate(event).model_dump(mode="json")
    return json.dumps({"type": "event", "event": shown})


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame)


@dataclass(eq=False)
class Connection:
    """One agent's socket as the hub sees it: a bounded queue of encoded frames."""

    entry: Entry
    token_id: int
    queue: asyncio.Queue[tuple[int, str]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_FRAMES)
    )
    last_event_id: int = 0
    closing: bool = False

    @property
    def workspace_id(self) -> int:
        return self.entry.workspace_id

    @property
    def agent_id(self) -> int:
        return self.entry.agent_id

    def offer(self, frame: str, event_id: int = 0) -> None:
        if self.closing:
            return
        if event_id:
            self.last_event_id = max(self.last_event_id, event_id)
        try:
            self.queue.put_nowait((event_id, frame))
        except asyncio.QueueFull:
            self.overflow()

    def overflow(self) -> None:
        """Drop what is queued: ``refetch`` from the newest event offered, then close."""
        refetch = encode({"type": "refetch", "last_event_id": self.last_event_id})
        self.close(CLOSE_TOO_SLOW, "too slow: refetch, then reconnect", refetch)

    def close(self, code: int, reason: str, last_frame: str | None = None) -> None:
        """Drop what is queued; the writer sends ``last_frame`` if any, then closes."""
        if self.closing:
            return
        self.closing = True
        while not self.queue.empty():
            self.queue.get_nowait()
        if last_frame is not None:
            self.queue.put_nowait((0, last_frame))
        self.queue.put_nowait((-code, reason))  # a negative id: close with that code


class Hub:
    def __init__(self, context: AppContext) -> None:
        self.context = context
        settings = context.settings
        self.presence = PresenceBoard(
            create_relay(settings.redis_url),
            presence_seconds=settings.realtime_presence_seconds,
            typing_seconds=settings.realtime_typing_seconds,
            on_change=self._presence_changed,
            on_collision=self._collision,
        )
        self._by_workspace: dict[int, set[Connection]] = defaultdict(set)
        self._relay: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.presence.start()
        subscription = self.context.bus.subscribe()
        self._relay = asyncio.create_task(self._fan_out(subscription))
        self._relay.add_done_callback(lambda _task: subscription.close())

    async def stop(self) -> None:
        if self._relay is not None:
            self._relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay
        await self.presence.stop()

    def connect(self, connection: Connection) -> None:
        self._by_workspace[connection.workspace_id].add(connection)

    def disconnect(self, connection: Connection) -> None:
        sockets = self._by_workspace.get(connection.workspace_id)
        if sockets is not None:
            sockets.discard(connection)
            if not sockets:
                del self._by_workspace[connection.workspace_id]
        self.presence.leave(connection.entry)

    @property
    def connection_count(self) -> int:
        return sum(len(sockets) for sockets in self._by_workspace.values())

    async def _fan_out(self, subscription: Subscription) -> None:
        while True:
            event = await subscription.queue.get()
            if subscription.overflowed:  # the hub itself fell behind: everyone refetches
                subscription.overflowed = False
                await self._everyone_refetch()
            self.deliver(event)

    def deliver(self, event: dict[str, Any]) -> None:
        workspace_id = event.get("workspace_id")
        if not isinstance(workspace_id, int):
            return
        # The sockets are grouped by workspace, so one answer holds for all of them.
        if not agent_receives(event, workspace_id=workspace_id):
            return
        sockets = self._by_workspace.get(workspace_id)
        if not sockets:
            return
        self._sign_out(event, sockets)
        frame = event_frame(event)
        event_id = int(event["id"])
        notified = {n.agent_id: encode(n.frame()) for n in notifications_for(event)}
        for connection in list(sockets):
            connection.offer(frame, event_id)
            if connection.agent_id in notified:
                connection.offer(notified[connection.agent_id])

    @staticmethod
    def _sign_out(event: dict[str, Any], sockets: set[Connection]) -> None:
        """Close the sockets of a revoked token, or of a deactivated agent."""
        data = event.get("data") or {}
        if event.get("type") == EventType.TOKEN_REVOKED.value:
            ended = [c for c in sockets if c.token_id == data.get("id")]
        elif event.get("type") == EventType.AGENT_UPDATED.value and data.get("active") is False:
            ended = [c for c in sockets if c.agent_id == data.get("id")]
        else:
            return
        for connection in ended:
            connection.close(CLOSE_SIGNED_OUT, "signed out")

    async def _everyone_refetch(self) -> None:
        for workspace_id, sockets in list(self._by_workspace.items()):
            async with self.context.db.read_session() as session:
                head = await last_event_id(session, workspace_id)
            for connection in list(sockets):
                connection.last_event_id = max(connection.last_event_id, head)
                connection.overflow()

    def _presence_changed(self, workspace_id: int, conversation_id: int, agents: Agents) -> None:
        self._broadcast(
            workspace_id,
            {"type": "presence", "conversation_id": conversation_id, "agents": agents},
        )

    def _collision(self, workspace_id: int, conversation_id: int, agent_ids: list[int]) -> None:
        self._broadcast(
            workspace_id,
            {"type": "collision", "conversation_id": conversation_id, "agent_ids": agent_ids},
        )

    def _broadcast(self, workspace_id: int, frame: dict[str, Any]) -> None:
        encoded = encode(frame)
        for connection in list(self._by_workspace.get(workspace_id, ())):
            connection.offer(encoded)


def hub_of(context: AppContext) -> Hub:
    hub = context.extras[HUB_KEY]
    assert isinstance(hub, Hub)
    return hub


@asynccontextmanager
async def running_hub(context: AppContext) -> AsyncIterator[Hub]:
    """The process's hub for as long as the app runs (``create_app``'s lifespan)."""
    hub = Hub(context)
    await hub.start()
    context.extras[HUB_KEY] = hub
    try:
        yield hub
    finally:
        context.extras.pop(HUB_KEY, None)
        await hub.stop()
