"""A survey row: one question (CSAT or NPS) per conversation, asked or skipped, maybe answered."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, IdMixin, TimestampMixin, WorkspaceScoped
from onethread.db.types import UTCDateTime


class SurveyKind(StrEnum):
    CSAT = "csat"  # 1-5
    NPS = "nps"  # 0-10


class SurveyStatus(StrEnum):
    ASKED = "asked"
    ANSWERED = "answered"
    SKIPPED = "skipped"


SCALES: dict[SurveyKind, tuple[int, int]] = {SurveyKind.CSAT: (1, 5), SurveyKind.NPS: (0, 10)}


class Survey(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """The unique (conversation, kind) pair is what makes "never twice" hold under races."""

    __tablename__ = "surveys"
    __table_args__ = (UniqueConstraint("conversation_id", "kind"),)

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    #: Why it was not sent (``outside_window``, ``merged``, ``no_channel``, ``no_text_channel``).
    reason: Mapped[str | None] = mapped_column(String(64))
    #: Who handled the conversation when it was resolved: ``ai`` or ``human``.
    handler: Mapped[str] = mapped_column(String(16))
    inbox_id: Mapped[int | None] = mapped_column(ForeignKey("inboxes.id", ondelete="SET NULL"))
    channel: Mapped[str | None] = mapped_column(String(32))
    question_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answer_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
