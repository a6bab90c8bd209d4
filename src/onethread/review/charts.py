"""Small inline SVG charts, so that a review file stands alone (no script, no fetch)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH = 560
BAR_HEIGHT = 22
LABEL_WIDTH = 220
COLOURS = ("#2563eb", "#94a3b8")  # this period, the previous one


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.2f}"


def bars(items: Sequence[tuple[str, float]], *, suffix: str = "") -> str:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    if not items:
        return ""
    top = max(value for _, value in items) or 1.0
    room = WIDTH - LABEL_WIDTH - 60
    rows = []
    for index, (label, value) in enumerate(items):
        y = index * BAR_HEIGHT
        width = max(1.0, room * value / top)
        rows.append(
            f'<text x="0" y="{y + 15}" font-size="12">{escape(label[:34])}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{width:.1f}" height="14" '
            f'fill="{COLOURS[0]}"/>'
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 15}" font-size="12">'
            f"{_number(value)}{escape(suffix)}</text>"
        )
    height = len(items) * BAR_HEIGHT
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img">{"".join(rows)}</svg>'
    )


def lines(
    labels: Sequence[str],
    current: Sequence[float | None],
    previous: Sequence[float | None],
    *,
    title: str,
) -> str:
    """This period's daily values against the previous period's, day by day."""
    values = [v for v in (*current, *previous) if v is not None]
    if not labels or not values:
        return ""
    height, top_pad, bottom_pad = 160, 24, 22
    top = max(values) or 1.0
    step = (WIDTH - 40) / max(1, len(labels) - 1)

    def path(series: Sequence[float | None]) -> str:
        points, drawing = [], False
        for index, value in enumerate(series):
            if value is None:
                drawing = False
                continue
            x = 20 + index * step
            y = top_pad + (height - top_pad - bottom_pad) * (1 - value / top)
            points.append(f"{'L' if drawing else 'M'}{x:.1f},{y:.1f}")
            drawing = True
        return " ".join(points)

    ticks = "".join(
        f'<text x="{20 + i * step:.1f}" y="{height - 6}" font-size="11" '
        f'text-anchor="middle">{escape(label)}</text>'
        for i, label in enumerate(labels)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">'
        f'<text x="0" y="14" font-size="12" font-weight="bold">{escape(title)} '
        f"(max {_number(top)})</text>"
        f'<path d="{path(previous)}" fill="none" stroke="{COLOURS[1]}" stroke-width="2" '
        f'stroke-dasharray="4 3"/>'
        f'<path d="{path(current)}" fill="none" stroke="{COLOURS[0]}" stroke-width="2"/>'
        f"{ticks}</svg>"
    )
