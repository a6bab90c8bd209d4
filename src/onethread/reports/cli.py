"""`onethread report …`: the reports from the command line."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import typer
from rich.console import Console

from onethread.settings import Settings

report_app = typer.Typer(help="Reports: the metrics' projection.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


async def _rebuild(settings: Settings, workspace_id: int | None) -> list[tuple[int, int, float]]:
    from onethread.bootstrap import open_database, pick_workspace
    from onethread.reports.projection import rebuild
    from onethread.workspaces.service import list_workspaces

    db = await open_database(settings)
    done = []
    try:
        async with db.read_session() as session:
            if workspace_id is None:
                ids = [workspace.id for workspace in await list_workspaces(session)]
            else:
                ids = [(await pick_workspace(session, workspace_id)).id]
        for workspace in ids:
            started = time.perf_counter()
            conversations = await rebuild(db, workspace)
            done.append((workspace, conversations, time.perf_counter() - started))
    finally:
        await db.dispose()
    return done


@report_app.command("rebuild")
def rebuild(
    workspace: Annotated[
        int | None, typer.Option("--workspace", help="Workspace id (default: every workspace).")
    ] = None,
) -> None:
    """Recompute the projection from the whole event log (after business hours change)."""
    try:
        done = asyncio.run(_rebuild(Settings(), workspace))
    except ValueError as error:
        err_console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    for workspace_id, conversations, seconds in done:
        rate = conversations / seconds if seconds else 0.0
        console.print(
            f"workspace {workspace_id}: {conversations} conversations in {seconds:.1f} s "
            f"({rate:.0f}/s)"
        )
