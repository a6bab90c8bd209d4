"""What a log line or a job knows of the work around it: the request, the job.

Imports nothing of ours, so that any layer may read it.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

# The job payload key that carries the id of the request that caused the job.
REQUEST_ID_KEY = "request_id"

request_id: ContextVar[str | None] = ContextVar("onethread_request_id", default=None)
job_id: ContextVar[int | None] = ContextVar("onethread_job_id", default=None)
job_kind: ContextVar[str | None] = ContextVar("onethread_job_kind", default=None)


def with_request_id(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with the current request id added, when there is one and none is set."""
    current = request_id.get()
    if current is None or REQUEST_ID_KEY in payload:
        return payload
    return {**payload, REQUEST_ID_KEY: current}


JobTokens = tuple[Token[str | None], Token[int | None], Token[str | None]]


def enter_job(id: int, kind: str, payload: dict[str, Any]) -> JobTokens:
    """Within the job: its id and kind, and the request id its payload carries."""
    carried = payload.get(REQUEST_ID_KEY)
    return (
        request_id.set(carried if isinstance(carried, str) else None),
        job_id.set(id),
        job_kind.set(kind),
    )


def leave_job(tokens: JobTokens) -> None:
    request_token, id_token, kind_token = tokens
    request_id.reset(request_token)
    job_id.reset(id_token)
    job_kind.reset(kind_token)
