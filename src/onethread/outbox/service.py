"""Queue reads: listings for admins and the CLI, depth for readiness and metrics."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.db.types import utcnow
from onethread.errors import NotFound
from onethread.outbox.models import Job, WorkerHeartbeat


async def list_jobs(
    session: AsyncSession,
    *,
    workspace_id: int | None,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 100,
) -> list[Job]:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if workspace_id is not None:
        query = query.where(Job.workspace_id == workspace_id)
    if status:
        query = query.where(Job.status == status)
    if kind:
        query = query.where(Job.kind == kind)
    return list((await session.scalars(query)).all())


async def access_job(session: AsyncSession, job_id: int, *, workspace_id: int | None) -> Job:
    job = await session.get(Job, job_id)
    if job is None or (workspace_id is not None and job.workspace_id != workspace_id):
        raise NotFound(f"job {job_id} not found")
    return job


async def counts_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Job.status, func.count()).group_by(Job.status))
    return {str(status): int(count) for status, count in rows}


async def live_workers(session: AsyncSession, *, within_seconds: int = 30) -> list[str]:
    since = utcnow() - timedelta(seconds=within_seconds)
    rows = await session.scalars(
        select(WorkerHeartbeat.name).where(WorkerHeartbeat.last_seen >= since)
    )
    return list(rows.all())
