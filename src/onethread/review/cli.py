"""`onethread report weekly`: the weekly review written to a file, as HTML or JSON."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from onethread.settings import Settings

console = Console()
err_console = Console(stderr=True)


class Format(StrEnum):
    HTML = "html"
    JSON = "json"


async def _write(
    settings: Settings, workspace_id: int | None, week: str | None, form: Format
) -> tuple[str, str]:
    from onethread.assistant.encoder import load_encoder
    from onethread.bootstrap import open_database, pick_workspace
    from onethread.review.render import render_html
    from onethread.review.weekly import build_review

    db = await open_database(settings)
    try:
        async with db.read_session() as session:
            workspace = await pick_workspace(session, workspace_id)
        encoder = await asyncio.to_thread(load_encoder, settings.encoder)
        review = await build_review(db, workspace.id, week, encoder)
    finally:
        await db.dispose()
    if form is Format.HTML:
        return review.week, render_html(review)
    return review.week, json.dumps(review.as_json(), indent=2, ensure_ascii=False)


def weekly(
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    workspace: Annotated[
        int | None, typer.Option("--workspace", help="Workspace id (when there are several).")
    ] = None,
    week: Annotated[
        str | None,
        typer.Option(help="ISO week (2026-W47) or a date in it; default: the last whole week."),
    ] = None,
    form: Annotated[
        Format, typer.Option("--format", help="html (standalone) or json.")
    ] = Format.HTML,
) -> None:
    """The weekly review: knowledge gaps, handoffs that broke, survey comments, the week
    against the previous one."""
    from onethread.errors import DomainError

    try:
        label, text = asyncio.run(_write(Settings(), workspace, week, form))
    except (ValueError, DomainError) as error:
        err_console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    out.write_text(text, encoding="utf-8")
    console.print(f"weekly review {label} written to {out}")
