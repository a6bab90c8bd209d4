"""``kill -9`` under traffic: a serve process and a worker die mid-stream and come back.

Two ``onethread serve --no-worker`` and two ``onethread worker`` on PostgreSQL (and Redis
when configured) take signed webhooks, retried like Meta retries, and agents' replies.
Every webhook acknowledged with 200 is stored exactly once, every stored reply reaches
the fake provider exactly once, and the jobs the dead worker held are taken over after
their lease.

The worker is killed while its send is stalled at the provider, not yet processed: a
worker killed in the one commit between the provider's acceptance and its record would
send that reply again on retry, a window no test can close without provider-side
idempotency keys (docs/durability.md, "Replies").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select

from onethread.conversations.actions import DELIVERY_SEND
from onethread.db.database import Database
from onethread.outbox.models import Job, JobStatus
from tests.durability.conftest import REDIS_URL, process_settings
from tests.durability.provider import CountingGraphApi
from tests.durability.traffic import Traffic
from tests.durability.world import (
    assert_nothing_lost_nothing_twice,
    open_conversations,
    open_world,
    recorded_sends,
)
from tests.processes import Child, serve_child, worker_child

TRAFFIC_SECONDS = 16.0
WAIT_SECONDS = 15.0


async def _eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def _running_sends_of(db: Database, worker: Child) -> list[int]:
    """The delivery jobs ``worker`` holds now."""
    assert worker.process is not None
    async with db.read_session() as session:
        ids = await session.scalars(
            select(Job.id).where(
                Job.kind == DELIVERY_SEND,
                Job.status == JobStatus.RUNNING.value,
                Job.locked_by.like(f"%:{worker.process.pid}:%"),
            )
        )
        return list(ids.all())


async def kill_worker_mid_send(db: Database, graph: CountingGraphApi, worker: Child) -> list[int]:
    """Stall the provider until ``worker`` holds a send, let every send the provider
    accepted be recorded, then ``kill -9`` it; the ids of the delivery jobs it held.

    With the provider stalled, a delivery job cannot finish: the jobs seen running are
    still running when the signal lands.
    """
    graph.hold()
    held: list[int] = []
    try:

        async def ready() -> bool:
            if await recorded_sends(db) != sum(graph.accepted_texts().values()):
                return False
            held[:] = await _running_sends_of(db, worker)
            return graph.held > 0 and bool(held)

        await _eventually(ready, "the worker to hold a send, every accepted one recorded")
        await worker.kill()
    finally:
        graph.release()
    return held


async def test_kill_a_serve_and_a_worker_under_traffic(
    postgres_url: str, graph: CountingGraphApi, tmp_path: Path
) -> None:
    settings = process_settings(postgres_url, tmp_path, REDIS_URL)
    db = Database(postgres_url)
    async with (
        serve_child(settings) as first,
        serve_child(settings) as second,
        worker_child(settings) as doomed,
        worker_child(settings),
    ):
        assert first.url is not None
        assert second.url is not None
        inbox = await open_world(settings, first.url, graph)
        traffic = Traffic([first.url, second.url], inbox)
        try:
            await open_conversations(traffic, settings)
            flowing = asyncio.create_task(
                traffic.run(
                    TRAFFIC_SECONDS, webhooks_per_second=25, replies_per_second=6, tag="kill"
                )
            )
            await asyncio.sleep(3)
            await first.kill()  # kill -9 mid-stream: its requests in flight are cut
            await asyncio.sleep(1)
            await first.start()
            held = await kill_worker_mid_send(db, graph, doomed)
            await asyncio.sleep(1)
            await doomed.start()
            await flowing
        finally:
            await traffic.close()
        checked = await assert_nothing_lost_nothing_twice(db, graph, traffic)
        print(
            checked,
            traffic.tally.webhook_statuses,
            traffic.tally.reply_statuses,
            held,
            traffic.tally.slowest_answer,
        )
        async with db.read_session() as session:
            taken_over = (await session.scalars(select(Job).where(Job.id.in_(held)))).all()
        assert held
        assert all(job.status == JobStatus.DONE.value for job in taken_over)
        assert traffic.tally.webhook_statuses["200"] >= checked["webhooks"]
        assert not traffic.tally.given_up
        assert checked["webhooks"] > 300
        assert checked["replies"] > 50
    await db.dispose()
