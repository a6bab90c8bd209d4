"""The doctor's findings, one plain line each (Rich), or as JSON."""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape

from onethread.doctor.result import Finding, Status

_STYLES = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red", Status.SKIP: "dim"}


def print_report(console: Console, findings: list[Finding]) -> None:
    for finding in findings:
        mark = f"[{_STYLES[finding.status]}]{finding.status.value.upper():<4}[/]"
        console.print(
            f"{mark} [bold]{escape(finding.check)}[/bold]: {escape(finding.detail)}",
            highlight=False,
        )
    failures = sum(finding.failed for finding in findings)
    if failures:
        console.print(f"[red bold]{failures} problem(s) to fix.[/red bold]")
    else:
        console.print("[green bold]Nothing is wrong.[/green bold]")


def report_json(findings: list[Finding]) -> str:
    return json.dumps(
        {
            "ok": not any(finding.failed for finding in findings),
            "checks": [finding.as_dict() for finding in findings],
        }
    )
