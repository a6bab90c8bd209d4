"""Every conversation write a client or a metric must see, each with its event.

Functions take an open session and never commit: the caller's unit of work does,
so the rows, their event and their jobs land together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from onethread.agents.models import Agent, Team
from onethread.contacts.actions import ResolvedSender, do_resolve_sender
from onethread.contacts.models import Contact
from onethread.contacts.service import find_sender_thread
from onethread.conversations.inbound import InboundMessage, ThreadOutcome
from onethread.conversations.models import (
    DELIVERY_RANK,
    Conversation,
    ConversationTopic,
    DeliveryStatus,
    Direction,
    Handler,
    Message,
    Priority,
    SenderKind,
    Status,
)
from onethread.conversations.service import (
    ReplyTarget,
    latest_resolved_conversation,
    open_conversation_of,
    reply_target,
)
from onethread.db.types import utcnow
from onethread.errors import Conflict, InvalidInput
from onethread.events.log import append_event, insert_event
from onethread.events.types import EventType
from onethread.inboxes.models import Inbox
from onethread.outbox.actions import enqueue, insert_job
from onethread.workspaces.models import Workspace
from onethread.workspaces.service import settings_of

ASSISTANT_TURN = "assistant.turn"
DELIVERY_SEND = "delivery.send"
CONVERSATION_WAKE = "conversation.wake"


@dataclass
class RecordedInbound:
    message: Message
    conversation: Conversation
    contact: Contact
    outcome: ThreadOutcome


def _event(
    session: AsyncSession,
    conversation: Conversation,
    type: EventType,
    *,
    agent_id: int | None = None,
    message_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
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


_MESSAGES = cast(Table, Message.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_FIND_DUPLICATE = select(_MESSAGES.c.id).where(
    _MESSAGES.c.inbox_id == bindparam("inbox_id"),
    _MESSAGES.c.external_id == bindparam("external_id"),
)
_INSERT_MESSAGE = insert(_MESSAGES).returning(_MESSAGES.c.id)
_TOUCH_THREAD = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.id == bindparam("conversation_id"))
    .values(
        last_message_at=bindparam("now"),
        last_inbound_at=bindparam("now"),
        last_inbox_id=bindparam("inbox_id"),
    )
)
_WAKE_THREAD = _TOUCH_THREAD.values(status=Status.OPEN.value, snoozed_until=None)


async def do_record_inbound(
    session: AsyncSession, workspace: Workspace, inbox: Inbox, inbound: InboundMessage
) -> RecordedInbound:
    """Store a received message in the contact's thread, with its event and assistant job.

    A provider id seen before on this inbox returns the stored message (outcome
    ``duplicate``). Concurrent duplicates are stopped by unique indexes; the caller
    retries the unit of work on IntegrityError (``Database.write``).

    A returning customer with an unresolved thread (most messages) takes the lean path:
    one lookup, then the message, the thread's update, the event and the job as single
    statements, outside the ORM's unit of work. The rows are the same either way.
    """
    # The lookups and the lean path's writes in one hop to the database's greenlet.
    known = await session.run_sync(_record_if_known, workspace.id, inbox, inbound)
    if isinstance(known, RecordedInbound):
        return known
    if known is not None:
        existing = await session.get(Message, known)
        assert existing is not None
        conversation = await session.get(Conversation, existing.conversation_id)
        contact = await session.get(Contact, conversation.contact_id) if conversation else None
        assert conversation is not None
        assert contact is not None
        return RecordedInbound(existing, conversation, contact, "duplicate")

    sender = await do_resolve_sender(session, workspace.id, inbound.sender)
    now = utcnow()
    conversation, outcome = await _thread_for(session, workspace, inbox, sender, now)
    message = Message(
        workspace_id=workspace.id,
        conversation_id=conversation.id,
        inbox_id=inbox.id,
        direction=Direction.INBOUND.value,
        sender_kind=SenderKind.CONTACT.value,
        identity_id=sender.identity.id,
        text=inbound.text,
        attachments=inbound.attachments,
        interactive=inbound.interactive,
        private=False,
        external_id=inbound.external_id,
        sent_at=inbound.sent_at,
        created_at=now,
    )
    session.add(message)
    conversation.last_message_at = now
    conversation.last_inbound_at = now
    conversation.last_inbox_id = inbox.id
    if conversation.status in (Status.PENDING.value, Status.SNOOZED.value):
        previous = conversation.status
        conversation.status = Status.OPEN.value
        conversation.snoozed_until = None
        _event(
            session,
            conversation,
            EventType.CONVERSATION_WOKEN,
            data={"from": previous, "by": "message"},
        )
    await session.flush()
    _event(
        session,
        conversation,
        EventType.MESSAGE_RECEIVED,
        message_id=message.id,
        data={
            "inbox_id": inbox.id,
            "channel": inbox.channel,
            "outcome": outcome,
            "attachments": len(inbound.attachments),
        },
    )
    enqueue(
        session,
        ASSISTANT_TURN,
        {"conversation_id": conversation.id, "message_id": message.id},
        workspace_id=workspace.id,
    )
    return RecordedInbound(message, conversation, sender.contact, outcome)


def _record_if_known(
    session: Session, workspace_id: int, inbox: Inbox, inbound: InboundMessage
) -> RecordedInbound | int | None:
    """The lean path: a returning customer with an unresolved thread (most messages).

    Returns the recorded message; or the id of the stored message with this provider id
    (a duplicate); or None when the sender is new or has no unresolved thread, for the
    general path. The rows and events are those of the general path, written as single
    statements outside the ORM's unit of work.
    """
    connection = session.connection()
    if inbound.external_id:
        existing_id: int | None = connection.execute(
            _FIND_DUPLICATE, {"inbox_id": inbox.id, "external_id": inbound.external_id}
        ).scalar()
        if existing_id is not None:
            return existing_id
    known = find_sender_thread(
        session, workspace_id, inbound.sender.channel, inbound.sender.external_id
    )
    if known is None:
        return None
    identity, contact, conversation = known
    if inbound.sender.display_name and not identity.display_name:
        identity.display_name = inbound.sender.display_name
    now = utcnow()
    values: dict[str, Any] = {
        "workspace_id": conversation.workspace_id,
        "conversation_id": conversation.id,
        "inbox_id": inbox.id,
        "direction": Direction.INBOUND.value,
        "sender_kind": SenderKind.CONTACT.value,
        "sender_agent_id": None,
        "identity_id": identity.id,
        "text": inbound.text,
        "attachments": inbound.attachments,
        "interactive": inbound.interactive,
        "private": False,
        "external_id": inbound.external_id,
        "delivery_status": None,
        "delivery_error_code": None,
        "delivery_error": None,
        "ai_meta": None,
        "sent_at": inbound.sent_at,
        "created_at": now,
    }
    message_id = connection.execute(_INSERT_MESSAGE, values).scalar_one()
    message = Message(id=message_id, **values)
    # Known to the session as the stored row it is, so later code may read or change it.
    make_transient_to_detached(message)
    session.add(message)

    previous = conversation.status
    woken = previous in (Status.PENDING.value, Status.SNOOZED.value)
    connection.execute(
        _WAKE_THREAD if woken else _TOUCH_THREAD,
        {"conversation_id": conversation.id, "now": now, "inbox_id": inbox.id},
    )
    changes: dict[str, Any] = {"last_message_at": now, "last_inbound_at": now}
    changes["last_inbox_id"] = inbox.id
    if woken:
        changes |= {"status": Status.OPEN.value, "snoozed_until": None}
    for name, value in changes.items():
        set_committed_value(conversation, name, value)
    about = {"conversation_id": conversation.id, "contact_id": conversation.contact_id}
    if woken:
        insert_event(
            session,
            conversation.workspace_id,
            EventType.CONVERSATION_WOKEN,
            **about,
            data={"from": previous, "by": "message"},
        )
    insert_event(
        session,
        conversation.workspace_id,
        EventType.MESSAGE_RECEIVED,
        **about,
        message_id=message_id,
        data={
            "inbox_id": inbox.id,
            "channel": inbox.channel,
            "outcome": "joined",
            "attachments": len(inbound.attachments),
        },
    )
    insert_job(
        session,
        ASSISTANT_TURN,
        {"conversation_id": conversation.id, "message_id": message_id},
        workspace_id=conversation.workspace_id,
    )
    return RecordedInbound(message, conversation, contact, "joined")


async def _thread_for(
    session: AsyncSession,
    workspace: Workspace,
    inbox: Inbox,
    sender: ResolvedSender,
    now: datetime,
) -> tuple[Conversation, ThreadOutcome]:
    contact = sender.contact
    last = None
    if not sender.contact_created:  # a contact created in this unit of work has no thread yet
        current = await open_conversation_of(session, contact.id)
        if current is not None:
            return current, "joined"
        window = timedelta(hours=settings_of(workspace).reopen_window_hours)
        last = await latest_resolved_conversation(session, contact.id)
        if last is not None and last.resolved_at is not None and now - last.resolved_at <= window:
            _reopen(session, last, agent_id=None, by="message")
            return last, "reopened"
    conversation = Conversation(
        workspace_id=workspace.id,
        contact_id=contact.id,
        status=Status.OPEN.value,
        handler=Handler.AI.value,
        priority=Priority.NORMAL.value,
        language=contact.language,
        last_message_at=now,
        last_inbound_at=now,
        last_inbox_id=inbox.id,
        created_at=now,
        ai_turns=0,
    )
    session.add(conversation)
    await session.flush()
    _event(
        session,
        conversation,
        EventType.CONVERSATION_CREATED,
        data={"previous_conversation_id": last.id if last else None},
    )
    return conversation, "created"


def _reopen(
    session: AsyncSession, conversation: Conversation, *, agent_id: int | None, by: str
) -> None:
    resolved_at = conversation.resolved_at
    conversation.status = Status.OPEN.value
    conversation.resolved_at = None
    _event(
        session,
        conversation,
        EventType.CONVERSATION_REOPENED,
        agent_id=agent_id,
        data={
            "by": by,
            "resolved_at": resolved_at.isoformat() if resolved_at else None,
        },
    )


async def do_send_reply(
    session: AsyncSession,
    conversation: Conversation,
    *,
    text: str,
    agent: Agent | None = None,
    sender_kind: SenderKind = SenderKind.AGENT,
    inbox: Inbox | None = None,
    identity_id: int | None = None,
    interactive: dict[str, Any] | None = None,
    ai_meta: dict[str, Any] | None = None,
) -> Message:
    """Queue an outbound message and its delivery job in the caller's transaction.

    It goes out on the inbox of the contact's latest inbound message unless ``inbox``
    names another channel the contact has used (to ``identity_id`` when the caller
    already chose the recipient). A human reply takes the thread over. Channel rules
    (reply windows, length limits) are checked by ``channels.outbound.queue_reply``.
    """
    if not text.strip() and not interactive:
        raise InvalidInput("a reply needs text")
    if inbox is not None and identity_id is not None:
        target = ReplyTarget(inbox, identity_id)
    else:
        target = await reply_target(session, conversation, inbox)
    now = utcnow()
    message = Message(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        inbox_id=target.inbox.id,
        direction=Direction.OUTBOUND.value,
        sender_kind=sender_kind.value,
        sender_agent_id=agent.id if agent else None,
        identity_id=target.identity_id,
        text=text,
        attachments=[],
        interactive=interactive,
        private=False,
        delivery_status=DeliveryStatus.QUEUED.value,
        ai_meta=ai_meta,
        created_at=now,
    )
    session.add(message)
    conversation.last_message_at = now
    if agent is not None:
        _take_for_humans(session, conversation, agent, reason="agent_replied")
    if sender_kind is SenderKind.AI:
        conversation.ai_turns += 1
    await session.flush()
    _event(
        session,
        conversation,
        EventType.MESSAGE_CREATED,
        agent_id=agent.id if agent else None,
        message_id=message.id,
        data={
            "sender_kind": sender_kind.value,
            "inbox_id": target.inbox.id,
            "channel": target.inbox.channel,
            "private": False,
        },
    )
    enqueue(
        session, DELIVERY_SEND, {"message_id": message.id}, workspace_id=conversation.workspace_id
    )
    return message


def _take_for_humans(
    session: AsyncSession, conversation: Conversation, agent: Agent, *, reason: str
) -> None:
    """An agent acting in an AI thread takes it: the assistant falls silent (explicit state)."""
    if conversation.handler == Handler.AI.value:
        conversation.handler = Handler.HUMAN.value
        _event(
            session,
            conversation,
            EventType.HANDOFF_REQUESTED,
            agent_id=agent.id,
            data={"reason": reason, "team_id": conversation.team_id, "by": "agent"},
        )
    if conversation.assignee_id is None:
        conversation.assignee_id = agent.id
        _event(
            session,
            conversation,
            EventType.CONVERSATION_ASSIGNED,
            agent_id=agent.id,
            data={"assignee_id": agent.id, "previous_assignee_id": None, "auto": True},
        )


async def do_add_note(
    session: AsyncSession,
    conversation: Conversation,
    *,
    text: str,
    agent: Agent | None,
    mentions: list[int] | None = None,
    sender_kind: SenderKind = SenderKind.AGENT,
    ai_meta: dict[str, Any] | None = None,
) -> Message:
    """A private note: visible to agents only, never delivered to the contact."""
    if not text.strip():
        raise InvalidInput("a note needs text")
    note = Message(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        inbox_id=None,
        direction=Direction.OUTBOUND.value,
        sender_kind=sender_kind.value,
        sender_agent_id=agent.id if agent else None,
        text=text,
        attachments=[],
        private=True,
        ai_meta=ai_meta,
        created_at=utcnow(),
    )
    session.add(note)
    await session.flush()
    _event(
        session,
        conversation,
        EventType.NOTE_ADDED,
        agent_id=agent.id if agent else None,
        message_id=note.id,
        data={"mentions": mentions or [], "sender_kind": sender_kind.value},
    )
    return note


def do_assign(
    session: AsyncSession, conversation: Conversation, assignee: Agent | None, *, by: Agent
) -> None:
    if assignee is not None and not assignee.active:
        raise InvalidInput(f"agent {assignee.id} is deactivated")
    previous = conversation.assignee_id
    conversation.assignee_id = assignee.id if assignee else None
    if assignee is not None and conversation.handler == Handler.AI.value:
        conversation.handler = Handler.HUMAN.value
        _event(
            session,
            conversation,
            EventType.HANDOFF_REQUESTED,
            agent_id=by.id,
            data={"reason": "assigned", "team_id": conversation.team_id, "by": "agent"},
        )
    _event(
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
    _event(
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
    _event(
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
    _event(
        session,
        conversation,
        EventType.CONVERSATION_HANDED_BACK,
        agent_id=by.id,
        data={"previous_assignee_id": previous},
    )


def do_resolve(session: AsyncSession, conversation: Conversation, *, by: Agent | None) -> None:
    if conversation.status == Status.RESOLVED.value:
        raise Conflict("the conversation is already resolved")
    conversation.status = Status.RESOLVED.value
    conversation.resolved_at = utcnow()
    conversation.snoozed_until = None
    _event(
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


async def do_reopen(session: AsyncSession, conversation: Conversation, *, by: Agent) -> None:
    if conversation.status != Status.RESOLVED.value:
        raise Conflict(f"the conversation is {conversation.status}, not resolved")
    other = await open_conversation_of(session, conversation.contact_id)
    if other is not None:
        raise Conflict(
            f"the contact already has an open conversation ({other.id})",
            details={"open_conversation_id": other.id},
        )
    _reopen(session, conversation, agent_id=by.id, by="agent")


def do_snooze(
    session: AsyncSession, conversation: Conversation, *, until: datetime, by: Agent
) -> None:
    if conversation.status == Status.RESOLVED.value:
        raise Conflict("a resolved conversation cannot be snoozed")
    if until <= utcnow():
        raise InvalidInput("snooze until a time in the future")
    conversation.status = Status.SNOOZED.value
    conversation.snoozed_until = until
    _event(
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
    _event(
        session, conversation, EventType.CONVERSATION_WOKEN, data={"from": "snoozed", "by": "timer"}
    )
    return True


def do_set_priority(
    session: AsyncSession, conversation: Conversation, priority: Priority, *, by: Agent | None
) -> None:
    previous = conversation.priority
    conversation.priority = priority.value
    _event(
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
    _event(
        session,
        conversation,
        EventType.CONVERSATION_TOPICS_CHANGED,
        agent_id=by.id if by else None,
        data={
            "topics": [{"name": n, "domain": d} for n, d in dict(topics).items()],
            "language": conversation.language,
        },
    )


def do_update_delivery(
    session: AsyncSession,
    message: Message,
    status: DeliveryStatus,
    *,
    external_id: str | None = None,
    error_code: str | None = None,
    error: str | None = None,
) -> bool:
    """Move a message's delivery status forward only; a late 'delivered' after 'read' is a no-op."""
    current = DeliveryStatus(message.delivery_status or DeliveryStatus.QUEUED.value)
    if external_id and not message.external_id:
        message.external_id = external_id
    if DELIVERY_RANK[status] <= DELIVERY_RANK[current] or current is DeliveryStatus.FAILED:
        return False
    message.delivery_status = status.value
    if status is DeliveryStatus.SENT:
        message.sent_at = utcnow()
    if status is DeliveryStatus.FAILED:
        message.delivery_error_code = error_code
        message.delivery_error = error
    append_event(
        session,
        message.workspace_id,
        EventType.MESSAGE_STATUS_CHANGED,
        conversation_id=message.conversation_id,
        message_id=message.id,
        data={
            "status": status.value,
            "previous": current.value,
            "error_code": error_code,
            "error": error,
        },
    )
    return True


def do_update_attachment(
    session: AsyncSession, message: Message, index: int, changes: dict[str, Any]
) -> None:
    """Record what became of an inbound attachment (stored on disk, or failed to fetch)."""
    attachments = [dict(attachment) for attachment in message.attachments]
    attachments[index].update(changes)
    message.attachments = attachments  # a new list, so the JSON column is written
    append_event(
        session,
        message.workspace_id,
        EventType.MESSAGE_UPDATED,
        conversation_id=message.conversation_id,
        message_id=message.id,
        data={"attachment": index, "status": changes.get("status")},
    )


async def do_record_sent_elsewhere(
    session: AsyncSession,
    conversation: Conversation,
    inbox: Inbox,
    *,
    identity_id: int,
    text: str,
    external_id: str,
    attachments: list[dict[str, Any]],
    sent_at: datetime | None,
) -> Message:
    """A reply the business sent outside onethread (the provider's own app), as the
    provider echoed it: shown in the thread as sent, never delivered again."""
    now = utcnow()
    message = Message(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.id,
        inbox_id=inbox.id,
        direction=Direction.OUTBOUND.value,
        sender_kind=SenderKind.AGENT.value,
        identity_id=identity_id,
        text=text,
        attachments=attachments,
        private=False,
        external_id=external_id,
        delivery_status=DeliveryStatus.SENT.value,
        sent_at=sent_at or now,
        created_at=now,
    )
    session.add(message)
    conversation.last_message_at = now
    await session.flush()
    _event(
        session,
        conversation,
        EventType.MESSAGE_CREATED,
        message_id=message.id,
        data={
            "sender_kind": SenderKind.AGENT.value,
            "inbox_id": inbox.id,
            "channel": inbox.channel,
            "private": False,
            "origin": "provider_app",
        },
    )
    return message
