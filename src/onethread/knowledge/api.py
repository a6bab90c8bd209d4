"""The knowledge base over HTTP: articles (JSON), file uploads, and re-embedding.

Writes embed the new or changed chunks with the process's encoder before they open
their unit of work (the encoder runs in a worker thread), so a slow encoding never holds
the database's write lock. This router is an edge: it may use the assistant.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.api.deps import AdminCaller, Context, CurrentCaller, ReadSession, WriteSession
from onethread.assistant.encoder import TextEncoder, default_encoder
from onethread.assistant.knowledge.ingest import (
    chunks_to_embed,
    embed_drafts,
    ingest_articles,
    prepare_article,
    reindex_workspace,
)
from onethread.db.types import Id
from onethread.errors import Conflict, InvalidInput, PayloadTooLarge
from onethread.knowledge import actions, service
from onethread.knowledge.actions import ArticleContent
from onethread.knowledge.documents import (
    HEADING_SEPARATOR,
    Document,
    Section,
    chunk_key,
    normalize_language,
)
from onethread.knowledge.models import Article, ArticleFormat
from onethread.knowledge.readers import format_of, read_document, read_text_as
from onethread.knowledge.schemas import (
    ArticleCreate,
    ArticleDetail,
    ArticleOut,
    ArticlePage,
    ArticleUpdate,
    ChunkOut,
    ReindexResult,
    UploadedArticle,
    UploadResult,
)

router = APIRouter(tags=["knowledge"])

MAX_UPLOAD_FILE_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_FILES = 50


async def _encoder() -> TextEncoder:
    return await asyncio.to_thread(default_encoder)  # loads the model on first use


def _out(article: Article, chunk_count: int) -> ArticleOut:
    return ArticleOut.model_validate(_fields(article, chunk_count))


def _fields(article: Article, chunk_count: int) -> dict[str, object]:
    return {
        "id": article.id,
        "source_key": article.source_key,
        "title": article.title,
        "language": article.language,
        "format": article.format,
        "content_hash": article.content_hash,
        "revision": article.revision,
        "chunk_count": chunk_count,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
    }


async def _detail(session: AsyncSession, article: Article) -> ArticleDetail:
    chunks = await service.chunks_of(session, article.id)
    return ArticleDetail.model_validate(
        {
            **_fields(article, len(chunks)),
            "body": article.body,
            "chunks": [
                ChunkOut(
                    id=c.id,
                    key=chunk_key(article.source_key, c.ordinal),
                    ordinal=c.ordinal,
                    heading=c.heading,
                    text=c.text,
                    encoder=c.encoder if c.embedding is not None else None,
                )
                for c in chunks
            ],
        }
    )


async def _embeddings(
    session: AsyncSession, workspace_id: int, content: ArticleContent
) -> tuple[dict[str, bytes], str]:
    encoder = await _encoder()
    needed = await chunks_to_embed(session, workspace_id, content, encoder.name) or []
    vectors = await asyncio.to_thread(embed_drafts, encoder, content.title, needed)
    return vectors, encoder.name


@router.get("/knowledge/articles", response_model=ArticlePage)
async def list_articles(
    caller: CurrentCaller,
    session: ReadSession,
    language: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 639-1 code")
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="In the title or body")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[Id | None, Query(description="next_cursor of the previous page")] = None,
) -> ArticlePage:
    articles = await service.list_articles(
        session,
        caller.workspace_id,
        language=language.lower() if language else None,
        q=q,
        limit=limit + 1,
        after_id=cursor,
    )
    page = articles[:limit]
    counts = await service.chunk_counts(session, [a.id for a in page])
    return ArticlePage(
        items=[_out(a, counts.get(a.id, 0)) for a in page],
        next_cursor=str(page[-1].id) if len(articles) > limit else None,
    )


@router.post("/knowledge/articles", response_model=ArticleDetail, status_code=201)
async def create_article(
    body: ArticleCreate,
    caller: AdminCaller,
    reads: ReadSession,
    session: WriteSession,
) -> ArticleDetail:
    document = read_text_as(body.body, ArticleFormat(body.format), body.title or "Untitled")
    if body.title:
        document = replace(document, title=body.title)
    if body.language:
        document = replace(document, language=normalize_language(body.language))
    source_key = body.source_key or f"api/{secrets.token_hex(8)}"
    content = prepare_article(document, source_key)
    if await service.find_article(reads, caller.workspace_id, source_key) is not None:
        raise Conflict(f"an article with source_key {source_key!r} already exists")
    vectors, encoder = await _embeddings(reads, caller.workspace_id, content)
    article = await actions.do_create_article(
        session,
        caller.workspace_id,
        content,
        embeddings=vectors,
        encoder=encoder,
        by_agent_id=caller.agent.id,
    )
    detail = await _detail(session, article)
    await session.commit()
    return detail


@router.get("/knowledge/articles/{article_id}", response_model=ArticleDetail)
async def get_article(article_id: Id, caller: CurrentCaller, session: ReadSession) -> ArticleDetail:
    return await _detail(
        session, await service.access_article(session, caller.workspace_id, article_id)
    )


def _stored_document(article: Article, chunks: list[tuple[str, str]]) -> Document:
    """The article as its stored chunks hold it, for a change that leaves the body alone."""
    return Document(
        title=article.title,
        format=ArticleFormat(article.format),
        body=article.body,
        sections=[
            Section(tuple(heading.split(HEADING_SEPARATOR)) if heading else (), text)
            for heading, text in chunks
        ],
    )


@router.patch("/knowledge/articles/{article_id}", response_model=ArticleDetail)
async def update_article(
    article_id: Id,
    body: ArticleUpdate,
    caller: AdminCaller,
    reads: ReadSession,
    session: WriteSession,
) -> ArticleDetail:
    current = await service.access_article(reads, caller.workspace_id, article_id)
    if body.body is not None:
        kind = body.format or (current.format if current.format != "pdf" else "text")
        document = read_text_as(body.body, ArticleFormat(kind), current.title)
        language = body.language or document.language or current.language
    else:
        stored = [(c.heading, c.text) for c in await service.chunks_of(reads, current.id)]
        document = _stored_document(current, stored)
        language = body.language or current.language
    document = replace(
        document, title=body.title or document.title, language=normalize_language(language)
    )
    content = prepare_article(document, body.source_key or current.source_key)
    vectors, encoder = await _embeddings(
        reads, caller.workspace_id, replace(content, source_key=current.source_key)
    )
    article = await service.access_article(session, caller.workspace_id, article_id)
    await actions.do_update_article(
        session, article, content, embeddings=vectors, encoder=encoder, by_agent_id=caller.agent.id
    )
    detail = await _detail(session, article)
    await session.commit()
    return detail


@router.delete("/knowledge/articles/{article_id}", status_code=204)
async def delete_article(article_id: Id, caller: AdminCaller, session: WriteSession) -> Response:
    article = await service.access_article(session, caller.workspace_id, article_id)
    await actions.do_delete_article(session, article, by_agent_id=caller.agent.id)
    await session.commit()
    return Response(status_code=204)


def _upload_key(filename: str) -> str:
    """The client's file name as the source key, without leading slashes or ``..``."""
    parts = [
        p for p in PurePosixPath(filename.replace("\\", "/")).parts if p not in {"/", "..", "."}
    ]
    return "/".join(parts)


async def _read_upload(upload: UploadFile) -> tuple[str, bytes]:
    name = _upload_key(upload.filename or "")
    if not name:
        raise InvalidInput("every uploaded file needs a file name", details=[{"field": "files"}])
    format_of(name)  # an unknown format is refused before anything is read
    data = await upload.read(MAX_UPLOAD_FILE_BYTES + 1)
    if len(data) > MAX_UPLOAD_FILE_BYTES:
        raise PayloadTooLarge(
            f"{name!r} is larger than {MAX_UPLOAD_FILE_BYTES // (1024 * 1024)} MiB",
            details={"file": name, "limit_bytes": MAX_UPLOAD_FILE_BYTES},
        )
    return name, data


@router.post("/knowledge/upload", response_model=UploadResult)
async def upload_files(
    request: Request,
    caller: AdminCaller,
    context: Context,
    files: Annotated[list[UploadFile], File(description="Markdown, HTML, text or PDF files")],
    language: Annotated[
        str | None,
        Form(
            pattern=r"^[A-Za-z]{2}([-_][A-Za-z0-9]+)*$",
            description="For files that declare none; default: detected.",
        ),
    ] = None,
) -> UploadResult:
    """Add or update one article per file, all or none. The file name is the source key:
    uploading a file of the same name again updates its article in place."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > MAX_UPLOAD_FILES * MAX_UPLOAD_FILE_BYTES:
        raise PayloadTooLarge("the upload is too large")
    if len(files) > MAX_UPLOAD_FILES:
        raise InvalidInput(f"at most {MAX_UPLOAD_FILES} files per upload")
    contents: list[ArticleContent] = []
    for upload in files:
        name, data = await _read_upload(upload)
        try:
            document = await asyncio.to_thread(read_document, data, name)
        except InvalidInput as error:
            raise InvalidInput(f"{name}: {error.message}", details={"file": name}) from error
        contents.append(prepare_article(document, name, language=language))
    results = await ingest_articles(
        context.db,
        caller.workspace_id,
        contents,
        encoder=await _encoder(),
        by_agent_id=caller.agent.id,
    )
    async with context.db.read_session() as session:
        stored = []
        for result, _ in results:
            article = await service.find_article(session, caller.workspace_id, result.source_key)
            assert article is not None
            stored.append((result.status, article))
        counts = await service.chunk_counts(session, [article.id for _, article in stored])
        uploaded = [
            UploadedArticle(status=status, article=_out(article, counts.get(article.id, 0)))
            for status, article in stored
        ]
    return UploadResult(
        created=sum(u.status == "created" for u in uploaded),
        updated=sum(u.status == "updated" for u in uploaded),
        unchanged=sum(u.status == "unchanged" for u in uploaded),
        articles=uploaded,
    )


@router.post("/knowledge/reindex", response_model=ReindexResult)
async def reindex(
    caller: AdminCaller,
    context: Context,
    only_missing: Annotated[
        bool, Query(description="Only chunks without an embedding from the current encoder")
    ] = False,
) -> ReindexResult:
    """Embed the workspace's chunks again with the current encoder (after changing it)."""
    summary = await reindex_workspace(
        context.db,
        caller.workspace_id,
        await _encoder(),
        only_missing=only_missing,
        by_agent_id=caller.agent.id,
    )
    return ReindexResult(
        encoder=summary.encoder, articles=summary.articles, chunks_embedded=summary.chunks_embedded
    )
