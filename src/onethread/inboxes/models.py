from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base, IdMixin, TimestampMixin, WorkspaceScoped
from onethread.db.types import JsonDoc


class ChannelKind(StrEnum):
    WHATSAPP = "whatsapp"
    INSTAGRAM = "instagram"
    MESSENGER = "messenger"
    TWILIO_SMS = "twilio_sms"
    TWILIO_WHATSAPP = "twilio_whatsapp"
    TWILIO_VOICE = "twilio_voice"
    WEBCHAT = "webchat"


# The identity namespace of each kind: Cloud API and Twilio WhatsApp both know a person
# by their WhatsApp number, so either inbox can answer them.
IDENTITY_CHANNEL: dict[ChannelKind, str] = {
    ChannelKind.WHATSAPP: "whatsapp",
    ChannelKind.TWILIO_WHATSAPP: "whatsapp",
    ChannelKind.INSTAGRAM: "instagram",
    ChannelKind.MESSENGER: "messenger",
    ChannelKind.TWILIO_SMS: "sms",
    ChannelKind.TWILIO_VOICE: "voice",
    ChannelKind.WEBCHAT: "webchat",
}


class AiMode(StrEnum):
    OFF = "off"
    ASSIST = "assist"
    AUTO = "auto"
    AFTER_HOURS = "after_hours"


class Inbox(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    """One connected channel account. Secrets live encrypted in ``secrets_encrypted``."""

    __tablename__ = "inboxes"

    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    secrets_encrypted: Mapped[str] = mapped_column(Text, default="")
    ai_mode: Mapped[str] = mapped_column(String(16), default=AiMode.AUTO.value)
