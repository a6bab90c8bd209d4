"""In-process checks of the fixes the process tests rely on, on every backend: a running
job's lease is renewed while its worker lives; a database that cannot be reached is told
apart from one that refuses a value; the Redis bus marks a gap for its readers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from onethread.db.database import Database
from onethread.db.failures import is_lost_race, is_unavailable, is_worth_rerunning
from onethread.events.bus import RedisBus
from onethread.jobs.context import JobContext
from onethread.jobs.worker import Worker
from onethread.outbox import actions as queue
from onethread.outbox.models import Job, JobStatus
from tests.conftest import POSTGRES_URL, Harness
from tests.durability.servers import own_redis

LEASE_SECONDS = 1
SLOW_JOB_SECONDS = 2.5  # longer than two leases


@pytest.fixture
async def short_lease(harness: Harness) -> AsyncIterator[JobContext]:
    settings = harness.app_context.settings.model_copy(update={"job_lease_seconds": LEASE_SECONDS})
    async with httpx.AsyncClient() as http:
        yield JobContext(
            settings=settings, db=harness.db, secrets=harness.app_context.secrets, http=http
        )


async def test_a_slow_job_keeps_its_lease_while_its_worker_lives(
    harness: Harness, short_lease: JobContext
) -> None:
    runs: list[str] = []

    async def slow(context: JobContext, job: Job) -> None:
        runs.append(job.locked_by or "")
        await asyncio.sleep(SLOW_JOB_SECONDS)

    async with harness.db.session() as session:
        queue.enqueue(session, "slow", {}, workspace_id=None)
    owner = Worker(short_lease, name="owner", handlers={"slow": slow})
    running = asyncio.create_task(owner.run_once())
    await asyncio.sleep(LEASE_SECONDS * 1.8)  # past the first lease
    stolen = await queue.claim(harness.db, "thief", limit=5, lease_seconds=LEASE_SECONDS)
    assert stolen == []
    assert await running == 1
    async with harness.db.read_session() as session:
        jobs = (await session.scalars(select(Job))).all()
    assert runs == ["owner"]
    assert [(job.status, job.attempts) for job in jobs] == [(JobStatus.DONE.value, 1)]


async def test_a_dead_workers_lease_runs_out_and_the_job_is_taken_over(harness: Harness) -> None:
    async with harness.db.session() as session:
        job = queue.enqueue(session, "slow", {}, workspace_id=None)
        await session.flush()
        job_id = job.id
    taken = await queue.claim(harness.db, "dies", lease_seconds=LEASE_SECONDS)
    assert [j.id for j in taken] == [job_id]
    assert await queue.claim(harness.db, "other", lease_seconds=LEASE_SECONDS) == []
    await asyncio.sleep(LEASE_SECONDS + 0.2)  # "dies" never renews
    again = await queue.claim(harness.db, "other", lease_seconds=LEASE_SECONDS)
    assert [(j.id, j.attempts, j.status) for j in again] == [(job_id, 2, JobStatus.RUNNING.value)]
    assert await queue.extend_lease(harness.db, "dies", [job_id], LEASE_SECONDS) == 0


@pytest.mark.skipif(not POSTGRES_URL, reason="ONETHREAD_TEST_POSTGRES_URL is not set")
async def test_an_unreachable_postgres_is_unavailable_not_a_bad_value() -> None:
    db = Database("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")  # discard port: closed
    try:
        with pytest.raises(DBAPIError) as raised:
            async with db.session() as session:
                await session.execute(text("SELECT 1"))
        assert is_unavailable(raised.value), repr(raised.value)
    finally:
        await db.dispose()


async def test_a_row_the_database_refuses_is_not_unavailability(harness: Harness) -> None:
    twice = text("INSERT INTO worker_heartbeats (name, last_seen) VALUES ('w', CURRENT_TIMESTAMP)")

    async def insert_twice() -> None:
        async with harness.db.session() as session:
            await session.execute(twice)
            await session.execute(twice)

    with pytest.raises(IntegrityError) as raised:
        await insert_twice()
    assert not is_unavailable(raised.value)


async def test_the_redis_bus_marks_a_gap_when_it_subscribes_again() -> None:
    async with own_redis() as redis:
        bus = RedisBus(redis.url)
        await bus.start()
        reader = bus.subscribe()

        def gap_marked() -> bool:
            return reader.overflowed

        try:
            assert not gap_marked()
            await redis.kill()
            await asyncio.sleep(0.5)
            await redis.start()
            for _ in range(100):
                if gap_marked():
                    break
                await asyncio.sleep(0.1)
            assert gap_marked(), "events missed while Redis was away must make readers refetch"
        finally:
            reader.close()
            await bus.stop()


@pytest.mark.skipif(not POSTGRES_URL, reason="ONETHREAD_TEST_POSTGRES_URL is not set")
async def test_a_deadlock_victim_is_told_to_run_again(postgres_url: str) -> None:
    """Two transactions taking two rows in opposite orders: PostgreSQL aborts one (40P01),
    which is a lost race (rerun), not a refused value or an outage."""
    db = Database(postgres_url)
    try:
        async with db.engine.begin() as setup:
            await setup.execute(text("CREATE TABLE crossing (id int PRIMARY KEY, n int)"))
            await setup.execute(text("INSERT INTO crossing VALUES (1, 0), (2, 0)"))
        first_has_row, second_has_row = asyncio.Event(), asyncio.Event()

        async def take(mine: int, theirs: int, have: asyncio.Event, wait: asyncio.Event) -> None:
            async with db.engine.begin() as connection:
                await connection.execute(text(f"UPDATE crossing SET n = 1 WHERE id = {mine}"))
                have.set()
                await wait.wait()
                await connection.execute(text(f"UPDATE crossing SET n = 2 WHERE id = {theirs}"))

        outcomes = await asyncio.gather(
            take(1, 2, first_has_row, second_has_row),
            take(2, 1, second_has_row, first_has_row),
            return_exceptions=True,
        )
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        assert len(failures) == 1, outcomes
        assert is_lost_race(failures[0])
        assert is_worth_rerunning(failures[0])
        assert not is_unavailable(failures[0])
    finally:
        await db.dispose()
