"""What one assistant turn sees of a conversation: plain data, loaded in one read session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.contacts.models import Contact, ContactIdentity
from onethread.conversations.models import (
    Conversation,
    ConversationTopic,
    Direction,
    Message,
    SenderKind,
)
from onethread.inboxes.models import Inbox
from onethread.workspaces.models import Workspace
from onethread.workspaces.schemas import WorkspaceSettings

RECENT_MESSAGES = 30


@dataclass
class ConversationSnapshot:
    conversation: Conversation
    contact: Contact
    identities: list[ContactIdentity]
    inbox: Inbox | None  # the inbox of the latest inbound message
    workspace_settings: WorkspaceSettings
    new_messages: list[Message]  # inbound since the last reply to the customer
    history: list[Message]  # the recent public messages, oldest first
    last_ai_meta: dict[str, Any] | None  # what the assistant recorded on its last reply
    recent_topics: dict[str, datetime] = field(default_factory=dict)  # resolved threads

    @property
    def new_text(self) -> str:
        return "\n".join(m.text for m in self.new_messages if m.text.strip())


async def load_snapshot(
    session: AsyncSession, conversation_id: int, *, repeat_days: int | None
) -> ConversationSnapshot | None:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    contact = await session.get(Contact, conversation.contact_id)
    workspace = await session.get(Workspace, conversation.workspace_id)
    if contact is None or workspace is None:
        return None
    identities = list(
        await session.scalars(
            select(ContactIdentity).where(ContactIdentity.contact_id == contact.id)
        )
    )
    recent = list(
        await session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id, Message.private.is_(False))
            .order_by(Message.id.desc())
            .limit(RECENT_MESSAGES)
        )
    )
    recent.reverse()
    new_messages, last_ai_meta = read_history(recent)
    inbox_id = new_messages[-1].inbox_id if new_messages else conversation.last_inbox_id
    inbox = await session.get(Inbox, inbox_id) if inbox_id else None
    return ConversationSnapshot(
        conversation=conversation,
        contact=contact,
        identities=identities,
        inbox=inbox,
        workspace_settings=WorkspaceSettings.model_validate(workspace.settings),
        new_messages=new_messages,
        history=recent,
        last_ai_meta=last_ai_meta,
        recent_topics=await _recent_topics(session, conversation, repeat_days),
    )


def read_history(recent: list[Message]) -> tuple[list[Message], dict[str, Any] | None]:
    """From the recent public messages (oldest first): the inbound ones since the last
    reply to the customer, and what the assistant recorded on its last reply."""
    new_messages: list[Message] = []
    for message in reversed(recent):
        if message.direction != Direction.INBOUND.value:
            break
        new_messages.insert(0, message)
    last_ai = next(
        (m for m in reversed(recent) if m.sender_kind == SenderKind.AI.value and m.ai_meta), None
    )
    return new_messages, last_ai.ai_meta if last_ai else None


async def _recent_topics(
    session: AsyncSession, conversation: Conversation, days: int | None
) -> dict[str, datetime]:
    """Topics of the contact's threads resolved within ``days``: name → when resolved."""
    if days is None:
        return {}
    since = datetime.now(tz=conversation.last_message_at.tzinfo) - timedelta(days=days)
    rows = await session.execute(
        select(ConversationTopic.name, Conversation.resolved_at)
        .join(Conversation, Conversation.id == ConversationTopic.conversation_id)
        .where(
            Conversation.contact_id == conversation.contact_id,
            Conversation.id != conversation.id,
            Conversation.resolved_at.is_not(None),
            Conversation.resolved_at >= since,
        )
    )
    found: dict[str, datetime] = {}
    for name, resolved_at in rows:
        if resolved_at is not None and (name not in found or resolved_at > found[name]):
            found[name] = resolved_at
    return found
