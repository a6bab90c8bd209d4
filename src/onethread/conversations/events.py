"""The event helper of every write about a conversation (its workspace and contact filled in).

Outside ``conversations/actions`` so that other domains' actions (surveys) use it too
without importing the conversation actions package.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.conversations.models import Conversation
from onethread.events.log import append_event
from onethread.events.types import EventType


def conversation_event(
    session: AsyncSession,
    conversation: Conversation,
    type: EventType,
    *,
    agent_id: int | None = None,
    message_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append an event about ``conversation`` (its workspace and contact filled in)."""
    append_event(
        session,
        conversation.workspace_id,
        type,
        conversation_id=conversation.id,
        contact_id=conversation.contact_id,
        agent_id=agent_id,
        message_id=message_id,
        data=data,
    )
