"""The dashboard's figures as CSV: one row per metric."""

from __future__ import annotations

import csv
import io
from typing import Any

COLUMNS = ("key", "label", "side", "unit", "value", "previous", "verdict")


def dashboard_csv(dashboard: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for metric in dashboard["metrics"]:
        writer.writerow(["" if metric[c] is None else metric[c] for c in COLUMNS])
    return out.getvalue()
