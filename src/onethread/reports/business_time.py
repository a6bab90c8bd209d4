"""Seconds between two instants counted inside a workspace's opening hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from onethread.workspaces.schemas import WEEKDAYS, WorkspaceSettings


class BusinessClock:
    """Counts business seconds; with no opening hours set, every second counts."""

    def __init__(self, settings: WorkspaceSettings) -> None:
        self.zone = ZoneInfo(settings.timezone)
        self.hours: list[list[tuple[time, time]]] = [[] for _ in WEEKDAYS]
        for opening in settings.business_hours:
            self.hours[WEEKDAYS.index(opening.day)].append((opening.start, opening.end))

    @property
    def always_open(self) -> bool:
        return not any(self.hours)

    def seconds(self, start: float, end: float) -> float:
        """Business seconds from ``start`` to ``end`` (UTC epoch seconds)."""
        if end <= start:
            return 0.0
        if self.always_open:
            return end - start
        first = datetime.fromtimestamp(start, self.zone).date()
        last = datetime.fromtimestamp(end, self.zone).date()
        total = 0.0
        day = first
        while day <= last:
            for opens, closes in self.hours[day.weekday()]:
                lower = max(start, self._epoch(day, opens))
                upper = min(end, self._epoch(day, closes))
                if upper > lower:
                    total += upper - lower
            day += timedelta(days=1)
        return total

    def _epoch(self, day: date, moment: time) -> float:
        return datetime.combine(day, moment, self.zone).astimezone(UTC).timestamp()
