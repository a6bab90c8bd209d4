"""Figures as people read them: durations in s/min/h, rates with %, counts with separators."""

from __future__ import annotations


def shown(value: float | None, unit: str) -> str:
    """``value`` in ``unit`` (a metric's unit, docs/metrics.md) as text; "—" when unknown."""
    if value is None:
        return "—"
    if unit == "seconds":
        if value < 90:
            return f"{value:.0f} s"
        return f"{value / 60:.1f} min" if value < 5400 else f"{value / 3600:.1f} h"
    if unit == "percent":
        return f"{value:.1f} %"
    if unit in ("score", "money"):
        return f"{value:,.2f}"
    if unit == "points":
        return f"{value:+.0f}"
    return f"{value:,.0f}"
