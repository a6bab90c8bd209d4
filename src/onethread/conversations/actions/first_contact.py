"""A first-time sender's contact, identity and thread, as Core statements.

The rows and events of ``do_resolve_sender`` (contacts/actions.py) and of the new-thread
branch of ``do_record_inbound`` for a sender whose identity is unknown and whose verified
phone or email no live contact owns: no linking, no reopening, a new contact with a new
thread. ``tests/conversations`` runs both paths on the same inputs and compares them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, make_transient_to_detached

from onethread.contacts.identity import SenderIdentity, normalize_email, normalize_phone
from onethread.contacts.models import Contact, ContactIdentity
from onethread.contacts.service import find_contact_by_verified, find_identity
from onethread.conversations.models import Conversation, Handler, Priority, Status
from onethread.db.types import utcnow
from onethread.events.types import EventType

_CONTACTS = cast(Table, Contact.__table__)
_IDENTITIES = cast(Table, ContactIdentity.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)

# Every column back, so that the objects handed to the caller are complete.
_INSERT_CONTACT = insert(_CONTACTS).returning(*_CONTACTS.c)
_INSERT_IDENTITY = insert(_IDENTITIES).returning(*_IDENTITIES.c)
_INSERT_CONVERSATION = insert(_CONVERSATIONS).returning(*_CONVERSATIONS.c)


@dataclass
class FirstContact:
    identity: ContactIdentity
    contact: Contact
    conversation: Conversation
    # Before the message's own, in order: (type, data, whether it names the thread).
    events: list[tuple[EventType, dict[str, Any], bool]]


def verified_keys(sender: SenderIdentity) -> tuple[str | None, str | None]:
    """The phone and email by which this sender would link to an existing contact."""
    if not sender.verified:
        return None, None
    return normalize_phone(sender.phone), normalize_email(sender.email)


async def is_first_contact(
    session: AsyncSession, workspace_id: int, sender: SenderIdentity
) -> bool:
    """Unknown identity, and no live contact owns its verified phone or email."""
    if await find_identity(session, workspace_id, sender.channel, sender.external_id):
        return False
    phone, email = verified_keys(sender)
    if not (phone or email):
        return True
    owner = await find_contact_by_verified(session, workspace_id, phone=phone, email=email)
    return owner is None


def create_first_contact(
    session: Session, workspace_id: int, inbox_id: int, sender: SenderIdentity, now: Any
) -> FirstContact:
    """Insert the contact, its identity and its thread (the thread's inbound time ``now``)."""
    connection = session.connection()
    phone, email = normalize_phone(sender.phone), normalize_email(sender.email)
    contact = _loaded(
        session,
        Contact,
        connection.execute(
            _INSERT_CONTACT,
            {
                "workspace_id": workspace_id,
                "name": sender.display_name,
                "phone": phone if sender.verified else None,
                "email": email if sender.verified else None,
                "attributes": {},
                "created_at": utcnow(),
                "updated_at": utcnow(),
            },
        ),
    )
    identity = _loaded(
        session,
        ContactIdentity,
        connection.execute(
            _INSERT_IDENTITY,
            {
                "workspace_id": workspace_id,
                "contact_id": contact.id,
                "channel": sender.channel,
                "external_id": sender.external_id,
                "display_name": sender.display_name,
                "phone": phone,
                "email": email,
                "verified": sender.verified,
                "details": sender.details,
                "created_at": utcnow(),
            },
        ),
    )
    conversation = _loaded(
        session,
        Conversation,
        connection.execute(
            _INSERT_CONVERSATION,
            {
                "workspace_id": workspace_id,
                "contact_id": contact.id,
                "status": Status.OPEN.value,
                "handler": Handler.AI.value,
                "priority": Priority.NORMAL.value,
                "language": contact.language,
                "last_message_at": now,
                "last_inbound_at": now,
                "last_inbox_id": inbox_id,
                "created_at": now,
                "ai_turns": 0,
            },
        ),
    )
    events = [
        (EventType.CONTACT_CREATED, {"name": contact.name, "channel": sender.channel}, False),
        (
            EventType.CONTACT_IDENTITY_LINKED,
            {"identity_id": identity.id, "channel": sender.channel, "linked_by": None},
            False,
        ),
        (EventType.CONVERSATION_CREATED, {"previous_conversation_id": None}, True),
    ]
    return FirstContact(identity, contact, conversation, events)


def _loaded(session: Session, model: type[Any], result: Any) -> Any:
    """The row just inserted as a persistent object of ``model`` in ``session``."""
    row = model(**result.one()._mapping)
    make_transient_to_detached(row)
    session.add(row)
    return row
