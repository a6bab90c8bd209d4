"""Queue writes: enqueue inside the caller's transaction; claim, finish and fail in their own."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from onethread.db.database import Database
from onethread.db.types import utcnow
from onethread.errors import Conflict
from onethread.observability.context import with_request_id
from onethread.outbox.models import Job, JobStatus, WorkerHeartbeat

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 3600.0


def backoff_delay(attempts: int, *, jitter: float = 0.1) -> float:
    """Exponential: 2 s, 4 s, 8 s… capped at an hour, with ±10 % jitter against herds."""
    delay: float = min(BACKOFF_BASE_SECONDS * 2.0 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    return delay * (1.0 + random.uniform(-jitter, jitter))


def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    workspace_id: int | None,
    run_at: datetime | None = None,
    max_attempts: int = 8,
) -> Job:
    job = Job(
        workspace_id=workspace_id,
        kind=kind,
        payload=with_request_id(payload),
        status=JobStatus.QUEUED.value,
        attempts=0,
        max_attempts=max_attempts,
        run_at=run_at or utcnow(),
        created_at=utcnow(),
    )
    session.add(job)
    return job


_JOBS = cast(Table, Job.__table__)
_INSERT_JOB = insert(_JOBS).returning(_JOBS.c.id)


def insert_job(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    workspace_id: int | None,
    max_attempts: int = 8,
) -> int:
    """``enqueue`` for hot paths (sync, inside ``run_sync``): one INSERT now; the job's id."""
    now = utcnow()
    values = {
        "workspace_id": workspace_id,
        "kind": kind,
        "payload": with_request_id(payload),
        "status": JobStatus.QUEUED.value,
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_at": now,
        "created_at": now,
    }
    job_id: int = session.connection().execute(_INSERT_JOB, values).scalar_one()
    return job_id


async def claim(
    db: Database,
    worker: str,
    *,
    limit: int = 1,
    lease_seconds: int = 300,
    kinds: list[str] | None = None,
) -> list[Job]:
    """Take due jobs, and running jobs whose lease ran out (their worker died).

    One ``UPDATE … WHERE id IN (SELECT …) RETURNING`` whatever the batch size; on
    PostgreSQL the inner select skips rows another claimer holds.
    """
    now = utcnow()
    due = or_(
        (Job.status == JobStatus.QUEUED.value) & (Job.run_at <= now),
        (Job.status == JobStatus.RUNNING.value) & (Job.locked_until < now),
    )
    pick = select(Job.id).where(due).order_by(Job.run_at, Job.id).limit(limit)
    if kinds:
        pick = pick.where(Job.kind.in_(kinds))
    if not db.is_sqlite:  # SQLite's BEGIN IMMEDIATE already serializes claimers.
        pick = pick.with_for_update(skip_locked=True)
    take = (
        update(Job)
        .where(Job.id.in_(pick.scalar_subquery()))
        .values(
            status=JobStatus.RUNNING.value,
            attempts=Job.attempts + 1,
            locked_by=worker,
            locked_until=now + timedelta(seconds=lease_seconds),
        )
        .returning(Job)
        .execution_options(synchronize_session=False)
    )
    async with db.session() as session:
        jobs = list((await session.scalars(take)).all())
    # RETURNING follows no ORDER BY: hand the batch over oldest first.
    jobs.sort(key=lambda job: (job.run_at, job.id))
    return jobs


async def extend_lease(db: Database, worker: str, ids: list[int], lease_seconds: int) -> int:
    """Push the lease of ``worker``'s running jobs ``ids`` forward; how many it still held.

    A worker renews while its jobs run, so a slow job is never taken over by another
    worker (and run twice) while its own worker is alive; only a dead worker's lease runs out.
    """
    if not ids:
        return 0
    async with db.lease_session() as session:
        result = await session.execute(
            update(Job)
            .where(
                Job.id.in_(ids),
                Job.locked_by == worker,
                Job.status == JobStatus.RUNNING.value,
            )
            .values(locked_until=utcnow() + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def complete(db: Database, job: Job) -> bool:
    """Mark done; False when the lease was lost and another worker owns the job now."""
    return job.id in await complete_many(db, [job])


async def complete_many(db: Database, jobs: Sequence[Job]) -> set[int]:
    """``complete`` for a batch, in one statement: the ids marked done.

    A job missing from the answer had lost its lease (another worker owns it now).
    """
    done: set[int] = set()
    by_worker: dict[str | None, list[int]] = {}
    for job in jobs:
        by_worker.setdefault(job.locked_by, []).append(job.id)
    if not by_worker:
        return done
    async with db.session() as session:
        for worker, ids in by_worker.items():
            result = await session.scalars(
                update(Job)
                .where(
                    Job.id.in_(ids),
                    Job.locked_by == worker,
                    Job.status == JobStatus.RUNNING.value,
                )
                .values(
                    status=JobStatus.DONE.value,
                    finished_at=utcnow(),
                    locked_until=None,
                    last_error=None,
                )
                .returning(Job.id)
                .execution_options(synchronize_session=False)
            )
            done.update(result.all())
    return done


async def fail(db: Database, job: Job, error: str, *, permanent: bool = False) -> str:
    """Schedule a retry with backoff, or mark the job dead after its last attempt."""
    dead = permanent or job.attempts >= job.max_attempts
    values: dict[str, Any] = {"last_error": error[:4000], "locked_until": None}
    if dead:
        values |= {"status": JobStatus.DEAD.value, "finished_at": utcnow()}
    else:
        run_at = utcnow() + timedelta(seconds=backoff_delay(job.attempts))
        values |= {"status": JobStatus.QUEUED.value, "run_at": run_at}
    async with db.session() as session:
        await session.execute(
            update(Job)
            .where(
                Job.id == job.id,
                Job.locked_by == job.locked_by,
                Job.status == JobStatus.RUNNING.value,
            )
            .values(**values)
        )
    return str(values.get("status"))


def retry_dead(job: Job) -> None:
    """Give a dead job a fresh set of attempts, runnable now."""
    if job.status != JobStatus.DEAD.value:
        raise Conflict(f"job {job.id} is {job.status}; only dead jobs can be retried")
    job.status = JobStatus.QUEUED.value
    job.attempts = 0
    job.run_at = utcnow()
    job.finished_at = None
    job.locked_by = None


async def beat(db: Database, worker: str) -> None:
    async with db.session() as session:
        row = await session.get(WorkerHeartbeat, worker)
        if row is None:
            session.add(WorkerHeartbeat(name=worker, last_seen=utcnow()))
        else:
            row.last_seen = utcnow()
