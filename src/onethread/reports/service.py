"""Reads behind the reports API: refresh the projection, then compute from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from onethread.db.database import Database
from onethread.reports import projection
from onethread.reports.dashboard import build_dashboard
from onethread.reports.periods import Period, parse_period
from onethread.reports.slices import Scope, Slices
from onethread.reports.support_metrics import backlog
from onethread.workspaces.service import access_workspace, settings_of

Step = Literal["hour", "day"]


@dataclass(frozen=True)
class ReportQuery:
    """What a report request asks for, as given (dates are parsed in the workspace's zone)."""

    start: str | None
    end: str | None
    slices: Slices
    business_hours: bool = False


async def _timezone(db: Database, workspace_id: int) -> str:
    async with db.read_session() as session:
        return settings_of(await access_workspace(session, workspace_id)).timezone


async def _prepare(db: Database, workspace_id: int, query: ReportQuery) -> tuple[Scope, Period]:
    """The period and scope; the projection is refreshed first, so every event counts."""
    period = parse_period(query.start, query.end, await _timezone(db, workspace_id))
    await projection.refresh(db, workspace_id)
    return Scope(workspace_id, query.slices, query.business_hours), period


async def dashboard(db: Database, workspace_id: int, query: ReportQuery) -> dict[str, Any]:
    scope, period = await _prepare(db, workspace_id, query)
    async with db.read_session() as session:
        return await build_dashboard(session, scope, period)


async def backlog_series(
    db: Database, workspace_id: int, query: ReportQuery, step: Step
) -> dict[str, Any]:
    """The number of open conversations at each hour or day of the period, and at its end."""
    scope, period = await _prepare(db, workspace_id, query)
    points = [*(period.hour_starts() if step == "hour" else period.day_starts()), period.end]
    async with db.read_session() as session:
        counts = await backlog(session, scope, points, period.origin)
    return {
        "period": period.as_json(),
        "step": step,
        "points": [
            {"at": at.astimezone(period.zone).isoformat(), "open": count}
            for at, count in zip(points, counts, strict=True)
        ],
    }
