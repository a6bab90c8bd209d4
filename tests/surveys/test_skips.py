"""Surveys that are not sent: a merged thread, no customer channel, a phone call."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from onethread.conversations.models import Conversation, Message
from onethread.jobs.context import JobContext
from tests.channels.conftest import drain
from tests.conftest import Harness
from tests.factories import inbound, inbox, workspace
from tests.surveys.flow import ask_with, outbound, survey_events


async def test_a_thread_merged_away_before_the_question_is_skipped(
    harness: Harness, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    sms = await inbox(admin, "twilio_sms")
    await ask_with(admin, sms["id"], csat=True, nps=True)
    first = await inbound(admin, sms["id"], "+15550007777", "Hello")
    second = await inbound(admin, sms["id"], "+15550008888", "Hi")
    await admin.ok("POST", f"/conversations/{first['conversation_id']}/resolve")
    async with harness.db.session() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == first["conversation_id"])
            .values(merged_into_id=second["conversation_id"])
        )
    await drain(harness, job_context)
    assert await outbound(harness) == []
    assert await survey_events(harness) == [
        ("survey.skipped", {"kind": "csat", "reason": "merged"})
    ]


async def test_a_thread_without_a_customer_message_is_skipped(
    harness: Harness, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    sms = await inbox(admin, "twilio_sms")
    await ask_with(admin, sms["id"], csat=True)
    recorded = await inbound(admin, sms["id"], "+15550009999", "Hello")
    await admin.ok("POST", f"/conversations/{recorded['conversation_id']}/resolve")
    async with harness.db.session() as session:
        await session.execute(delete(Message))
    await drain(harness, job_context)
    assert await survey_events(harness) == [
        ("survey.skipped", {"kind": "csat", "reason": "no_channel"})
    ]


async def test_a_phone_call_is_not_surveyed(harness: Harness, job_context: JobContext) -> None:
    admin = await workspace(harness)
    voice = await inbox(admin, "twilio_voice")
    await ask_with(admin, voice["id"], csat=True)
    recorded = await inbound(admin, voice["id"], "+15550001212", "I want to cancel")
    await admin.ok("POST", f"/conversations/{recorded['conversation_id']}/resolve")
    await drain(harness, job_context)
    async with harness.db.read_session() as session:
        assert (
            await session.scalars(select(Message).where(Message.direction == "out"))
        ).all() == []
    assert await survey_events(harness) == [
        ("survey.skipped", {"kind": "csat", "reason": "no_text_channel"})
    ]
