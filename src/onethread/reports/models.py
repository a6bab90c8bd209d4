"""The reports' projection of the event log: one row per conversation, one per open span.

Times are UTC epoch seconds (integers) and durations seconds (floats), so that the same
arithmetic runs on SQLite and PostgreSQL. Ids are plain integers, not foreign keys: the
projection is rebuilt from the log and outlives nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base
from onethread.db.types import BigId, UTCDateTime, utcnow


class ReportConversation(Base):
    """A conversation's facts (docs/metrics.md), recomputed from its whole history."""

    __tablename__ = "report_conversations"
    __table_args__ = (
        Index("ix_report_conversations_created", "workspace_id", "created_at"),
        Index("ix_report_conversations_resolved", "workspace_id", "resolved_at"),
        # Contact ids are unique across workspaces; without the workspace first, this is the
        # one index a lookup of a contact's other conversations can use, stats or not.
        Index("ix_report_conversations_contact", "contact_id", "created_at"),
        Index("ix_report_conversations_csat", "workspace_id", "csat_at"),
        Index("ix_report_conversations_nps", "workspace_id", "nps_at"),
    )

    conversation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(BigInteger)
    previous_conversation_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    first_resolved_at: Mapped[int | None] = mapped_column(BigInteger)
    # The last resolution; null while the conversation is open.
    resolved_at: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[str | None] = mapped_column(String(32))
    inbox_id: Mapped[int | None] = mapped_column(BigInteger)
    team_id: Mapped[int | None] = mapped_column(BigInteger)
    agent_id: Mapped[int | None] = mapped_column(BigInteger)
    topic: Mapped[str | None] = mapped_column(String(100))
    domain: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(16))
    handler: Mapped[str] = mapped_column(String(16))
    messages_received: Mapped[int] = mapped_column(Integer)
    first_response_s: Mapped[float | None] = mapped_column(Float)
    first_response_bh_s: Mapped[float | None] = mapped_column(Float)
    first_human_response_s: Mapped[float | None] = mapped_column(Float)
    first_human_response_bh_s: Mapped[float | None] = mapped_column(Float)
    handle_s: Mapped[float | None] = mapped_column(Float)
    handle_bh_s: Mapped[float | None] = mapped_column(Float)
    reopens: Mapped[int] = mapped_column(Integer)
    transfers: Mapped[int] = mapped_column(Integer)
    escalated: Mapped[bool] = mapped_column(Boolean)
    ai_involved: Mapped[bool] = mapped_column(Boolean)
    ai_resolved: Mapped[bool] = mapped_column(Boolean)
    # The assistant's first handoff: its reason, how long until an agent replied, and
    # whether the customer's first message after it restated what they had said.
    handoff_reason: Mapped[str | None] = mapped_column(String(100))
    handoff_pickup_s: Mapped[float | None] = mapped_column(Float)
    handoff_pickup_bh_s: Mapped[float | None] = mapped_column(Float)
    restated: Mapped[bool | None] = mapped_column(Boolean)
    csat_score: Mapped[int | None] = mapped_column(Integer)
    csat_at: Mapped[int | None] = mapped_column(BigInteger)
    csat_handler: Mapped[str | None] = mapped_column(String(16))
    nps_score: Mapped[int | None] = mapped_column(Integer)
    nps_at: Mapped[int | None] = mapped_column(BigInteger)


class ReportSpan(Base):
    """One period a conversation was open (created or reopened → resolved, or still open)."""

    __tablename__ = "report_spans"
    __table_args__ = (
        Index("ix_report_spans_opened", "workspace_id", "opened_at"),
        Index("ix_report_spans_closed", "workspace_id", "closed_at"),
    )

    conversation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    episode: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    opened_at: Mapped[int] = mapped_column(BigInteger)
    closed_at: Mapped[int | None] = mapped_column(BigInteger)


class ReportCursor(Base):
    """Per workspace, the last event folded in; its row is the projection's write lock."""

    __tablename__ = "report_cursor"

    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportCustomer(Base):
    """A contact with a ``customer_since``: its business attributes, for retention and value.

    Dates stay ``YYYY-MM-DD`` text (they compare as text on every database).
    """

    __tablename__ = "report_customers"
    __table_args__ = (Index("ix_report_customers_since", "workspace_id", "customer_since"),)

    contact_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    customer_since: Mapped[str] = mapped_column(String(10))
    churned_at: Mapped[str | None] = mapped_column(String(10))
    plan: Mapped[str | None] = mapped_column(String(100))
    monthly_revenue: Mapped[float | None] = mapped_column(Float)
    lifetime_revenue: Mapped[float | None] = mapped_column(Float)
