"""Conversation reads: access, the filtered list with keyset pages, the timeline."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.contacts.models import Contact, ContactIdentity
from onethread.conversations.models import (
    Conversation,
    ConversationTopic,
    Direction,
    Handler,
    Message,
    Status,
)
from onethread.conversations.search import conversations_matching
from onethread.errors import InvalidInput, NotFound
from onethread.inboxes.models import IDENTITY_CHANNEL, ChannelKind, Inbox


async def access_conversation(
    session: AsyncSession, workspace_id: int, conversation_id: int
) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.workspace_id != workspace_id:
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation


async def open_conversation_of(session: AsyncSession, contact_id: int) -> Conversation | None:
    row: Conversation | None = await session.scalar(
        select(Conversation).where(
            Conversation.contact_id == contact_id, Conversation.status != Status.RESOLVED.value
        )
    )
    return row


async def latest_resolved_conversation(
    session: AsyncSession, contact_id: int
) -> Conversation | None:
    row: Conversation | None = await session.scalar(
        select(Conversation)
        .where(
            Conversation.contact_id == contact_id,
            Conversation.status == Status.RESOLVED.value,
            Conversation.merged_into_id.is_(None),
        )
        .order_by(Conversation.resolved_at.desc(), Conversation.id.desc())
        .limit(1)
    )
    return row


@dataclass
class ReplyTarget:
    inbox: Inbox
    identity_id: int | None


async def reply_target(
    session: AsyncSession, conversation: Conversation, inbox: Inbox | None
) -> ReplyTarget:
    """The inbox and recipient identity of a reply: the latest inbound channel by default."""
    if inbox is None:
        last_inbound = await session.scalar(
            select(Message)
            .where(
                Message.conversation_id == conversation.id,
                Message.direction == Direction.INBOUND.value,
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        if last_inbound is None or last_inbound.inbox_id is None:
            raise InvalidInput("the contact has not written on any channel yet; pick an inbox")
        chosen = await session.get(Inbox, last_inbound.inbox_id)
        if chosen is None:
            raise InvalidInput("the inbox of the latest message was deleted; pick an inbox")
        return ReplyTarget(chosen, last_inbound.identity_id)
    if inbox.workspace_id != conversation.workspace_id:
        raise NotFound(f"inbox {inbox.id} not found")
    identity = await session.scalar(
        select(ContactIdentity)
        .where(
            ContactIdentity.contact_id == conversation.contact_id,
            ContactIdentity.channel == IDENTITY_CHANNEL[ChannelKind(inbox.channel)],
        )
        .order_by(ContactIdentity.id.desc())
        .limit(1)
    )
    if identity is None:
        raise InvalidInput(
            f"the contact has no identity on {inbox.channel}; "
            "reply on one of the channels they used",
            details={"inbox_id": inbox.id},
        )
    return ReplyTarget(inbox, identity.id)


async def last_inbound_at(session: AsyncSession, contact_id: int, inbox_id: int) -> datetime | None:
    """When the contact last wrote to this inbox: the start of a channel's reply window."""
    return await session.scalar(
        select(func.max(Message.created_at))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.contact_id == contact_id,
            # "+ 0" keeps SQLite off the (inbox_id, external_id) index, which scans every
            # message of the inbox: the contact's threads are the narrow way in.
            Message.inbox_id + 0 == inbox_id,
            Message.direction == Direction.INBOUND.value,
        )
    )


@dataclass
class ConversationFilters:
    status: str | None = None
    handler: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    team_id: int | None = None
    inbox_id: int | None = None
    topic: str | None = None
    domain: str | None = None
    language: str | None = None
    contact_id: int | None = None
    q: str | None = None


def encode_cursor(conversation: Conversation) -> str:
    raw = f"{conversation.last_message_at.isoformat()}|{conversation.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, ident = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(stamp), int(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("invalid cursor", details={"field": "cursor"}) from exc


def _filtered(workspace_id: int, filters: ConversationFilters) -> Select[Conversation]:
    query = select(Conversation).where(
        Conversation.workspace_id == workspace_id, Conversation.merged_into_id.is_(None)
    )
    equal = {
        Conversation.status: filters.status,
        Conversation.handler: filters.handler,
        Conversation.assignee_id: filters.assignee_id,
        Conversation.team_id: filters.team_id,
        Conversation.language: filters.language,
        Conversation.contact_id: filters.contact_id,
    }
    for column, value in equal.items():
        if value is not None:
            query = query.where(column == value)
    if filters.unassigned:
        query = query.where(Conversation.assignee_id.is_(None))
    if filters.inbox_id is not None:
        query = query.where(
            select(Message.id)
            .where(Message.conversation_id == Conversation.id, Message.inbox_id == filters.inbox_id)
            .exists()
        )
    if filters.topic is not None or filters.domain is not None:
        topic_match = select(ConversationTopic.id).where(
            ConversationTopic.conversation_id == Conversation.id
        )
        if filters.topic is not None:
            topic_match = topic_match.where(ConversationTopic.name == filters.topic)
        if filters.domain is not None:
            topic_match = topic_match.where(ConversationTopic.domain == filters.domain)
        query = query.where(topic_match.exists())
    if filters.q:
        query = query.where(conversations_matching(workspace_id, filters.q))
    return query


async def list_conversations(
    session: AsyncSession,
    workspace_id: int,
    filters: ConversationFilters,
    *,
    limit: int = 25,
    cursor: str | None = None,
) -> tuple[list[Conversation], str | None]:
    """Newest activity first, keyset-paged so page 400 costs what page 1 costs."""
    query = _filtered(workspace_id, filters)
    if cursor:
        stamp, ident = decode_cursor(cursor)
        # The bare "<=" lets the list index seek to the cursor; the OR settles ties.
        query = query.where(
            Conversation.last_message_at <= stamp,
            or_(Conversation.last_message_at < stamp, Conversation.id < ident),
        )
    query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    rows = list((await session.scalars(query.limit(limit + 1))).all())
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


@dataclass
class ViewCounts:
    """How many conversations each inbox view holds under the same filters."""

    all: int = 0
    mine: int = 0
    unassigned: int = 0
    ai: int = 0
    waiting: int = 0
    teams: dict[int, int] = field(default_factory=dict)


async def count_views(
    session: AsyncSession, workspace_id: int, agent_id: int, filters: ConversationFilters
) -> ViewCounts:
    """Every view's count in one query: one row per team, each view a ``SUM(CASE …)``.

    The views are the inbox's: mine (assigned to ``agent_id``), unassigned (and open,
    unless ``filters.status`` names another status), each team, handled by AI, waiting
    for a human (handler human, nobody assigned), all. ``filters`` narrows every view;
    its view-defining fields (assignee, handler, team) are the caller's to leave empty.
    """

    def counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    unassigned = Conversation.assignee_id.is_(None)
    unassigned_view = (
        unassigned
        if filters.status is not None
        else and_(unassigned, Conversation.status == Status.OPEN.value)
    )
    query = (
        _filtered(workspace_id, filters)
        .with_only_columns(
            Conversation.team_id,
            func.count(Conversation.id),
            counted(Conversation.assignee_id == agent_id),
            counted(unassigned_view),
            counted(Conversation.handler == Handler.AI.value),
            counted(and_(Conversation.handler == Handler.HUMAN.value, unassigned)),
        )
        .group_by(Conversation.team_id)
    )
    counts = ViewCounts()
    for team_id, total, mine, unassigned_open, ai, waiting in await session.execute(query):
        counts.all += int(total)
        counts.mine += int(mine)
        counts.unassigned += int(unassigned_open)
        counts.ai += int(ai)
        counts.waiting += int(waiting)
        if team_id is not None:
            counts.teams[team_id] = int(total)
    return counts


async def topics_of(
    session: AsyncSession, conversation_ids: list[int]
) -> dict[int, list[ConversationTopic]]:
    topics: dict[int, list[ConversationTopic]] = {cid: [] for cid in conversation_ids}
    if conversation_ids:
        for topic in await session.scalars(
            select(ConversationTopic)
            .where(ConversationTopic.conversation_id.in_(conversation_ids))
            .order_by(ConversationTopic.id)
        ):
            topics[topic.conversation_id].append(topic)
    return topics


async def previews_of(session: AsyncSession, conversation_ids: list[int]) -> dict[int, str]:
    if not conversation_ids:
        return {}
    latest = (
        select(func.max(Message.id))
        .where(Message.conversation_id.in_(conversation_ids), Message.private.is_(False))
        .group_by(Message.conversation_id)
    )
    rows = await session.execute(
        select(Message.conversation_id, Message.text).where(Message.id.in_(latest))
    )
    return {cid: text[:140] for cid, text in rows}


async def contacts_of(session: AsyncSession, contact_ids: list[int]) -> dict[int, Contact]:
    if not contact_ids:
        return {}
    rows = await session.scalars(select(Contact).where(Contact.id.in_(set(contact_ids))))
    return {contact.id: contact for contact in rows}


async def timeline(
    session: AsyncSession,
    conversation: Conversation,
    *,
    include_private: bool = True,
    after_id: int | None = None,
    limit: int = 500,
) -> list[tuple[Message, str | None]]:
    """Messages of the thread in order, each with the channel it travelled on."""
    query = (
        select(Message, Inbox.channel)
        .outerjoin(Inbox, Inbox.id == Message.inbox_id)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.id)
        .limit(limit)
    )
    if not include_private:
        query = query.where(Message.private.is_(False))
    if after_id is not None:
        query = query.where(Message.id > after_id)
    return [(message, channel) for message, channel in await session.execute(query)]


async def access_message(session: AsyncSession, workspace_id: int, message_id: int) -> Message:
    message = await session.get(Message, message_id)
    if message is None or message.workspace_id != workspace_id:
        raise NotFound(f"message {message_id} not found")
    return message
