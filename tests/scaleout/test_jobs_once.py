"""Two workers, two serve processes, a few hundred jobs of several kinds due at once:
each runs exactly once (claimed with ``FOR UPDATE SKIP LOCKED``), none is left behind.

Sends (agents' replies), snoozes waking up and satisfaction surveys (each asking a
question, which is one more send) are staged while no worker runs, so that they are
all due when the two workers start together.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select

from onethread.db.database import Database
from onethread.events.models import Event
from onethread.events.types import EventType
from onethread.outbox.models import Job, JobStatus
from tests.durability.conftest import REDIS_URL, process_settings
from tests.durability.provider import CountingGraphApi
from tests.durability.traffic import Traffic
from tests.durability.world import open_conversations, open_world, settle
from tests.processes import Child, serve_child, worker_child

THREADS = 90  # a third get replies, a third are snoozed, a third resolved (a survey each)
REPLIES_EACH = 3
SNOOZE_SECONDS = 3
STAGING_IN_FLIGHT = 8
# A worker's log line for a failed run: retried later, or not even recorded (then the
# job waits for its lease to run out).
FAILURE_LOGGED = r"job (\d+) \([a-z.]+\)(?: failed, now|: failure not recorded)"


def _problems(*children: Child) -> list[str]:
    """The warnings and errors the processes logged, to explain a failure."""
    lines = [line for child in children for line in child.output().splitlines()]
    return [line for line in lines if " WARNING " in line or " ERROR " in line][:20]


async def _events_per_conversation(db: Database, kind: EventType) -> Counter[int]:
    async with db.read_session() as session:
        rows = await session.execute(
            select(Event.conversation_id, func.count())
            .where(Event.type == kind.value)
            .group_by(Event.conversation_id)
        )
        return Counter({int(conversation or 0): int(count) for conversation, count in rows.all()})


async def test_due_jobs_of_every_kind_run_once_across_two_workers(
    postgres_url: str, graph: CountingGraphApi, tmp_path: Path
) -> None:
    settings = process_settings(postgres_url, tmp_path, REDIS_URL)
    db = Database(postgres_url)
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(serve_child(settings))
        second = await stack.enter_async_context(serve_child(settings))
        assert first.url is not None
        assert second.url is not None
        inbox = await open_world(settings, first.url, graph)
        traffic = Traffic([first.url, second.url], inbox, senders=THREADS)
        stack.push_async_callback(traffic.close)
        await open_conversations(traffic, settings)
        threads = inbox.conversation_ids
        replied, snoozed, resolved = threads[0::3], threads[1::3], threads[2::3]
        api = await stack.enter_async_context(
            httpx.AsyncClient(
                base_url=second.url, headers={"Authorization": f"Bearer {inbox.token}"}
            )
        )
        surveys = {"surveys": {"csat": True}}
        assert (await api.patch(f"/api/v1/inboxes/{inbox.id}", json={"config": surveys})).is_success
        texts = [f"reply {c} {n}" for c in replied for n in range(REPLIES_EACH)]
        # A few at a time: the database server is shared, its connections are counted.
        in_flight = asyncio.Semaphore(STAGING_IN_FLIGHT)

        async def reply(text: str) -> str:
            async with in_flight:
                return await traffic.reply(int(text.split()[1]), text)

        statuses = await asyncio.gather(*(reply(text) for text in texts))
        assert set(statuses) == {"201"}, _problems(first, second)
        until = (datetime.now(UTC) + timedelta(seconds=SNOOZE_SECONDS)).isoformat()

        async def stage(path: str, body: dict[str, str] | None = None) -> httpx.Response:
            async with in_flight:
                return await api.post(path, json=body)

        staged = await asyncio.gather(
            *(stage(f"/api/v1/conversations/{c}/snooze", {"until": until}) for c in snoozed),
            *(stage(f"/api/v1/conversations/{c}/resolve") for c in resolved),
        )
        assert all(response.status_code == 200 for response in staged)
        await asyncio.sleep(SNOOZE_SECONDS)  # every job is due now

        workers = await asyncio.gather(
            stack.enter_async_context(worker_child(settings)),
            stack.enter_async_context(worker_child(settings)),
        )
        left = await settle(db)
        assert left == {}, left

        async with db.read_session() as session:
            jobs = (await session.scalars(select(Job))).all()
        kinds = Counter(job.kind for job in jobs)
        assert len(jobs) >= 250, kinds
        assert {job.status for job in jobs} == {JobStatus.DONE.value}
        # A job runs again only after a failure its worker logged (the loopback provider
        # or a busy shared database refusing a connection, say), never because a second
        # worker took it from a live one.
        failures = Counter(
            int(found.group(1))
            for worker in workers
            for found in re.finditer(FAILURE_LOGGED, worker.output())
        )
        again = {job.id: job.attempts - 1 for job in jobs if job.attempts != 1}
        assert again == {job_id: failures[job_id] for job_id in again}, _problems(*workers)
        assert len(again) < len(jobs) / 10, again
        accepted = graph.accepted_texts()
        assert all(accepted[text] == 1 for text in texts)
        woken = await _events_per_conversation(db, EventType.CONVERSATION_WOKEN)
        assert woken == Counter(dict.fromkeys(snoozed, 1))
        asked = await _events_per_conversation(db, EventType.SURVEY_ASKED)
        assert asked == Counter(dict.fromkeys(resolved, 1))
        # Each survey question went to the provider once: the only other sends.
        assert graph.accepted_sends() == len(texts) + len(resolved)
    await db.dispose()
