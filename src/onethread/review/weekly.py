"""The weekly review of one workspace: knowledge gaps, handoffs by topic, handoffs that
broke, survey comments, and the week against the one before (docs/review.md)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from onethread.assistant.encoder import TextEncoder
from onethread.db.database import Database
from onethread.db.types import utcnow
from onethread.errors import InvalidInput
from onethread.reports import projection
from onethread.reports.dashboard import build_dashboard, daily_trends
from onethread.reports.periods import Period
from onethread.reports.slices import Scope, Slices
from onethread.review.comments import Comment, survey_comments
from onethread.review.gaps import Gap, cluster, unanswered_questions
from onethread.review.handoffs import BrokenHandoff, TopicHandoffs, broken_handoffs
from onethread.review.handoffs import topic_handoffs as handoffs_by_topic
from onethread.workspaces.service import access_workspace, settings_of

GAPS_LISTED = 20
TOPICS_LISTED = 15


@dataclass
class WeeklyReview:
    workspace_id: int
    workspace_name: str
    week: str  # ISO week, e.g. 2026-W47
    period: Period
    dashboard: dict[str, Any]  # the week, each metric against the previous week
    previous_trends: dict[str, Any]  # the previous week's daily series, for the charts
    gaps: list[Gap]
    unanswered: int
    topics: list[TopicHandoffs]
    broken_counts: dict[str, int]
    broken: list[BrokenHandoff]
    comments: list[Comment]

    def as_json(self) -> dict[str, Any]:
        return {
            "workspace": {"id": self.workspace_id, "name": self.workspace_name},
            "week": self.week,
            "period": self.period.as_json(),
            "knowledge_gaps": {
                "questions": self.unanswered,
                "clusters": [
                    {
                        "label": gap.label,
                        "count": gap.count,
                        "examples": gap.examples,
                        "reasons": gap.reasons,
                        "conversation_ids": gap.conversation_ids,
                    }
                    for gap in self.gaps
                ],
            },
            "topics": [{**asdict(topic), "rate": round(topic.rate, 4)} for topic in self.topics],
            "broken_handoffs": {
                "counts": self.broken_counts,
                "conversations": [{**asdict(b), "problems": list(b.problems)} for b in self.broken],
            },
            "comments": [{**asdict(c), "at": c.at.isoformat()} for c in self.comments],
            "metrics": self.dashboard["metrics"],
            "warnings": self.dashboard["warnings"],
            "trends": {
                "this_week": self.dashboard["trends"],
                "previous_week": self.previous_trends,
            },
        }


def week_period(week: str | None, timezone: str, *, today: date | None = None) -> Period:
    """Monday to Monday in the workspace's timezone: ``2026-W47``, a date inside the week,
    or (none) the last complete week."""
    zone = ZoneInfo(timezone)
    if week is None:
        current = today or utcnow().astimezone(zone).date()
        monday = current - timedelta(days=current.weekday() + 7)
    else:
        try:
            if "W" in week.upper():
                year, number = week.upper().split("-W")
                monday = date.fromisocalendar(int(year), int(number), 1)
            else:
                day = date.fromisoformat(week)
                monday = day - timedelta(days=day.weekday())
        except ValueError as exc:
            raise InvalidInput(
                f"'week' is not an ISO week (2026-W47) or a date: {week!r}",
                details={"field": "week"},
            ) from exc
    start = datetime.combine(monday, time(), zone).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(), zone).astimezone(UTC)
    return Period(start, end, zone)


def week_label(period: Period) -> str:
    year, number, _ = period.start.astimezone(period.zone).date().isocalendar()
    return f"{year}-W{number:02d}"


async def build_review(
    db: Database, workspace_id: int, week: str | None, encoder: TextEncoder
) -> WeeklyReview:
    async with db.read_session() as session:
        workspace = await access_workspace(session, workspace_id)
        name, timezone = workspace.name, settings_of(workspace).timezone
    period = week_period(week, timezone)
    await projection.refresh(db, workspace_id)
    scope = Scope(workspace_id, Slices())
    start, end = period.start_epoch, period.end_epoch
    async with db.read_session() as session:
        dashboard = await build_dashboard(session, scope, period)
        previous_trends = await daily_trends(session, scope, period.previous())
        questions = await unanswered_questions(session, workspace_id, period.start, period.end)
        topics = await handoffs_by_topic(session, workspace_id, start, end)
        counts, broken = await broken_handoffs(session, workspace_id, start, end)
        comments = await survey_comments(session, workspace_id, period.start, period.end)
    gaps = await asyncio.to_thread(cluster, questions, encoder)
    return WeeklyReview(
        workspace_id=workspace_id,
        workspace_name=name,
        week=week_label(period),
        period=period,
        dashboard=dashboard,
        previous_trends=previous_trends,
        gaps=gaps[:GAPS_LISTED],
        unanswered=len(questions),
        topics=[t for t in topics if t.handoffs][:TOPICS_LISTED],
        broken_counts=counts,
        broken=broken,
        comments=comments,
    )
