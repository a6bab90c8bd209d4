"""The assistant as a worker holds it: the encoder, trained playbooks and knowledge indexes.

One ``Assistant`` per process. The encoder loads on the first turn (not at import), a
workspace's router is retrained only when its playbook's revision changes, and the
knowledge index follows the knowledge tables incrementally (``assistant/retrieval.py``).
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.assistant.deps import AssistantDeps, KnowledgeSearch, PlaybookRuntime
from onethread.assistant.encoder import TextEncoder, default_encoder
from onethread.assistant.knowledge.retrieval import KnowledgeRetriever
from onethread.assistant.llm.loading import load_language_model
from onethread.assistant.llm.uses import GroundedWriter
from onethread.assistant.topics import build_router
from onethread.inboxes.secrets import SecretBox
from onethread.playbook.schemas import Playbook
from onethread.playbook.service import playbook_of, playbook_record, playbook_revision, secrets_of
from onethread.settings import Settings

log = logging.getLogger(__name__)


class Assistant:
    def __init__(self, encoder: TextEncoder | None = None) -> None:
        self._encoder = encoder
        self._runtimes: dict[int, PlaybookRuntime] = {}
        self._lock = asyncio.Lock()
        self._knowledge: KnowledgeRetriever | None = None
        self._writer: GroundedWriter | None = None
        self._writer_loaded = False

    @property
    def encoder(self) -> TextEncoder:
        if self._encoder is None:
            self._encoder = default_encoder()
        return self._encoder

    async def runtime_for(
        self, session: AsyncSession, workspace_id: int, box: SecretBox
    ) -> PlaybookRuntime:
        """The workspace's playbook with a router trained on it, rebuilt on a new revision."""
        revision = await playbook_revision(session, workspace_id)
        cached = self._runtimes.get(workspace_id)
        if cached is not None and cached.revision == revision:
            return cached
        async with self._lock:
            cached = self._runtimes.get(workspace_id)
            if cached is not None and cached.revision == revision:
                return cached  # trained by a turn that held the lock before this one
            record = await playbook_record(session, workspace_id)
            playbook, revision = playbook_of(record)
            secrets = secrets_of(record, box)
            # Training takes up to a second: off the event loop, which serves webhooks.
            runtime = await asyncio.to_thread(self.train, workspace_id, playbook, revision, secrets)
            self._runtimes[workspace_id] = runtime
            return runtime

    def train(
        self, workspace_id: int, playbook: Playbook, revision: int, secrets: dict[str, str]
    ) -> PlaybookRuntime:
        router = build_router(playbook, self.encoder)
        log.info(
            "workspace %s: playbook revision %s trained (%s topics)",
            workspace_id,
            revision,
            len(playbook.topics),
        )
        return PlaybookRuntime(workspace_id, playbook, revision, router, secrets)

    async def knowledge_for(
        self, session: AsyncSession, workspace_id: int
    ) -> KnowledgeSearch | None:
        """The workspace's knowledge index, brought up to date with the knowledge tables."""
        if self._knowledge is None:
            self._knowledge = KnowledgeRetriever(self.encoder.name)
        await self._knowledge.refresh(session, workspace_id)
        return self._knowledge

    def writer(self, settings: Settings) -> GroundedWriter | None:
        """The configured language model, checked by the grounding rules (None: no model)."""
        if not self._writer_loaded:
            model = load_language_model(settings)
            if model is not None:
                self._writer = GroundedWriter(
                    model, encoder=self.encoder, timeout_seconds=settings.llm_timeout_seconds
                )
            self._writer_loaded = True
        return self._writer

    def deps(
        self, http: httpx.AsyncClient, knowledge: KnowledgeSearch | None, settings: Settings
    ) -> AssistantDeps:
        return AssistantDeps(
            encoder=self.encoder, http=http, knowledge=knowledge, writer=self.writer(settings)
        )
