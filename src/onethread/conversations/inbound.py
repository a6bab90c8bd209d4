"""The channel-neutral shape of a received message, as ``record_inbound`` takes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from onethread.contacts.identity import SenderIdentity

# "survey_answer": a reply to a satisfaction survey, stored in the resolved thread
# without reopening it (docs/surveys.md).
ThreadOutcome = Literal["joined", "reopened", "created", "duplicate", "survey_answer"]


@dataclass
class InboundMessage:
    sender: SenderIdentity
    text: str
    external_id: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    interactive: dict[str, Any] | None = None
    sent_at: datetime | None = None
