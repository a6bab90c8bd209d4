"""Outbound delivery: the bridge from a queued message to a channel, and back to its status.

Until the channel adapters land, only sandbox inboxes deliver (to the local sandbox,
as demos and trials need); a live inbox fails visibly with the reason instead of
pretending to send.
"""

from __future__ import annotations

from sqlalchemy import select

from onethread.conversations.actions import do_update_delivery
from onethread.conversations.models import DeliveryStatus, Message
from onethread.db.database import Database
from onethread.errors import PermanentFailure
from onethread.inboxes.models import Inbox
from onethread.inboxes.secrets import SecretBox
from onethread.inboxes.service import full_config


async def deliver_message(db: Database, secrets: SecretBox, message_id: int) -> None:
    async with db.session() as session:
        message = await session.scalar(select(Message).where(Message.id == message_id))
        if message is None or message.private:
            return  # deleted, or a note: notes are never sent
        if message.delivery_status != DeliveryStatus.QUEUED.value:
            return  # already handled by an earlier attempt
        inbox = await session.get(Inbox, message.inbox_id) if message.inbox_id else None
        if inbox is None:
            do_update_delivery(
                session,
                message,
                DeliveryStatus.FAILED,
                error_code="no_inbox",
                error="the inbox of this message was deleted",
            )
            return
        config = full_config(inbox, secrets)
        if config.sandbox:
            do_update_delivery(
                session, message, DeliveryStatus.SENT, external_id=f"sandbox-{message.id}"
            )
            do_update_delivery(session, message, DeliveryStatus.DELIVERED)
            return
        do_update_delivery(
            session,
            message,
            DeliveryStatus.FAILED,
            error_code="no_adapter",
            error=f"no {inbox.channel} adapter is installed in this version; "
            "switch the inbox to sandbox mode or upgrade",
        )
    raise PermanentFailure(f"no adapter for {inbox.channel}")
