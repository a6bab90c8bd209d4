"""Grouping metric queries by time bucket (the days of a period), portably and cheaply.

SQL groups rows by whole hours since the local midnight the period starts in (integer
arithmetic on epoch seconds, the same on SQLite and PostgreSQL); Python then adds the
hours up into local days, exactly, since local midnights are whole hours apart.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal_column
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.reports.tally import Tally

HOUR = 3600


def count_when(condition: ColumnElement[bool], value: Any = 1) -> ColumnElement[Any]:
    """``SUM(CASE WHEN condition THEN value ELSE 0 END)``: a count (or sum) within a group."""
    return func.sum(case((condition, value), else_=0))


class Buckets:
    """Buckets starting at ``starts`` (ascending); ``origin`` is a local midnight before them."""

    def __init__(self, starts: list[datetime], origin: datetime) -> None:
        self.starts = starts
        self.origin = int(origin.timestamp())
        self.edges = [int(start.timestamp()) for start in starts]

    def __len__(self) -> int:
        return len(self.starts)

    def hour_of(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """The row's hour since ``origin``: what queries select and group by as ``bucket``."""
        if len(self.starts) == 1:
            return literal_column("0").label("bucket")
        return ((column - literal_column(str(self.origin))) // HOUR).label("bucket")

    def index(self, hour: Any) -> int:
        if len(self.starts) == 1:
            return 0
        return max(0, bisect_right(self.edges, self.origin + int(hour) * HOUR) - 1)


def within(column: ColumnElement[Any], start: int, end: int) -> ColumnElement[bool]:
    return (column >= start) & (column < end)


async def counted(
    session: AsyncSession, query: Select[Any], bucket: ColumnElement[Any], buckets: Buckets
) -> list[Tally]:
    """Run ``query`` (``bucket`` first, then labelled sums) grouped into a tally per bucket."""
    tallies = [Tally() for _ in range(len(buckets))]
    if len(buckets) > 1:  # one bucket: a plain aggregate (GROUP BY a constant is positional)
        query = query.group_by(bucket)
    for row in await session.execute(query):
        values = row._mapping
        tally = tallies[buckets.index(values["bucket"])]
        for key, value in values.items():
            if key != "bucket" and value is not None:
                tally.counts[key] += float(value)
    return tallies


async def sampled(session: AsyncSession, query: Select[Any], buckets: Buckets) -> list[Tally]:
    """Run ``query`` (``bucket`` first, then durations) into per-bucket samples."""
    tallies = [Tally() for _ in range(len(buckets))]
    result = await session.execute(query)
    keys = list(result.keys())[1:]
    lists = [[tally.samples[key] for key in keys] for tally in tallies]
    index = buckets.index
    for bucket, *values in result:
        samples = lists[index(bucket)]
        for position, value in enumerate(values):
            if value is not None:
                samples[position].append(value)
    return tallies
