"""Assistant metrics over the conversations it took part in: resolution, handoffs, reopens."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.reports.buckets import Buckets, count_when, counted, sampled, within
from onethread.reports.periods import Period
from onethread.reports.slices import C, Scope
from onethread.reports.tally import Tally


def _where(scope: Scope, period: Period) -> list[ColumnElement[bool]]:
    return [
        *scope.where(),
        within(C.created_at, period.start_epoch, period.end_epoch),
        C.ai_involved.is_(true()),
    ]


async def assistant_tallies(
    session: AsyncSession, scope: Scope, period: Period, buckets: Buckets
) -> list[Tally]:
    """Per bucket of creation, the conversations the assistant took part in."""
    bucket = buckets.hour_of(C.created_at)
    where = _where(scope, period)
    ai_resolved = C.ai_resolved.is_(true())
    counts = select(
        bucket,
        func.count().label("ai_conversations"),
        count_when(ai_resolved).label("ai_resolved"),
        count_when(ai_resolved & (C.reopens > 0)).label("ai_reopened"),
        func.count(C.handoff_reason).label("handoffs"),
        count_when(C.restated.is_(true())).label("restated"),
        func.count(C.restated).label("followed_handoffs"),
    ).where(*where)
    tallies = await counted(session, counts, bucket, buckets)
    pickup = scope.duration("handoff_pickup")
    durations = select(bucket, pickup.label("handoff_pickup")).where(*where, pickup.is_not(None))
    for tally, samples in zip(tallies, await sampled(session, durations, buckets), strict=True):
        tally.add(samples)
    return tallies


async def handoff_reasons(session: AsyncSession, scope: Scope, period: Period) -> dict[str, int]:
    """The assistant's handoffs per reason (a conversation counts its first handoff)."""
    query = (
        select(C.handoff_reason, func.count())
        .where(*_where(scope, period), C.handoff_reason.is_not(None))
        .group_by(C.handoff_reason)
    )
    return {reason: int(count) for reason, count in (await session.execute(query)).all()}
