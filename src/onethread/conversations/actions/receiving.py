"""Recording a received message in the contact's one thread, with its event and job.

The hot path of every webhook: a lean path for a returning customer with an
unresolved thread, the general path (new sender, reopen, new thread) otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from onethread.contacts.actions import ResolvedSender, do_resolve_sender
from onethread.contacts.models import Contact
from onethread.contacts.service import find_sender_thread
from onethread.conversations.actions.common import (
    ASSISTANT_TURN,
    conversation_event,
    reopen_thread,
)
from onethread.conversations.inbound import InboundMessage, ThreadOutcome
from onethread.conversations.models import (
    Conversation,
    Direction,
    Handler,
    Message,
    Priority,
    SenderKind,
    Status,
)
from onethread.conversations.service import (
    latest_resolved_conversation,
    open_conversation_of,
)
from onethread.db.types import utcnow
from onethread.events.log import insert_event
from onethread.events.types import EventType
from onethread.inboxes.models import Inbox
from onethread.outbox.actions import enqueue, insert_job
from onethread.workspaces.models import Workspace
from onethread.workspaces.service import settings_of


@dataclass
class RecordedInbound:
    message: Message
    conversation: Conversation
    contact: Contact
    outcome: ThreadOutcome


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
        conversation_event(
            session,
            conversation,
            EventType.CONVERSATION_WOKEN,
            data={"from": previous, "by": "message"},
        )
    await session.flush()
    conversation_event(
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
            reopen_thread(session, last, agent_id=None, by="message")
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
    conversation_event(
        session,
        conversation,
        EventType.CONVERSATION_CREATED,
        data={"previous_conversation_id": last.id if last else None},
    )
    return conversation, "created"
