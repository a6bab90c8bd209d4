"""`onethread contacts import`: customer value and contact details from a CSV file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from onethread.settings import Settings

if TYPE_CHECKING:
    from onethread.contacts.importing import ImportReport

contacts_app = typer.Typer(help="Customers and what they are worth.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


async def _import(
    settings: Settings,
    path: Path,
    workspace_id: int | None,
    dry_run: bool,
    progress: Progress,
) -> tuple[int, ImportReport]:
    from onethread.bootstrap import open_database, pick_workspace
    from onethread.contacts.importing import decode_csv, import_contacts

    text = decode_csv(await asyncio.to_thread(path.read_bytes))
    db = await open_database(settings)
    task = progress.add_task("", total=None)

    def advance(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    try:
        async with db.read_session() as session:
            workspace = await pick_workspace(session, workspace_id)
        report = await import_contacts(db, workspace.id, text, dry_run=dry_run, progress=advance)
    finally:
        await db.dispose()
    return workspace.id, report


@contacts_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV file with a header line", exists=True)],
    workspace: Annotated[
        int | None, typer.Option("--workspace", help="Workspace id (default: the only one).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Create or update contacts from FILE: match by id, email or phone (docs/contacts.md).

    Every rejected row is reported with its line and reason; the others are written.
    Exits 1 if any row was rejected, 2 if the file or workspace cannot be used."""
    from onethread.errors import DomainError

    progress = Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
    )
    try:
        with progress:
            workspace_id, report = asyncio.run(
                _import(Settings(), file, workspace, dry_run, progress)
            )
    except (DomainError, OSError, ValueError) as error:
        message = error.message if isinstance(error, DomainError) else str(error)
        err_console.print(f"[red]error:[/red] {message}")
        raise typer.Exit(2) from error
    if as_json:
        typer.echo(json.dumps({"workspace_id": workspace_id, **report.as_dict()}))
    else:
        _print_report(workspace_id, report)
    if report.rejected:
        raise typer.Exit(1)


def _print_report(workspace_id: int, report: ImportReport) -> None:
    would = " would be" if report.dry_run else ""
    console.print(
        f"workspace {workspace_id}: {report.rows} rows, "
        f"[green]{report.created}{would} created[/green], {report.updated}{would} updated, "
        f"{report.unchanged} unchanged, [red]{len(report.rejected)} rejected[/red]"
    )
    if report.rejected:
        table = Table("line", "reason")
        for rejected in report.rejected:
            table.add_row(str(rejected.line), rejected.reason)
        console.print(table)
