"""What a widget visitor may read: their contact, their history, messages in their shape.

A visitor sees the public messages of their contact on this inbox, in a shape of its
own: no private notes, no delivery internals, no assistant sources or agent ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.channels.widget_tokens import MAX_TOKEN_LENGTH, VisitorClaims
from onethread.contacts.identity import SenderIdentity
from onethread.contacts.service import find_identity
from onethread.conversations.models import Conversation, Direction, Message, SenderKind
from onethread.inboxes.models import IDENTITY_CHANNEL, ChannelKind

WEBCHAT_IDENTITY = IDENTITY_CHANNEL[ChannelKind.WEBCHAT]
HISTORY_LIMIT = 100
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]+$"

Author = Literal["visitor", "agent", "assistant", "system"]
AUTHORS: dict[str, Author] = {
    SenderKind.AGENT.value: "agent",
    SenderKind.AI.value: "assistant",
    SenderKind.SYSTEM.value: "system",
}


class VisitorMessage(BaseModel):
    id: int
    author: Author
    text: str
    buttons: list[dict[str, str]]
    client_message_id: str | None
    created_at: datetime


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visitor_token: str | None = Field(default=None, max_length=MAX_TOKEN_LENGTH)
    user_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=NO_CONTROL_CHARACTERS
    )
    user_hash: str | None = Field(default=None, max_length=128)
    name: str | None = Field(default=None, max_length=200, pattern=NO_CONTROL_CHARACTERS)
    email: str | None = Field(default=None, max_length=320, pattern=NO_CONTROL_CHARACTERS)
    phone: str | None = Field(default=None, max_length=32, pattern=NO_CONTROL_CHARACTERS)


class WidgetLook(BaseModel):
    title: str
    color: str
    greeting: str


class SessionOut(BaseModel):
    visitor_token: str
    identified: bool = Field(description="Whether the site vouched for this visitor's user id.")
    inbox: WidgetLook
    messages: list[VisitorMessage]


class VisitorMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)
    client_message_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Chosen by the browser; a retry with the same id is stored once.",
    )


def external_id_for(claims: VisitorClaims, client_message_id: str | None) -> str | None:
    """Scoped to the visitor: one visitor's ids can never match another's message."""
    return f"{claims.identity}|{client_message_id}" if client_message_id else None


def visitor_message(message: Message, claims: VisitorClaims) -> VisitorMessage:
    inbound = message.direction == Direction.INBOUND.value
    prefix = f"{claims.identity}|"
    client_id = (
        message.external_id.removeprefix(prefix)
        if inbound and message.external_id and message.external_id.startswith(prefix)
        else None
    )
    raw_buttons = (message.interactive or {}).get("buttons") or []
    return VisitorMessage(
        id=message.id,
        author="visitor" if inbound else AUTHORS.get(message.sender_kind, "system"),
        text=message.text,
        buttons=[
            {"id": str(button.get("id", "")), "title": str(button.get("title", ""))}
            for button in raw_buttons
            if isinstance(button, dict)
        ],
        client_message_id=client_id,
        created_at=message.created_at,
    )


def sender_of(claims: VisitorClaims) -> SenderIdentity:
    return SenderIdentity(
        channel=WEBCHAT_IDENTITY,
        external_id=claims.identity,
        display_name=claims.name,
        email=claims.email,
        phone=claims.phone,
        verified=claims.verified,
        details={"identified": claims.identified},
    )


async def visitor_contact_id(session: AsyncSession, claims: VisitorClaims) -> int | None:
    """The visitor's contact, or ``None`` before their first message created it."""
    found = await find_identity(session, claims.workspace_id, WEBCHAT_IDENTITY, claims.identity)
    return None if found is None else found[1].id


def shows_to_visitor(message: Message, claims: VisitorClaims) -> bool:
    """A public message that travelled on the visitor's inbox (the row, checked once more)."""
    return (
        not message.private
        and message.inbox_id == claims.inbox_id
        and message.workspace_id == claims.workspace_id
    )


async def visitor_history(
    session: AsyncSession, claims: VisitorClaims, *, limit: int = HISTORY_LIMIT
) -> list[Message]:
    """The last ``limit`` public messages of the visitor's contact on this inbox, oldest first."""
    contact_id = await visitor_contact_id(session, claims)
    if contact_id is None:
        return []
    rows = await session.scalars(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.contact_id == contact_id,
            Message.workspace_id == claims.workspace_id,
            Message.inbox_id == claims.inbox_id,
            Message.private.is_(False),
        )
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed(rows.all()))


async def message_for_visitor(
    session: AsyncSession, message_id: int, claims: VisitorClaims
) -> VisitorMessage | None:
    message = await session.get(Message, message_id)
    if message is None or not shows_to_visitor(message, claims):
        return None
    return visitor_message(message, claims)
