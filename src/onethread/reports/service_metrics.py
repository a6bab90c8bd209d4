"""Service metrics: CSAT and NPS from survey answers, retention and value from customers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.reports.buckets import Buckets, count_when, counted, within
from onethread.reports.models import ReportCustomer
from onethread.reports.periods import Period
from onethread.reports.slices import C, Scope
from onethread.reports.tally import Tally

SATISFIED = 4
PROMOTER = 9
DETRACTOR = 6


async def survey_tallies(
    session: AsyncSession, scope: Scope, period: Period, buckets: Buckets
) -> list[Tally]:
    """CSAT and NPS answers, per bucket of the answer."""
    csat_bucket = buckets.hour_of(C.csat_at)
    csat = select(
        csat_bucket,
        func.count(C.csat_score).label("csat_n"),
        func.sum(C.csat_score).label("csat_sum"),
        count_when(C.csat_score >= SATISFIED).label("csat_satisfied"),
        count_when(C.csat_handler == "ai").label("csat_ai_n"),
        count_when(C.csat_handler == "ai", C.csat_score).label("csat_ai_sum"),
        count_when(C.csat_handler == "human").label("csat_human_n"),
        count_when(C.csat_handler == "human", C.csat_score).label("csat_human_sum"),
    ).where(*scope.where(), within(C.csat_at, period.start_epoch, period.end_epoch))
    nps_bucket = buckets.hour_of(C.nps_at)
    nps = select(
        nps_bucket,
        func.count(C.nps_score).label("nps_n"),
        count_when(C.nps_score >= PROMOTER).label("promoters"),
        count_when(C.nps_score <= DETRACTOR).label("detractors"),
    ).where(*scope.where(), within(C.nps_at, period.start_epoch, period.end_epoch))
    tallies = await counted(session, csat, csat_bucket, buckets)
    for tally, answers in zip(
        tallies, await counted(session, nps, nps_bucket, buckets), strict=True
    ):
        tally.add(answers)
    return tallies


async def customer_tallies(
    session: AsyncSession, scope: Scope, periods: list[Period]
) -> list[Tally]:
    """Per period: customers at the start, churned and new, revenue (``plan`` slice only).

    One pass over the customers for all the periods. Dates are ``YYYY-MM-DD`` text, so
    they compare as text on every database.
    """
    customers = ReportCustomer.__table__.c
    since, churned = customers.customer_since, customers.churned_at
    lifetime, monthly = customers.lifetime_revenue, customers.monthly_revenue
    columns = []
    for number, period in enumerate(periods):
        start = period.local_date(period.start).isoformat()
        end = (period.local_date(period.end - timedelta(seconds=1)) + timedelta(days=1)).isoformat()
        at_start = (since < start) & (churned.is_(None) | (churned >= start))
        active_at_end = (since < end) & (churned.is_(None) | (churned >= end))
        columns += [
            count_when(at_start).label(f"customers_start_{number}"),
            count_when(at_start & (churned < end)).label(f"churned_{number}"),
            count_when((since >= start) & (since < end)).label(f"new_customers_{number}"),
            func.sum(case((since < end, lifetime))).label(f"lifetime_sum_{number}"),
            func.count(case((since < end, lifetime))).label(f"lifetime_n_{number}"),
            func.sum(case((active_at_end, monthly))).label(f"monthly_sum_{number}"),
            func.count(case((active_at_end, monthly))).label(f"monthly_n_{number}"),
        ]
    where = [customers.workspace_id == scope.workspace_id]
    if scope.slices.plan is not None:
        where.append(customers.plan == scope.slices.plan)
    row = (await session.execute(select(*columns).where(*where))).one()
    tallies = [Tally() for _ in periods]
    for label, value in row._mapping.items():
        key, _, number = label.rpartition("_")
        tallies[int(number)].counts[key] = float(value or 0)
    return tallies
