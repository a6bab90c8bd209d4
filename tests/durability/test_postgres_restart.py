"""PostgreSQL stops (``pg_ctl stop -m immediate``) under traffic and comes back.

On a cluster of the test's own: while it is down the serve processes answer 503 with
``Retry-After`` quickly (never a 500, never a hang) and say they are not ready; once it
is back they serve again by themselves, without a restart, the worker resumes, and the
webhooks retried like Meta retries are all stored exactly once, every reply sent once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from onethread.db.database import Database
from tests.conftest import POSTGRES_URL
from tests.durability.conftest import REDIS_URL, migrated, process_settings
from tests.durability.provider import CountingGraphApi
from tests.durability.servers import own_postgres
from tests.durability.traffic import Traffic
from tests.durability.world import assert_nothing_lost_nothing_twice, open_conversations, open_world
from tests.processes import serve_child, worker_child

TRAFFIC_SECONDS = 14.0
DOWN_SECONDS = 4.0
QUICK_ANSWER_SECONDS = 5.0

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="ONETHREAD_TEST_POSTGRES_URL is not set: these tests need PostgreSQL"
)


def _unhandled(log: str) -> str:
    """The tracebacks of the errors a process answered 500 for, from its log."""
    parts = log.split("unhandled error\n")[1:]
    return "".join(part.split("\n20")[0] + "\n" for part in parts)


async def _while_down(url: str, token: str) -> dict[str, object]:
    """What a client sees from a serve process while the database is down."""
    async with httpx.AsyncClient(base_url=url, timeout=QUICK_ANSWER_SECONDS) as client:
        ready = await client.get("/readyz")
        listed = await client.get(
            "/api/v1/conversations", headers={"Authorization": f"Bearer {token}"}
        )
    return {
        "ready": ready.status_code,
        "api": listed.status_code,
        "retry_after": listed.headers.get("retry-after"),
        "code": listed.json()["error"]["code"] if listed.status_code >= 400 else None,
    }


async def test_postgres_restart_under_traffic(graph: CountingGraphApi, tmp_path: Path) -> None:
    with own_postgres() as cluster:
        await migrated(cluster.url)
        settings = process_settings(cluster.url, tmp_path, REDIS_URL)
        db = Database(cluster.url)
        async with (
            serve_child(settings) as first,
            serve_child(settings) as second,
            worker_child(settings) as worker,
        ):
            assert first.url is not None
            assert second.url is not None
            processes = [first, second, worker]
            pids = [child.process.pid for child in processes if child.process]
            inbox = await open_world(settings, first.url, graph)
            traffic = Traffic([first.url, second.url], inbox)
            try:
                await open_conversations(traffic, settings)
                flowing = asyncio.create_task(
                    traffic.run(
                        TRAFFIC_SECONDS, webhooks_per_second=20, replies_per_second=4, tag="pg"
                    )
                )
                await asyncio.sleep(3)
                await asyncio.to_thread(cluster.stop, "immediate")
                stopped = time.monotonic()
                await asyncio.sleep(1)
                seen = await _while_down(second.url, inbox.token)
                await asyncio.sleep(max(DOWN_SECONDS - (time.monotonic() - stopped), 0))
                await asyncio.to_thread(cluster.start)
                await flowing
            finally:
                await traffic.close()
            checked = await assert_nothing_lost_nothing_twice(db, graph, traffic)
            async with httpx.AsyncClient(base_url=second.url, timeout=5) as client:
                assert (await client.get("/readyz")).status_code == 200
            # Nobody restarted our processes: the same ones recovered by themselves.
            assert [child.process.pid for child in processes if child.process] == pids
            assert all(child.process and child.process.returncode is None for child in processes)
            logs = "".join(_unhandled(child.output()) for child in (first, second))
        await db.dispose()
    tally = traffic.tally
    assert seen == {"ready": 503, "api": 503, "retry_after": "5", "code": "unavailable"}, seen
    assert tally.webhook_statuses["503"] > 0, tally
    assert tally.reply_statuses["503"] > 0, tally
    answered = f"webhooks {dict(tally.webhook_statuses)}, replies {dict(tally.reply_statuses)}"
    unexpected = [
        status
        for status in (*tally.webhook_statuses, *tally.reply_statuses)
        if status.startswith("5") and status != "503"
    ]
    assert not unexpected, f"{answered}\n{logs}"
    # Refused at once while PostgreSQL is down; the slowest 200s are the backlog of
    # retries that arrives together when it is back, on a shared CI machine.
    assert tally.slowest_by_status["503"] < QUICK_ANSWER_SECONDS, tally.slowest_by_status
    assert not tally.given_up
    assert checked["webhooks"] > 250
