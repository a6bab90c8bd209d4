"""What the metric queries return per bucket: counts and sums, and samples for percentiles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Tally:
    counts: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    samples: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, other: Tally) -> None:
        for key, value in other.counts.items():
            self.counts[key] += value
        for key, values in other.samples.items():
            self.samples[key].extend(values)

    def count(self, key: str) -> float:
        return self.counts.get(key, 0.0)


def total(tallies: Iterable[Tally]) -> Tally:
    summed = Tally()
    for tally in tallies:
        summed.add(tally)
    return summed


def percentile(values: list[float], share: float) -> float | None:
    """Linear interpolation between the closest ranks (the median of [1, 2] is 1.5)."""
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def ratio(part: float, whole: float) -> float | None:
    """``part`` of ``whole`` in percent; none of nothing."""
    return None if whole == 0 else 100.0 * part / whole


def mean(summed: float, number: float) -> float | None:
    return None if number == 0 else summed / number
