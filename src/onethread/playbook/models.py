from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, IdMixin, TimestampMixin, WorkspaceScoped
from onethread.db.types import JsonDoc, UTCDateTime, utcnow


class PlaybookRecord(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """A workspace's playbook: the validated document, its revision and sealed secrets.

    ``document`` holds a serialized ``onethread.playbook.schemas.Playbook``; each change
    bumps ``revision`` so that processes caching a trained router know to rebuild it.
    """

    __tablename__ = "playbooks"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    document: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    secrets_encrypted: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
