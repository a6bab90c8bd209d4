"""The durable queue: claims, retries with backoff, the dead state, leases, handlers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from onethread.conversations.models import Conversation
from onethread.db.types import utcnow
from onethread.errors import PermanentFailure
from onethread.jobs.context import JobContext
from onethread.jobs.worker import Worker
from onethread.outbox import actions as queue
from onethread.outbox.models import Job
from tests.conftest import Harness
from tests.factories import inbound, inbox, workspace


@pytest.fixture
async def job_context(harness: Harness) -> AsyncIterator[JobContext]:
    async with httpx.AsyncClient() as http:
        yield JobContext(
            settings=harness.app_context.settings,
            db=harness.db,
            secrets=harness.app_context.secrets,
            http=http,
        )


async def _enqueue(
    harness: Harness, kind: str, max_attempts: int = 8, workspace_id: int | None = None
) -> int:
    async with harness.db.session() as session:
        job = queue.enqueue(
            session, kind, {"n": 1}, workspace_id=workspace_id, max_attempts=max_attempts
        )
        await session.flush()
        return job.id


async def _job(harness: Harness, job_id: int) -> Job:
    async with harness.db.read_session() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def _make_due(harness: Harness, job_id: int) -> None:
    async with harness.db.session() as session:
        await session.execute(update(Job).where(Job.id == job_id).values(run_at=utcnow()))


def test_backoff_grows_exponentially_and_is_capped() -> None:
    delays = [queue.backoff_delay(n, jitter=0) for n in range(1, 15)]
    assert delays[:4] == [2, 4, 8, 16]
    assert delays[-1] == queue.BACKOFF_CAP_SECONDS
    assert all(1.8 <= queue.backoff_delay(1) <= 2.2 for _ in range(50))


async def test_failures_retry_with_backoff_then_succeed(
    harness: Harness, job_context: JobContext
) -> None:
    calls: list[int] = []

    async def flaky(_context: JobContext, _job: Job) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError(f"provider down (call {len(calls)})")

    worker = Worker(job_context, handlers={"test.flaky": flaky})
    job_id = await _enqueue(harness, "test.flaky")
    for attempt, expected_delay in ((1, 2.0), (2, 4.0)):
        before = utcnow()
        assert await worker.run_once() == 1
        job = await _job(harness, job_id)
        assert (job.status, job.attempts) == ("queued", attempt)
        assert job.last_error == f"ConnectionError: provider down (call {attempt})"
        delay = (job.run_at - before).total_seconds()
        assert expected_delay * 0.85 <= delay <= expected_delay * 1.15 + 1
        assert await worker.run_once() == 0  # not due yet
        await _make_due(harness, job_id)
    assert await worker.run_once() == 1
    job = await _job(harness, job_id)
    assert (job.status, job.attempts, job.last_error) == ("done", 3, None)
    assert job.finished_at is not None


async def test_the_last_attempt_leaves_a_dead_job_that_admins_see_and_retry(
    harness: Harness,
    job_context: JobContext,
) -> None:
    admin = await workspace(harness)

    async def broken(_context: JobContext, _job: Job) -> None:
        raise TimeoutError("provider timed out")

    worker = Worker(job_context, handlers={"test.broken": broken})
    job_id = await _enqueue(harness, "test.broken", max_attempts=2, workspace_id=admin.workspace_id)
    await worker.run_once()
    await _make_due(harness, job_id)
    await worker.run_once()
    dead = await admin.ok("GET", "/jobs", params={"status": "dead"})
    assert [(j["id"], j["attempts"], j["last_error"]) for j in dead] == [
        (job_id, 2, "TimeoutError: provider timed out")
    ]
    retried = await admin.ok("POST", f"/jobs/{job_id}/retry")
    assert (retried["status"], retried["attempts"]) == ("queued", 0)
    again = await admin.post(f"/jobs/{job_id}/retry")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


async def test_permanent_failures_and_unknown_kinds_die_at_once(
    harness: Harness,
    job_context: JobContext,
) -> None:
    async def refuses(_context: JobContext, _job: Job) -> None:
        raise PermanentFailure("recipient is not on WhatsApp")

    worker = Worker(job_context, handlers={"test.refuses": refuses})
    refused = await _enqueue(harness, "test.refuses")
    unknown = await _enqueue(harness, "test.nobody-handles-this")
    await worker.run_once()
    assert ((await _job(harness, refused)).status, (await _job(harness, refused)).last_error) == (
        "dead",
        "recipient is not on WhatsApp",
    )
    assert (await _job(harness, unknown)).status == "dead"
    assert "no handler" in ((await _job(harness, unknown)).last_error or "")


async def test_an_expired_lease_is_reclaimed_and_the_old_worker_cannot_finish_it(
    harness: Harness,
) -> None:
    job_id = await _enqueue(harness, "test.lease")
    [first] = await queue.claim(harness.db, "worker-a", lease_seconds=-1)
    [second] = await queue.claim(harness.db, "worker-b", lease_seconds=60)
    assert first.id == second.id == job_id
    assert second.attempts == 2
    assert not await queue.complete(harness.db, first)
    assert await queue.complete(harness.db, second)
    assert (await _job(harness, job_id)).status == "done"


async def test_a_batch_is_claimed_oldest_first_and_completed_in_one_call(
    harness: Harness,
) -> None:
    ids = [await _enqueue(harness, "test.batch") for _ in range(5)]
    first = await queue.claim(harness.db, "worker-a", limit=3, lease_seconds=60)
    assert [job.id for job in first] == ids[:3]
    assert {(job.status, job.attempts, job.locked_by) for job in first} == {
        ("running", 1, "worker-a")
    }
    async with harness.db.session() as session:  # worker-a loses its lease on one job
        past = utcnow() - timedelta(seconds=1)
        await session.execute(update(Job).where(Job.id == ids[0]).values(locked_until=past))
    # worker-b takes the rest and the job whose lease ran out.
    second = await queue.claim(harness.db, "worker-b", limit=3, lease_seconds=60)
    assert [job.id for job in second] == [ids[0], *ids[3:]]
    assert await queue.complete_many(harness.db, first) == set(ids[1:3])
    assert await queue.complete_many(harness.db, second) == {ids[0], *ids[3:]}
    assert await queue.complete_many(harness.db, []) == set()
    statuses = {(await _job(harness, job_id)).status for job_id in ids}
    assert statuses == {"done"}
    assert (await _job(harness, ids[0])).attempts == 2


async def test_a_failing_job_does_not_hold_back_the_rest_of_its_batch(
    harness: Harness, job_context: JobContext
) -> None:
    async def picky(_context: JobContext, job: Job) -> None:
        if job.payload.get("fail"):
            raise ConnectionError("provider down")

    async with harness.db.session() as session:
        jobs = [
            queue.enqueue(session, "test.picky", {"fail": n == 1}, workspace_id=None)
            for n in range(3)
        ]
    worker = Worker(job_context, handlers={"test.picky": picky})
    assert await worker.run_once() == 3
    after = [await _job(harness, job.id) for job in jobs]
    assert [(job.status, job.attempts) for job in after] == [
        ("done", 1),
        ("queued", 1),
        ("done", 1),
    ]
    assert after[1].last_error == "ConnectionError: provider down"
    assert after[0].finished_at is not None
    assert after[0].locked_until is None


async def test_concurrent_claimers_never_take_the_same_job(harness: Harness) -> None:
    async with harness.db.session() as session:
        for _ in range(40):
            queue.enqueue(session, "test.concurrent", {}, workspace_id=None)
    batches = await asyncio.gather(*(queue.claim(harness.db, f"w{n}", limit=7) for n in range(8)))
    claimed = [job.id for batch in batches for job in batch]
    assert len(claimed) == 40
    assert len(set(claimed)) == 40


async def test_a_sandbox_inbox_delivers_to_the_local_sandbox(
    harness: Harness,
    job_context: JobContext,
) -> None:
    admin = await workspace(harness)
    sandbox = await inbox(admin, "whatsapp")
    first = await inbound(admin, sandbox["id"], "15550005555", "hello")
    reply = await admin.ok(
        "POST",
        f"/conversations/{first['conversation_id']}/reply",
        201,
        json={"text": "sandboxed answer"},
    )
    assert reply["delivery_status"] == "queued"
    worker = Worker(job_context)
    while await worker.run_once():
        pass
    sent = await admin.ok("GET", f"/conversations/{first['conversation_id']}/messages")
    assert [m["delivery_status"] for m in sent if m["id"] == reply["id"]] == ["delivered"]


async def test_a_snoozed_thread_wakes_when_its_time_comes(
    harness: Harness,
    job_context: JobContext,
) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    first = await inbound(admin, whatsapp["id"], "15550004444", "hello")
    until = utcnow() + timedelta(hours=1)
    await admin.ok(
        "POST",
        f"/conversations/{first['conversation_id']}/snooze",
        json={"until": until.isoformat()},
    )
    worker = Worker(job_context)
    while await worker.run_once():
        pass
    assert (await admin.ok("GET", f"/conversations/{first['conversation_id']}"))[
        "status"
    ] == "snoozed"
    async with harness.db.session() as session:  # let the hour pass
        await session.execute(
            update(Job).where(Job.kind == "conversation.wake").values(run_at=utcnow())
        )
    while await worker.run_once():
        pass
    woken = await admin.ok("GET", f"/conversations/{first['conversation_id']}")
    assert (woken["status"], woken["snoozed_until"]) == ("open", None)
    events = await admin.ok("GET", "/events", params={"type": "conversation.woken"})
    assert events["items"][0]["data"] == {"from": "snoozed", "by": "timer"}
    async with harness.db.read_session() as session:
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        assert conversation.status == "open"
