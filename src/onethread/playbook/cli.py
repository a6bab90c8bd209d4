"""`onethread playbook import|export FILE`: the playbook as a YAML file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from onethread.settings import Settings

playbook_app = typer.Typer(help="The assistant's playbook, as YAML.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)

WorkspaceOption = Annotated[
    int | None, typer.Option("--workspace", help="Workspace id (default: the only one).")
]


async def _import(settings: Settings, text: str, workspace_id: int | None) -> tuple[int, int]:
    from onethread.agents.service import list_teams
    from onethread.bootstrap import open_database, pick_workspace
    from onethread.playbook.actions import do_save_playbook
    from onethread.playbook.yaml_io import playbook_from_yaml

    playbook = playbook_from_yaml(text)
    db = await open_database(settings)
    try:
        async with db.session() as session:
            workspace = await pick_workspace(session, workspace_id)
            teams = await list_teams(session, workspace.id)
            record = await do_save_playbook(
                session, workspace.id, playbook, teams=teams, by_agent_id=None
            )
            return workspace.id, record.revision
    finally:
        await db.dispose()


async def _export(settings: Settings, workspace_id: int | None) -> str:
    from onethread.bootstrap import open_database, pick_workspace
    from onethread.playbook.service import load_playbook
    from onethread.playbook.yaml_io import playbook_to_yaml

    db = await open_database(settings, upgrade=False)
    try:
        async with db.read_session() as session:
            workspace = await pick_workspace(session, workspace_id)
            playbook, _ = await load_playbook(session, workspace.id)
            return playbook_to_yaml(playbook)
    finally:
        await db.dispose()


@playbook_app.command("import")
def import_playbook(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A YAML playbook")],
    workspace: WorkspaceOption = None,
) -> None:
    """Validate FILE and make it the workspace's playbook (the old one is replaced)."""
    from onethread.errors import DomainError

    try:
        workspace_id, revision = asyncio.run(
            _import(Settings(), file.read_text(encoding="utf-8"), workspace)
        )
    except (DomainError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {getattr(exc, 'message', exc)}")
        raise typer.Exit(2) from exc
    console.print(f"playbook imported into workspace {workspace_id}: revision {revision}")


@playbook_app.command("export")
def export_playbook(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write ('-': stdout)")],
    workspace: WorkspaceOption = None,
) -> None:
    """Write the workspace's playbook to FILE as YAML."""
    try:
        text = asyncio.run(_export(Settings(), workspace))
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if str(file) == "-":
        typer.echo(text, nl=False)
        return
    file.write_text(text, encoding="utf-8")
    console.print(f"playbook written to {file}")
