"""The ``onethread`` command line (Typer)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from onethread.assistant.evaluation.cli import eval_app
from onethread.contacts.cli import contacts_app
from onethread.knowledge.cli import kb_app
from onethread.playbook.cli import playbook_app
from onethread.reports.cli import report_app
from onethread.review.cli import weekly as weekly_review
from onethread.settings import Settings

app = typer.Typer(
    help="onethread: one front door for every customer conversation.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
jobs_app = typer.Typer(help="The durable job queue.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(jobs_app, name="jobs")
app.add_typer(playbook_app, name="playbook")
app.add_typer(kb_app, name="kb")
app.add_typer(eval_app, name="eval")
report_app.command("weekly")(weekly_review)
app.add_typer(report_app, name="report")
app.add_typer(contacts_app, name="contacts")

console = Console()
err_console = Console(stderr=True)


def _logging(level: str | None = None) -> dict[str, Any]:
    """Logs as ONETHREAD_LOG_FORMAT and ONETHREAD_LOG_LEVEL say (``level`` overrides)."""
    from onethread.observability.logs import configure_logging

    settings = Settings()
    return configure_logging(settings.log_format, level or settings.log_level)


HostOption = Annotated[str | None, typer.Option(help="Bind address [ONETHREAD_HOST]")]
PortOption = Annotated[int | None, typer.Option(help="Port [ONETHREAD_PORT]")]


@app.command()
def serve(
    host: HostOption = None,
    port: PortOption = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Leave jobs to `onethread worker` processes.")
    ] = False,
    access_log: Annotated[
        bool, typer.Option(help="Log every request (a proxy in front usually does).")
    ] = True,
) -> None:
    """Serve the API, the app and (unless --no-worker) the in-process worker."""
    import uvicorn

    from onethread.main import create_app

    log_config = _logging()
    settings = Settings()
    application = create_app(settings, run_worker=not no_worker)
    uvicorn.run(
        application,
        host=host or settings.host,
        port=port or settings.port,
        log_config=log_config,
        log_level=settings.log_level.lower(),
        access_log=access_log,
        proxy_headers=True,
        # Realtime frames are small JSON: compressing each costs a third of the send
        # path's CPU for little saved (docs/benchmarks.md, "Realtime").
        ws_per_message_deflate=False,
    )


@app.command()
def worker(
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve /metrics on this port [ONETHREAD_WORKER_METRICS_PORT]"),
    ] = None,
) -> None:
    """Run a worker process: claim jobs (delivery, assistant turns, timers) until stopped."""
    from onethread.jobs.standalone import run_worker

    _logging()
    settings = Settings()
    port = metrics_port or settings.worker_metrics_port
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, addr=settings.host)
        logging.getLogger(__name__).info(
            "worker metrics on http://%s:%s/metrics", settings.host, port
        )
    asyncio.run(run_worker(settings))


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds allowed to each remote check")] = 5.0,
) -> None:
    """Check this deployment: settings, database, migrations, Redis, public URL, worker,
    and each inbox's provider credentials. Exits 1 when anything is wrong."""
    from onethread.doctor.checks import run_checks
    from onethread.doctor.report import print_report, report_json

    _logging("ERROR")
    results = asyncio.run(run_checks(Settings(), wait_seconds=timeout))
    if as_json:
        typer.echo(report_json(results))
    else:
        print_report(console, results)
    if any(result.failed for result in results):
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from onethread.db import migrate
    from onethread.db.database import Database

    async def run() -> str | None:
        db = Database(Settings().resolved_database_url)
        try:
            await migrate.upgrade(db.engine, revision)
            return await migrate.current_revision(db.engine)
        finally:
            await db.dispose()

    console.print(f"database at revision [bold]{asyncio.run(run())}[/bold]")


@db_app.command("current")
def db_current() -> None:
    """Print the applied revision and the newest one."""
    from onethread.db import migrate
    from onethread.db.database import Database

    async def run() -> str | None:
        db = Database(Settings().resolved_database_url)
        try:
            return await migrate.current_revision(db.engine)
        finally:
            await db.dispose()

    console.print(f"current: {asyncio.run(run())}  head: {migrate.head_revision()}")


@app.command()
def init(
    workspace: Annotated[str, typer.Option(help="Workspace name")],
    admin_email: Annotated[str, typer.Option(help="The first admin's email")],
    admin_password: Annotated[str, typer.Option(help="The first admin's password (8+ chars)")],
    admin_name: Annotated[str | None, typer.Option(help="The admin's display name")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Create the database if needed, a workspace and its admin; print an API token."""
    from onethread.bootstrap import create_workspace

    try:
        created = asyncio.run(
            create_workspace(
                Settings(),
                name=workspace,
                admin_email=admin_email,
                admin_password=admin_password,
                admin_name=admin_name,
            )
        )
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(created))
        return
    console.print(
        f"workspace [bold]{created['workspace_name']}[/bold] id={created['workspace_id']}"
    )
    console.print(f"admin {created['admin_email']} id={created['admin_id']}")
    console.print(f"API token (shown once): [bold]{created['token']}[/bold]")


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="queued, running, done or dead")] = None,
    kind: Annotated[str | None, typer.Option(help="e.g. delivery.send")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List jobs across workspaces, newest first."""
    from onethread.bootstrap import list_jobs

    rows = asyncio.run(list_jobs(Settings(), status=status, kind=kind, limit=limit))
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table("id", "workspace", "kind", "status", "attempts", "run at", "last error")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["workspace_id"]),
            row["kind"],
            row["status"],
            f"{row['attempts']}/{row['max_attempts']}",
            row["run_at"],
            (row["last_error"] or "")[:60],
        )
    console.print(table)


@jobs_app.command("retry")
def jobs_retry(job_ids: Annotated[list[int], typer.Argument(help="Ids of dead jobs")]) -> None:
    """Give dead jobs a fresh set of attempts."""
    from onethread.bootstrap import retry_jobs

    try:
        asyncio.run(retry_jobs(Settings(), job_ids))
    except Exception as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"queued again: {', '.join(map(str, job_ids))}")


@app.command()
def demo(
    host: HostOption = None,
    port: PortOption = None,
    seed_only: Annotated[
        bool, typer.Option("--seed-only", help="Seed, print, do not serve")
    ] = False,
) -> None:
    """Seed a realistic demo workspace on the embedded database and serve it."""
    from onethread.demo.seed import seed_demo

    _logging("WARNING")
    settings = Settings()
    from onethread.demo.playbook import billing_api_url

    billing_api = billing_api_url(settings, host, port)
    summary = asyncio.run(seed_demo(settings, billing_api=billing_api))
    url = f"http://{host or settings.host}:{port or settings.port}"
    console.print(
        f"[bold]onethread demo[/bold] — workspace '{summary.workspace_name}' "
        f"(id {summary.workspace_id}), {summary.conversations} conversations"
    )
    console.print(
        f"open {url}/api/v1/docs  ·  sign in as [bold]{summary.admin_email}[/bold] / "
        f"[bold]{summary.password}[/bold]"
    )
    console.print(f"API token: {summary.token}")
    if summary.webchat_inbox_id is not None:
        console.print(f"try the web chat: {url}/widget/preview/{summary.webchat_inbox_id}")
    console.print(f"the demo company's billing API: {billing_api}")
    if not seed_only:
        from onethread.demo.server import serve_demo

        serve_demo(settings, host, port)  # the app with the billing API mounted beside it


if __name__ == "__main__":
    app()
