from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, IdMixin
from onethread.db.types import JsonDoc, UTCDateTime, utcnow


class Event(IdMixin, Base):
    """Append-only: rows are inserted by ``append_event`` and never updated."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_workspace_id_id", "workspace_id", "id"),
        Index("ix_events_conversation_id", "conversation_id"),
        Index("ix_events_workspace_id_type_created_at", "workspace_id", "type", "created_at"),
    )

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    # Plain ids, not foreign keys: the log outlives what it describes (merges, deletions).
    conversation_id: Mapped[int | None] = mapped_column(BigInteger)
    contact_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    agent_id: Mapped[int | None] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "workspace_id": self.workspace_id,
            "conversation_id": self.conversation_id,
            "contact_id": self.contact_id,
            "message_id": self.message_id,
            "agent_id": self.agent_id,
            "data": self.data,
            "created_at": self.created_at.isoformat(),
        }
