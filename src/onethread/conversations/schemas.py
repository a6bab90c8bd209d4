from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from onethread.agents.models import Domain
from onethread.conversations.models import Handler, Priority, Status
from onethread.db.types import Id


class TopicOut(BaseModel):
    name: str
    domain: Domain


class ContactBrief(BaseModel):
    id: int
    name: str | None


class ConversationOut(BaseModel):
    id: int
    contact: ContactBrief
    status: Status
    handler: Handler
    assignee_id: int | None
    team_id: int | None
    priority: Priority
    language: str | None
    topics: list[TopicOut]
    last_inbox_id: int | None
    last_message_at: datetime
    last_inbound_at: datetime | None
    snoozed_until: datetime | None
    resolved_at: datetime | None
    created_at: datetime
    preview: str | None = Field(description="The latest public message, shortened.")


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


class ViewCountsOut(BaseModel):
    """The inbox's views and how many conversations each holds under the request's filters."""

    model_config = ConfigDict(from_attributes=True)

    all: int
    mine: int = Field(description="Assigned to the caller.")
    unassigned: int = Field(description="Nobody assigned, and open unless a status is given.")
    ai: int = Field(description="Handled by the assistant.")
    waiting: int = Field(description="Handled by a human, nobody assigned yet.")
    teams: dict[int, int] = Field(
        description="Team id -> its conversations; teams with none are left out."
    )


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    inbox_id: int | None
    channel: str | None
    direction: str
    sender_kind: str
    sender_agent_id: int | None
    text: str
    attachments: list[dict[str, Any]]
    interactive: dict[str, Any] | None
    private: bool
    external_id: str | None
    delivery_status: str | None
    delivery_error_code: str | None
    delivery_error: str | None
    ai_meta: dict[str, Any] | None
    created_at: datetime


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=512, description="An approved template of the inbox."
    )
    parameters: list[str] = Field(default_factory=list, max_length=20)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=20000)
    inbox_id: Id | None = Field(
        default=None, description="Another of the contact's channels; default: their latest."
    )
    template: TemplateIn | None = Field(
        default=None,
        description="Send an approved WhatsApp template instead of text "
        "(required outside the 24-hour window).",
    )


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20000)
    mentions: list[Id] = Field(default_factory=list, description="Agent ids to notify.")


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_id: Id | None


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    team_id: Id
    keep_assignee: bool = False


class HandoffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)
    team_id: Id | None = None
    summary: str | None = Field(default=None, max_length=20000)


class SnoozeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime


class PriorityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: Priority


class InboundIn(BaseModel):
    """A message received outside a webhook (imports, custom integrations)."""

    model_config = ConfigDict(extra="forbid")

    sender_id: str = Field(
        min_length=1, max_length=255, description="The sender's id on this inbox's channel."
    )
    sender_name: str | None = Field(default=None, max_length=200)
    sender_phone: str | None = Field(default=None, max_length=32)
    sender_email: str | None = Field(default=None, max_length=320)
    verified: bool = Field(
        default=False,
        description="Phone/email checked by the caller: "
        "links this sender to a contact with the same phone or email.",
    )
    external_id: str | None = Field(
        default=None,
        max_length=255,
        description="The provider's message id; a repeat is stored once.",
    )
    text: str = Field(min_length=1, max_length=20000)


class InboundOut(BaseModel):
    message: MessageOut
    conversation_id: int
    contact_id: int
    outcome: str
