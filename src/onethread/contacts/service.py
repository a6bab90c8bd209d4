from __future__ import annotations

from sqlalchemy import or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.contacts.models import Contact, ContactIdentity
from onethread.db.access import get_in_workspace


async def access_contact(
    session: AsyncSession, workspace_id: int, contact_id: int, *, for_update: bool = False
) -> Contact:
    """The contact; ``for_update`` locks it for a read-modify-write of its attributes."""
    return await get_in_workspace(
        session, Contact, workspace_id, contact_id, "contact", for_update=for_update
    )


async def list_contacts(
    session: AsyncSession,
    workspace_id: int,
    *,
    q: str | None = None,
    limit: int = 50,
    after_id: int | None = None,
    include_merged: bool = False,
) -> list[Contact]:
    query = select(Contact).where(Contact.workspace_id == workspace_id)
    if not include_merged:
        query = query.where(Contact.merged_into_id.is_(None))
    if q:
        pattern = f"%{q.strip()}%"
        identity_match = select(ContactIdentity.contact_id).where(
            ContactIdentity.workspace_id == workspace_id,
            or_(
                ContactIdentity.external_id.ilike(pattern),
                ContactIdentity.display_name.ilike(pattern),
            ),
        )
        query = query.where(
            or_(
                Contact.name.ilike(pattern),
                Contact.email.ilike(pattern),
                Contact.phone.ilike(pattern),
                Contact.id.in_(identity_match),
            )
        )
    if after_id is not None:
        query = query.where(Contact.id < after_id)
    rows = await session.scalars(query.order_by(Contact.id.desc()).limit(limit))
    return list(rows.all())


async def identities_of(session: AsyncSession, contact_id: int) -> list[ContactIdentity]:
    rows = await session.scalars(
        select(ContactIdentity)
        .where(ContactIdentity.contact_id == contact_id)
        .order_by(ContactIdentity.id)
    )
    return list(rows.all())


async def find_identity(
    session: AsyncSession, workspace_id: int, channel: str, external_id: str
) -> tuple[ContactIdentity, Contact] | None:
    """The identity and its contact, in one query: every inbound message asks."""
    row = (
        await session.execute(
            select(ContactIdentity, Contact)
            .join(Contact, Contact.id == ContactIdentity.contact_id)
            .where(
                ContactIdentity.workspace_id == workspace_id,
                ContactIdentity.channel == channel,
                ContactIdentity.external_id == external_id,
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def find_contact_by_verified(
    session: AsyncSession, workspace_id: int, *, phone: str | None, email: str | None
) -> Contact | None:
    """A live contact that owns this verified phone or email, through an identity or itself."""
    for column_contact, column_identity, value in (
        (Contact.phone, ContactIdentity.phone, phone),
        (Contact.email, ContactIdentity.email, email),
    ):
        if not value:
            continue
        # A union of two index lookups: "phone = ? OR id IN (…)" scanned every contact.
        owners = union(
            select(Contact.id).where(Contact.workspace_id == workspace_id, column_contact == value),
            select(ContactIdentity.contact_id).where(
                ContactIdentity.workspace_id == workspace_id,
                column_identity == value,
                ContactIdentity.verified.is_(True),
            ),
        )
        contact: Contact | None = await session.scalar(
            select(Contact)
            .where(
                Contact.workspace_id == workspace_id,
                Contact.merged_into_id.is_(None),
                Contact.id.in_(owners),
            )
            .order_by(Contact.id)
            .limit(1)
        )
        if contact is not None:
            return contact
    return None
