"""The JSON body of a delivery: the event, and what it is about as the public API shows it."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.contacts.models import Contact
from onethread.contacts.schemas import ContactOut
from onethread.conversations.models import Conversation, Message
from onethread.conversations.rendering import conversation_outs, message_out
from onethread.events.models import Event
from onethread.inboxes.models import Inbox
from onethread.integrations.catalog import PING
from onethread.integrations.models import WebhookDelivery


def _json(model: BaseModel) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(mode="json")
    return dumped


async def _event_data(session: AsyncSession, event: Event) -> dict[str, Any]:
    data: dict[str, Any] = {"event": event.data or {}}
    if event.conversation_id is not None:
        conversation = await session.get(Conversation, event.conversation_id)
        if conversation is not None:
            data["conversation"] = _json((await conversation_outs(session, [conversation]))[0])
    if event.message_id is not None:
        message = await session.get(Message, event.message_id)
        if message is not None and not message.private:
            inbox = await session.get(Inbox, message.inbox_id) if message.inbox_id else None
            data["message"] = _json(message_out(message, inbox.channel if inbox else None))
    if event.contact_id is not None:
        contact = await session.get(Contact, event.contact_id)
        if contact is not None:
            data["contact"] = _json(ContactOut.model_validate(contact))
    return data


async def render_body(session: AsyncSession, delivery: WebhookDelivery) -> str:
    """``{id, type, created_at, workspace_id, data}``; ``id`` is the delivery's."""
    event = await session.get(Event, delivery.event_id) if delivery.event_id else None
    if event is None:
        created_at, data = (
            delivery.created_at,
            ({"message": "ping from onethread"} if delivery.event_type == PING else {}),
        )
    else:
        created_at, data = event.created_at, await _event_data(session, event)
    body = {
        "id": delivery.id,
        "type": delivery.event_type,
        "created_at": created_at.isoformat(),
        "workspace_id": delivery.workspace_id,
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)
