"""How the API renders conversations and messages; shared with outbound webhook payloads."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.models import Domain
from onethread.conversations import service
from onethread.conversations.models import Conversation, Handler, Message, Priority, Status
from onethread.conversations.schemas import ContactBrief, ConversationOut, MessageOut, TopicOut


async def conversation_outs(
    session: AsyncSession, conversations: list[Conversation]
) -> list[ConversationOut]:
    """Conversations as the API shows them: contact, topics and preview read in batches."""
    ids = [c.id for c in conversations]
    topics = await service.topics_of(session, ids)
    previews = await service.previews_of(session, ids)
    contacts = await service.contacts_of(session, [c.contact_id for c in conversations])
    return [
        ConversationOut(
            id=c.id,
            contact=ContactBrief(id=c.contact_id, name=contacts[c.contact_id].name),
            status=Status(c.status),
            handler=Handler(c.handler),
            assignee_id=c.assignee_id,
            team_id=c.team_id,
            priority=Priority(c.priority),
            language=c.language,
            topics=[TopicOut(name=t.name, domain=Domain(t.domain)) for t in topics[c.id]],
            last_inbox_id=c.last_inbox_id,
            last_message_at=c.last_message_at,
            last_inbound_at=c.last_inbound_at,
            snoozed_until=c.snoozed_until,
            resolved_at=c.resolved_at,
            created_at=c.created_at,
            preview=previews.get(c.id),
        )
        for c in conversations
    ]


def message_out(message: Message, channel: str | None) -> MessageOut:
    """A message as the API shows it, with the channel it came or went on."""
    fields = {name: getattr(message, name) for name in MessageOut.model_fields if name != "channel"}
    return MessageOut(channel=channel, **fields)
