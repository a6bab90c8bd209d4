from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from onethread.knowledge.models import ArticleFormat

MAX_BODY_CHARS = 1_000_000
TextFormat = Literal["markdown", "html", "text"]


class ArticleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(
        default=None,
        max_length=300,
        description="Default: the document's first heading (front matter title for Markdown).",
    )
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)
    format: TextFormat = "markdown"
    language: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{2}([-_][A-Za-z0-9]+)*$",
        max_length=16,
        description="ISO 639-1; default: the front matter's, else detected from the text.",
    )
    source_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Your key for this article, unique in the workspace; default: generated.",
    )


class ArticleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY_CHARS)
    format: TextFormat | None = None
    language: str | None = Field(
        default=None, pattern=r"^[A-Za-z]{2}([-_][A-Za-z0-9]+)*$", max_length=16
    )
    source_key: str | None = Field(default=None, min_length=1, max_length=500)


class ArticleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source_key: str
    title: str
    language: str
    format: ArticleFormat
    content_hash: str
    revision: int
    chunk_count: int
    created_at: datetime
    updated_at: datetime


class ChunkOut(BaseModel):
    id: int
    key: str = Field(description="'<source_key>#<ordinal>': the id `onethread eval kb` uses.")
    ordinal: int
    heading: str
    text: str
    encoder: str | None = Field(description="The encoder of its embedding; null: none yet.")


class ArticleDetail(ArticleOut):
    body: str
    chunks: list[ChunkOut]


class ArticlePage(BaseModel):
    items: list[ArticleOut]
    next_cursor: str | None


class UploadedArticle(BaseModel):
    status: Literal["created", "updated", "unchanged"]
    article: ArticleOut


class UploadResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    articles: list[UploadedArticle]


class ReindexResult(BaseModel):
    encoder: str
    articles: int
    chunks_embedded: int
