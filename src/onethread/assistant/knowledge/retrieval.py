"""Retrieval over a workspace's knowledge, kept in memory and refreshed on change.

One ``KnowledgeRetriever`` per process holds an index per workspace. ``refresh`` costs
one aggregate query when nothing changed (``knowledge_revision``); otherwise it loads
the chunks of the articles whose revision moved (and drops deleted ones), then rebuilds
the arrays of the languages touched. ``search`` is synchronous and does no I/O: the
caller refreshes once per turn, encodes the query once, and may search many times.
Embeddings made by another encoder than ``encoder_name`` are ignored (those passages
score on words alone until ``POST /knowledge/reindex``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.assistant.knowledge.embedding import vector_from_bytes
from onethread.assistant.knowledge.index import (
    FloatArray,
    Fusion,
    IndexedChunk,
    KnowledgeIndex,
    Passage,
    SearchMode,
)
from onethread.knowledge import service
from onethread.knowledge.documents import chunk_key
from onethread.knowledge.service import KnowledgeRevision


@dataclass
class _Workspace:
    index: KnowledgeIndex
    revision: KnowledgeRevision | None = None
    article_revisions: dict[int, int] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class KnowledgeRetriever:
    def __init__(self, encoder_name: str | None, fusion: Fusion | None = None) -> None:
        self.encoder_name = encoder_name
        self.fusion = fusion or Fusion()
        self._workspaces: dict[int, _Workspace] = {}

    async def refresh(self, session: AsyncSession, workspace_id: int) -> int:
        """Bring the workspace's index up to date: the number of articles (re)loaded or
        dropped, 0 when it was current."""
        state = self._workspaces.setdefault(workspace_id, _Workspace(KnowledgeIndex(self.fusion)))
        async with state.lock:
            revision = await service.knowledge_revision(session, workspace_id)
            if revision == state.revision:
                return 0
            current = await service.article_revisions(session, workspace_id)
            changed = [
                article_id
                for article_id, number in current.items()
                if state.article_revisions.get(article_id) != number
            ]
            gone = state.article_revisions.keys() - current.keys()
            for article_id in gone:
                state.index.remove_article(article_id)
            loaded: dict[int, list[IndexedChunk]] = {article_id: [] for article_id in changed}
            for row in await service.chunks_for_index(session, workspace_id, changed):
                loaded[row.article_id].append(self._indexed(row))
            for article_id, chunks in loaded.items():
                state.index.set_article(article_id, chunks)
            state.index.build()
            state.revision, state.article_revisions = revision, current
            return len(changed) + len(gone)

    def search(
        self,
        workspace_id: int,
        query_text: str,
        query_vector: FloatArray | None,
        language: str | None = None,
        k: int = 5,
        *,
        mode: SearchMode = "hybrid",
    ) -> list[Passage]:
        """The best passages of the workspace as last refreshed (none if never refreshed)."""
        state = self._workspaces.get(workspace_id)
        if state is None:
            return []
        return state.index.search(query_text, query_vector, language=language, k=k, mode=mode)

    def forget(self, workspace_id: int) -> None:
        self._workspaces.pop(workspace_id, None)

    def _indexed(self, row: service.IndexRow) -> IndexedChunk:
        usable = row.embedding is not None and row.encoder == self.encoder_name
        return IndexedChunk(
            chunk_key=chunk_key(row.source_key, row.ordinal),
            article_key=row.source_key,
            title=row.title,
            heading=row.heading,
            text=row.text,
            language=row.language,
            chunk_id=row.chunk_id,
            article_id=row.article_id,
            vector=vector_from_bytes(row.embedding) if usable and row.embedding else None,
        )
