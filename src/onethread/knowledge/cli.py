"""`onethread kb ingest|export|reindex`: the knowledge base from the command line."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from onethread.settings import Settings

if TYPE_CHECKING:
    from onethread.assistant.knowledge.ingest import IngestResult

kb_app = typer.Typer(help="The knowledge base the assistant answers from.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)

WorkspaceOption = Annotated[
    int | None, typer.Option("--workspace", help="Workspace id (default: the only one).")
]


async def _ingest(
    settings: Settings,
    paths: list[Path],
    workspace_id: int | None,
    language: str | None,
    start: Callable[[int], None],
    advance: Callable[[IngestResult], None],
) -> tuple[int, list[IngestResult]]:
    from onethread.assistant.encoder import default_encoder
    from onethread.assistant.knowledge.ingest import IngestResult, ingest_articles, prepare_article
    from onethread.bootstrap import open_database, pick_workspace
    from onethread.errors import DomainError
    from onethread.knowledge.files import MAX_FILE_BYTES, iter_source_files
    from onethread.knowledge.readers import read_document

    sources = list(iter_source_files(paths))
    encoder = await asyncio.to_thread(default_encoder)
    db = await open_database(settings)
    results: list[IngestResult] = []
    try:
        async with db.read_session() as session:
            workspace = await pick_workspace(session, workspace_id)
        start(len(sources))
        for source in sources:
            try:
                if source.path.stat().st_size > MAX_FILE_BYTES:
                    raise ValueError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
                data = await asyncio.to_thread(source.path.read_bytes)
                document = await asyncio.to_thread(read_document, data, source.path.name)
                content = prepare_article(document, source.source_key, language=language)
                [(result, _)] = await ingest_articles(db, workspace.id, [content], encoder=encoder)
            except (DomainError, OSError, ValueError) as error:
                reason = error.message if isinstance(error, DomainError) else str(error)
                result = IngestResult(source.source_key, "failed", reason=reason)
            results.append(result)
            advance(result)
    finally:
        await db.dispose()
    return workspace.id, results


@kb_app.command("ingest")
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Markdown, HTML, text or PDF files, or folders of them")
    ],
    workspace: WorkspaceOption = None,
    language: Annotated[
        str | None,
        typer.Option(help="Language of files that declare none (default: detected)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON")] = False,
) -> None:
    """Add or update one article per file; a file ingested again updates its article.

    A folder is read recursively and each article's source key is its path inside the
    folder; a file named directly is keyed by its name. Exits 1 if any file failed.
    """
    progress = Progress(
        TextColumn("[bold]ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
    )
    task = progress.add_task("", total=None)

    def start(total: int) -> None:
        progress.update(task, total=total)

    def advance(result: IngestResult) -> None:
        progress.update(task, advance=1, description=result.source_key)

    try:
        with progress:
            workspace_id, results = asyncio.run(
                _ingest(Settings(), paths, workspace, language, start, advance)
            )
    except ValueError as error:
        err_console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    counts: Counter[str] = Counter(result.status for result in results)
    failed = [result for result in results if result.status == "failed"]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "workspace_id": workspace_id,
                    **{s: counts[s] for s in ("created", "updated", "unchanged", "failed")},
                    "failures": [{"source_key": f.source_key, "reason": f.reason} for f in failed],
                }
            )
        )
    else:
        _print_summary(workspace_id, counts, failed)
    if failed:
        raise typer.Exit(1)


def _print_summary(workspace_id: int, counts: Counter[str], failed: list[IngestResult]) -> None:
    console.print(
        f"workspace {workspace_id}: [green]{counts['created']} created[/green], "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged, "
        f"[red]{counts['failed']} failed[/red]"
    )
    if failed:
        table = Table("file", "reason")
        for result in failed:
            table.add_row(result.source_key, result.reason or "")
        console.print(table)


async def _export(settings: Settings, workspace_id: int | None, out: Any) -> tuple[int, int]:
    from onethread.bootstrap import open_database, pick_workspace
    from onethread.knowledge import service
    from onethread.knowledge.documents import chunk_key

    db = await open_database(settings, upgrade=False)
    articles = chunks = 0
    try:
        async with db.read_session() as session:
            workspace = await pick_workspace(session, workspace_id)
            after: int | None = None
            while page := await service.list_articles(
                session, workspace.id, limit=200, after_id=after
            ):
                for article in page:
                    articles += 1
                    out.write(json.dumps(_article_line(article), ensure_ascii=False) + "\n")
                    for chunk in await service.chunks_of(session, article.id):
                        chunks += 1
                        line = {
                            "type": "chunk",
                            "id": chunk.id,
                            "key": chunk_key(article.source_key, chunk.ordinal),
                            "article_id": article.id,
                            "source_key": article.source_key,
                            "ordinal": chunk.ordinal,
                            "language": chunk.language,
                            "heading": chunk.heading,
                            "text": chunk.text,
                            "content_hash": chunk.content_hash,
                            "encoder": chunk.encoder if chunk.embedding is not None else None,
                        }
                        out.write(json.dumps(line, ensure_ascii=False) + "\n")
                after = page[-1].id
    finally:
        await db.dispose()
    return articles, chunks


def _article_line(article: Any) -> dict[str, Any]:
    return {
        "type": "article",
        "id": article.id,
        "source_key": article.source_key,
        "title": article.title,
        "language": article.language,
        "format": article.format,
        "content_hash": article.content_hash,
        "revision": article.revision,
        "updated_at": article.updated_at.isoformat(),
        "body": article.body,
    }


@kb_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="Where to write the JSON lines ('-': stdout)")],
    workspace: WorkspaceOption = None,
) -> None:
    """Write the articles and their chunks as JSON lines.

    Each article line (``"type": "article"``) is followed by its chunks (``"type":
    "chunk"``), each with its database ``id`` and its ``key``, ``<source_key>#<ordinal>``:
    the chunk ids that ``onethread eval kb`` accepts in ``answer_ids``.
    """
    try:
        if str(file) == "-":
            articles, chunks = asyncio.run(
                _export(Settings(), workspace, typer.get_text_stream("stdout"))
            )
        else:
            with file.open("w", encoding="utf-8") as out:
                articles, chunks = asyncio.run(_export(Settings(), workspace, out))
    except ValueError as error:
        err_console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    err_console.print(f"exported {articles} articles and {chunks} chunks")


@kb_app.command("reindex")
def reindex(
    workspace: WorkspaceOption = None,
    only_missing: Annotated[
        bool, typer.Option(help="Only chunks without an embedding from the current encoder.")
    ] = False,
) -> None:
    """Embed the chunks again with the current encoder (after changing the encoder)."""
    from onethread.assistant.encoder import default_encoder
    from onethread.assistant.knowledge.ingest import ReindexSummary, reindex_workspace
    from onethread.bootstrap import open_database, pick_workspace

    async def run() -> ReindexSummary:
        db = await open_database(Settings())
        try:
            async with db.read_session() as session:
                chosen = await pick_workspace(session, workspace)
            return await reindex_workspace(
                db, chosen.id, default_encoder(), only_missing=only_missing
            )
        finally:
            await db.dispose()

    try:
        summary = asyncio.run(run())
    except ValueError as error:
        err_console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    console.print(
        f"{summary.chunks_embedded} chunks of {summary.articles} articles embedded "
        f"with {summary.encoder}"
    )
