"""The dashboard's metrics: key, side, label, unit, which direction is better, and the value.

Each value is computed from a period's tallies (docs/metrics.md has the definitions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from onethread.reports.tally import Tally, mean, percentile, ratio

Side = Literal["support", "service", "assistant"]
Unit = Literal["seconds", "percent", "count", "score", "points", "money"]
Better = Literal["lower", "higher"]
Compute = Callable[[Tally], float | None]


@dataclass(frozen=True)
class Metric:
    key: str
    side: Side
    label: str
    unit: Unit
    better: Better | None  # None: neither direction is better (volume)
    compute: Compute
    headline: bool = False  # compared across sides for warnings


def _count(key: str) -> Compute:
    return lambda tally: tally.count(key)


def _share(part: str, whole: str) -> Compute:
    return lambda tally: ratio(tally.count(part), tally.count(whole))


def _average(summed: str, number: str) -> Compute:
    return lambda tally: mean(tally.count(summed), tally.count(number))


def _percentile(samples: str, share: float) -> Compute:
    return lambda tally: percentile(tally.samples.get(samples, []), share)


def _nps(tally: Tally) -> float | None:
    return ratio(tally.count("promoters") - tally.count("detractors"), tally.count("nps_n"))


def _retention(tally: Tally) -> float | None:
    churn = ratio(tally.count("churned"), tally.count("customers_start"))
    return None if churn is None else 100.0 - churn


def _predicted_value(tally: Tally) -> float | None:
    """Average monthly revenue of active customers ÷ the monthly churn rate."""
    churn = ratio(tally.count("churned"), tally.count("customers_start"))
    monthly_revenue = mean(tally.count("monthly_sum"), tally.count("monthly_n"))
    days = tally.count("period_days")
    if not churn or monthly_revenue is None or not days:
        return None
    return monthly_revenue / (churn / 100.0 * 30.0 / days)


def _backlog(tally: Tally) -> float | None:
    return tally.count("backlog_open") if "backlog_open" in tally.counts else None


METRICS: tuple[Metric, ...] = (
    Metric(
        "first_response_median",
        "support",
        "First response time (median)",
        "seconds",
        "lower",
        _percentile("first_response", 0.5),
        headline=True,
    ),
    Metric(
        "first_response_p90",
        "support",
        "First response time (90th percentile)",
        "seconds",
        "lower",
        _percentile("first_response", 0.9),
    ),
    Metric(
        "first_human_response_median",
        "support",
        "First human response time (median)",
        "seconds",
        "lower",
        _percentile("first_human_response", 0.5),
    ),
    Metric(
        "first_human_response_p90",
        "support",
        "First human response time (90th percentile)",
        "seconds",
        "lower",
        _percentile("first_human_response", 0.9),
    ),
    Metric(
        "unanswered", "support", "Unanswered conversations", "count", "lower", _count("unanswered")
    ),
    Metric(
        "handle_time_average",
        "support",
        "Average handle time",
        "seconds",
        "lower",
        _average("handle_sum", "handle_n"),
        headline=True,
    ),
    Metric(
        "fcr_rate",
        "support",
        "First-contact resolution",
        "percent",
        "higher",
        _share("first_contact_resolved", "resolved"),
        headline=True,
    ),
    Metric(
        "resolution_rate",
        "support",
        "Resolved without escalation",
        "percent",
        "higher",
        _share("resolved_clean", "volume"),
        headline=True,
    ),
    Metric("volume", "support", "Conversations", "count", None, _count("volume")),
    Metric(
        "messages_received",
        "support",
        "Customer messages",
        "count",
        None,
        _count("messages_received"),
    ),
    Metric("reopened", "support", "Reopened conversations", "count", "lower", _count("reopened")),
    Metric(
        "repeat_contacts", "support", "Repeat contacts", "count", "lower", _count("repeat_contacts")
    ),
    Metric(
        "repeat_contact_rate",
        "support",
        "Repeat contact rate",
        "percent",
        "lower",
        _share("repeat_contacts", "volume"),
    ),
    Metric("backlog_open", "support", "Open at the end", "count", "lower", _backlog),
    Metric(
        "csat_average",
        "service",
        "CSAT (average, 1 to 5)",
        "score",
        "higher",
        _average("csat_sum", "csat_n"),
        headline=True,
    ),
    Metric(
        "csat_satisfied_rate",
        "service",
        "Satisfied (CSAT 4 or 5)",
        "percent",
        "higher",
        _share("csat_satisfied", "csat_n"),
    ),
    Metric("csat_responses", "service", "CSAT answers", "count", None, _count("csat_n")),
    Metric("nps", "service", "NPS", "points", "higher", _nps, headline=True),
    Metric("nps_responses", "service", "NPS answers", "count", None, _count("nps_n")),
    Metric(
        "retention_rate", "service", "Retention", "percent", "higher", _retention, headline=True
    ),
    Metric(
        "churn_rate", "service", "Churn", "percent", "lower", _share("churned", "customers_start")
    ),
    Metric(
        "customers_start",
        "service",
        "Customers at the start",
        "count",
        None,
        _count("customers_start"),
    ),
    Metric("churned", "service", "Customers churned", "count", "lower", _count("churned")),
    Metric("new_customers", "service", "New customers", "count", "higher", _count("new_customers")),
    Metric(
        "lifetime_value_average",
        "service",
        "Lifetime value (average)",
        "money",
        "higher",
        _average("lifetime_sum", "lifetime_n"),
    ),
    Metric(
        "lifetime_value_predicted",
        "service",
        "Lifetime value (predicted)",
        "money",
        "higher",
        _predicted_value,
    ),
    Metric(
        "ai_conversations",
        "assistant",
        "Conversations with the assistant",
        "count",
        None,
        _count("ai_conversations"),
    ),
    Metric(
        "ai_resolution_rate",
        "assistant",
        "AI resolution rate",
        "percent",
        "higher",
        _share("ai_resolved", "ai_conversations"),
    ),
    Metric(
        "handoff_rate",
        "assistant",
        "Handoff rate",
        "percent",
        "lower",
        _share("handoffs", "ai_conversations"),
    ),
    Metric(
        "handoff_pickup_median",
        "assistant",
        "Handoff pickup time (median)",
        "seconds",
        "lower",
        _percentile("handoff_pickup", 0.5),
    ),
    Metric(
        "handoff_pickup_p90",
        "assistant",
        "Handoff pickup time (90th percentile)",
        "seconds",
        "lower",
        _percentile("handoff_pickup", 0.9),
    ),
    Metric(
        "repeat_yourself_rate",
        "assistant",
        "Customers repeating themselves after a handoff",
        "percent",
        "lower",
        _share("restated", "followed_handoffs"),
    ),
    Metric(
        "ai_reopen_rate",
        "assistant",
        "Reopened after an AI resolution",
        "percent",
        "lower",
        _share("ai_reopened", "ai_resolved"),
    ),
    Metric(
        "csat_ai_average",
        "assistant",
        "CSAT of AI-resolved conversations",
        "score",
        "higher",
        _average("csat_ai_sum", "csat_ai_n"),
    ),
    Metric(
        "csat_human_average",
        "assistant",
        "CSAT of human-resolved conversations",
        "score",
        "higher",
        _average("csat_human_sum", "csat_human_n"),
    ),
)

BY_KEY = {metric.key: metric for metric in METRICS}
TREND_KEYS = (
    "first_response_median",
    "handle_time_average",
    "csat_average",
    "nps",
    "volume",
    "fcr_rate",
    "resolution_rate",
    "ai_resolution_rate",
)
