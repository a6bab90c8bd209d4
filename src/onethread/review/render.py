"""The weekly review as one standalone HTML file: inline styles and SVG charts, no
scripts and nothing fetched, so that it can be mailed or opened from disk."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from onethread.reports.formatting import shown
from onethread.review import charts
from onethread.review.weekly import WeeklyReview

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
TREND_CHARTS = (
    ("volume", "Conversations per day"),
    ("first_response_median", "First response time, median (min)"),
    ("csat_average", "CSAT average"),
    ("ai_resolution_rate", "AI resolution rate (%)"),
)
PROBLEMS = {
    "slow_pickup": "slow pickup (over an hour)",
    "transferred_twice": "transferred more than once",
    "repeated_themselves": "customer repeated themselves",
    "reopened": "reopened",
}


def _series(trends: dict[str, Any], key: str) -> list[float | None]:
    values = trends.get("series", {}).get(key, [])
    if key.startswith("first_response"):
        return [v / 60 if v is not None else None for v in values]
    return list(values)


def _trend_charts(review: WeeklyReview) -> list[Markup]:
    current, previous = review.dashboard["trends"], review.previous_trends
    days = [datetime.fromisoformat(b).strftime("%a") for b in current.get("buckets", [])]
    drawn = []
    for key, title in TREND_CHARTS:
        svg = charts.lines(days, _series(current, key), _series(previous, key), title=title)
        if svg:
            drawn.append(Markup(svg))  # charts.py escapes every text
    return drawn


def render_html(review: WeeklyReview) -> str:
    gaps = [(gap.label, float(gap.count)) for gap in review.gaps[:10]]
    broken = [(PROBLEMS[k], float(v)) for k, v in review.broken_counts.items() if v]
    return _templates.get_template("weekly.html").render(
        review=review,
        shown=shown,
        problems=PROBLEMS,
        trend_charts=_trend_charts(review),
        gaps_chart=Markup(charts.bars(gaps)),
        broken_chart=Markup(charts.bars(broken)),
        sides=(
            ("support", "Support"),
            ("service", "Service"),
            ("assistant", "Assistant"),
        ),
    )
