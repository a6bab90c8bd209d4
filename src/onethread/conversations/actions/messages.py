"""Messages written into a thread: replies, notes, delivery news, echoes of replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.models import Agent
from onethread.conversations.actions.common import (
    DELIVERY_SEND,
    take_for_humans,
)
from onethread.conversations.events import conversation_event
from onethread.conversations.models import (
    DELIVERY_RANK,
    Conversation,
    DeliveryStatus,
    Direction,
    Message,
    SenderKind,
)
from onethread.conversations.service import (
    ReplyTarget,
    reply_target,
)
from onethread.db.types import utcnow
from onethread.errors import InvalidInput
from onethread.events.log import append_event
from onethread.events.types import EventType
from onethread.inboxes.models import Inbox
from onethread.outbox.actions import enqueue


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
        take_for_humans(session, conversation, agent, reason="agent_replied")
    if sender_kind is SenderKind.AI:
        conversation.ai_turns += 1
    await session.flush()
    conversation_event(
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
    conversation_event(
        session,
        conversation,
        EventType.NOTE_ADDED,
        agent_id=agent.id if agent else None,
        message_id=note.id,
        data={"mentions": mentions or [], "sender_kind": sender_kind.value},
    )
    return note


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
    conversation_event(
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
