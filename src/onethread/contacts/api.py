"""Contacts: list and search, read with identities, edit, merge, import a CSV file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.api.deps import AdminCaller, Context, CurrentCaller, ReadSession, WriteSession
from onethread.contacts import actions, importing, service
from onethread.contacts.models import Contact
from onethread.contacts.schemas import (
    ContactCreate,
    ContactDetail,
    ContactOut,
    ContactPage,
    ContactUpdate,
    IdentityOut,
    ImportReportOut,
    MergeIn,
)
from onethread.db.types import Id
from onethread.errors import PayloadTooLarge

router = APIRouter(tags=["contacts"])

MAX_IMPORT_BYTES = 64 * 1024 * 1024


async def _detail(session: AsyncSession, contact: Contact) -> ContactDetail:
    identities = await service.identities_of(session, contact.id)
    return ContactDetail(
        **ContactOut.model_validate(contact).model_dump(),
        identities=[IdentityOut.model_validate(identity) for identity in identities],
    )


@router.get("/contacts", response_model=ContactPage)
async def list_contacts(
    caller: CurrentCaller,
    session: ReadSession,
    q: Annotated[str | None, Query(max_length=200, description="Name, email, phone or id")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[Id | None, Query(description="next_cursor of the previous page")] = None,
) -> ContactPage:
    contacts = await service.list_contacts(
        session, caller.workspace_id, q=q, limit=limit + 1, after_id=cursor
    )
    next_cursor = str(contacts[limit - 1].id) if len(contacts) > limit else None
    return ContactPage(
        items=[ContactOut.model_validate(c) for c in contacts[:limit]], next_cursor=next_cursor
    )


@router.post("/contacts", response_model=ContactDetail, status_code=201)
async def create_contact(
    body: ContactCreate, caller: CurrentCaller, session: WriteSession
) -> ContactDetail:
    contact = await actions.do_create_contact(
        session, caller.workspace_id, by_agent_id=caller.agent.id, **body.model_dump()
    )
    await session.commit()
    return await _detail(session, contact)


@router.get("/contacts/{contact_id}", response_model=ContactDetail)
async def get_contact(contact_id: Id, caller: CurrentCaller, session: ReadSession) -> ContactDetail:
    return await _detail(
        session, await service.access_contact(session, caller.workspace_id, contact_id)
    )


@router.patch("/contacts/{contact_id}", response_model=ContactDetail)
async def update_contact(
    contact_id: Id, body: ContactUpdate, caller: CurrentCaller, session: WriteSession
) -> ContactDetail:
    # Locked: an import or an action updating the same attributes waits, never lost.
    contact = await service.access_contact(
        session, caller.workspace_id, contact_id, for_update=True
    )
    actions.do_update_contact(
        session, contact, body.model_dump(exclude_unset=True), by_agent_id=caller.agent.id
    )
    await session.commit()
    return await _detail(session, contact)


@router.post("/contacts/{contact_id}/merge", response_model=ContactDetail)
async def merge_contact(
    contact_id: Id, body: MergeIn, caller: CurrentCaller, session: WriteSession
) -> ContactDetail:
    """Fold ``source_id`` into this contact: identities, conversations and messages move."""
    target = await service.access_contact(session, caller.workspace_id, contact_id, for_update=True)
    source = await service.access_contact(
        session, caller.workspace_id, body.source_id, for_update=True
    )
    await actions.do_merge_contacts(session, target, source, by_agent_id=caller.agent.id)
    await session.commit()
    return await _detail(session, target)


@router.post("/contacts/import", response_model=ImportReportOut)
async def import_contacts(
    caller: AdminCaller,
    context: Context,
    file: Annotated[UploadFile, File(description="CSV with a header line (docs/contacts.md)")],
    dry_run: Annotated[bool, Query(description="Check every row and write nothing")] = False,
) -> ImportReportOut:
    """Create and update contacts from a CSV file; every rejected row with its reason.

    Accepted rows are written even when others are rejected, in batches of 1,000."""
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(
            f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB",
            details={"limit_bytes": MAX_IMPORT_BYTES},
        )
    report = await importing.import_contacts(
        context.db,
        caller.workspace_id,
        importing.decode_csv(data),
        dry_run=dry_run,
        by_agent_id=caller.agent.id,
    )
    return ImportReportOut.model_validate(report.as_dict())
