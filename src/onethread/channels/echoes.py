"""Echoes (Instagram, Messenger): the provider repeating what the business sent.

An echo of our own reply is recognised by its provider id, or, when it outran the
commit of that id, by the same text to the same person moments ago. Anything else
was sent from the provider's own app and joins the thread as a reply, never inbound.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.channels.base import Echo
from onethread.contacts.service import find_identity
from onethread.conversations.actions import do_record_sent_elsewhere
from onethread.conversations.models import Conversation, Direction, Message
from onethread.conversations.service import open_conversation_of
from onethread.db.types import utcnow
from onethread.inboxes.models import IDENTITY_CHANNEL, ChannelKind, Inbox

OWN_SEND_GRACE = timedelta(minutes=10)


async def apply_echo(session: AsyncSession, inbox: Inbox, echo: Echo) -> bool:
    """Record an echo; True when it was a reply sent outside onethread (now in the thread)."""
    known = await session.scalar(
        select(Message.id).where(
            Message.inbox_id == inbox.id, Message.external_id == echo.external_id
        )
    )
    if known is not None or echo.recipient_id is None:
        return False
    channel = IDENTITY_CHANNEL[ChannelKind(inbox.channel)]
    found = await find_identity(session, inbox.workspace_id, channel, echo.recipient_id)
    if found is None:
        return False  # someone who never wrote to us: no thread to show it in
    identity, contact = found
    ours = await session.scalar(
        select(Message)
        .where(
            Message.inbox_id == inbox.id,
            Message.identity_id == identity.id,
            Message.direction == Direction.OUTBOUND.value,
            Message.external_id.is_(None),
            Message.text == echo.text,
            Message.created_at >= utcnow() - OWN_SEND_GRACE,
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    if ours is not None:
        ours.external_id = echo.external_id  # our send's id, learnt early
        return False
    conversation = await open_conversation_of(session, contact.id) or await session.scalar(
        select(Conversation)
        .where(Conversation.contact_id == contact.id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    if conversation is None:
        return False
    await do_record_sent_elsewhere(
        session,
        conversation,
        inbox,
        identity_id=identity.id,
        text=echo.text,
        external_id=echo.external_id,
        attachments=echo.attachments,
        sent_at=echo.sent_at,
    )
    return True
