"""Reading the dashboard in tests: the figures by key, for a period and slices."""

from __future__ import annotations

from typing import Any

from onethread.db.database import Database
from onethread.reports import service
from onethread.reports.service import ReportQuery
from onethread.reports.slices import Slices


async def dashboard(
    db: Database,
    workspace_id: int,
    start: str,
    end: str,
    *,
    business_hours: bool = False,
    **slices: Any,
) -> dict[str, Any]:
    query = ReportQuery(start, end, Slices(**slices), business_hours)
    return await service.dashboard(db, workspace_id, query)


async def figures(
    db: Database, workspace_id: int, start: str, end: str, **options: Any
) -> dict[str, Any]:
    """``{key: value}`` of every metric of the period."""
    found = await dashboard(db, workspace_id, start, end, **options)
    return {metric["key"]: metric["value"] for metric in found["metrics"]}
