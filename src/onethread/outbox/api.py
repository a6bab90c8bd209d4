"""The durable queue as admins see it: what failed, why, and a button to retry it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from onethread.api.deps import AdminCaller, ReadSession, WriteSession
from onethread.db.types import Id
from onethread.outbox import actions, service
from onethread.outbox.models import Job, JobStatus

router = APIRouter(tags=["jobs"])


class JobOut(BaseModel):
    id: int
    kind: str
    status: JobStatus
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    run_at: datetime
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=JobStatus(job.status),
        payload=job.payload,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        run_at=job.run_at,
        last_error=job.last_error,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


@router.get("/jobs", response_model=list[JobOut])
async def list_jobs(
    caller: AdminCaller,
    session: ReadSession,
    status: JobStatus | None = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[JobOut]:
    jobs = await service.list_jobs(
        session,
        workspace_id=caller.workspace_id,
        status=status.value if status else None,
        kind=kind,
        limit=limit,
    )
    return [job_out(job) for job in jobs]


@router.post("/jobs/{job_id}/retry", response_model=JobOut)
async def retry_job(job_id: Id, caller: AdminCaller, session: WriteSession) -> JobOut:
    job = await service.access_job(session, job_id, workspace_id=caller.workspace_id)
    actions.retry_dead(job)
    await session.commit()
    return job_out(job)
