"""The process's Prometheus metrics (one registry per process; each process is scraped).

Counters and histograms live in prometheus_client's default registry, beside its
process and Python collectors. The job queue's depth is not one of them: it is read
from the database when ``/metrics`` is scraped (``queue.py``) and rendered after them.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, Info

from onethread import __version__

BUILD = Info("onethread_build", "The running onethread version.")
BUILD.info({"version": __version__})

WEBHOOKS = Counter(
    "onethread_webhooks_received",
    "Provider webhooks received, by channel and what became of them.",
    ["channel", "outcome"],
)
DELIVERY_FAILURES = Counter(
    "onethread_delivery_failures",
    "Outbound messages a provider refused, by channel and the provider's error code; "
    "final=false when the job retries.",
    ["channel", "code", "final"],
)
ASSISTANT_DECISIONS = Counter(
    "onethread_assistant_decisions",
    "Assistant turns, by the decision's outcome.",
    ["outcome"],
)
ASSISTANT_DECISION_SECONDS = Histogram(
    "onethread_assistant_decision_seconds",
    "Time the assistant took to decide a turn (snapshot loaded, decision not yet written).",
    ["outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
WEBSOCKETS = Gauge(
    "onethread_websocket_connections",
    "Open websocket connections on this process: agents' realtime or widget visitors.",
    ["socket"],
)
JOBS = Counter(
    "onethread_jobs",
    "Jobs run by this process, by kind and result (done, retry, dead, interrupted).",
    ["kind", "result"],
)
JOB_SECONDS = Histogram(
    "onethread_job_seconds",
    "Time to run one job's handler, by kind.",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0),
)


def count_webhook(channel: str, outcome: str) -> None:
    WEBHOOKS.labels(channel, outcome).inc()


def count_delivery_failure(channel: str, code: str | None, *, final: bool) -> None:
    DELIVERY_FAILURES.labels(channel, code or "none", "true" if final else "false").inc()


def observe_decision(outcome: str, seconds: float | None) -> None:
    """One decision; ``seconds`` is None for a turn silenced before any deciding."""
    ASSISTANT_DECISIONS.labels(outcome).inc()
    if seconds is not None:
        ASSISTANT_DECISION_SECONDS.labels(outcome).observe(seconds)


def observe_job(kind: str, result: str, seconds: float) -> None:
    JOBS.labels(kind, result).inc()
    JOB_SECONDS.labels(kind).observe(seconds)
