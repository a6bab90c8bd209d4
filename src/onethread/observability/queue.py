"""The job queue's depth and the age of its oldest due job, by kind, read at scrape time.

One grouped query over the queued jobs (the ``ix_jobs_claim_kind`` index covers it),
run on the app's own async database; the figures are then handed to a collector of a
registry made for this one scrape, so prometheus_client's thread never touches the
database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from onethread.db.database import Database
from onethread.db.types import utcnow
from onethread.outbox.models import Job, JobStatus


@dataclass(frozen=True)
class KindDepth:
    kind: str
    queued: int
    due: int
    oldest_due_age_seconds: float


async def read_queue(db: Database) -> list[KindDepth]:
    now = utcnow()
    query = (
        select(
            Job.kind,
            func.count(),
            func.sum(case((Job.run_at <= now, 1), else_=0)),
            func.min(Job.run_at),
        )
        .where(Job.status == JobStatus.QUEUED.value)
        .group_by(Job.kind)
        .order_by(Job.kind)
    )
    async with db.read_session() as session:
        rows = (await session.execute(query)).all()
    return [
        KindDepth(str(kind), int(queued), int(due or 0), _age(now, oldest))
        for kind, queued, due, oldest in rows
    ]


def _age(now: datetime, oldest_run_at: datetime | None) -> float:
    """How long the oldest queued job has been due; 0 when none is due yet."""
    if oldest_run_at is None:
        return 0.0
    return max((now - oldest_run_at).total_seconds(), 0.0)


class QueueCollector(Collector):
    """Exposes one scrape's reading of the queue; ``None``: it could not be read."""

    def __init__(self, depths: list[KindDepth] | None) -> None:
        self.depths = depths

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "onethread_jobs_queue_readable",
            "1 when this scrape read the job queue, 0 when the database did not answer.",
            value=0 if self.depths is None else 1,
        )
        if self.depths is None:
            return
        queued = GaugeMetricFamily(
            "onethread_jobs_queued",
            "Jobs waiting in the queue (due or scheduled).",
            labels=["kind"],
        )
        due = GaugeMetricFamily(
            "onethread_jobs_due", "Queued jobs whose time has come.", labels=["kind"]
        )
        age = GaugeMetricFamily(
            "onethread_jobs_oldest_due_age_seconds",
            "How long the oldest due job has waited past its run time.",
            labels=["kind"],
        )
        for depth in self.depths:
            queued.add_metric([depth.kind], depth.queued)
            due.add_metric([depth.kind], depth.due)
            age.add_metric([depth.kind], depth.oldest_due_age_seconds)
        yield queued
        yield due
        yield age


def queue_registry(depths: list[KindDepth] | None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(depths))
    return registry
