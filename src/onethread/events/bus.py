"""The realtime bus: in memory for one process, Redis pub/sub across processes.

Publishing never waits on the job queue; it happens right after a commit. It never
waits on Redis either: batches go to an ordered outbox that one sender drains, so a
request never fails because Redis is slow or down (see ``RedisChannel``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

REDIS_CHANNEL = "onethread:events"
OUTBOX_SIZE = 10_000
SEND_BATCH = 100
SUBSCRIBE_WAIT_SECONDS = 5.0
FLUSH_WAIT_SECONDS = 2.0
RETRY_SECONDS = 0.5


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


class RedisChannel:
    """One Redis pub/sub channel: an ordered outbox out, a listener in.

    ``send`` only queues: one sender task publishes the outbox in order, many messages
    per round trip (a pipeline), so a later message never overtakes an earlier one.
    When Redis is down a batch is logged and dropped, and a full outbox drops new
    messages; nothing is ever raised to the caller. The listener reconnects on its own.
    Shared by the event bus and the presence relay (``realtime/presence.py``).

    Pub/sub ignores the database number, so off database 0 the channel is suffixed with
    it (``onethread:events@14``): deployments sharing one Redis do not hear each other.
    """

    def __init__(self, url: str, channel: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        db = int(self._redis.connection_pool.connection_kwargs.get("db") or 0)
        self.channel = f"{channel}@{db}" if db else channel
        self._outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=OUTBOX_SIZE)
        self._subscribed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def send(self, message: str) -> None:
        try:
            self._outbox.put_nowait(message)
        except asyncio.QueueFull:
            log.warning("Redis outbox of %s full; dropping a message", self.channel)

    async def start(
        self,
        receive: Callable[[str | bytes], None],
        on_gap: Callable[[], None] | None = None,
    ) -> None:
        """Start sending and listening; return once subscribed (or after a bounded wait).

        ``on_gap`` is called when the channel is subscribed again after losing Redis:
        whatever was published meanwhile was not heard.
        """
        self._tasks = [
            asyncio.create_task(self._send_forever()),
            asyncio.create_task(self._listen_forever(receive, on_gap)),
        ]
        try:
            await asyncio.wait_for(self._subscribed.wait(), SUBSCRIBE_WAIT_SECONDS)
        except TimeoutError:
            log.warning("not subscribed to %s yet; carrying on without it", self.channel)

    async def stop(self) -> None:
        """Give the outbox a moment to drain, then stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outbox.join(), FLUSH_WAIT_SECONDS)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._redis.aclose()

    async def _send_forever(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < SEND_BATCH:
                batch.append(self._outbox.get_nowait())
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for message in batch:
                        pipe.publish(self.channel, message)
                    await pipe.execute()
            except Exception:
                log.warning(
                    "could not publish %d messages to %s", len(batch), self.channel, exc_info=True
                )
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                for _ in batch:
                    self._outbox.task_done()

    async def _listen_forever(
        self, receive: Callable[[str | bytes], None], on_gap: Callable[[], None] | None
    ) -> None:
        lost = False
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._subscribed.set()
                    if lost and on_gap is not None:
                        log.info("subscribed to %s again", self.channel)
                        on_gap()
                    lost = False
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._hand_over(receive, message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                lost = True
                log.warning("lost the Redis channel %s; retrying", self.channel, exc_info=True)
                await asyncio.sleep(1)

    def _hand_over(self, receive: Callable[[str | bytes], None], data: str | bytes) -> None:
        """One message to its reader; a message it cannot take never drops the subscription."""
        try:
            receive(data)
        except Exception:
            log.warning(
                "ignored a message on %s that could not be read", self.channel, exc_info=True
            )


class RedisBus(MemoryBus):
    """Every process delivers its own events at once and relays them through Redis.

    A process skips what it hears from itself (``origin``), so its own sockets never wait
    for the round trip, and keep getting its events while Redis is down.
    """

    def __init__(self, url: str) -> None:
        super().__init__()
        self.origin = uuid.uuid4().hex
        self._channel = RedisChannel(url, REDIS_CHANNEL)

    def publish(self, events: list[dict[str, Any]]) -> None:
        """Never raises into the request that committed ``events``."""
        self.deliver_locally(events)
        try:
            message = json.dumps({"origin": self.origin, "events": events})
        except (TypeError, ValueError):
            log.exception("could not encode %d events for Redis; not relayed", len(events))
            return
        self._channel.send(message)

    def _receive(self, raw: str | bytes) -> None:
        message = json.loads(raw)  # unreadable: RedisChannel logs it and reads on
        if message["origin"] != self.origin:
            self.deliver_locally(message["events"])

    def _missed_events(self) -> None:
        """Other processes' events published while Redis was away were not heard: every
        reader treats it as an overflow and refetches at its next event (the hub sends its
        sockets ``refetch``, the widget ``resync``)."""
        for subscription in list(self._subscriptions):
            subscription.overflowed = True

    async def start(self) -> None:
        await self._channel.start(self._receive, self._missed_events)

    async def stop(self) -> None:
        await self._channel.stop()


def create_bus(redis_url: str | None) -> EventBus:
    return RedisBus(redis_url) if redis_url else MemoryBus()
