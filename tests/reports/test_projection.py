"""The projection: refreshed incrementally it equals a full rebuild, even with two processes."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from onethread.contacts.models import Contact
from onethread.conversations.models import Conversation
from onethread.db.database import Database
from onethread.db.types import utcnow
from onethread.events.models import Event
from onethread.reports import projection
from onethread.reports.models import (
    ReportConversation,
    ReportCursor,
    ReportCustomer,
    ReportSpan,
)
from tests.conftest import Harness
from tests.factories import workspace
from tests.reports.figures import figures
from tests.reports.history import History, Thread, at

Rows = dict[str, list[tuple[Any, ...]]]


async def _rows(db: Database, workspace_id: int) -> Rows:
    async with db.read_session() as session:
        found: Rows = {}
        for model, order in (
            (ReportConversation, [ReportConversation.conversation_id]),
            (ReportSpan, [ReportSpan.conversation_id, ReportSpan.episode]),
            (ReportCustomer, [ReportCustomer.contact_id]),
        ):
            table = model.__table__
            result = await session.execute(
                select(table).where(table.c.workspace_id == workspace_id).order_by(*order)
            )
            found[table.name] = [tuple(row) for row in result]
        return found


async def _forget(db: Database, workspace_id: int) -> None:
    async with db.session() as session:
        for model in (ReportConversation, ReportSpan, ReportCustomer, ReportCursor):
            await session.execute(delete(model).where(model.workspace_id == workspace_id))


async def _step_one(history: History) -> list[Thread]:
    first = await history.thread(at(0, 9), first_message="My invoice for March is wrong twice")
    await first.decided(at(0, 9))
    await first.topics(at(0, 9), ("billing", "service"), language="en")
    customer = await history.contact(customer_since="2025-01-01", plan="pro", monthly_revenue=30)
    second = await history.thread(at(0, 10), contact_id=customer)
    await second.reply(at(0, 10, 5), "ai")
    await second.resolve(at(0, 10, 30), "ai")
    return [first, second]


async def _step_two(history: History, threads: list[Thread]) -> None:
    first, second = threads
    await first.handoff(at(0, 9, 10))
    await first.received(at(0, 9, 11), "again: the March invoice is wrong twice")
    await first.assign(at(0, 9, 12))
    await first.reply(at(0, 9, 20))
    await history.update_contact(second.contact_id, churned_at="2026-03-03", plan="basic")
    await second.reopen(at(1, 8))
    await second.received(at(1, 8), "still broken")
    third = await history.thread(at(1, 9), contact_id=second.contact_id, previous=second.id)
    await third.transfer(at(1, 9, 5), team_id=3, previous=None)


async def _step_three(threads: list[Thread]) -> None:
    first, second = threads
    await first.resolve(at(0, 11), assignee_id=7)
    await first.survey(at(0, 12), "csat", 4)
    await second.reply(at(1, 8, 30))
    await second.resolve(at(1, 9))
    await second.survey(at(1, 10), "nps", 9, "human")


async def test_incremental_refreshes_equal_a_full_rebuild(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projection, "EVENTS_PER_PAGE", 4)  # several pages per refresh
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    threads = await _step_one(history)
    assert await projection.refresh(harness.db, admin.workspace_id) > 0
    await _step_two(history, threads)
    await projection.refresh(harness.db, admin.workspace_id)
    await _step_three(threads)
    await projection.refresh(harness.db, admin.workspace_id)
    incremental = await _rows(harness.db, admin.workspace_id)
    # Nothing new: nothing changes (PostgreSQL reads the last 30 s of events again).
    again = await projection.refresh(harness.db, admin.workspace_id)
    if harness.db.is_sqlite:
        assert again == 0
    assert await _rows(harness.db, admin.workspace_id) == incremental
    assert len(incremental["report_conversations"]) == 3
    assert len(incremental["report_spans"]) == 4  # the reopened conversation has two
    [customer] = incremental["report_customers"]
    assert customer[2:] == ("2025-01-01", "2026-03-03", "basic", 30.0, None)

    await projection.rebuild(harness.db, admin.workspace_id)
    assert await _rows(harness.db, admin.workspace_id) == incremental
    await _forget(harness.db, admin.workspace_id)
    await projection.refresh(harness.db, admin.workspace_id)  # from the first event
    assert await _rows(harness.db, admin.workspace_id) == incremental


async def test_two_processes_refreshing_at_once_take_turns(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projection, "EVENTS_PER_PAGE", 3)
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    threads = await _step_one(history)
    await _step_two(history, threads)
    await _step_three(threads)
    url = harness.app_context.settings.resolved_database_url
    processes = [Database(url) for _ in range(2)]
    try:
        await asyncio.gather(
            *(projection.refresh(db, admin.workspace_id) for db in processes),
            projection.rebuild(processes[0], admin.workspace_id),
        )
    finally:
        for db in processes:
            await db.dispose()
    together = await _rows(harness.db, admin.workspace_id)
    await _forget(harness.db, admin.workspace_id)
    await projection.rebuild(harness.db, admin.workspace_id)
    assert await _rows(harness.db, admin.workspace_id) == together
    assert len(together["report_conversations"]) == 3


async def test_a_thread_folded_by_a_contact_merge_leaves_the_reports(harness: Harness) -> None:
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    kept = await history.thread(at(0, 9))
    source = await history.contact(customer_since="2025-01-01")
    folded = await history.thread(at(0, 10), contact_id=source)
    before = await figures(harness.db, admin.workspace_id, "2026-03-02", "2026-03-08")
    assert (before["volume"], before["customers_start"]) == (2, 1)
    async with harness.db.session() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == folded.id)
            .values(merged_into_id=kept.id, contact_id=kept.contact_id)
        )
        await session.execute(
            update(Contact).where(Contact.id == source).values(merged_into_id=kept.contact_id)
        )
    await history.event(
        "contact.merged",
        at(0, 11),
        contact_id=kept.contact_id,
        data={"source_id": folded.contact_id, "folded_conversation_id": folded.id},
    )

    found = await figures(harness.db, admin.workspace_id, "2026-03-02", "2026-03-08")

    assert (found["volume"], found["customers_start"]) == (1, 0)
    rows = await _rows(harness.db, admin.workspace_id)
    assert [row[0] for row in rows["report_conversations"]] == [kept.id]


async def test_report_rebuild_applies_new_business_hours(harness: Harness) -> None:
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    saturday = await history.thread(at(5, 10))
    await saturday.reply(at(5, 11))
    week = ("2026-03-02", "2026-03-08")
    assert (await figures(harness.db, admin.workspace_id, *week, business_hours=True))[
        "first_response_median"
    ] == 3600
    hours = [{"day": "mon", "start": "09:00", "end": "17:00"}]
    await admin.ok("PATCH", "/workspace", json={"settings": {"business_hours": hours}})

    settings = harness.app_context.settings
    command = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "onethread", "report", "rebuild", "--workspace", str(admin.workspace_id)),
        env={
            "ONETHREAD_DATABASE_URL": settings.resolved_database_url,
            "ONETHREAD_DATA_DIR": str(settings.data_dir),
            "ONETHREAD_SECRET_KEY": "test-secret-key",
            "PATH": "/usr/bin:/bin",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(command.communicate(), timeout=120)

    assert command.returncode == 0, stderr.decode()
    assert f"workspace {admin.workspace_id}: 1 conversations" in stdout.decode()
    found = await figures(harness.db, admin.workspace_id, *week, business_hours=True)
    assert found["first_response_median"] == 0  # Saturday is closed now


def test_the_cursor_moves_only_past_settled_events() -> None:
    now = utcnow()
    old, fresh = now - timedelta(minutes=5), now - timedelta(seconds=1)
    written = [(11, old), (12, old), (14, fresh), (15, old)]
    assert projection.settled(written, 10, settle=30) == 12  # 13 may still be committing
    assert projection.settled(written, 10, settle=0) == 15  # SQLite: commits in id order
    assert projection.settled([(11, fresh)], 10, settle=30) == 10


async def test_an_event_committed_after_a_later_one_is_still_counted(harness: Harness) -> None:
    """PostgreSQL hands out event ids before commit: a slow transaction's event may become
    visible after a refresh has read a newer one. It is folded all the same."""
    if harness.db.is_sqlite:
        pytest.skip("SQLite commits one writer at a time, in id order")
    admin = await workspace(harness)
    history = History(harness.db, admin.workspace_id)
    slow = await history.thread(at(0, 9))
    async with harness.db.session() as holding:  # takes its event id now, commits last
        holding.add(
            Event(
                workspace_id=admin.workspace_id,
                type="conversation.resolved",
                conversation_id=slow.id,
                contact_id=slow.contact_id,
                data={"handler": "human", "by": "agent", "assignee_id": None, "team_id": None},
                created_at=utcnow(),
            )
        )
        await holding.flush()
        quick = await history.thread(at(0, 10))  # a later id, committed first
        await quick.resolve(at(0, 10, 5), "ai")
        await projection.refresh(harness.db, admin.workspace_id)
    await projection.refresh(harness.db, admin.workspace_id)
    async with harness.db.read_session() as session:
        resolved = await session.scalar(
            select(ReportConversation.resolved_at).where(
                ReportConversation.conversation_id == slow.id
            )
        )
    assert resolved is not None
