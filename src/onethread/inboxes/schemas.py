from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onethread.inboxes.models import AiMode, ChannelKind


class SurveySettings(BaseModel):
    """The satisfaction surveys an inbox asks after a resolution (docs/surveys.md)."""

    model_config = ConfigDict(extra="forbid")

    csat: bool = Field(default=False, description="Ask CSAT (1-5) after a resolution.")
    nps: bool = Field(default=False, description="Ask NPS (0-10), after the CSAT answer if both.")
    delay_seconds: int = Field(
        default=0, ge=0, le=7 * 24 * 3600, description="Wait this long after the resolution."
    )


class InboxCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: ChannelKind
    name: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    ai_mode: AiMode = AiMode.AUTO


class InboxUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    config: dict[str, Any] | None = Field(
        default=None,
        description="Merged into the current config; omitted secrets keep their value.",
    )
    ai_mode: AiMode | None = None


class InboxOut(BaseModel):
    id: int
    name: str
    channel: ChannelKind
    ai_mode: AiMode
    config: dict[str, Any] = Field(description="Without secrets.")
    secrets_set: list[str] = Field(description="Which secret fields hold a value.")
    webhook_url: str
    created_at: datetime
