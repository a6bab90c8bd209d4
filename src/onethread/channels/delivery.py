"""Outbound bridge: a queued message goes to its channel's adapter; the answer comes back.

The worker runs this for each ``delivery.send`` job. A provider's transient refusal
(429, 5xx, timeout) raises so the job retries with backoff; on the last attempt, and
on any final refusal, the message turns ``failed`` with the provider's code and reason,
visible in the conversation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.channels.base import DeliveryReceipt, Outbound, Recipient, SendFailed
from onethread.channels.outbound import reply_window
from onethread.channels.registry import adapter_for
from onethread.contacts.models import ContactIdentity
from onethread.conversations.actions import do_update_delivery
from onethread.conversations.models import Conversation, DeliveryStatus, Message, SenderKind
from onethread.db.database import Database
from onethread.db.failures import is_unavailable
from onethread.errors import PermanentFailure
from onethread.inboxes.channel_config import ChannelConfig
from onethread.inboxes.models import ChannelKind, Inbox
from onethread.inboxes.secrets import SecretBox
from onethread.inboxes.service import full_config, webhook_path
from onethread.observability.metrics import count_delivery_failure
from onethread.settings import Settings

log = logging.getLogger(__name__)

# How long a send the provider accepted waits for the database to record it.
RECORD_RECEIPT_SECONDS = 60.0
# Spoken on the call by the voice flow, not sent through an API.
SPOKEN_CHANNELS = {ChannelKind.TWILIO_VOICE.value}


@dataclass
class PreparedSend:
    message_id: int
    inbox: Inbox
    config: ChannelConfig
    outbound: Outbound


async def _fail(db: Database, message_id: int, code: str | None, reason: str) -> None:
    async with db.session() as session:
        message = await session.get(Message, message_id)
        if message is not None:
            do_update_delivery(
                session, message, DeliveryStatus.FAILED, error_code=code, error=reason
            )


async def _needs_human_agent_tag(session: AsyncSession, inbox: Inbox, message: Message) -> bool:
    """An agent's reply past the 24 h window, on a channel with Meta's HUMAN_AGENT tag.

    Only then is the window looked up: most deliveries skip the query.
    """
    adapter = adapter_for(inbox.channel)
    if adapter.window is None or adapter.window.human_agent_hours is None:
        return False
    if message.sender_kind != SenderKind.AGENT.value:
        return False
    conversation = await session.get(Conversation, message.conversation_id)
    assert conversation is not None
    window = await reply_window(session, adapter, conversation, inbox)
    return not window.open and window.human_agent


async def _prepare(
    session: AsyncSession, secrets: SecretBox, settings: Settings, message: Message
) -> PreparedSend | None:
    inbox = await session.get(Inbox, message.inbox_id) if message.inbox_id else None
    if inbox is None:
        do_update_delivery(
            session,
            message,
            DeliveryStatus.FAILED,
            error_code="no_inbox",
            error="the inbox of this message was deleted",
        )
        return None
    config = full_config(inbox, secrets)
    if config.sandbox:
        do_update_delivery(
            session, message, DeliveryStatus.SENT, external_id=f"sandbox-{message.id}"
        )
        do_update_delivery(session, message, DeliveryStatus.DELIVERED)
        return None
    if inbox.channel in SPOKEN_CHANNELS:
        return None  # the voice flow says it in the caller's next TwiML turn
    identity = (
        await session.get(ContactIdentity, message.identity_id) if message.identity_id else None
    )
    if identity is None:
        do_update_delivery(
            session,
            message,
            DeliveryStatus.FAILED,
            error_code="no_recipient",
            error="the contact's identity on this channel was removed",
        )
        return None
    return PreparedSend(
        message_id=message.id,
        inbox=inbox,
        config=config,
        outbound=Outbound(
            message_id=message.id,
            recipient=Recipient(identity.external_id, identity.phone, dict(identity.details)),
            text=message.text,
            interactive=message.interactive,
            human_agent=await _needs_human_agent_tag(session, inbox, message),
            status_callback_url=settings.public_path_url(webhook_path(inbox)),
        ),
    )


async def deliver_message(
    db: Database,
    secrets: SecretBox,
    settings: Settings,
    http: httpx.AsyncClient,
    message_id: int,
    *,
    last_attempt: bool = False,
) -> None:
    async with db.session() as session:
        message = await session.get(Message, message_id)
        if message is None or message.private:
            return  # deleted, or a note: notes are never sent
        if message.delivery_status != DeliveryStatus.QUEUED.value:
            return  # already handled by an earlier attempt
        prepared = await _prepare(session, secrets, settings, message)
    if prepared is None:
        return
    adapter = adapter_for(prepared.inbox.channel)
    try:
        receipt = await adapter.send(prepared.config, prepared.outbound, http)
    except SendFailed as failure:
        retrying = failure.transient and not last_attempt
        count_delivery_failure(prepared.inbox.channel, failure.code, final=not retrying)
        if retrying:
            raise  # the job retries with backoff
        reason = failure.reason
        if failure.transient:
            reason = f"gave up after repeated provider errors; last: {failure.reason}"
        await _fail(db, message_id, failure.code, reason)
        raise PermanentFailure(
            f"{prepared.inbox.channel} refused message {message_id}: {reason}"
        ) from failure
    await _record_receipt(db, message_id, receipt)


async def _record_receipt(db: Database, message_id: int, receipt: DeliveryReceipt) -> None:
    """Store what the provider accepted, retrying through a database outage.

    Until this commits, a rerun of the job would send the message again: the provider
    has no idempotency key to refuse the second copy (docs/durability.md, "Replies").
    So the window is kept to one commit, and a database that is briefly down is waited
    for (the worker renews the job's lease meanwhile) rather than failing the job.
    """
    deadline = time.monotonic() + RECORD_RECEIPT_SECONDS
    delay = 0.1
    while True:
        try:
            async with db.session() as session:
                message = await session.get(Message, message_id)
                if message is not None:
                    do_update_delivery(
                        session, message, receipt.status, external_id=receipt.external_id
                    )
            return
        except Exception as exc:
            if not is_unavailable(exc) or time.monotonic() + delay > deadline:
                raise
            log.warning("message %s was sent; recording it again: %s", message_id, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
