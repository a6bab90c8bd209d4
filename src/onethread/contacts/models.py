from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, IdMixin, TimestampMixin, WorkspaceScoped
from onethread.db.types import JsonDoc, UTCDateTime, utcnow


class Contact(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """A customer. ``attributes`` holds business facts: plan, vip, customer_since, revenue…"""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_workspace_id_phone", "workspace_id", "phone"),
        Index("ix_contacts_workspace_id_email", "workspace_id", "email"),
    )

    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(16))
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContactIdentity(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """How a contact is known on one channel: a phone on WhatsApp, a PSID on Messenger…"""

    __tablename__ = "contact_identities"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel", "external_id"),
        # Linking a new sender looks verified identities up by phone and by email.
        Index("ix_contact_identities_workspace_id_phone", "workspace_id", "phone"),
        Index("ix_contact_identities_workspace_id_email", "workspace_id", "email"),
    )

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
