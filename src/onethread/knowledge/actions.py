"""Writes to the knowledge base; each appends its event in the caller's unit of work.

Embeddings arrive ready-made, keyed by chunk content hash, with the name of the encoder
that computed them: the domain stores them and never computes or reads them. A chunk
whose content hash is unchanged by an update keeps its row, its id and its embedding;
only new or changed chunks take one from ``embeddings``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.db.types import utcnow
from onethread.errors import Conflict
from onethread.events.log import append_event
from onethread.events.types import EventType
from onethread.knowledge import service
from onethread.knowledge.chunking import ChunkDraft
from onethread.knowledge.documents import article_hash
from onethread.knowledge.models import Article, ArticleFormat, Chunk


@dataclass(frozen=True)
class ArticleContent:
    """An article as a reader and the chunker made it, with its resolved language."""

    source_key: str
    title: str
    language: str
    format: ArticleFormat
    body: str
    chunks: Sequence[ChunkDraft]

    @property
    def content_hash(self) -> str:
        return article_hash(self.title, self.language, self.format, self.body)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ChunkChanges:
    kept: int = 0
    added: int = 0
    removed: int = 0
    embedded: int = 0  # chunks that received an embedding in this write

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.embedded)


async def do_upsert_article(
    session: AsyncSession,
    workspace_id: int,
    content: ArticleContent,
    *,
    embeddings: Mapping[str, bytes],
    encoder: str | None,
    by_agent_id: int | None = None,
) -> tuple[Article, Outcome]:
    """Create the article of ``content.source_key``, or update it in place."""
    existing = await service.find_article(session, workspace_id, content.source_key)
    if existing is None:
        article = await _insert_article(
            session,
            workspace_id,
            content,
            embeddings=embeddings,
            encoder=encoder,
            by_agent_id=by_agent_id,
        )
        return article, Outcome.CREATED
    outcome = await do_update_article(
        session, existing, content, embeddings=embeddings, encoder=encoder, by_agent_id=by_agent_id
    )
    return existing, outcome


async def do_create_article(
    session: AsyncSession,
    workspace_id: int,
    content: ArticleContent,
    *,
    embeddings: Mapping[str, bytes],
    encoder: str | None,
    by_agent_id: int | None = None,
) -> Article:
    await _ensure_source_key_free(session, workspace_id, content.source_key)
    return await _insert_article(
        session,
        workspace_id,
        content,
        embeddings=embeddings,
        encoder=encoder,
        by_agent_id=by_agent_id,
    )


async def _insert_article(
    session: AsyncSession,
    workspace_id: int,
    content: ArticleContent,
    *,
    embeddings: Mapping[str, bytes],
    encoder: str | None,
    by_agent_id: int | None,
) -> Article:
    """Create the article; the caller has checked that its ``source_key`` is free."""
    now = utcnow()
    article = Article(workspace_id=workspace_id, revision=1, created_at=now, updated_at=now)
    _write_content(article, content)
    session.add(article)
    await session.flush()
    changes = await _apply_chunks(session, article, content.chunks, embeddings, encoder)
    append_event(
        session,
        workspace_id,
        EventType.KNOWLEDGE_ARTICLE_CREATED,
        agent_id=by_agent_id,
        data={
            "id": article.id,
            "source_key": article.source_key,
            "title": article.title,
            "language": article.language,
            "chunks": changes.added,
            "embedded": changes.embedded,
        },
    )
    return article


async def do_update_article(
    session: AsyncSession,
    article: Article,
    content: ArticleContent,
    *,
    embeddings: Mapping[str, bytes],
    encoder: str | None,
    by_agent_id: int | None = None,
) -> Outcome:
    """Bring ``article`` to ``content``: unchanged chunks keep their rows and embeddings."""
    changed = [
        name
        for name, before, after in (
            ("source_key", article.source_key, content.source_key),
            ("title", article.title, content.title),
            ("language", article.language, content.language),
            ("format", article.format, content.format.value),
            ("body", article.body, content.body),
        )
        if before != after
    ]
    if "source_key" in changed:
        await _ensure_source_key_free(session, article.workspace_id, content.source_key)
    _write_content(article, content)
    chunks = await _apply_chunks(session, article, content.chunks, embeddings, encoder)
    if not changed and not chunks.any:
        return Outcome.UNCHANGED
    if chunks.embedded and not changed:
        changed = ["embeddings"]
    _touch(article)
    append_event(
        session,
        article.workspace_id,
        EventType.KNOWLEDGE_ARTICLE_UPDATED,
        agent_id=by_agent_id,
        data={
            "id": article.id,
            "source_key": article.source_key,
            "changed": changed,
            "chunks_kept": chunks.kept,
            "chunks_added": chunks.added,
            "chunks_removed": chunks.removed,
            "embedded": chunks.embedded,
        },
    )
    return Outcome.UPDATED


async def do_delete_article(
    session: AsyncSession, article: Article, *, by_agent_id: int | None = None
) -> None:
    append_event(
        session,
        article.workspace_id,
        EventType.KNOWLEDGE_ARTICLE_DELETED,
        agent_id=by_agent_id,
        data={"id": article.id, "source_key": article.source_key, "title": article.title},
    )
    await session.execute(delete(Chunk).where(Chunk.article_id == article.id))
    await session.delete(article)


@dataclass(frozen=True)
class ChunkVector:
    chunk_id: int
    content_hash: str  # the content the vector was computed from
    embedding: bytes


async def do_store_embeddings(
    session: AsyncSession,
    workspace_id: int,
    vectors: Sequence[ChunkVector],
    *,
    encoder: str,
    by_agent_id: int | None = None,
) -> int:
    """Store re-computed embeddings; a chunk changed meanwhile (other hash) is skipped.

    Each article touched gets a new revision and one ``knowledge.article_updated``.
    """
    by_id = {vector.chunk_id: vector for vector in vectors}
    if not by_id:
        return 0
    rows = await session.scalars(
        select(Chunk).where(Chunk.workspace_id == workspace_id, Chunk.id.in_(by_id))
    )
    per_article: dict[int, int] = {}
    for chunk in rows:
        vector = by_id[chunk.id]
        if chunk.content_hash != vector.content_hash:
            continue
        chunk.embedding, chunk.encoder = vector.embedding, encoder
        per_article[chunk.article_id] = per_article.get(chunk.article_id, 0) + 1
    for article_id, count in sorted(per_article.items()):
        article = await session.get(Article, article_id)
        assert article is not None
        _touch(article)
        append_event(
            session,
            workspace_id,
            EventType.KNOWLEDGE_ARTICLE_UPDATED,
            agent_id=by_agent_id,
            data={
                "id": article_id,
                "source_key": article.source_key,
                "changed": ["embeddings"],
                "embedded": count,
                "encoder": encoder,
            },
        )
    return sum(per_article.values())


async def _ensure_source_key_free(
    session: AsyncSession, workspace_id: int, source_key: str
) -> None:
    if await service.find_article(session, workspace_id, source_key) is not None:
        raise Conflict(f"an article with source_key {source_key!r} already exists")


def _write_content(article: Article, content: ArticleContent) -> None:
    article.source_key = content.source_key
    article.title = content.title
    article.language = content.language
    article.format = content.format.value
    article.body = content.body
    article.content_hash = content.content_hash


def _touch(article: Article) -> None:
    article.revision += 1
    article.updated_at = utcnow()


async def _apply_chunks(
    session: AsyncSession,
    article: Article,
    drafts: Sequence[ChunkDraft],
    embeddings: Mapping[str, bytes],
    encoder: str | None,
) -> ChunkChanges:
    """Match drafts to the article's chunks by content hash; add, renumber and remove."""
    old: dict[str, list[Chunk]] = {}
    for chunk in await service.chunks_of(session, article.id):
        old.setdefault(chunk.content_hash, []).append(chunk)
    kept = added = embedded = 0
    for draft in drafts:
        matches = old.get(draft.content_hash)
        vector = embeddings.get(draft.content_hash) if encoder else None
        if matches:
            chunk = matches.pop(0)
            kept += 1
            chunk.ordinal, chunk.language = draft.ordinal, article.language
            current = chunk.embedding is not None and chunk.encoder == encoder
            if vector is not None and not current:
                chunk.embedding, chunk.encoder = vector, encoder
                embedded += 1
            continue
        session.add(
            Chunk(
                workspace_id=article.workspace_id,
                article_id=article.id,
                language=article.language,
                ordinal=draft.ordinal,
                heading=draft.heading,
                text=draft.text,
                content_hash=draft.content_hash,
                embedding=vector,
                encoder=encoder if vector is not None else None,
            )
        )
        added += 1
        embedded += vector is not None
    leftovers = [chunk for chunks in old.values() for chunk in chunks]
    for chunk in leftovers:
        await session.delete(chunk)
    await session.flush()
    return ChunkChanges(kept=kept, added=added, removed=len(leftovers), embedded=embedded)
