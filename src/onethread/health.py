"""Liveness (/healthz) and readiness (/readyz): database, migrations, a live worker."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from onethread.api.deps import Context
from onethread.db import migrate
from onethread.outbox.service import live_workers

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(context: Context) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        async with context.db.read_session() as session:
            await session.execute(text("SELECT 1"))
            workers = await live_workers(session)
        checks["database"] = {"ok": True}
        current = await migrate.current_revision(context.db.engine)
        head = migrate.head_revision()
        checks["migrations"] = {"ok": current == head, "current": current, "head": head}
        checks["worker"] = {"ok": bool(workers), "live": len(workers)}
    except Exception as exc:  # the point of this endpoint is to report, not to raise
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    ready = all(check.get("ok") for check in checks.values()) and len(checks) == 3
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
