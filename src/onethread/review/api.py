"""``/api/v1/reports/weekly``: the weekly review as JSON, or as the standalone HTML file."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from onethread.api.deps import Context, CurrentCaller
from onethread.assistant.encoder import default_encoder
from onethread.review.render import render_html
from onethread.review.weekly import WeeklyReview, build_review

router = APIRouter(prefix="/reports", tags=["reports"])

Week = Annotated[
    str | None,
    Query(
        max_length=20,
        description="ISO week (2026-W47) or a date inside it; default: the last complete week",
    ),
]


async def _review(context: Context, workspace_id: int, week: str | None) -> WeeklyReview:
    return await build_review(context.db, workspace_id, week, default_encoder())


@router.get("/weekly")
async def weekly(caller: CurrentCaller, context: Context, week: Week = None) -> dict[str, Any]:
    """Knowledge gaps, handoffs by topic, broken handoffs, survey comments, the week's
    metrics against the previous week's (docs/review.md)."""
    return (await _review(context, caller.workspace_id, week)).as_json()


@router.get("/weekly.html", response_class=HTMLResponse)
async def weekly_html(caller: CurrentCaller, context: Context, week: Week = None) -> HTMLResponse:
    """The same review as one HTML file with its charts inline (it can be mailed)."""
    review = await _review(context, caller.workspace_id, week)
    return HTMLResponse(render_html(review), headers={"Cache-Control": "no-store"})
