"""Reports: the dashboard's figures as JSON and CSV, and the backlog over time (any agent)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from onethread.api.deps import Context, CurrentCaller
from onethread.db.types import Id
from onethread.inboxes.models import ChannelKind
from onethread.reports import service
from onethread.reports.csv_export import dashboard_csv
from onethread.reports.service import ReportQuery, Step
from onethread.reports.slices import Slices

router = APIRouter(prefix="/reports", tags=["reports"])

DATE_HELP = "ISO date (the whole day) or datetime; dates are in the workspace's timezone"


def report_query(
    start: Annotated[str | None, Query(alias="from", max_length=40, description=DATE_HELP)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40, description=DATE_HELP)] = None,
    channel: ChannelKind | None = None,
    inbox_id: Id | None = None,
    team_id: Id | None = None,
    agent_id: Id | None = None,
    topic: Annotated[str | None, Query(max_length=100)] = None,
    domain: Literal["service", "support"] | None = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
    handler: Literal["ai", "human"] | None = None,
    plan: Annotated[
        str | None, Query(max_length=100, description="Customers' plan (retention, value)")
    ] = None,
    business_hours: Annotated[
        bool, Query(description="Durations count business hours only")
    ] = False,
) -> ReportQuery:
    slices = Slices(
        channel=channel.value if channel else None,
        inbox_id=inbox_id,
        team_id=team_id,
        agent_id=agent_id,
        topic=topic,
        domain=domain,
        language=language,
        handler=handler,
        plan=plan,
    )
    return ReportQuery(start, end, slices, business_hours)


Report = Annotated[ReportQuery, Depends(report_query)]


@router.get("/dashboard")
async def dashboard(caller: CurrentCaller, context: Context, query: Report) -> dict[str, Any]:
    """Service, support and assistant metrics for the period against the previous one."""
    return await service.dashboard(context.db, caller.workspace_id, query)


@router.get("/dashboard.csv", response_class=Response)
async def dashboard_as_csv(caller: CurrentCaller, context: Context, query: Report) -> Response:
    """The dashboard's metrics, one row each: key,label,side,unit,value,previous,verdict."""
    figures = await service.dashboard(context.db, caller.workspace_id, query)
    return Response(
        dashboard_csv(figures),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="dashboard.csv"'},
    )


@router.get("/backlog")
async def backlog(
    caller: CurrentCaller, context: Context, query: Report, step: Step = "day"
) -> dict[str, Any]:
    """Conversations open at each step of the period, and at its end."""
    return await service.backlog_series(context.db, caller.workspace_id, query, step)
