"""Report periods: parsed from ISO dates or datetimes in the workspace's timezone, cut in days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from onethread.db.types import utcnow
from onethread.errors import InvalidInput
from onethread.reports.buckets import Buckets

DEFAULT_DAYS = 7
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC; ``zone`` is the workspace's, for days and customer dates."""

    start: datetime
    end: datetime
    zone: ZoneInfo

    @property
    def start_epoch(self) -> int:
        return int(self.start.timestamp())

    @property
    def end_epoch(self) -> int:
        return int(self.end.timestamp())

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - (self.end - self.start), self.start, self.zone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def day_starts(self) -> list[datetime]:
        """The start of the period, then every local midnight inside it."""
        starts = [self.start]
        day = self.local_date(self.start) + timedelta(days=1)
        while (midnight := self._midnight(day)) < self.end:
            starts.append(midnight)
            day += timedelta(days=1)
        return starts

    @property
    def origin(self) -> datetime:
        """The local midnight the period starts in: whole hours before every later one."""
        return self._midnight(self.local_date(self.start))

    def daily_buckets(self) -> Buckets:
        """One bucket per local day, counted from the midnight the period starts in."""
        return Buckets(self.day_starts(), self.origin)

    def one_bucket(self) -> Buckets:
        return Buckets([self.start], self.start)

    def hour_starts(self) -> list[datetime]:
        """The start of the period, then every whole hour inside it."""
        starts, moment = [self.start], self.origin + timedelta(hours=1)
        while moment <= self.start:
            moment += timedelta(hours=1)
        while moment < self.end:
            starts.append(moment)
            moment += timedelta(hours=1)
        return starts

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.zone).astimezone(UTC)

    def as_json(self) -> dict[str, str]:
        return {
            "from": self.start.astimezone(self.zone).isoformat(),
            "to": self.end.astimezone(self.zone).isoformat(),
        }


def parse_period(start: str | None, end: str | None, timezone: str) -> Period:
    """A period from query values: a date covers that whole day; default the last 7 days."""
    zone = ZoneInfo(timezone)
    if end is None:
        today = utcnow().astimezone(zone).date()
        end_at = datetime.combine(today + timedelta(days=1), time(), zone).astimezone(UTC)
    else:
        end_at = _bound("to", end, zone, end_of_day=True)
    if start is None:
        local_end = end_at.astimezone(zone)
        start_at = local_end.replace(tzinfo=None) - timedelta(days=DEFAULT_DAYS)
        start_at = start_at.replace(tzinfo=zone).astimezone(UTC)
    else:
        start_at = _bound("from", start, zone, end_of_day=False)
    if end_at <= start_at:
        raise InvalidInput("'to' must be after 'from'", details={"field": "to"})
    if end_at - start_at > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"a period spans at most {MAX_DAYS} days", details={"field": "from"})
    return Period(start_at, end_at, zone)


def _bound(name: str, value: str, zone: ZoneInfo, *, end_of_day: bool) -> datetime:
    try:
        if len(value) == len("YYYY-MM-DD"):
            day = date.fromisoformat(value) + timedelta(days=1 if end_of_day else 0)
            return datetime.combine(day, time(), zone).astimezone(UTC)
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(
            f"'{name}' is not an ISO date or datetime: {value!r}", details={"field": name}
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)
