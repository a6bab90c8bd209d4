"""Who views or types in which conversation, expiring on its own.

Each open socket owns one ``Entry`` (its conversation, until when it views it, what it
types until when). Every change is applied here at once and relayed to the other
processes (Redis pub/sub when configured); each process keeps every entry with its
absolute deadlines and sweeps expired ones itself, so a tab (or a whole process) that
disappears without a word drops out after the TTL everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from onethread.events.bus import RedisChannel

log = logging.getLogger(__name__)

PRESENCE_CHANNEL = "onethread:presence"
VIEWING = "viewing"
TYPING_REPLY = "typing_reply"
TYPING_NOTE = "typing_note"
TYPING_KINDS = {"reply": TYPING_REPLY, "note": TYPING_NOTE}
_STRENGTH = {VIEWING: 0, TYPING_NOTE: 1, TYPING_REPLY: 2}


@dataclass
class Entry:
    key: str
    workspace_id: int
    agent_id: int
    name: str
    conversation_id: int | None = None
    viewing_until: float = 0.0
    typing: str | None = None  # TYPING_REPLY or TYPING_NOTE
    typing_until: float = 0.0

    def state(self, now: float) -> str | None:
        if self.conversation_id is None or self.viewing_until <= now:
            return None
        if self.typing is not None and self.typing_until > now:
            return self.typing
        return VIEWING


ConversationKey = tuple[int, int]  # (workspace_id, conversation_id)
Agents = list[dict[str, Any]]
ChangeHandler = Callable[[int, int, Agents], None]
CollisionHandler = Callable[[int, int, list[int]], None]


class PresenceRelay(Protocol):
    def publish(self, message: dict[str, Any]) -> None: ...
    async def start(self, receive: Callable[[dict[str, Any]], None]) -> None: ...
    async def stop(self) -> None: ...


class LocalRelay:
    """One process: nothing to relay."""

    def publish(self, message: dict[str, Any]) -> None:
        return None

    async def start(self, receive: Callable[[dict[str, Any]], None]) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisRelay:
    """Presence changes on their own Redis channel, beside the events', sent in order
    (a stop never overtakes its start); Redis down drops changes, which expire elsewhere
    and the next ping resends."""

    def __init__(self, url: str) -> None:
        self._channel = RedisChannel(url, PRESENCE_CHANNEL)

    def publish(self, message: dict[str, Any]) -> None:
        self._channel.send(json.dumps(message))

    async def start(self, receive: Callable[[dict[str, Any]], None]) -> None:
        await self._channel.start(lambda raw: receive(json.loads(raw)))

    async def stop(self) -> None:
        await self._channel.stop()


def create_relay(redis_url: str | None) -> PresenceRelay:
    return RedisRelay(redis_url) if redis_url else LocalRelay()


class PresenceBoard:
    """Every entry of every process; tells the hub when a conversation's presence changes."""

    def __init__(
        self,
        relay: PresenceRelay,
        *,
        presence_seconds: float,
        typing_seconds: float,
        on_change: ChangeHandler,
        on_collision: CollisionHandler,
    ) -> None:
        self.relay = relay
        self.presence_seconds = presence_seconds
        self.typing_seconds = typing_seconds
        self._on_change = on_change
        self._on_collision = on_collision
        self.origin = uuid.uuid4().hex
        self._entries: dict[str, Entry] = {}
        # The keys of the entries in each conversation: a change reads only its own.
        self._by_place: dict[ConversationKey, set[str]] = {}
        self._shown: dict[ConversationKey, Agents] = {}
        self._colliding: dict[ConversationKey, list[int]] = {}
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.relay.start(self._receive)
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.relay.stop()

    def new_key(self) -> str:
        return f"{self.origin}:{uuid.uuid4().hex[:12]}"

    # Changes made by a socket of this process.

    def view(self, entry: Entry, conversation_id: int | None) -> None:
        if conversation_id != entry.conversation_id:
            entry.typing = None
        entry.conversation_id = conversation_id
        entry.viewing_until = time.time() + self.presence_seconds
        self._publish(entry)

    def type(self, entry: Entry, conversation_id: int, kind: str | None) -> None:
        now = time.time()
        if conversation_id != entry.conversation_id:
            entry.conversation_id = conversation_id
        entry.viewing_until = now + self.presence_seconds
        entry.typing = TYPING_KINDS.get(kind or "")
        entry.typing_until = now + self.typing_seconds if entry.typing else 0.0
        self._publish(entry)

    def refresh(self, entry: Entry) -> None:
        """A ping: the socket is still there."""
        if entry.conversation_id is not None:
            entry.viewing_until = time.time() + self.presence_seconds
            self._publish(entry)

    def leave(self, entry: Entry) -> None:
        previous = self._drop(entry.key)
        if previous is not None:  # a socket that never viewed anything was never announced
            self.relay.publish({"origin": self.origin, "gone": entry.key})
            self._recompute({self._where(previous)})

    def _publish(self, entry: Entry) -> None:
        fields = asdict(entry)
        stored = Entry(**fields)
        previous = self._put(stored)
        self.relay.publish({"origin": self.origin, "entry": fields})
        self._recompute({self._where(previous), self._where(stored)})

    def _put(self, entry: Entry) -> Entry | None:
        """Store ``entry`` in place of the one with its key; that one, if any."""
        previous = self._drop(entry.key)
        self._entries[entry.key] = entry
        place = self._where(entry)
        if place is not None:
            self._by_place.setdefault(place, set()).add(entry.key)
        return previous

    def _drop(self, key: str) -> Entry | None:
        previous = self._entries.pop(key, None)
        place = self._where(previous)
        if place is not None:
            keys = self._by_place[place]
            keys.discard(key)
            if not keys:
                del self._by_place[place]
        return previous

    # Changes heard from other processes.

    def _receive(self, message: dict[str, Any]) -> None:
        if message.get("origin") == self.origin:
            return
        if "gone" in message:
            previous = self._drop(str(message["gone"]))
            if previous is not None:
                self._recompute({self._where(previous)})
            return
        entry = Entry(**message["entry"])
        previous = self._put(entry)
        self._recompute({self._where(previous), self._where(entry)})

    # Reading and expiry.

    def agents(self, workspace_id: int, conversation_id: int) -> Agents:
        """Each agent once, with their strongest state across tabs; by agent id."""
        now = time.time()
        best: dict[int, tuple[str, str]] = {}
        for key in self._by_place.get((workspace_id, conversation_id), ()):
            entry = self._entries[key]
            state = entry.state(now)
            if state is None:
                continue
            held = best.get(entry.agent_id)
            if held is None or _STRENGTH[state] > _STRENGTH[held[0]]:
                best[entry.agent_id] = (state, entry.name)
        return [
            {"agent_id": agent_id, "name": name, "state": state}
            for agent_id, (state, name) in sorted(best.items())
        ]

    def snapshot(self, workspace_id: int) -> list[dict[str, Any]]:
        return [
            {"conversation_id": conversation_id, "agents": agents}
            for (ws, conversation_id), agents in sorted(self._shown.items())
            if ws == workspace_id and agents
        ]

    def sweep(self) -> None:
        now = time.time()
        expired = [key for key, entry in self._entries.items() if entry.state(now) is None]
        for key in expired:
            if self._entries[key].viewing_until <= now:
                self._drop(key)
        self._recompute(set(self._shown))

    async def _sweep_forever(self) -> None:
        interval = max(0.05, min(1.0, self.typing_seconds / 4, self.presence_seconds / 4))
        while True:
            await asyncio.sleep(interval)
            self.sweep()

    @staticmethod
    def _where(entry: Entry | None) -> ConversationKey | None:
        if entry is None or entry.conversation_id is None:
            return None
        return (entry.workspace_id, entry.conversation_id)

    def _recompute(self, places: set[ConversationKey | None]) -> None:
        for place in places:
            if place is None:
                continue
            agents = self.agents(*place)
            if agents != self._shown.get(place, []):
                if agents:
                    self._shown[place] = agents
                else:
                    self._shown.pop(place, None)
                self._on_change(place[0], place[1], agents)
            typing = [a["agent_id"] for a in agents if a["state"] == TYPING_REPLY]
            colliding = typing if len(typing) >= 2 else []
            if colliding != self._colliding.get(place, []):
                if colliding:
                    self._colliding[place] = colliding
                    self._on_collision(place[0], place[1], colliding)
                else:
                    self._colliding.pop(place, None)
