"""Contact writes: who sent this, edits, and merging two records of one person."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.contacts.identity import SenderIdentity, normalize_email, normalize_phone
from onethread.contacts.models import Contact, ContactIdentity
from onethread.contacts.service import find_contact_by_verified, find_identity
from onethread.contacts.value import (
    CHURNED_AT,
    CUSTOMER_SINCE,
    changed_keys,
    check_dates,
    validated_attributes,
)
from onethread.conversations.models import Conversation, ConversationTopic, Message, Status
from onethread.db.types import utcnow
from onethread.errors import Conflict, InvalidInput
from onethread.events.log import append_event, append_events
from onethread.events.types import EventType


@dataclass
class ResolvedSender:
    contact: Contact
    identity: ContactIdentity
    contact_created: bool


async def do_resolve_sender(
    session: AsyncSession, workspace_id: int, sender: SenderIdentity
) -> ResolvedSender:
    """The contact behind a channel identity, linking by verified phone/email, else new."""
    known = await find_identity(session, workspace_id, sender.channel, sender.external_id)
    if known is not None:
        identity, owner = known
        if sender.display_name and not identity.display_name:
            identity.display_name = sender.display_name
        return ResolvedSender(owner, identity, contact_created=False)

    phone = normalize_phone(sender.phone)
    email = normalize_email(sender.email)
    contact = None
    if sender.verified:
        contact = await find_contact_by_verified(session, workspace_id, phone=phone, email=email)
    created = contact is None
    if contact is None:
        # An unverified phone or email stays on the identity: it must not attract others.
        contact = Contact(
            workspace_id=workspace_id,
            name=sender.display_name,
            phone=phone if sender.verified else None,
            email=email if sender.verified else None,
            attributes={},
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        session.add(contact)
        await session.flush()
        append_event(
            session,
            workspace_id,
            EventType.CONTACT_CREATED,
            contact_id=contact.id,
            data={"name": contact.name, "channel": sender.channel},
        )
    identity = ContactIdentity(
        workspace_id=workspace_id,
        contact_id=contact.id,
        channel=sender.channel,
        external_id=sender.external_id,
        display_name=sender.display_name,
        phone=phone,
        email=email,
        verified=sender.verified,
        details=sender.details,
        created_at=utcnow(),
    )
    session.add(identity)
    await session.flush()
    append_event(
        session,
        workspace_id,
        EventType.CONTACT_IDENTITY_LINKED,
        contact_id=contact.id,
        data={
            "identity_id": identity.id,
            "channel": sender.channel,
            "linked_by": None if created else ("phone" if phone else "email"),
        },
    )
    return ResolvedSender(contact, identity, contact_created=created)


async def do_create_contact(
    session: AsyncSession,
    workspace_id: int,
    *,
    by_agent_id: int | None,
    name: str | None,
    email: str | None,
    phone: str | None,
    language: str | None,
    attributes: dict[str, Any],
) -> Contact:
    contact = Contact(
        workspace_id=workspace_id,
        name=name,
        email=_valid_email(email),
        phone=_valid_phone(phone),
        language=language,
        attributes={
            key: value
            for key, value in validated_attributes({}, attributes).items()
            if value is not None
        },
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(contact)
    await session.flush()
    append_event(
        session,
        workspace_id,
        EventType.CONTACT_CREATED,
        contact_id=contact.id,
        agent_id=by_agent_id,
        data={"name": name, "channel": None},
    )
    return contact


def do_update_contact(
    session: AsyncSession,
    contact: Contact,
    changes: dict[str, Any],
    *,
    by_agent_id: int | None,
    source: str | None = None,
) -> Contact:
    """Apply the fields present in ``changes``; attributes merge, a None value removes one.

    Customer value attributes are validated (``contacts/value.py``); ``source`` says what
    other than an agent made the change (``action:<name>``), in the event."""
    if "email" in changes:
        changes["email"] = _valid_email(changes["email"])
    if "phone" in changes:
        changes["phone"] = _valid_phone(changes["phone"])
    attributes = changes.get("attributes")
    if attributes is not None:
        attributes = validated_attributes(contact.attributes, attributes)
    for name in ("name", "email", "phone", "language"):
        if name in changes:
            setattr(contact, name, changes[name])
    if attributes is not None:
        merged = {**contact.attributes, **attributes}
        contact.attributes = {key: value for key, value in merged.items() if value is not None}
    contact.updated_at = utcnow()
    data: dict[str, Any] = {"changed": sorted(changes)}
    if attributes is not None:
        data["attributes"] = sorted(attributes)
    if source is not None:
        data["source"] = source
    append_event(
        session,
        contact.workspace_id,
        EventType.CONTACT_UPDATED,
        contact_id=contact.id,
        agent_id=by_agent_id,
        data=data,
    )
    return contact


def do_refresh_attributes(
    session: AsyncSession, contact: Contact, attributes: dict[str, Any], *, source: str
) -> bool:
    """Set attributes another system reported (an action's result); an event only when
    one of them changed. Raises ``InvalidInput`` for an invalid customer value."""
    stored = validated_attributes(contact.attributes, attributes)
    changed = changed_keys(contact.attributes, stored)
    if not changed:
        return False
    do_update_contact(
        session,
        contact,
        {"attributes": {key: stored[key] for key in changed}},
        by_agent_id=None,
        source=source,
    )
    return True


@dataclass
class ContactChange:
    """One contact's new values in a bulk write: ``values`` are columns (``attributes``
    whole), ``attribute_keys`` the attributes that changed. No ``contact_id``: a new one."""

    contact_id: int | None
    values: dict[str, Any]
    attribute_keys: list[str]


_CONTACTS = cast(Table, Contact.__table__)
_INSERT_CONTACTS = insert(_CONTACTS).returning(_CONTACTS.c.id, sort_by_parameter_order=True)


async def do_write_contacts(
    session: AsyncSession,
    workspace_id: int,
    changes: list[ContactChange],
    *,
    by_agent_id: int | None,
    source: str,
) -> list[int]:
    """Create and update many contacts in a few statements, one event per contact.

    The values were validated by the caller (``contacts/importing.py``). Returns the new
    contacts' ids, in the order of ``changes``."""
    now = utcnow()
    updates = [change for change in changes if change.contact_id is not None]
    creates = [change for change in changes if change.contact_id is None]
    for columns, group in groupby(
        sorted(updates, key=lambda c: sorted(c.values)), key=lambda c: sorted(c.values)
    ):
        statement = (
            update(_CONTACTS)
            .where(
                _CONTACTS.c.id == bindparam("contact_id"),
                _CONTACTS.c.workspace_id == workspace_id,
            )
            .values({name: bindparam(f"new_{name}") for name in [*columns, "updated_at"]})
        )
        await session.execute(
            statement,
            [
                {
                    "contact_id": c.contact_id,
                    "new_updated_at": now,
                    **{f"new_{name}": value for name, value in c.values.items()},
                }
                for c in group
            ],
        )
    created: list[int] = []
    if creates:
        rows = [
            {
                "workspace_id": workspace_id,
                "name": None,
                "email": None,
                "phone": None,
                "language": None,
                "attributes": {},
                "merged_into_id": None,
                **c.values,
                "created_at": now,
                "updated_at": now,
            }
            for c in creates
        ]
        created = list((await session.execute(_INSERT_CONTACTS, rows)).scalars().all())
    await append_events(
        session,
        workspace_id,
        EventType.CONTACT_UPDATED,
        [
            {
                "contact_id": c.contact_id,
                "agent_id": by_agent_id,
                "data": {
                    "changed": sorted(c.values),
                    **({"attributes": c.attribute_keys} if c.attribute_keys else {}),
                    "source": source,
                },
            }
            for c in updates
        ],
    )
    await append_events(
        session,
        workspace_id,
        EventType.CONTACT_CREATED,
        [
            {
                "contact_id": contact_id,
                "agent_id": by_agent_id,
                "data": {"name": c.values.get("name"), "channel": None, "source": source},
            }
            for contact_id, c in zip(created, creates, strict=True)
        ],
    )
    return created


def _valid_email(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    email = normalize_email(raw)
    if email is None:
        raise InvalidInput(f"{raw!r} is not an email address", details={"field": "email"})
    return email


def _valid_phone(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    phone = normalize_phone(raw)
    if phone is None:
        raise InvalidInput(f"{raw!r} is not a phone number", details={"field": "phone"})
    return phone


async def do_merge_contacts(
    session: AsyncSession, target: Contact, source: Contact, *, by_agent_id: int | None
) -> Contact:
    """Fold ``source`` into ``target``: identities, conversations and messages move over."""
    if target.id == source.id:
        raise InvalidInput("a contact cannot be merged into itself")
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise Conflict("one of these contacts was already merged into another")
    workspace_id = target.workspace_id
    folded = await _fold_open_threads(session, target, source)

    moved_identities = await session.execute(
        update(ContactIdentity)
        .where(ContactIdentity.contact_id == source.id)
        .values(contact_id=target.id)
    )
    moved_conversations = await session.execute(
        update(Conversation)
        .where(Conversation.contact_id == source.id)
        .values(contact_id=target.id)
    )
    for name in ("name", "email", "phone", "language"):
        if getattr(target, name) is None:
            setattr(target, name, getattr(source, name))
    merged = {**source.attributes, **target.attributes}
    if check_dates(merged) is not None:  # two people's dates: the kept contact's alone
        for name in (CUSTOMER_SINCE, CHURNED_AT):
            merged.pop(name, None)
            if name in target.attributes:
                merged[name] = target.attributes[name]
    target.attributes = merged
    target.updated_at = utcnow()
    source.merged_into_id = target.id
    source.updated_at = utcnow()
    append_event(
        session,
        workspace_id,
        EventType.CONTACT_MERGED,
        contact_id=target.id,
        agent_id=by_agent_id,
        data={
            "source_id": source.id,
            "target_id": target.id,
            "identities_moved": getattr(moved_identities, "rowcount", 0),
            "conversations_moved": getattr(moved_conversations, "rowcount", 0),
            "folded_conversation_id": folded,
        },
    )
    return target


async def _fold_open_threads(session: AsyncSession, target: Contact, source: Contact) -> int | None:
    """Both have an open thread: the source's messages join the target's (one thread each)."""
    open_of = select(Conversation).where(Conversation.status != Status.RESOLVED.value)
    kept = await session.scalar(open_of.where(Conversation.contact_id == target.id))
    folded = await session.scalar(open_of.where(Conversation.contact_id == source.id))
    if kept is None or folded is None:
        return None
    await session.execute(
        update(Message).where(Message.conversation_id == folded.id).values(conversation_id=kept.id)
    )
    kept_topics = set(
        await session.scalars(
            select(ConversationTopic.name).where(ConversationTopic.conversation_id == kept.id)
        )
    )
    for topic in await session.scalars(
        select(ConversationTopic).where(ConversationTopic.conversation_id == folded.id)
    ):
        if topic.name not in kept_topics:
            topic.conversation_id = kept.id
    latest = await session.scalar(
        select(func.max(Message.created_at)).where(Message.conversation_id == kept.id)
    )
    if latest is not None:
        kept.last_message_at = max(kept.last_message_at, latest)
    folded.status = Status.RESOLVED.value
    folded.resolved_at = utcnow()
    folded.merged_into_id = kept.id
    await session.flush()
    return folded.id
