"""A thread's explicit state: who handles it, who has it, its status, priority and topics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.models import Agent, Team
from onethread.conversations.actions.common import (
    CONVERSATION_WAKE,
    reopen_thread,
)
from onethread.conversations.actions.messages import do_add_note
from onethread.conversations.events import conversation_event
from onethread.conversations.models import (
    Conversation,
    ConversationTopic,
    Handler,
    Message,
    Priority,
    SenderKind,
    Status,
)
from onethread.conversations.service import (
    open_conversation_of,
)
from onethread.db.types import utcnow
from onethread.errors import Conflict, InvalidInput
from onethread.events.types import EventType
from onethread.outbox.actions import enqueue
from onethread.surveys.actions import do_schedule_surveys


def do_assign(
    session: AsyncSession, conversation: Conversation, assignee: Agent | None, *, by: Agent
) -> None:
    if assignee is not None and not assignee.active:
        raise InvalidInput(f"agent {assignee.id} is deactivated")
    previous = conversation.assignee_id
    conversation.assignee_id = assignee.id if assignee else None
    if assignee is not None and conversation.handler == Handler.AI.value:
        conversation.handler = Handler.HUMAN.value
        conversation_event(
            session,
            conversation,
            EventType.HANDOFF_REQUESTED,
            agent_id=by.id,
            data={"reason": "assigned", "team_id": conversation.team_id, "by": "agent"},
        )
    conversation_event(
        session,
        conversation,
        EventType.CONVERSATION_ASSIGNED,
        agent_id=by.id,
        data={
            "assignee_id": conversation.assignee_id,
            "previous_assignee_id": previous,
            "auto": False,
        },
    )


def do_record_assistant_decision(
    session: AsyncSession, conversation: Conversation, record: dict[str, Any]
) -> None:
    """The assistant's decision for a turn, with its reason (``assistant/decision.py``)."""
    conversation_event(session, conversation, EventType.ASSISTANT_DECIDED, data=record)


def do_route_to_agent(session: AsyncSession, conversation: Conversation, agent: Agent) -> None:
    """The assistant hands the thread to an agent it picked (e.g. one who speaks the
    customer's language): an automatic assignment, by no agent."""
    previous = conversation.assignee_id
    conversation.assignee_id = agent.id
    conversation_event(
        session,
        conversation,
        EventType.CONVERSATION_ASSIGNED,
        data={"assignee_id": agent.id, "previous_assignee_id": previous, "auto": True},
    )


def do_transfer(
    session: AsyncSession,
    conversation: Conversation,
    team: Team,
    *,
    by: Agent | None,
    keep_assignee: bool = False,
) -> None:
    previous = conversation.team_id
    conversation.team_id = team.id
    if not keep_assignee:
        conversation.assignee_id = None
    conversation_event(
        session,
        conversation,
        EventType.CONVERSATION_TRANSFERRED,
        agent_id=by.id if by else None,
        data={"team_id": team.id, "previous_team_id": previous, "domain": team.domain},
    )


async def do_hand_off(
    session: AsyncSession,
    conversation: Conversation,
    *,
    reason: str,
    team: Team | None = None,
    summary: str | None = None,
    by: Agent | None = None,
    details: dict[str, Any] | None = None,
) -> Message | None:
    """Humans take the thread: handler=human, the topic's team, and a summary note."""
    if not reason.strip():
        raise InvalidInput("a handoff needs a reason")
    conversation.handler = Handler.HUMAN.value
    if team is not None:
        conversation.team_id = team.id
    conversation_event(
        session,
        conversation,
        EventType.HANDOFF_REQUESTED,
        agent_id=by.id if by else None,
        data={
            "reason": reason,
            "team_id": conversation.team_id,
            "by": "agent" if by else "ai",
            **(details or {}),
        },
    )
    if summary:
        kind = SenderKind.AGENT if by else SenderKind.AI
        return await do_add_note(
            session,
            conversation,
            text=summary,
            agent=by,
            sender_kind=kind,
            ai_meta={"handoff_summary": True, "reason": reason},
        )
    return None


def do_hand_back(session: AsyncSession, conversation: Conversation, *, by: Agent) -> None:
    if conversation.handler == Handler.AI.value:
        raise Conflict("the assistant already handles this conversation")
    conversation.handler = Handler.AI.value
    previous = conversation.assignee_id
    conversation.assignee_id = None
    conversation_event(
        session,
        conversation,
        EventType.CONVERSATION_HANDED_BACK,
        agent_id=by.id,
        data={"previous_assignee_id": previous},
    )


async def do_resolve(
    session: AsyncSession, conversation: Conversation, *, by: Agent | None
) -> None:
    """Resolved, by an agent or (``by=None``) the assistant; the inbox's surveys follow."""
    if conversation.status == Status.RESOLVED.value:
        raise Conflict("the conversation is already resolved")
    conversation.status = Status.RESOLVED.value
    conversation.resolved_at = utcnow()
    conversation.snoozed_until = None
    conversation_event(
        session,
        conversation,
        EventType.CONVERSATION_RESOLVED,
        agent_id=by.id if by else None,
        data={
            "handler": conversation.handler,
            "by": "agent" if by else "ai",
            "assignee_id": conversation.assignee_id,
            "team_id": conversation.team_id,
        },
    )
    await do_schedule_surveys(session, conversation)


async def do_reopen(session: AsyncSession, conversation: Conversation, *, by: Agent) -> None:
    if conversation.status != Status.RESOLVED.value:
        raise Conflict(f"the conversation is {conversation.status}, not resolved")
    other = await open_conversation_of(session, conversation.contact_id)
    if other is not None:
        raise Conflict(
            f"the contact already has an open conversation ({other.id})",
            details={"open_conversation_id": other.id},
        )
    reopen_thread(session, conversation, agent_id=by.id, by="agent")


def do_snooze(
    session: AsyncSession, conversation: Conversation, *, until: datetime, by: Agent
) -> None:
    if conversation.status == Status.RESOLVED.value:
        raise Conflict("a resolved conversation cannot be snoozed")
    if until <= utcnow():
        raise InvalidInput("snooze until a time in the future")
    conversation.status = Status.SNOOZED.value
    conversation.snoozed_until = until
    conversation_event(
        session,
        conversation,
        EventType.CONVERSATION_SNOOZED,
        agent_id=by.id,
        data={"until": until.isoformat()},
    )
    enqueue(
        session,
        CONVERSATION_WAKE,
        {"conversation_id": conversation.id, "until": until.isoformat()},
        workspace_id=conversation.workspace_id,
        run_at=until,
    )


def do_wake(session: AsyncSession, conversation: Conversation, *, due: datetime) -> bool:
    """Wake a snoozed thread whose time has come; a re-snooze or a reply already moved on."""
    if conversation.status != Status.SNOOZED.value or conversation.snoozed_until != due:
        return False
    conversation.status = Status.OPEN.value
    conversation.snoozed_until = None
    conversation_event(
        session, conversation, EventType.CONVERSATION_WOKEN, data={"from": "snoozed", "by": "timer"}
    )
    return True


def do_set_priority(
    session: AsyncSession, conversation: Conversation, priority: Priority, *, by: Agent | None
) -> None:
    previous = conversation.priority
    conversation.priority = priority.value
    conversation_event(
        session,
        conversation,
        EventType.CONVERSATION_PRIORITY_CHANGED,
        agent_id=by.id if by else None,
        data={"priority": priority.value, "previous": previous},
    )


async def do_set_topics(
    session: AsyncSession,
    conversation: Conversation,
    topics: list[tuple[str, str]],
    *,
    by: Agent | None,
    language: str | None = None,
) -> None:
    """Replace the thread's topics, each ``(name, domain)`` with domain service|support."""
    await session.execute(
        delete(ConversationTopic).where(ConversationTopic.conversation_id == conversation.id)
    )
    session.add_all(
        ConversationTopic(
            workspace_id=conversation.workspace_id,
            conversation_id=conversation.id,
            name=name,
            domain=domain,
        )
        for name, domain in dict(topics).items()
    )
    if language is not None:
        conversation.language = language
    conversation_event(
        session,
        conversation,
        EventType.CONVERSATION_TOPICS_CHANGED,
        agent_id=by.id if by else None,
        data={
            "topics": [{"name": n, "domain": d} for n, d in dict(topics).items()],
            "language": conversation.language,
        },
    )
