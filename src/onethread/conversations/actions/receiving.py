"""Recording a received message in the contact's one thread, with its event and job.

The hot path of every webhook: a returning customer with an unresolved thread joins it
and a first-time sender gets a contact and a thread through ``receiving_many.py`` (which
writes many such messages at once); a duplicate, a contact to link by a verified phone or
email, a thread to reopen or to create for a known contact take the general path here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.contacts.actions import ResolvedSender, do_resolve_sender
from onethread.contacts.models import Contact
from onethread.conversations.actions.common import (
    ASSISTANT_TURN,
    reopen_thread,
)
from onethread.conversations.actions.receiving_many import (
    Arrival,
    InboxRef,
    RecordedInbound,
    do_record_many,
)
from onethread.conversations.events import conversation_event
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
from onethread.events.types import EventType
from onethread.inboxes.models import Inbox
from onethread.observability.context import request_id as current_request_id
from onethread.outbox.actions import enqueue
from onethread.surveys.actions import do_record_answer
from onethread.surveys.service import PendingAnswer, answer_to_pending_survey
from onethread.workspaces.models import Workspace
from onethread.workspaces.service import settings_of

__all__ = ["RecordedInbound", "do_record_inbound", "record_in_general"]

_MESSAGES = cast(Table, Message.__table__)

_FIND_DUPLICATE = select(_MESSAGES.c.id).where(
    _MESSAGES.c.inbox_id == bindparam("inbox_id"),
    _MESSAGES.c.external_id == bindparam("external_id"),
)


async def do_record_inbound(
    session: AsyncSession, workspace: Workspace, inbox: Inbox, inbound: InboundMessage
) -> RecordedInbound:
    """Store a received message in the contact's thread, with its event and assistant job.

    A provider id seen before on this inbox returns the stored message (outcome
    ``duplicate``). Concurrent duplicates are stopped by unique indexes; the caller
    retries the unit of work on IntegrityError (``Database.write``).

    A returning customer with an unresolved thread (most messages) and a first contact
    go through ``do_record_many``, the path that also takes many messages at once; the
    rows are those of ``record_in_general``, which takes the rest.
    """
    ref = InboxRef(inbox.id, workspace.id, inbox.channel)
    arrival = Arrival(ref, inbound, current_request_id.get())
    [recorded] = await do_record_many(session, [arrival])
    if recorded is not None:
        return recorded
    return await record_in_general(session, workspace, inbox, inbound)


async def record_in_general(
    session: AsyncSession, workspace: Workspace, inbox: Inbox, inbound: InboundMessage
) -> RecordedInbound:
    """Any received message, through the ORM: duplicates, linking, reopening, new threads,
    and replies to a survey (recorded as its answer, without reopening the thread)."""
    if inbound.external_id:
        known = await session.scalar(
            _FIND_DUPLICATE, {"inbox_id": inbox.id, "external_id": inbound.external_id}
        )
        if known is not None:
            existing = await session.get(Message, known)
            assert existing is not None
            conversation = await session.get(Conversation, existing.conversation_id)
            assert conversation is not None
            contact = await session.get(Contact, conversation.contact_id)
            assert contact is not None
            return RecordedInbound(existing, conversation, contact, "duplicate")

    sender = await do_resolve_sender(session, workspace.id, inbound.sender)
    now = utcnow()
    conversation, outcome, survey_answer = await _thread_for(
        session, workspace, inbox, sender, inbound, now
    )
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
    if survey_answer is not None:  # an answer is not a question: the assistant stays out
        await do_record_answer(session, conversation, survey_answer, message, inbox)
    else:
        enqueue(
            session,
            ASSISTANT_TURN,
            {"conversation_id": conversation.id, "message_id": message.id},
            workspace_id=workspace.id,
        )
    return RecordedInbound(message, conversation, sender.contact, outcome)


async def _thread_for(
    session: AsyncSession,
    workspace: Workspace,
    inbox: Inbox,
    sender: ResolvedSender,
    inbound: InboundMessage,
    now: datetime,
) -> tuple[Conversation, ThreadOutcome, PendingAnswer | None]:
    """The message's thread and how it got there; with the survey it answers, if any."""
    contact = sender.contact
    last = None
    if not sender.contact_created:  # a contact created in this unit of work has no thread yet
        current = await open_conversation_of(session, contact.id)
        if current is not None:
            return current, "joined", None
        window = timedelta(hours=settings_of(workspace).reopen_window_hours)
        last = await latest_resolved_conversation(session, contact.id)
        if last is not None and last.resolved_at is not None and now - last.resolved_at <= window:
            # A survey answer joins the resolved thread without reopening it. Only this
            # path sees resolved threads: the batch path leaves them all here.
            answer = await answer_to_pending_survey(
                session, last, inbox.id, inbound.text, inbound.interactive
            )
            if answer is not None:
                return last, "survey_answer", answer
            reopen_thread(session, last, agent_id=None, by="message")
            return last, "reopened", None
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
    return conversation, "created", None
