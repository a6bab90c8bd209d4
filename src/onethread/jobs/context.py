"""What job handlers may use; built once per worker."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from onethread.db.database import Database
from onethread.inboxes.secrets import SecretBox
from onethread.settings import Settings


@dataclass
class JobContext:
    settings: Settings
    db: Database
    secrets: SecretBox
    http: httpx.AsyncClient
