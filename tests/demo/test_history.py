"""The demo's generated history: seeded once, in the intended mix, at consistent past times,
and enough for the dashboard and the weekly review (on SQLite, and PostgreSQL when set)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from onethread.assistant.encoder import MiniLMEncoder
from onethread.contacts.models import Contact
from onethread.conversations.models import Conversation, Message
from onethread.db.database import Database
from onethread.db.types import utcnow
from onethread.demo import history_lines, script
from onethread.demo.history_plan import HISTORY_DAYS, plan_history
from onethread.demo.seed import DemoSummary, seed_demo
from onethread.events.models import Event
from onethread.outbox.models import Job
from onethread.reports.service import ReportQuery, dashboard
from onethread.reports.slices import Slices
from onethread.review.gaps import cluster, unanswered_questions
from onethread.settings import Settings
from tests.conftest import BACKENDS, fresh_database_url

HANDOFF_REASONS = {
    "customer_requested_human",
    "human_only_topic",
    "negative_sentiment",
    "low_confidence",
    "no_knowledge",
    "ungrounded",
    "action_failed",
}


@dataclass
class Seeded:
    db: Database
    first: DemoSummary
    second: DemoSummary
    rows_after_first: dict[str, int]
    seconds: float


async def _rows(db: Database) -> dict[str, int]:
    async with db.read_session() as session:
        return {
            model.__tablename__: await session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Conversation, Message, Contact)
        } | {
            "conversation events": await session.scalar(
                select(func.count(Event.id)).where(Event.conversation_id.is_not(None))
            )
            or 0
        }


@pytest.fixture(scope="module", params=BACKENDS)
async def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Seeded]:
    directory: Path = tmp_path_factory.mktemp("demo")
    async with fresh_database_url(request.param, directory) as url:
        settings = Settings(data_dir=directory, database_url=url, secret_key="k" * 32)
        started = time.perf_counter()
        first = await seed_demo(settings)
        seconds = time.perf_counter() - started
        db = Database(url)
        try:
            rows = await _rows(db)
            second = await seed_demo(settings)
            yield Seeded(db, first, second, rows, seconds)
        finally:
            await db.dispose()


async def _events(seeded: Seeded, type: str) -> list[tuple[int, dict[str, Any]]]:
    async with seeded.db.read_session() as session:
        rows = await session.execute(
            select(Event.conversation_id, Event.data).where(Event.type == type).order_by(Event.id)
        )
        return [(conversation_id, data) for conversation_id, data in rows]


def test_the_plan_is_the_same_on_every_run() -> None:
    today = date(2026, 11, 26)
    first, again = plan_history(today), plan_history(today)
    assert [(s.customer.name, s.start_ago, s.steps) for s in first] == [
        (s.customer.name, s.start_ago, s.steps) for s in again
    ]
    assert all(0 < s.start_ago <= HISTORY_DAYS * 86400 for s in first)


async def test_seeding_again_reuses_the_workspace(seeded: Seeded) -> None:
    print(f"demo seed with its history: {seeded.seconds:.1f} s")
    assert seeded.second.workspace_id == seeded.first.workspace_id
    assert seeded.second.conversations == seeded.first.conversations
    assert await _rows(seeded.db) == seeded.rows_after_first
    assert 150 <= seeded.first.conversations <= 250


async def test_the_mix_of_outcomes(seeded: Seeded) -> None:
    conversations = seeded.first.conversations
    resolved = await _events(seeded, "conversation.resolved")
    by_ai = {c for c, data in resolved if data["by"] == "ai"}
    assert 0.45 <= len(by_ai) / conversations <= 0.65
    handoffs = Counter(d["reason"] for _, d in await _events(seeded, "handoff.requested"))
    assert set(handoffs) >= HANDOFF_REASONS
    decided = Counter(d["reason"] for _, d in await _events(seeded, "assistant.decided"))
    assert decided["answered"] >= 0.45 * conversations
    assert set(decided) >= HANDOFF_REASONS
    assert len(await _events(seeded, "conversation.reopened")) >= 5
    transfers = Counter(c for c, _ in await _events(seeded, "conversation.transferred"))
    assert any(count >= 2 for count in transfers.values())
    created = await _events(seeded, "conversation.created")
    assert sum(1 for _, d in created if d.get("previous_conversation_id")) >= 10


async def test_surveys_on_a_share_of_resolutions(seeded: Seeded) -> None:
    resolved = {c for c, _ in await _events(seeded, "conversation.resolved")}
    answered = await _events(seeded, "survey.answered")
    csat = [d for _, d in answered if d["kind"] == "csat"]
    nps = [d for _, d in answered if d["kind"] == "nps"]
    assert 0.3 <= len(csat) / len(resolved) <= 0.5
    assert 0.12 <= len(nps) / len(resolved) <= 0.3
    assert sum(1 for _, d in answered if d["comment"]) >= 10
    assert {d["handler"] for d in csat} == {"ai", "human"}
    assert 3.5 <= sum(d["score"] for d in csat) / len(csat) <= 4.6


async def test_times_are_past_ordered_and_as_planned(seeded: Seeded) -> None:
    now = utcnow()
    oldest = now - timedelta(days=HISTORY_DAYS, hours=1)
    async with seeded.db.read_session() as session:
        events = (
            await session.execute(
                select(Event.conversation_id, Event.type, Event.created_at, Event.data)
                .where(Event.conversation_id.is_not(None))
                .order_by(Event.id)
            )
        ).all()
        messages = (
            await session.execute(
                select(Message.conversation_id, Message.created_at).order_by(Message.id)
            )
        ).all()
        conversations = (await session.scalars(select(Conversation))).all()
        queued = await session.scalar(
            select(func.count(Job.id)).where(Job.status == "queued", Job.kind == "assistant.turn")
        )
    assert all(oldest <= at <= now for _, _, at, _ in events)
    scripted = {c.id for c in sorted(conversations, key=lambda c: c.id)[: len(script.THREADS)]}
    events = [row for row in events if row[0] not in scripted]  # played first, timed apart
    messages = [row for row in messages if row[0] not in scripted]
    for times in ([(c, at) for c, _, at, _ in events], [(c, at) for c, at in messages]):
        latest: dict[int, Any] = {}
        for conversation_id, at in times:  # in id order, never going back in time
            assert at >= latest.get(conversation_id, oldest), conversation_id
            latest[conversation_id] = at
    for conversation in conversations:
        assert oldest <= conversation.created_at <= conversation.last_message_at <= now
        if conversation.resolved_at is not None:
            assert conversation.created_at <= conversation.resolved_at <= now
    pickups = _handoff_pickups(events)
    assert sum(1 for seconds in pickups if seconds > 3600) >= 5
    assert sum(1 for seconds in pickups if seconds < 3600) >= 30
    assert (queued or 0) <= 20  # the history's turns ran long ago: only the script's wait


def _handoff_pickups(events: list[Any]) -> list[float]:
    """Seconds from the assistant's handoff to the first agent reply after it."""
    handed: dict[int, Any] = {}
    pickups = []
    for conversation_id, type, at, data in events:
        if type == "handoff.requested" and data.get("by") == "ai":
            handed.setdefault(conversation_id, at)
        elif type == "message.created" and data.get("sender_kind") == "agent":
            start = handed.pop(conversation_id, None)
            if start is not None:
                pickups.append((at - start).total_seconds())
    return pickups


async def test_recurring_questions_the_assistant_could_not_ground(seeded: Seeded) -> None:
    now = utcnow()
    async with seeded.db.read_session() as session:
        questions = await unanswered_questions(
            session, seeded.first.workspace_id, now - timedelta(days=HISTORY_DAYS), now
        )
    texts = Counter(q.text for q in questions)
    for reason, _, _, label, ways in history_lines.KNOWLEDGE_GAPS:
        assert sum(texts[way] for way in ways) >= len(ways), label
        assert {q.reason for q in questions if q.text in ways} == {reason}
    # The review groups them with the assistant's encoder: one gap per recurring question.
    gaps = cluster(questions, MiniLMEncoder())
    groups = [ways for *_, ways in history_lines.KNOWLEDGE_GAPS]
    assert len(gaps) == len(groups)
    for gap in gaps:
        assert gap.count >= 5
        asked = {question.text for question in gap.questions}
        assert sum(1 for ways in groups if asked <= set(ways)) == 1, asked


async def test_the_dashboard_of_the_last_week_has_data(seeded: Seeded) -> None:
    today = utcnow().date()
    query = ReportQuery(str(today - timedelta(days=6)), str(today), Slices())
    report = await dashboard(seeded.db, seeded.first.workspace_id, query)
    values = {metric["key"]: metric["value"] for metric in report["metrics"]}
    for key in ("csat_average", "nps", "fcr_rate", "ai_resolution_rate", "first_response_median"):
        assert values[key] is not None, key
    assert values["csat_responses"] >= 10
    assert {row["reason"] for row in report["handoff_reasons"]} & HANDOFF_REASONS
