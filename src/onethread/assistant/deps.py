"""What a decision needs: the workspace's trained playbook and the assistant's services."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx
import numpy as np
from numpy.typing import NDArray

from onethread.assistant.encoder import TextEncoder
from onethread.assistant.llm.uses import GroundedWriter
from onethread.assistant.understanding import TopicRouting
from onethread.playbook.schemas import Playbook


class Passage(Protocol):
    @property
    def article_id(self) -> int | None: ...
    @property
    def chunk_id(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def language(self) -> str: ...
    @property
    def chunk_key(self) -> str: ...


class KnowledgeSearch(Protocol):
    def search(
        self,
        workspace_id: int,
        query_text: str,
        query_vector: NDArray[np.float32] | None,
        language: str | None = None,
        k: int = 5,
    ) -> Sequence[Passage]: ...


@dataclass
class PlaybookRuntime:
    """A workspace's playbook, ready to use: its trained router and its secrets."""

    workspace_id: int
    playbook: Playbook
    revision: int
    router: TopicRouting
    secrets: dict[str, str]


@dataclass
class AssistantDeps:
    encoder: TextEncoder
    http: httpx.AsyncClient
    knowledge: KnowledgeSearch | None = None
    writer: GroundedWriter | None = None  # an optional language model, checked
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
