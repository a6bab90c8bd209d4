"""The realtime bus: in memory for one process, Redis pub/sub across processes.

Publishing never waits on the job queue; it happens right after a commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)

REDIS_CHANNEL = "onethread:events"


class Subscription:
    """A bounded queue of event dicts; a slow reader is told to refetch, never blocks others."""

    def __init__(self, bus: EventBus, maxsize: int = 1000) -> None:
        self._bus = bus
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=maxsize)
        self.overflowed = False

    def offer(self, event: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True

    def close(self) -> None:
        self._bus.unsubscribe(self)


class EventBus(Protocol):
    def publish(self, events: list[dict[str, Any]]) -> None: ...
    def subscribe(self) -> Subscription: ...
    def unsubscribe(self, subscription: Subscription) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class MemoryBus:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    def publish(self, events: list[dict[str, Any]]) -> None:
        self.deliver_locally(events)

    def deliver_locally(self, events: list[dict[str, Any]]) -> None:
        for subscription in list(self._subscriptions):
            for event in events:
                subscription.offer(event)

    def subscribe(self) -> Subscription:
        subscription = Subscription(self)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisBus(MemoryBus):
    """Every process publishes to one Redis channel and relays what it hears locally."""

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._listener: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()

    def publish(self, events: list[dict[str, Any]]) -> None:
        task = asyncio.get_running_loop().create_task(self._publish(events))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish(self, events: list[dict[str, Any]]) -> None:
        try:
            await self._redis.publish(REDIS_CHANNEL, json.dumps(events))
        except Exception:  # Redis down: clients catch up from the event log on reconnect.
            log.warning("could not publish %d events to Redis", len(events), exc_info=True)

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            try:
                pubsub = self._redis.pubsub()
                await pubsub.subscribe(REDIS_CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.deliver_locally(json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("Redis bus listener lost its connection; retrying", exc_info=True)
                await asyncio.sleep(1)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self._redis.aclose()


def create_bus(redis_url: str | None) -> EventBus:
    return RedisBus(redis_url) if redis_url else MemoryBus()
