"""The demo's knowledge base: the Markdown articles shipped in ``demo/knowledge/``."""

from __future__ import annotations

from importlib import resources

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.assistant.encoder import TextEncoder, default_encoder
from onethread.assistant.knowledge.ingest import IngestResult, ingest_in_session, prepare_article
from onethread.knowledge import service
from onethread.knowledge.actions import ArticleContent
from onethread.knowledge.readers import read_document


def demo_articles() -> list[ArticleContent]:
    """Every shipped article, keyed by its file name (as ``onethread kb ingest`` of the
    folder would key it), in file name order."""
    folder = resources.files("onethread.demo").joinpath("knowledge")
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".md")), key=lambda e: e.name
    )
    return [
        prepare_article(read_document(entry.read_bytes(), entry.name), entry.name)
        for entry in files
    ]


async def install_demo_articles(
    session: AsyncSession, workspace_id: int, encoder: TextEncoder | None = None
) -> list[IngestResult]:
    """Add the shipped articles the workspace does not have yet; an article already there,
    edited since or not, is left as it is."""
    missing = [
        article
        for article in demo_articles()
        if await service.find_article(session, workspace_id, article.source_key) is None
    ]
    if not missing:
        return []
    return await ingest_in_session(
        session, workspace_id, missing, encoder=encoder or default_encoder()
    )
