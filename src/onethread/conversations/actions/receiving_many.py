"""Many received messages in a few statements: returning customers and first contacts.

Most inbound messages come from a customer whose thread is not resolved, many of the
rest from someone writing for the first time. For those, everything a group-commit batch
received is written at once: one lookup of the stored provider ids, one of the senders'
threads, the first contacts' rows, then multi-row inserts of the messages, their events
and their assistant jobs, and the threads' updates as one executemany, whatever the
number of messages (docs/benchmarks.md, "Webhook ingest over HTTP"). The rows are those
``do_record_inbound``'s general path writes; what this path does not take (a duplicate,
a contact to link by phone or email, a thread to reopen or create for a known contact,
a second message of one sender, thread or verified phone in the batch) is left to it.
So is a reply to a satisfaction survey: surveys are asked in resolved threads, which
this path never takes (``docs/surveys.md``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from onethread.contacts.models import Contact, ContactIdentity
from onethread.conversations.actions.common import ASSISTANT_TURN
from onethread.conversations.actions.first_contact import (
    FirstContact,
    create_first_contact,
    is_first_contact,
    verified_keys,
)
from onethread.conversations.inbound import InboundMessage, ThreadOutcome
from onethread.conversations.models import Conversation, Direction, Message, SenderKind, Status
from onethread.db.database import PENDING_EVENTS_KEY
from onethread.db.types import utcnow
from onethread.events.models import Event
from onethread.events.types import EventType
from onethread.observability.context import REQUEST_ID_KEY
from onethread.outbox.models import Job, JobStatus

# Every job the outbox enqueues may be tried this many times (``outbox.actions.enqueue``).
MAX_ATTEMPTS = 8


@dataclass
class RecordedInbound:
    message: Message
    conversation: Conversation
    contact: Contact
    outcome: ThreadOutcome


class InboxRef(NamedTuple):
    """What recording a message needs of its inbox."""

    id: int
    workspace_id: int
    channel: str


class Arrival(NamedTuple):
    inbox: InboxRef
    inbound: InboundMessage
    request_id: str | None = None  # of the request that brought it, carried into its job


SenderKey = tuple[int, str, str]  # workspace, channel, the sender's id on that channel

_MESSAGES = cast(Table, Message.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_EVENTS = cast(Table, Event.__table__)
_JOBS = cast(Table, Job.__table__)

_STORED_IDS = select(_MESSAGES.c.external_id).where(
    _MESSAGES.c.inbox_id == bindparam("inbox_id"),
    _MESSAGES.c.external_id.in_(bindparam("external_ids", expanding=True)),
)

# Identities with their contact and the contact's one unresolved thread (a partial
# unique index keeps it one): no row when the identity is new or every thread resolved.
_SENDER_THREADS = (
    select(ContactIdentity, Contact, Conversation)
    .join(Contact, Contact.id == ContactIdentity.contact_id)
    .join(
        Conversation,
        (Conversation.contact_id == Contact.id) & (Conversation.status != Status.RESOLVED.value),
    )
    .where(
        ContactIdentity.workspace_id == bindparam("workspace_id"),
        ContactIdentity.channel == bindparam("channel"),
        ContactIdentity.external_id.in_(bindparam("external_ids", expanding=True)),
    )
)

# Multi-row inserts; RETURNING's order is not the VALUES order on every database, so the
# rows come back with a key: one message per thread, one event of each type per thread
# (or per contact, for a first contact's events that name no thread).
_INSERT_MESSAGES = insert(_MESSAGES).returning(_MESSAGES.c.id, _MESSAGES.c.conversation_id)
_INSERT_EVENTS = insert(_EVENTS).returning(
    _EVENTS.c.id, _EVENTS.c.conversation_id, _EVENTS.c.contact_id, _EVENTS.c.type
)
_INSERT_JOBS = insert(_JOBS)

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

Found = tuple[ContactIdentity, Contact, Conversation]


@dataclass
class _Placement:
    """Where one arrival goes: its identity, contact and thread, and how it got there."""

    index: int
    identity: ContactIdentity
    contact: Contact
    conversation: Conversation
    outcome: ThreadOutcome
    first: FirstContact | None = None


@dataclass
class _Plan:
    joining: list[_Placement]
    unplaced: list[int]  # once-each arrivals, not duplicates, with no unresolved thread


async def do_record_many(
    session: AsyncSession, arrivals: Sequence[Arrival]
) -> list[RecordedInbound | None]:
    """Record each message of a returning sender with an unresolved thread, or of a first
    contact; None for the others, which the general path takes. One answer per arrival."""
    if not arrivals:
        return []
    plan = await session.run_sync(_plan, arrivals)
    firsts: list[int] = []
    keys: Counter[tuple[int, str]] = Counter()
    for index in plan.unplaced:
        arrival = arrivals[index]
        sender = arrival.inbound.sender
        if await is_first_contact(session, arrival.inbox.workspace_id, sender):
            firsts.append(index)
            keys.update((arrival.inbox.workspace_id, key) for key in verified_keys(sender) if key)
    # Two first contacts with one verified phone or email: the second links to the first.
    firsts = [
        index
        for index in firsts
        if all(
            keys[(arrivals[index].inbox.workspace_id, key)] == 1
            for key in verified_keys(arrivals[index].inbound.sender)
            if key
        )
    ]
    return await session.run_sync(_record, arrivals, plan.joining, firsts)


def _plan(session: Session, arrivals: Sequence[Arrival]) -> _Plan:
    candidates = _not_stored(session, arrivals, _once_each(arrivals))
    threads = _sender_threads(session, [arrivals[i] for i in candidates])
    joining: list[_Placement] = []
    unplaced: list[int] = []
    taken: set[int] = set()
    for index in candidates:
        found = threads.get(_sender_key(arrivals[index]))
        if found is None:
            unplaced.append(index)
        elif found[2].id not in taken:
            taken.add(found[2].id)
            joining.append(_Placement(index, *found, outcome="joined"))
    return _Plan(joining, unplaced)


def _record(
    session: Session,
    arrivals: Sequence[Arrival],
    joining: list[_Placement],
    firsts: list[int],
) -> list[RecordedInbound | None]:
    results: list[RecordedInbound | None] = [None] * len(arrivals)
    now = utcnow()
    placements = list(joining)
    for index in firsts:
        arrival = arrivals[index]
        first = create_first_contact(
            session, arrival.inbox.workspace_id, arrival.inbox.id, arrival.inbound.sender, now
        )
        placements.append(
            _Placement(index, first.identity, first.contact, first.conversation, "created", first)
        )
    if placements:
        for index, recorded in _write(session, arrivals, placements, now):
            results[index] = recorded
    return results


def _sender_key(arrival: Arrival) -> SenderKey:
    sender = arrival.inbound.sender
    return (arrival.inbox.workspace_id, sender.channel, sender.external_id)


def _once_each(arrivals: Sequence[Arrival]) -> list[int]:
    """Arrivals whose sender and provider id come once: a repeat keeps its order there."""
    senders = Counter(_sender_key(arrival) for arrival in arrivals)
    provider_ids = Counter(
        (arrival.inbox.id, arrival.inbound.external_id)
        for arrival in arrivals
        if arrival.inbound.external_id
    )
    return [
        index
        for index, arrival in enumerate(arrivals)
        if senders[_sender_key(arrival)] == 1
        and (
            not arrival.inbound.external_id
            or provider_ids[(arrival.inbox.id, arrival.inbound.external_id)] == 1
        )
    ]


def _not_stored(session: Session, arrivals: Sequence[Arrival], candidates: list[int]) -> list[int]:
    """Drop the arrivals whose provider id this inbox has stored already (duplicates)."""
    by_inbox: dict[int, list[str]] = {}
    for index in candidates:
        arrival = arrivals[index]
        if arrival.inbound.external_id:
            by_inbox.setdefault(arrival.inbox.id, []).append(arrival.inbound.external_id)
    stored: set[tuple[int, str]] = set()
    connection = session.connection()
    for inbox_id, external_ids in by_inbox.items():
        rows = connection.execute(_STORED_IDS, {"inbox_id": inbox_id, "external_ids": external_ids})
        stored.update((inbox_id, external_id) for external_id in rows.scalars())
    return [
        index
        for index in candidates
        if (arrivals[index].inbox.id, arrivals[index].inbound.external_id) not in stored
    ]


def _sender_threads(session: Session, arrivals: list[Arrival]) -> dict[SenderKey, Found]:
    groups: dict[tuple[int, str], list[str]] = {}
    for arrival in arrivals:
        workspace_id, channel, external_id = _sender_key(arrival)
        groups.setdefault((workspace_id, channel), []).append(external_id)
    found: dict[SenderKey, Found] = {}
    for (workspace_id, channel), external_ids in groups.items():
        params = {"workspace_id": workspace_id, "channel": channel, "external_ids": external_ids}
        for identity, contact, conversation in session.execute(_SENDER_THREADS, params).all():
            found[(workspace_id, channel, identity.external_id)] = (identity, contact, conversation)
    return found


def _write(
    session: Session, arrivals: Sequence[Arrival], placements: list[_Placement], now: Any
) -> list[tuple[int, RecordedInbound]]:
    """The messages, the threads' updates, the events and the jobs: four statements."""
    connection = session.connection()
    rows: list[dict[str, Any]] = []
    for placement in placements:
        inbound = arrivals[placement.index].inbound
        identity = placement.identity
        if inbound.sender.display_name and not identity.display_name:
            identity.display_name = inbound.sender.display_name
        rows.append(
            _message_row(
                arrivals[placement.index].inbox, inbound, identity, placement.conversation, now
            )
        )
    message_ids: dict[int, int] = {
        conversation_id: message_id
        for message_id, conversation_id in connection.execute(_INSERT_MESSAGES, rows)
    }

    touched: list[dict[str, Any]] = []
    woken: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    jobs: list[dict[str, Any]] = []
    recorded: list[tuple[int, RecordedInbound]] = []
    for placement, row in zip(placements, rows, strict=True):
        conversation = placement.conversation
        inbox = arrivals[placement.index].inbox
        message_id = message_ids[conversation.id]
        message = Message(id=message_id, **row)
        # Known to the session as the stored row it is, so later code may read or change it.
        make_transient_to_detached(message)
        session.add(message)
        if placement.first is not None:
            for type, data, names_thread in placement.first.events:
                about = conversation if names_thread else None
                events.append(_event_row(conversation, type, None, data, about))
        else:
            woken_from = _touch(conversation, inbox, now, touched, woken)
            if woken_from is not None:
                events.append(
                    _event_row(
                        conversation,
                        EventType.CONVERSATION_WOKEN,
                        None,
                        {"from": woken_from, "by": "message"},
                        conversation,
                    )
                )
        events.append(
            _event_row(
                conversation,
                EventType.MESSAGE_RECEIVED,
                message_id,
                {
                    "inbox_id": inbox.id,
                    "channel": inbox.channel,
                    "outcome": placement.outcome,
                    "attachments": len(row["attachments"]),
                },
                conversation,
            )
        )
        jobs.append(_job_row(conversation, message_id, arrivals[placement.index].request_id))
        recorded.append(
            (
                placement.index,
                RecordedInbound(message, conversation, placement.contact, placement.outcome),
            )
        )

    for statement, params_list in ((_TOUCH_THREAD, touched), (_WAKE_THREAD, woken)):
        if params_list:
            connection.execute(statement, params_list)
    _insert_events(session, events)
    connection.execute(_INSERT_JOBS, jobs)
    return recorded


def _touch(
    conversation: Conversation,
    inbox: InboxRef,
    now: Any,
    touched: list[dict[str, Any]],
    woken: list[dict[str, Any]],
) -> str | None:
    """Queue the thread's update for this message; the status it wakes from, if any."""
    previous = conversation.status
    wakes = previous in (Status.PENDING.value, Status.SNOOZED.value)
    params = {"conversation_id": conversation.id, "now": now, "inbox_id": inbox.id}
    (woken if wakes else touched).append(params)
    changes: dict[str, Any] = {
        "last_message_at": now,
        "last_inbound_at": now,
        "last_inbox_id": inbox.id,
    }
    if wakes:
        changes |= {"status": Status.OPEN.value, "snoozed_until": None}
    for name, value in changes.items():
        set_committed_value(conversation, name, value)
    return previous if wakes else None


def _message_row(
    inbox: InboxRef,
    inbound: InboundMessage,
    identity: ContactIdentity,
    conversation: Conversation,
    now: Any,
) -> dict[str, Any]:
    return {
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


def _event_row(
    conversation: Conversation,
    type: EventType,
    message_id: int | None,
    data: dict[str, Any],
    about: Conversation | None,
) -> dict[str, Any]:
    """An event of the thread's contact; about the thread itself when ``about`` is given."""
    return {
        "workspace_id": conversation.workspace_id,
        "type": type.value,
        "conversation_id": about.id if about is not None else None,
        "contact_id": conversation.contact_id,
        "message_id": message_id,
        "agent_id": None,
        "data": data,
        "created_at": utcnow(),
    }


def _job_row(conversation: Conversation, message_id: int, request_id: str | None) -> dict[str, Any]:
    now = utcnow()
    payload: dict[str, Any] = {"conversation_id": conversation.id, "message_id": message_id}
    if request_id is not None:
        payload[REQUEST_ID_KEY] = request_id
    return {
        "workspace_id": conversation.workspace_id,
        "kind": ASSISTANT_TURN,
        "payload": payload,
        "status": JobStatus.QUEUED.value,
        "attempts": 0,
        "max_attempts": MAX_ATTEMPTS,
        "run_at": now,
        "created_at": now,
    }


def _insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the events and hand them to the publisher after commit, in this order."""
    ids = {
        (conversation_id, contact_id, type): event_id
        for event_id, conversation_id, contact_id, type in session.connection().execute(
            _INSERT_EVENTS, rows
        )
    }
    pending: list[Event] = session.info.setdefault(PENDING_EVENTS_KEY, [])
    for row in rows:
        key = (row["conversation_id"], row["contact_id"], row["type"])
        pending.append(Event(id=ids[key], **row))
