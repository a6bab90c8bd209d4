"""Keeping the projection up to date: fold new events in (``refresh``) or start over (``rebuild``).

Every write to a workspace's projection first locks its ``report_cursor`` row (``FOR
UPDATE`` on PostgreSQL; SQLite has one writer anyway), so two processes refreshing at
once take turns, and each page of events is folded in its own short transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Select, Table, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.contacts.models import Contact
from onethread.conversations.models import Conversation, Message
from onethread.db.database import Database
from onethread.db.types import utcnow
from onethread.events.models import Event
from onethread.events.types import EventType
from onethread.reports.business_time import BusinessClock
from onethread.reports.customers import CONTACT_TYPES, CUSTOMERS, recompute_customers
from onethread.reports.episodes import (
    FOLDED_TYPES,
    UNREAD_TYPES,
    Folded,
    LoggedEvent,
    fold_conversation,
)
from onethread.reports.models import ReportConversation, ReportCursor, ReportSpan
from onethread.reports.restating import restates
from onethread.workspaces.models import Workspace
from onethread.workspaces.service import settings_of

EVENTS = cast(Table, Event.__table__)
ROWS = cast(Table, ReportConversation.__table__)
SPANS = cast(Table, ReportSpan.__table__)

EVENTS_PER_PAGE = 20_000
SETTLE_SECONDS = 30.0  # PostgreSQL: see ``settled``
CONVERSATIONS_PER_CHUNK = 500
CONTACTS_PER_CHUNK = 10_000
ANALYZE_AFTER = 100_000  # events folded in one refresh


async def refresh(db: Database, workspace_id: int) -> int:
    """Fold the events committed since the last refresh in; returns how many were read."""
    settle = 0.0 if db.is_sqlite else SETTLE_SECONDS
    async with db.read_session() as session:  # nothing new: no write transaction at all
        cursor = await session.scalar(
            select(ReportCursor.last_event_id).where(ReportCursor.workspace_id == workspace_id)
        )
        newer = await session.scalar(
            select(Event.id)
            .where(Event.workspace_id == workspace_id, Event.id > (cursor or 0))
            .limit(1)
        )
    folded, after, more = 0, 0, newer is not None
    while more:

        async def page(session: AsyncSession, after: int = after) -> tuple[int, int, bool]:
            return await _fold_next_page(session, workspace_id, after, settle)

        read, after, more = await db.write(page)
        folded += read
    if folded >= ANALYZE_AFTER:
        await db.write(_analyze)  # a first build from a long log: plan with real figures
    return folded


async def rebuild(db: Database, workspace_id: int) -> int:
    """Recompute every conversation and customer of the workspace; returns the conversations."""
    settle = 0.0 if db.is_sqlite else SETTLE_SECONDS
    async with db.read_session() as session:
        head = await _settled_head(session, workspace_id, settle)
        conversation_ids = await _ids(
            session,
            select(Conversation.id).where(
                Conversation.workspace_id == workspace_id, Conversation.merged_into_id.is_(None)
            ),
        )
        contact_ids = await _ids(
            session, select(Contact.id).where(Contact.workspace_id == workspace_id)
        )
    await _in_chunks(db, workspace_id, conversation_ids, CONVERSATIONS_PER_CHUNK * 4, recompute)
    await _in_chunks(db, workspace_id, contact_ids, CONTACTS_PER_CHUNK, recompute_customers)

    async def finish(session: AsyncSession) -> None:
        cursor = await lock_cursor(session, workspace_id)
        kept = select(Conversation.id).where(
            Conversation.workspace_id == workspace_id, Conversation.merged_into_id.is_(None)
        )
        for table in (ROWS, SPANS):
            await session.execute(
                delete(table).where(
                    table.c.workspace_id == workspace_id, table.c.conversation_id.not_in(kept)
                )
            )
        cursor.last_event_id = max(cursor.last_event_id, head)
        cursor.updated_at = utcnow()

    await db.write(finish)
    await db.write(_analyze)
    return len(conversation_ids)


async def _analyze(session: AsyncSession) -> None:
    """Fresh statistics after a rebuild, so that the planner picks the right indexes now
    (PostgreSQL's autovacuum would, later; SQLite never does). Same SQL on both."""
    for table in (ROWS, SPANS, CUSTOMERS):
        await session.execute(text(f"ANALYZE {table.name}"))


Recompute = Callable[[AsyncSession, int, list[int]], Awaitable[None]]


async def _in_chunks(
    db: Database, workspace_id: int, ids: list[int], size: int, work: Recompute
) -> None:
    """``work`` on ``ids`` a chunk per transaction, each holding the cursor's lock."""
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]

        async def step(session: AsyncSession, chunk: list[int] = chunk) -> None:
            await lock_cursor(session, workspace_id)
            await work(session, workspace_id, chunk)

        await db.write(step)


async def _ids(session: AsyncSession, query: Select[int]) -> list[int]:
    return list((await session.scalars(query.order_by(query.selected_columns[0]))).all())


async def lock_cursor(session: AsyncSession, workspace_id: int) -> ReportCursor:
    """The workspace's cursor row, locked until the transaction ends (created if missing)."""
    query = select(ReportCursor).where(ReportCursor.workspace_id == workspace_id).with_for_update()
    cursor = await session.scalar(query)
    if cursor is None:
        # Two first refreshes racing: one insert wins, ``Database.write`` retries the other.
        session.add(ReportCursor(workspace_id=workspace_id, last_event_id=0, updated_at=utcnow()))
        await session.flush()
        cursor = await session.scalar(query)
        assert cursor is not None
    return cursor


async def _settled_head(session: AsyncSession, workspace_id: int, settle: float) -> int:
    """The newest event id that no transaction still running can precede (see ``settled``)."""
    query = select(func.max(Event.id)).where(Event.workspace_id == workspace_id)
    if settle:
        query = query.where(Event.created_at <= utcnow() - timedelta(seconds=settle))
    return int(await session.scalar(query) or 0)


def settled(written: Sequence[tuple[int, datetime]], cursor: int, settle: float) -> int:
    """How far the cursor may move over ``written`` ((id, created_at) in id order): through
    the leading events written more than ``settle`` seconds ago.

    On PostgreSQL ids come from a sequence, so a transaction holding id 100 may commit
    after another committed 101: a cursor moved to 101 at that moment would never read
    100. Rows newer than ``settle`` are folded now but read again by the next refresh
    (refolding is idempotent), so an event is missed only if its transaction took longer
    than ``settle`` to commit. SQLite commits one writer at a time, in id order: 0 there.
    """
    horizon = utcnow() - timedelta(seconds=settle)
    moved = cursor
    for event_id, created_at in written:
        if settle and created_at > horizon:
            break
        moved = event_id
    return moved


async def _fold_next_page(
    session: AsyncSession, workspace_id: int, after: int, settle: float
) -> tuple[int, int, bool]:
    """Fold the page of events after the cursor (or after ``after``, further on in this
    refresh); returns how many were read, the last id read and whether more may follow."""
    cursor = await lock_cursor(session, workspace_id)
    start = max(after, cursor.last_event_id)
    page = (
        await session.execute(
            select(
                EVENTS.c.id,
                EVENTS.c.conversation_id,
                EVENTS.c.type,
                EVENTS.c.contact_id,
                EVENTS.c.created_at,
            )
            .where(EVENTS.c.workspace_id == workspace_id, EVENTS.c.id > start)
            .order_by(EVENTS.c.id)
            .limit(EVENTS_PER_PAGE)
        )
    ).all()
    if not page:
        return 0, start, False
    touched = {
        row.conversation_id
        for row in page
        if row.conversation_id is not None and row.type in FOLDED_TYPES
    }
    contacts = {row.contact_id for row in page if row.type in CONTACT_TYPES and row.contact_id}
    merges = [row.id for row in page if row.type == EventType.CONTACT_MERGED]
    if merges:
        moved, sources = await _merged(session, workspace_id, merges)
        touched |= moved
        contacts |= sources
    await recompute(session, workspace_id, sorted(touched))
    await recompute_customers(session, workspace_id, sorted(contacts))
    if start == cursor.last_event_id:  # a page further on never moves it past a gap
        written = [(row.id, row.created_at) for row in page]
        cursor.last_event_id = settled(written, cursor.last_event_id, settle)
        cursor.updated_at = utcnow()
    return len(page), page[-1].id, len(page) == EVENTS_PER_PAGE


async def _merged(
    session: AsyncSession, workspace_id: int, merge_event_ids: list[int]
) -> tuple[set[int], set[int]]:
    """A merge moves conversations to the target contact and may fold one; the source
    contact stops being a customer. Returns the conversations and contacts to recompute."""
    merges = (
        await session.execute(
            select(EVENTS.c.contact_id, EVENTS.c.data).where(EVENTS.c.id.in_(merge_event_ids))
        )
    ).all()
    targets = [contact_id for contact_id, _ in merges if contact_id is not None]
    moved = await session.scalars(
        select(Conversation.id).where(
            Conversation.workspace_id == workspace_id, Conversation.contact_id.in_(targets)
        )
    )
    folded = {
        data["folded_conversation_id"] for _, data in merges if data.get("folded_conversation_id")
    }
    sources = {data["source_id"] for _, data in merges if data.get("source_id")}
    return set(moved.all()) | folded, sources


async def recompute(session: AsyncSession, workspace_id: int, conversation_ids: list[int]) -> None:
    """Replace these conversations' rows by ones folded from their whole history."""
    workspace = await session.get(Workspace, workspace_id)
    assert workspace is not None
    clock = BusinessClock(settings_of(workspace))
    for start in range(0, len(conversation_ids), CONVERSATIONS_PER_CHUNK):
        chunk = conversation_ids[start : start + CONVERSATIONS_PER_CHUNK]
        folded = await _fold_chunk(session, workspace_id, chunk, clock)
        await _mark_restatements(session, folded)
        # By id alone (the ids are this workspace's): with the workspace in the condition,
        # SQLite would walk the workspace's rows by another index for every chunk.
        for table in (ROWS, SPANS):
            await session.execute(delete(table).where(table.c.conversation_id.in_(chunk)))
        if folded:
            await session.execute(insert(ROWS), [f.row for f in folded])
            spans = [span for f in folded for span in f.spans]
            await session.execute(insert(SPANS), spans)


async def _fold_chunk(
    session: AsyncSession, workspace_id: int, chunk: list[int], clock: BusinessClock
) -> list[Folded]:
    conversations = {
        row.id: row
        for row in await session.execute(
            select(
                Conversation.id,
                Conversation.contact_id,
                Conversation.created_at,
                Conversation.merged_into_id,
            ).where(Conversation.workspace_id == workspace_id, Conversation.id.in_(chunk))
        )
    }
    events: dict[int, list[LoggedEvent]] = {conversation_id: [] for conversation_id in chunk}
    # By conversation id alone: with the workspace in the WHERE clause too, SQLite prefers
    # the workspace's index and scans all its events. The workspace is checked row by row.
    rows = await session.execute(
        select(
            EVENTS.c.id,
            EVENTS.c.workspace_id,
            EVENTS.c.conversation_id,
            EVENTS.c.type,
            EVENTS.c.message_id,
            EVENTS.c.data,
            EVENTS.c.created_at,
        )
        .where(EVENTS.c.conversation_id.in_(chunk), EVENTS.c.type.not_in(UNREAD_TYPES))
        .order_by(EVENTS.c.conversation_id, EVENTS.c.id)
    )
    for row in rows:
        if row.workspace_id == workspace_id:
            events[row.conversation_id].append(
                LoggedEvent(row.id, row.type, row.message_id, row.data, row.created_at.timestamp())
            )
    folded = []
    for conversation_id in chunk:
        conversation = conversations.get(conversation_id)
        if conversation is None or conversation.merged_into_id is not None:
            continue  # folded into another thread by a merge: counted there
        folded.append(
            fold_conversation(
                conversation_id,
                workspace_id,
                conversation.contact_id,
                events[conversation_id],
                clock,
                fallback_created_at=conversation.created_at.timestamp(),
            )
        )
    return folded


async def _mark_restatements(session: AsyncSession, folded: Iterable[Folded]) -> None:
    """Set ``restated`` where a customer wrote after the assistant's handoff."""
    checked = [f for f in folded if f.handoff is not None and f.handoff.next_message_id]
    wanted = {
        message_id
        for f in checked
        if f.handoff is not None
        for message_id in [*f.handoff.before_message_ids, f.handoff.next_message_id]
        if message_id is not None
    }
    texts: dict[int, str] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 5000):
        found = await session.execute(
            select(Message.id, Message.text).where(Message.id.in_(ordered[start : start + 5000]))
        )
        texts.update({row.id: row.text or "" for row in found})
    for f in checked:
        handoff = f.handoff
        assert handoff is not None
        assert handoff.next_message_id is not None
        earlier = [texts.get(message_id, "") for message_id in handoff.before_message_ids]
        f.row["restated"] = restates(texts.get(handoff.next_message_id, ""), earlier)
