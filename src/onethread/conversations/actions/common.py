"""What the conversation actions share: job kinds, reopening and taking a thread."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.models import Agent
from onethread.conversations.events import conversation_event
from onethread.conversations.models import (
    Conversation,
    Handler,
    Status,
)
from onethread.events.types import EventType

# The job kinds these actions enqueue (handlers: jobs/handlers.py).
ASSISTANT_TURN = "assistant.turn"
DELIVERY_SEND = "delivery.send"
CONVERSATION_WAKE = "conversation.wake"


def reopen_thread(
    session: AsyncSession, conversation: Conversation, *, agent_id: int | None, by: str
) -> None:
    resolved_at = conversation.resolved_at
    conversation.status = Status.OPEN.value
    conversation.resolved_at = None
    conversation_event(
        session,
        conversation,
        EventType.CONVERSATION_REOPENED,
        agent_id=agent_id,
        data={
            "by": by,
            "resolved_at": resolved_at.isoformat() if resolved_at else None,
        },
    )


def take_for_humans(
    session: AsyncSession, conversation: Conversation, agent: Agent, *, reason: str
) -> None:
    """An agent acting in an AI thread takes it: the assistant falls silent (explicit state)."""
    if conversation.handler == Handler.AI.value:
        conversation.handler = Handler.HUMAN.value
        conversation_event(
            session,
            conversation,
            EventType.HANDOFF_REQUESTED,
            agent_id=agent.id,
            data={"reason": reason, "team_id": conversation.team_id, "by": "agent"},
        )
    if conversation.assignee_id is None:
        conversation.assignee_id = agent.id
        conversation_event(
            session,
            conversation,
            EventType.CONVERSATION_ASSIGNED,
            agent_id=agent.id,
            data={"assignee_id": agent.id, "previous_assignee_id": None, "auto": True},
        )
