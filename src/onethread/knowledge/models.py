from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, IdMixin, TimestampMixin, WorkspaceScoped
from onethread.db.types import UTCDateTime, utcnow


class ArticleFormat(StrEnum):
    MARKDOWN = "markdown"
    HTML = "html"
    TEXT = "text"
    PDF = "pdf"


class Article(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """One document of the knowledge base, in one language.

    ``source_key`` names where it came from (a file path relative to the ingest root, or
    a key chosen by an API client), unique per workspace, so ingesting the same source
    again updates the article in place. ``body`` is the text as read (Markdown for
    Markdown, the extracted text for HTML and PDF). ``updated_at`` moves on every change,
    re-embedding included, and ``revision`` counts the changes: the assistant's index
    compares them to know what to reload (``service.knowledge_revision``).
    """

    __tablename__ = "knowledge_articles"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source_key"),
        Index("ix_knowledge_articles_workspace_id_language", "workspace_id", "language"),
    )

    title: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(2))
    source_key: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Chunk(IdMixin, WorkspaceScoped, Base):
    """A passage of an article: the text under one heading path, bounded in length.

    ``content_hash`` covers everything that is embedded (the article's title, the heading
    path and the text), so a chunk whose hash is unchanged keeps its embedding. The
    embedding is stored as opaque bytes with the name of the encoder that made it; the
    domain never reads them (the assistant does: ``assistant/knowledge``).
    """

    __tablename__ = "knowledge_chunks"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(2))
    ordinal: Mapped[int] = mapped_column(Integer)
    heading: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    encoder: Mapped[str | None] = mapped_column(String(100), default=None)
