"""Support metrics over the projection: responses, handling, resolution, volume, backlog."""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal_column, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.reports.buckets import Buckets, count_when, counted, sampled, within
from onethread.reports.models import ReportConversation, ReportSpan
from onethread.reports.periods import Period
from onethread.reports.slices import C, Scope
from onethread.reports.tally import Tally

REPEAT_WINDOW = 7 * 86400
HOUR = 3600


def _repeat_contact() -> ColumnElement[bool]:
    """Created within 7 days after the contact's previous conversation was resolved."""
    previous = ReportConversation.__table__.alias("previous")
    return exists().where(
        previous.c.conversation_id == C.previous_conversation_id,
        previous.c.workspace_id == C.workspace_id,
        previous.c.resolved_at.is_not(None),
        C.created_at <= previous.c.resolved_at + REPEAT_WINDOW,
    )


def _contacted_again_on_topic() -> ColumnElement[bool]:
    """Another conversation of the contact, on the same topic, within 7 days of resolution."""
    later = ReportConversation.__table__.alias("later")
    same_topic = or_(later.c.topic == C.topic, and_(later.c.topic.is_(None), C.topic.is_(None)))
    return exists().where(
        later.c.contact_id == C.contact_id,  # a contact is in one workspace
        later.c.conversation_id != C.conversation_id,
        later.c.created_at > C.resolved_at,
        later.c.created_at <= C.resolved_at + REPEAT_WINDOW,
        same_topic,
    )


async def created_tallies(
    session: AsyncSession, scope: Scope, period: Period, buckets: Buckets
) -> list[Tally]:
    """Figures of the conversations created in the period, per bucket of creation."""
    bucket = buckets.hour_of(C.created_at)
    where = [*scope.where(), within(C.created_at, period.start_epoch, period.end_epoch)]
    handle = scope.duration("handle")
    counts = select(
        bucket,
        func.count().label("volume"),
        func.sum(C.messages_received).label("messages_received"),
        count_when((C.messages_received > 0) & C.first_response_s.is_(None)).label("unanswered"),
        func.sum(handle).label("handle_sum"),
        func.count(handle).label("handle_n"),
        count_when(C.resolved_at.is_not(None) & C.escalated.is_not(true())).label("resolved_clean"),
        count_when(C.reopens > 0).label("reopened"),
        count_when(_repeat_contact()).label("repeat_contacts"),
    ).where(*where)
    tallies = await counted(session, counts, bucket, buckets)
    first_response, first_human = (
        scope.duration("first_response"),
        scope.duration("first_human_response"),
    )
    durations = select(
        bucket, first_response.label("first_response"), first_human.label("first_human_response")
    ).where(*where, first_response.is_not(None))
    for tally, samples in zip(tallies, await sampled(session, durations, buckets), strict=True):
        tally.add(samples)
    return tallies


async def resolved_tallies(
    session: AsyncSession, scope: Scope, period: Period, buckets: Buckets
) -> list[Tally]:
    """First-contact resolution, over the conversations resolved in the period."""
    bucket = buckets.hour_of(C.resolved_at)
    first_contact = (C.reopens == 0) & ~_contacted_again_on_topic()
    query = select(
        bucket,
        func.count().label("resolved"),
        count_when(first_contact).label("first_contact_resolved"),
    ).where(*scope.where(), within(C.resolved_at, period.start_epoch, period.end_epoch))
    return await counted(session, query, bucket, buckets)


async def backlog(
    session: AsyncSession, scope: Scope, points: list[datetime], origin: datetime
) -> list[int]:
    """How many conversations were open at each point (inside an open span).

    Open at ``t`` = spans opened by ``t`` minus spans closed by ``t``. The first point is
    counted exactly; the opens and closes after it come grouped by the hour since
    ``origin`` (a local midnight), which answers every point on a whole hour exactly; a
    point off the hours (a period ending at 10:30) is counted on its own.
    """
    spans = ReportSpan.__table__
    where: list[ColumnElement[bool]] = [spans.c.workspace_id == scope.workspace_id]
    if scope.slices.slices_conversations:
        where.append(spans.c.conversation_id.in_(select(C.conversation_id).where(*scope.where())))
    first, last = int(points[0].timestamp()), int(points[-1].timestamp())
    zero = int(origin.timestamp())
    base = await _open_at(session, spans, where, first)
    opened = await _by_hour(session, spans.c.opened_at, where, first, last, zero)
    closed = await _by_hour(session, spans.c.closed_at, where, first, last, zero)
    counts = []
    for point in points[1:]:
        moment = int(point.timestamp())
        hour, off_the_hour = divmod(moment - zero, HOUR)
        if off_the_hour:
            counts.append(await _open_at(session, spans, where, moment))
        else:
            counts.append(base + _up_to(opened, hour) - _up_to(closed, hour))
    return [base, *counts]


async def _open_at(
    session: AsyncSession, spans: Any, where: list[ColumnElement[bool]], moment: int
) -> int:
    opened = await session.scalar(select(func.count()).where(*where, spans.c.opened_at <= moment))
    closed = await session.scalar(select(func.count()).where(*where, spans.c.closed_at <= moment))
    return int(opened or 0) - int(closed or 0)


async def _by_hour(
    session: AsyncSession,
    column: ColumnElement[Any],
    where: list[ColumnElement[bool]],
    first: int,
    last: int,
    zero: int,
) -> tuple[list[int], list[int]]:
    """Moments in ``(first, last]`` per hour ``h``: ``zero + (h-1)·HOUR < moment ≤ zero + h·HOUR``.

    Returned as sorted hours and the running count up to each.
    """
    hour = ((column - literal_column(str(zero)) + (HOUR - 1)) // HOUR).label("hour")
    query = (
        select(hour, func.count())
        .where(*where, column > first, column <= last)
        .group_by(hour)
        .order_by(hour)
    )
    hours, running, total = [], [], 0
    for number, count in await session.execute(query):
        total += count
        hours.append(int(number))
        running.append(total)
    return hours, running


def _up_to(grouped: tuple[list[int], list[int]], hour: int) -> int:
    hours, running = grouped
    position = bisect_right(hours, hour)
    return running[position - 1] if position else 0
