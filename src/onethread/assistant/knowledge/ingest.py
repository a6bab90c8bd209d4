"""Ingestion: a parsed document → its language, chunks and embeddings → the domain's actions.

In three steps, so that the slow one holds no database lock: read (which chunks of the
article already have an embedding from this encoder), encode the others (in a worker
thread), then write (``do_upsert_article``, which re-checks against the rows it finds).
An article whose content and embeddings are already current is not written at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.assistant.encoder import TextEncoder
from onethread.assistant.knowledge.embedding import embed_passages
from onethread.assistant.language import SUPPORTED_LANGUAGES, detect_language
from onethread.db.database import Database
from onethread.knowledge import actions, service
from onethread.knowledge.actions import ArticleContent, ChunkVector, Outcome
from onethread.knowledge.chunking import ChunkDraft, chunk_document
from onethread.knowledge.documents import Document, normalize_language
from onethread.knowledge.models import Article

DEFAULT_LANGUAGE = "en"
DETECTION_SAMPLE_CHARS = 5000

Status = Literal["created", "updated", "unchanged", "failed"]


@dataclass(frozen=True)
class IngestResult:
    source_key: str
    status: Status
    article_id: int | None = None
    reason: str | None = None


def resolve_language(document: Document, requested: str | None) -> str:
    """The file's own declaration, else the one asked for, else detected from the text."""
    if document.language:
        return document.language
    if requested:
        return normalize_language(requested)
    sample = f"{document.title}\n{document.body[:DETECTION_SAMPLE_CHARS]}"
    code, confidence = detect_language(sample, SUPPORTED_LANGUAGES)
    return code if confidence > 0 else DEFAULT_LANGUAGE


def prepare_article(
    document: Document, source_key: str, *, language: str | None = None
) -> ArticleContent:
    return ArticleContent(
        source_key=source_key,
        title=document.title[:300],
        language=resolve_language(document, language),
        format=document.format,
        body=document.body,
        chunks=chunk_document(document),
    )


async def chunks_to_embed(
    session: AsyncSession, workspace_id: int, content: ArticleContent, encoder: str | None
) -> list[ChunkDraft] | None:
    """The drafts needing an embedding; None when the stored article is already current."""
    existing = await service.find_article(session, workspace_id, content.source_key)
    embedded = (
        await service.embedded_hashes(session, existing.id, encoder)
        if existing is not None and encoder is not None
        else set()
    )
    needed = (
        {d.content_hash: d for d in content.chunks if d.content_hash not in embedded}
        if encoder is not None
        else {}
    )
    if existing is not None and existing.content_hash == content.content_hash and not needed:
        return None
    return list(needed.values())


def embed_drafts(
    encoder: TextEncoder | None, title: str, drafts: Sequence[ChunkDraft]
) -> dict[str, bytes]:
    if encoder is None or not drafts:
        return {}
    vectors = embed_passages(encoder, [(title, d.heading, d.text) for d in drafts])
    return {d.content_hash: v for d, v in zip(drafts, vectors, strict=True)}


async def ingest_articles(
    db: Database,
    workspace_id: int,
    contents: Sequence[ArticleContent],
    *,
    encoder: TextEncoder | None,
    by_agent_id: int | None = None,
) -> list[tuple[IngestResult, Article | None]]:
    """Ingest all of ``contents`` in one transaction: all of them are stored, or none."""
    name = encoder.name if encoder is not None else None
    async with db.read_session() as session:
        plans = [await chunks_to_embed(session, workspace_id, c, name) for c in contents]
    vectors = await asyncio.to_thread(
        lambda: [
            embed_drafts(encoder, c.title, plan or [])
            for c, plan in zip(contents, plans, strict=True)
        ]
    )
    results: list[tuple[IngestResult, Article | None]] = []
    async with db.session() as session:
        for content, plan, embeddings in zip(contents, plans, vectors, strict=True):
            if plan is None:
                results.append((IngestResult(content.source_key, "unchanged"), None))
                continue
            article, outcome = await actions.do_upsert_article(
                session,
                workspace_id,
                content,
                embeddings=embeddings,
                encoder=name,
                by_agent_id=by_agent_id,
            )
            results.append((IngestResult(content.source_key, outcome.value, article.id), article))
    return results


async def ingest_in_session(
    session: AsyncSession,
    workspace_id: int,
    contents: Sequence[ArticleContent],
    *,
    encoder: TextEncoder | None,
    by_agent_id: int | None = None,
) -> list[IngestResult]:
    """``ingest_articles`` inside a caller's unit of work (the demo seed): encodes inline."""
    name = encoder.name if encoder is not None else None
    results = []
    for content in contents:
        plan = await chunks_to_embed(session, workspace_id, content, name)
        if plan is None:
            results.append(IngestResult(content.source_key, "unchanged"))
            continue
        article, outcome = await actions.do_upsert_article(
            session,
            workspace_id,
            content,
            embeddings=embed_drafts(encoder, content.title, plan),
            encoder=name,
            by_agent_id=by_agent_id,
        )
        results.append(IngestResult(content.source_key, outcome.value, article.id))
    return results


@dataclass(frozen=True)
class ReindexSummary:
    encoder: str
    articles: int
    chunks_embedded: int


async def reindex_workspace(
    db: Database,
    workspace_id: int,
    encoder: TextEncoder,
    *,
    only_missing: bool = False,
    by_agent_id: int | None = None,
    batch: int = 256,
) -> ReindexSummary:
    """Embed every chunk again with ``encoder`` (or only those without its embedding)."""
    async with db.read_session() as session:
        ids = await service.all_article_ids(session, workspace_id)
        rows = await service.chunks_for_index(session, workspace_id, ids)
    targets = [
        row
        for row in rows
        if not (only_missing and row.encoder == encoder.name and row.embedding is not None)
    ]
    articles: set[int] = set()
    stored = 0
    for start in range(0, len(targets), batch):
        part = targets[start : start + batch]
        passages = [(row.title, row.heading, row.text) for row in part]
        vectors = await asyncio.to_thread(embed_passages, encoder, passages)
        async with db.session() as session:
            stored += await actions.do_store_embeddings(
                session,
                workspace_id,
                [
                    ChunkVector(row.chunk_id, row.content_hash, vector)
                    for row, vector in zip(part, vectors, strict=True)
                ],
                encoder=encoder.name,
                by_agent_id=by_agent_id,
            )
        articles.update(row.article_id for row in part)
    return ReindexSummary(encoder.name, len(articles), stored)


__all__ = [
    "IngestResult",
    "Outcome",
    "ReindexSummary",
    "chunks_to_embed",
    "embed_drafts",
    "ingest_articles",
    "ingest_in_session",
    "prepare_article",
    "reindex_workspace",
    "resolve_language",
]
