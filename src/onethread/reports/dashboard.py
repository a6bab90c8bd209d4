"""The dashboard: every metric for a period against the previous one, trends, backlog, warnings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.reports.assistant_metrics import assistant_tallies, handoff_reasons
from onethread.reports.buckets import Buckets
from onethread.reports.definitions import BY_KEY, METRICS, TREND_KEYS, Metric
from onethread.reports.formatting import shown
from onethread.reports.periods import Period
from onethread.reports.service_metrics import customer_tallies, survey_tallies
from onethread.reports.slices import Scope
from onethread.reports.support_metrics import backlog, created_tallies, resolved_tallies
from onethread.reports.tally import Tally, total

SAME_WITHIN = 0.01  # a change under 1% of the previous value is no change
DECIMALS = {"seconds": 1, "percent": 1, "score": 2, "points": 1, "money": 2, "count": 0}


async def bucket_tallies(
    session: AsyncSession, scope: Scope, period: Period, buckets: Buckets
) -> list[Tally]:
    """The conversation and survey figures of each bucket of the period."""
    tallies = await created_tallies(session, scope, period, buckets)
    for more in (
        await resolved_tallies(session, scope, period, buckets),
        await assistant_tallies(session, scope, period, buckets),
        await survey_tallies(session, scope, period, buckets),
    ):
        for tally, extra in zip(tallies, more, strict=True):
            tally.add(extra)
    return tallies


async def period_tally(
    session: AsyncSession, scope: Scope, period: Period, buckets: list[Tally], customers: Tally
) -> tuple[Tally, list[int]]:
    """The whole period: its buckets and customers summed, and the backlog at each day."""
    summed = total(buckets)
    summed.add(customers)
    summed.counts["period_days"] = period.days
    points = await backlog(session, scope, [*period.day_starts(), period.end], period.origin)
    summed.counts["backlog_open"] = points[-1]
    return summed, points


async def build_dashboard(session: AsyncSession, scope: Scope, period: Period) -> dict[str, Any]:
    days = period.daily_buckets()
    starts = days.starts
    before = period.previous()
    customers_now, customers_before = await customer_tallies(session, scope, [period, before])
    buckets = await bucket_tallies(session, scope, period, days)
    current, points = await period_tally(session, scope, period, buckets, customers_now)
    previous = total(await bucket_tallies(session, scope, before, before.one_bucket()))
    previous.add(customers_before)
    previous.counts["period_days"] = before.days
    previous.counts["backlog_open"] = (await backlog(session, scope, [before.end], before.origin))[
        -1
    ]
    metrics = [_metric(metric, current, previous) for metric in METRICS]
    reasons = await handoff_reasons(session, scope, period)
    conversations = current.count("ai_conversations")
    return {
        "period": period.as_json(),
        "previous": before.as_json(),
        "business_hours": scope.business_hours,
        "slices": scope.slices.as_json(),
        "metrics": metrics,
        "trends": _trends(period, starts, buckets),
        "backlog": [
            {"at": at.astimezone(period.zone).isoformat(), "open": count}
            for at, count in zip([*starts, period.end], points, strict=True)
        ],
        "handoff_reasons": [
            {"reason": reason, "count": count, "rate": _rounded_rate(count, conversations)}
            for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
        ],
        "warnings": warnings(metrics),
    }


async def daily_trends(session: AsyncSession, scope: Scope, period: Period) -> dict[str, Any]:
    """The dashboard's ``trends`` alone: each trend metric, day by day."""
    days = period.daily_buckets()
    return _trends(period, days.starts, await bucket_tallies(session, scope, period, days))


def _trends(period: Period, starts: list[datetime], buckets: list[Tally]) -> dict[str, Any]:
    return {
        "buckets": [start.astimezone(period.zone).isoformat() for start in starts],
        "series": {
            key: [_rounded(BY_KEY[key], BY_KEY[key].compute(b)) for b in buckets]
            for key in TREND_KEYS
        },
    }


def _metric(metric: Metric, current: Tally, previous: Tally) -> dict[str, Any]:
    value = _rounded(metric, metric.compute(current))
    before = _rounded(metric, metric.compute(previous))
    return {
        "key": metric.key,
        "side": metric.side,
        "label": metric.label,
        "unit": metric.unit,
        "value": value,
        "previous": before,
        "better": metric.better,
        "verdict": verdict(metric, value, before),
        "headline": metric.headline,
    }


def verdict(metric: Metric, value: float | None, previous: float | None) -> str | None:
    """``better``, ``worse`` or ``same`` against the previous period; none without both."""
    if metric.better is None or value is None or previous is None:
        return None
    if abs(value - previous) <= SAME_WITHIN * abs(previous):
        return "same"
    lower = value < previous
    return "better" if lower == (metric.better == "lower") else "worse"


def warnings(metrics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A headline support metric better while a service one got worse, or the reverse."""
    headline = [m for m in metrics if m["headline"] and m["verdict"] in ("better", "worse")]
    found = []
    for support in (m for m in headline if m["side"] == "support"):
        for service in (m for m in headline if m["side"] == "service"):
            if support["verdict"] == service["verdict"]:
                continue
            improved, worsened = (
                (support, service) if support["verdict"] == "better" else (service, support)
            )
            found.append(
                {
                    "text": f"{improved['label']} improved ({_shown(improved)}) "
                    f"while {worsened['label']} worsened ({_shown(worsened)})",
                    "improved": improved["key"],
                    "worsened": worsened["key"],
                }
            )
    return found


def _shown(metric: dict[str, Any]) -> str:
    unit = metric["unit"]
    return f"{shown(metric['previous'], unit)} → {shown(metric['value'], unit)}"


def _rounded(metric: Metric, value: float | None) -> float | None:
    if value is None:
        return None
    places = DECIMALS[metric.unit]
    return round(value) if places == 0 else round(value, places)


def _rounded_rate(count: int, whole: float) -> float | None:
    return None if not whole else round(100.0 * count / whole, 1)
