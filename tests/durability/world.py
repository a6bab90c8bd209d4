"""Setting up the processes' shared world, and checking it afterwards: each acknowledged
webhook stored once, each reply accepted by the provider once, no job left behind."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import func, select

from onethread.conversations.models import Conversation, DeliveryStatus, Message, SenderKind
from onethread.db.database import Database
from onethread.outbox.models import Job, JobStatus
from onethread.settings import Settings
from tests.channels.widget_server import workspace_api
from tests.conftest import truncate_all
from tests.durability.provider import CountingGraphApi
from tests.durability.traffic import Inbox, Traffic

APP_SECRET = "durability-app-secret"
PHONE_NUMBER_ID = "109876543210"
SETTLE_SECONDS = 40.0


async def open_world(settings: Settings, url: str, graph: CountingGraphApi) -> Inbox:
    """A clean database with one workspace and one WhatsApp inbox sending to ``graph``."""
    db = Database(settings.resolved_database_url)
    try:
        await truncate_all(db)
    finally:
        await db.dispose()
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        admin = await workspace_api(settings, client, "Durable", "admin@durable.example")
        config = {
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": "EAAdurable",
            "app_secret": APP_SECRET,
            "verify_token": "verify-me",
            "api_base_url": graph.base_url,
        }
        body = {"channel": "whatsapp", "name": "WhatsApp", "ai_mode": "off", "config": config}
        created = await admin.ok("POST", "/inboxes", 201, json=body)
    return Inbox(created["id"], PHONE_NUMBER_ID, APP_SECRET, admin.token)


async def open_conversations(traffic: Traffic, settings: Settings) -> None:
    """One first message from each sender, so that replies have threads to go to."""
    opened = [
        traffic.webhook(f"wamid.first.{sender}", sender, "hello", give_up_after=10)
        for sender in traffic.senders
    ]
    assert all(await asyncio.gather(*opened))
    db = Database(settings.resolved_database_url)
    try:
        async with db.read_session() as session:
            ids = (await session.scalars(select(Conversation.id).order_by(Conversation.id))).all()
    finally:
        await db.dispose()
    assert len(ids) == len(traffic.senders)
    traffic.inbox.conversation_ids = list(ids)


async def unfinished_jobs(db: Database) -> dict[str, int]:
    """Jobs not done, by status (dead ones included)."""
    async with db.read_session() as session:
        rows = await session.execute(
            select(Job.status, func.count())
            .where(Job.status != JobStatus.DONE.value)
            .group_by(Job.status)
        )
        return {str(status): int(count) for status, count in rows.all()}


async def settle(db: Database, seconds: float = SETTLE_SECONDS) -> dict[str, int]:
    """Wait until every job is done (or dead); what is left unfinished."""
    deadline = time.monotonic() + seconds
    while True:
        left = await unfinished_jobs(db)
        if not (left.get(JobStatus.QUEUED.value) or left.get(JobStatus.RUNNING.value)):
            return left
        if time.monotonic() > deadline:
            return left
        await asyncio.sleep(0.5)


async def inbound_counts(db: Database) -> Counter[str]:
    """How many messages are stored for each provider message id."""
    async with db.read_session() as session:
        rows = await session.execute(
            select(Message.external_id, func.count())
            .where(Message.sender_kind == SenderKind.CONTACT.value)
            .group_by(Message.external_id)
        )
        return Counter({str(external_id): int(count) for external_id, count in rows.all()})


async def replies(db: Database) -> list[tuple[str, str | None]]:
    """Every agent reply stored: its text and delivery status."""
    async with db.read_session() as session:
        rows = await session.execute(
            select(Message.text, Message.delivery_status).where(
                Message.sender_kind == SenderKind.AGENT.value
            )
        )
        return [(str(text), status) for text, status in rows.all()]


async def recorded_sends(db: Database) -> int:
    """Agent replies whose acceptance by the provider is recorded."""
    stored = await replies(db)
    return sum(1 for _, status in stored if status not in (None, DeliveryStatus.QUEUED.value))


async def assert_nothing_lost_nothing_twice(
    db: Database, graph: CountingGraphApi, traffic: Traffic
) -> dict[str, Any]:
    """The durability promise, checked on the database and on what the provider saw."""
    tally = traffic.tally
    left = await settle(db)
    assert left == {}, f"jobs left unfinished or dead: {left}"
    stored = await inbound_counts(db)
    missing = [wamid for wamid in tally.acked_wamids if stored[wamid] == 0]
    assert not missing, f"{len(missing)} acknowledged webhooks not stored, e.g. {missing[:3]}"
    twice = {wamid: count for wamid, count in stored.items() if count > 1}
    assert not twice, f"stored more than once: {twice}"
    sent = await replies(db)
    accepted = graph.accepted_texts()
    stored_texts = Counter(text for text, _ in sent)
    assert all(stored_texts[text] == 1 for text in tally.acked_replies), "a reply went missing"
    not_delivered = [text for text, _ in sent if accepted[text] != 1]
    assert not not_delivered, {text: accepted[text] for text in not_delivered[:5]}
    assert set(accepted) <= set(stored_texts), "the provider got a reply that is not stored"
    assert all(status == DeliveryStatus.SENT.value for _, status in sent)
    return {"webhooks": len(tally.acked_wamids), "replies": len(sent)}
