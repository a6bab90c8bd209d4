"""Redis dies under traffic and comes back: realtime degrades, nothing is lost.

Two ``onethread serve --no-worker`` and a worker share PostgreSQL and a Redis server of
the test's own. With Redis killed, webhooks are still acknowledged and stored, replies
still delivered; an agent's socket on the second process misses the first process's
events, and once Redis is back it is told to ``refetch``, reconnects with the last
event it saw, finds every message through the API, and live events cross again.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
from sqlalchemy import select

from onethread.conversations.models import Message
from onethread.db.database import Database
from onethread.realtime.hub import CLOSE_TOO_SLOW
from tests.durability.conftest import process_settings
from tests.durability.provider import CountingGraphApi
from tests.durability.servers import own_redis
from tests.durability.traffic import Traffic
from tests.durability.world import assert_nothing_lost_nothing_twice, open_conversations, open_world
from tests.processes import serve_child, worker_child
from tests.realtime.servers import Server, Socket, agent_socket

OUTAGE_TRAFFIC_SECONDS = 5.0
RECOVERY_SECONDS = 20.0


async def _received_ids(client: httpx.AsyncClient, token: str, after: int) -> set[int]:
    """Every received message after event ``after``, read through the events API."""
    found: set[int] = set()
    while True:
        page = await client.get(
            "/api/v1/events",
            params={"after": after, "type": "message.received", "limit": 1000},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert page.status_code == 200, page.text
        body = page.json()
        found |= {item["message_id"] for item in body["items"]}
        if not body["items"]:
            return found
        after = body["last_event_id"]


async def _live_message_id(sock: Socket, traffic: Traffic, tag: str) -> int:
    """Send webhooks to the first process until one reaches ``sock`` (on the second) live."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    attempt = 0
    while True:
        attempt += 1
        wamid = f"wamid.{tag}.{attempt}"
        assert await traffic.webhook(wamid, traffic.senders[0], tag, give_up_after=5)
        try:
            event = await sock.event("message.received", wait=1.0)
            return int(event["message_id"])
        except TimeoutError:
            assert time.monotonic() < deadline, "no event crossed from the first process"


async def test_redis_down_degrades_realtime_and_loses_nothing(
    postgres_url: str, graph: CountingGraphApi, tmp_path: Path
) -> None:
    db = Database(postgres_url)
    async with own_redis() as redis, AsyncExitStack() as stack:
        settings = process_settings(postgres_url, tmp_path, redis.url)
        first = await stack.enter_async_context(serve_child(settings))
        second = await stack.enter_async_context(serve_child(settings))
        await stack.enter_async_context(worker_child(settings))
        assert first.url is not None
        assert second.url is not None
        inbox = await open_world(settings, first.url, graph)
        traffic = Traffic([first.url, second.url], inbox)
        stack.push_async_callback(traffic.close)
        client = await stack.enter_async_context(httpx.AsyncClient(base_url=second.url))
        await open_conversations(traffic, settings)
        on_second = Server(second.url, settings, client)
        first_only = Traffic([first.url], inbox)
        stack.push_async_callback(first_only.close)

        async with agent_socket(on_second, inbox.token) as sock:
            hello = await sock.next("hello")
            await _live_message_id(sock, first_only, "before")
            await redis.kill()
            await traffic.run(
                OUTAGE_TRAFFIC_SECONDS, webhooks_per_second=20, replies_per_second=4, tag="noredis"
            )
            assert set(traffic.tally.webhook_statuses) == {"200"}, traffic.tally
            assert set(traffic.tally.reply_statuses) == {"201"}, traffic.tally
            seen_live = {
                frame["event"]["message_id"]
                for frame in sock.seen
                if frame["type"] == "event" and frame["event"]["type"] == "message.received"
            }
            last_seen = max(
                [hello["last_event_id"]]
                + [frame["event"]["id"] for frame in sock.seen if frame["type"] == "event"]
            )
            await redis.start()
            # The first event the second process hears after the gap tells the socket to
            # refetch: events published while Redis was away never reached it.
            deadline = time.monotonic() + RECOVERY_SECONDS
            refetch = None
            while refetch is None:
                assert time.monotonic() < deadline, "the socket was never told to refetch"
                assert await first_only.webhook(
                    f"wamid.after.{time.monotonic_ns()}",
                    traffic.senders[1],
                    "back",
                    give_up_after=5,
                )
                try:
                    refetch = await sock.next("refetch", wait=1.0)
                except TimeoutError:
                    continue
            assert await sock.close_code() == CLOSE_TOO_SLOW

        async with agent_socket(on_second, inbox.token, query=f"?after={last_seen}") as resumed:
            await resumed.next("hello")
            # Resumed: the missed events are replayed, or the client is told to refetch.
            await resumed.until_pong()
            found = await _received_ids(client, inbox.token, last_seen) | seen_live
            async with db.read_session() as session:
                rows = await session.execute(
                    select(Message.external_id, Message.id).where(
                        Message.external_id.in_(traffic.tally.acked_wamids)
                    )
                )
                by_wamid = {str(wamid): int(id_) for wamid, id_ in rows.all()}
            assert set(by_wamid) == traffic.tally.acked_wamids
            during = {id_ for wamid, id_ in by_wamid.items() if wamid.startswith("wamid.noredis.")}
            assert during <= found
            missed_live = during - seen_live
            assert missed_live, "some events should have missed the socket while Redis was down"
            await _live_message_id(resumed, first_only, "after")
        await assert_nothing_lost_nothing_twice(db, graph, traffic)
    await db.dispose()
