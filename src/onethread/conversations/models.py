from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, IdMixin, TimestampMixin, WorkspaceScoped
from onethread.db.types import JsonDoc, UTCDateTime


class Status(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Handler(StrEnum):
    AI = "ai"
    HUMAN = "human"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class SenderKind(StrEnum):
    CONTACT = "contact"
    AGENT = "agent"
    AI = "ai"
    SYSTEM = "system"


class DeliveryStatus(StrEnum):
    """Ordered: a status update never moves a message backwards (failed is terminal)."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


DELIVERY_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.FAILED: 4,
}

UNRESOLVED = "status <> 'resolved'"


class Conversation(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """The thread with a contact. The partial unique index keeps one unresolved per contact."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index(
            "uq_conversations_one_unresolved_per_contact",
            "contact_id",
            unique=True,
            sqlite_where=text(UNRESOLVED),
            postgresql_where=text(UNRESOLVED),
        ),
        Index("ix_conversations_inbox_list", "workspace_id", "last_message_at", "id"),
        Index("ix_conversations_status_list", "workspace_id", "status", "last_message_at", "id"),
        Index("ix_conversations_assignee", "workspace_id", "assignee_id", "status"),
        Index("ix_conversations_team", "workspace_id", "team_id", "status"),
        # The inbox's view counts (``count_views``) read only these columns.
        Index(
            "ix_conversations_counts",
            "workspace_id",
            "team_id",
            "merged_into_id",
            "status",
            "assignee_id",
            "handler",
        ),
        Index("ix_conversations_contact", "contact_id", "resolved_at"),
    )

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=Status.OPEN.value)
    handler: Mapped[str] = mapped_column(String(16), default=Handler.AI.value)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    priority: Mapped[str] = mapped_column(String(16), default=Priority.NORMAL.value)
    language: Mapped[str | None] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(300))
    last_inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inboxes.id", ondelete="SET NULL"))
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ai_turns: Mapped[int] = mapped_column(Integer, default=0)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))


class ConversationTopic(IdMixin, WorkspaceScoped, Base):
    __tablename__ = "conversation_topics"
    __table_args__ = (
        UniqueConstraint("conversation_id", "name"),
        Index("ix_conversation_topics_lookup", "workspace_id", "name", "conversation_id"),
    )

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    domain: Mapped[str] = mapped_column(String(16))


class Message(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("inbox_id", "external_id"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
    )

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inboxes.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(String(4))
    sender_kind: Mapped[str] = mapped_column(String(16))
    sender_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_identities.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    interactive: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    external_id: Mapped[str | None] = mapped_column(String(255))
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivery_error_code: Mapped[str | None] = mapped_column(String(64))
    delivery_error: Mapped[str | None] = mapped_column(Text)
    ai_meta: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
