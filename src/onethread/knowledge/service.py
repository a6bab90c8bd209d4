"""Reads of the knowledge base, each scoped to a workspace."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.db.access import get_in_workspace
from onethread.knowledge.models import Article, Chunk


async def access_article(session: AsyncSession, workspace_id: int, article_id: int) -> Article:
    return await get_in_workspace(session, Article, workspace_id, article_id, "article")


async def find_article(session: AsyncSession, workspace_id: int, source_key: str) -> Article | None:
    found: Article | None = await session.scalar(
        select(Article).where(
            Article.workspace_id == workspace_id, Article.source_key == source_key
        )
    )
    return found


def _like_pattern(text: str) -> str:
    """A case-insensitive substring pattern in which ``%`` and ``_`` are plain characters."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_articles(
    session: AsyncSession,
    workspace_id: int,
    *,
    language: str | None = None,
    q: str | None = None,
    limit: int = 50,
    after_id: int | None = None,
) -> list[Article]:
    """Articles by id; ``q`` is a case-insensitive substring of the title, body or key."""
    query = select(Article).where(Article.workspace_id == workspace_id)
    if language:
        query = query.where(Article.language == language)
    if q:
        pattern = _like_pattern(q)
        query = query.where(
            or_(
                Article.title.ilike(pattern, escape="\\"),
                Article.body.ilike(pattern, escape="\\"),
                Article.source_key.ilike(pattern, escape="\\"),
            )
        )
    if after_id is not None:
        query = query.where(Article.id > after_id)
    rows = await session.scalars(query.order_by(Article.id).limit(limit))
    return list(rows.all())


async def chunks_of(session: AsyncSession, article_id: int) -> list[Chunk]:
    rows = await session.scalars(
        select(Chunk).where(Chunk.article_id == article_id).order_by(Chunk.ordinal, Chunk.id)
    )
    return list(rows.all())


async def chunk_counts(session: AsyncSession, article_ids: Sequence[int]) -> dict[int, int]:
    if not article_ids:
        return {}
    rows = await session.execute(
        select(Chunk.article_id, func.count())
        .where(Chunk.article_id.in_(article_ids))
        .group_by(Chunk.article_id)
    )
    return dict(rows.all())


async def embedded_hashes(session: AsyncSession, article_id: int, encoder: str) -> set[str]:
    """Content hashes of the article's chunks that already have an ``encoder`` embedding."""
    rows = await session.scalars(
        select(Chunk.content_hash).where(
            Chunk.article_id == article_id,
            Chunk.encoder == encoder,
            Chunk.embedding.is_not(None),
        )
    )
    return set(rows.all())


@dataclass(frozen=True)
class KnowledgeRevision:
    """A fingerprint of a workspace's articles that moves whenever any of them changes.

    Each change bumps an article's ``revision``, so with no article created or deleted
    the sum grows; a deletion lowers the count, and a creation (on SQLite possibly
    reusing a deleted id) moves the newest ``updated_at``. Cheap: one aggregate.
    """

    count: int
    max_id: int
    revision_sum: int
    last_updated: datetime | None


async def knowledge_revision(session: AsyncSession, workspace_id: int) -> KnowledgeRevision:
    row = (
        await session.execute(
            select(
                func.count(Article.id),
                func.coalesce(func.max(Article.id), 0),
                func.coalesce(func.sum(Article.revision), 0),
                func.max(Article.updated_at),
            ).where(Article.workspace_id == workspace_id)
        )
    ).one()
    return KnowledgeRevision(int(row[0]), int(row[1]), int(row[2]), row[3])


async def article_revisions(session: AsyncSession, workspace_id: int) -> dict[int, int]:
    """Every article's id and revision: what an index compares to find what changed."""
    rows = await session.execute(
        select(Article.id, Article.revision).where(Article.workspace_id == workspace_id)
    )
    return dict(rows.all())


@dataclass(frozen=True)
class IndexRow:
    """A chunk with what an index (or a re-embedding) needs of its article."""

    chunk_id: int
    article_id: int
    title: str
    source_key: str
    language: str
    ordinal: int
    heading: str
    text: str
    content_hash: str
    embedding: bytes | None
    encoder: str | None


async def chunks_for_index(
    session: AsyncSession, workspace_id: int, article_ids: Iterable[int]
) -> list[IndexRow]:
    """The given articles' chunks, in one query, in article and reading order."""
    ids = list(article_ids)
    if not ids:
        return []
    rows = await session.execute(
        select(
            Chunk.id,
            Chunk.article_id,
            Article.title,
            Article.source_key,
            Chunk.language,
            Chunk.ordinal,
            Chunk.heading,
            Chunk.text,
            Chunk.content_hash,
            Chunk.embedding,
            Chunk.encoder,
        )
        .join(Article, Article.id == Chunk.article_id)
        .where(Chunk.workspace_id == workspace_id, Chunk.article_id.in_(ids))
        .order_by(Chunk.article_id, Chunk.ordinal)
    )
    return [IndexRow(*row) for row in rows]


async def all_article_ids(session: AsyncSession, workspace_id: int) -> list[int]:
    rows = await session.scalars(
        select(Article.id).where(Article.workspace_id == workspace_id).order_by(Article.id)
    )
    return list(rows.all())
