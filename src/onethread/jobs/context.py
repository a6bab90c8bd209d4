"""What job handlers may use; built once per worker."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from onethread.assistant.service import Assistant
from onethread.db.database import Database
from onethread.inboxes.secrets import SecretBox
from onethread.settings import Settings


@dataclass
class JobContext:
    settings: Settings
    db: Database
    secrets: SecretBox
    http: httpx.AsyncClient
    assistant: Assistant = field(default_factory=Assistant)
