"""Surveys in the web chat (buttons the visitor taps) and by SMS (a number in text)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from onethread.db.types import utcnow
from onethread.jobs.context import JobContext
from onethread.outbox.models import Job
from onethread.surveys.models import Survey
from tests.channels.conftest import drain
from tests.channels.test_widget_api import history, say, start
from tests.conftest import Harness
from tests.factories import inbound, inbox, workspace
from tests.surveys.flow import ask_with, only_thread, outbound, survey_events, survey_rows


async def test_web_chat_asks_with_buttons_and_takes_the_tapped_score(
    harness: Harness, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    await ask_with(admin, chat["id"], csat=True, nps=True)
    token = (await start(harness.client, chat["id"]))["visitor_token"]
    assert (await say(harness.client, chat["id"], token, "Where is my order?")).status_code == 201
    thread = await only_thread(harness)
    await admin.ok("POST", f"/conversations/{thread.id}/resolve")
    await drain(harness, job_context)

    *_, csat = await history(harness.client, chat["id"], token)
    assert csat["author"] == "system"
    assert [b["title"] for b in csat["buttons"]] == ["1", "2", "3", "4", "5"]
    # The widget sends a tapped button's title as the visitor's message.
    assert (await say(harness.client, chat["id"], token, "5")).status_code == 201
    assert (await only_thread(harness)).status == "resolved"
    await drain(harness, job_context)

    *_, nps = await history(harness.client, chat["id"], token)
    assert [b["title"] for b in nps["buttons"]] == [str(n) for n in range(11)]
    answer = "10/10 would recommend"
    assert (await say(harness.client, chat["id"], token, answer)).status_code == 201
    assert (await only_thread(harness)).status == "resolved"
    assert [(s.kind, s.score, s.comment) for s in await survey_rows(harness)] == [
        ("csat", 5, None),
        ("nps", 10, "would recommend"),
    ]
    events = await survey_events(harness)
    assert [(type, data.get("kind"), data.get("channel")) for type, data in events] == [
        ("survey.asked", "csat", "webchat"),
        ("survey.answered", "csat", None),
        ("survey.asked", "nps", "webchat"),
        ("survey.answered", "nps", None),
    ]


async def test_sms_asks_for_a_number_in_text_and_reads_the_comment(
    harness: Harness, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    sms = await inbox(admin, "twilio_sms")
    await ask_with(admin, sms["id"], csat=True)
    await inbound(admin, sms["id"], "+15550002222", "My card was charged twice")
    thread = await only_thread(harness)
    await admin.ok("POST", f"/conversations/{thread.id}/resolve")
    await drain(harness, job_context)

    [question] = await outbound(harness)
    assert question.interactive is None, "no buttons by SMS"
    assert "Reply with a number from 1 to 5" in question.text
    assert question.sender_kind == "system"
    answered = await inbound(admin, sms["id"], "+15550002222", "4 - slow but solved")
    assert answered["outcome"] == "survey_answer"
    assert (await only_thread(harness)).status == "resolved"
    [survey] = await survey_rows(harness)
    assert (survey.status, survey.score, survey.comment) == ("answered", 4, "slow but solved")
    assert survey.answer_message_id == answered["message"]["id"]


async def test_the_question_speaks_the_conversations_language(
    harness: Harness, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    sms = await inbox(admin, "twilio_sms")
    await ask_with(admin, sms["id"], nps=True)
    await inbound(admin, sms["id"], "+15550003333", "Bonjour")
    thread = await only_thread(harness)
    async with harness.db.session() as session:
        await session.execute(update(type(thread)).values(language="fr"))
    await admin.ok("POST", f"/conversations/{thread.id}/resolve")
    await drain(harness, job_context)
    [question] = await outbound(harness)
    assert "de 0 à 10" in question.text
    answered = await inbound(admin, sms["id"], "+15550003333", "je dirais huit")
    assert answered["outcome"] == "survey_answer"
    assert [(s.kind, s.score) for s in await survey_rows(harness)] == [("nps", 8)]


async def test_surveys_are_off_by_default_and_the_settings_are_validated(
    harness: Harness, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    sms = await inbox(admin, "twilio_sms")
    assert sms["config"]["surveys"] == {"csat": False, "nps": False, "delay_seconds": 0}
    bad = await admin.patch(f"/inboxes/{sms['id']}", json={"config": {"surveys": {"csat": 1.5}}})
    unknown = await admin.patch(f"/inboxes/{sms['id']}", json={"config": {"surveys": {"x": 1}}})
    negative = await admin.patch(
        f"/inboxes/{sms['id']}", json={"config": {"surveys": {"delay_seconds": -1}}}
    )
    assert [bad.status_code, unknown.status_code, negative.status_code] == [400, 400, 400]
    await inbound(admin, sms["id"], "+15550004444", "Hello")
    thread = await only_thread(harness)
    await admin.ok("POST", f"/conversations/{thread.id}/resolve")
    await drain(harness, job_context)
    assert await outbound(harness) == []
    assert await survey_rows(harness) == []


async def test_a_delayed_survey_waits_and_a_reopen_before_it_drops_it(
    harness: Harness, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    sms = await inbox(admin, "twilio_sms")
    await ask_with(admin, sms["id"], csat=True, delay_seconds=600)
    await inbound(admin, sms["id"], "+15550005555", "Hello")
    thread = await only_thread(harness)
    await admin.ok("POST", f"/conversations/{thread.id}/resolve")
    await drain(harness, job_context)
    assert await outbound(harness) == [], "not before the delay"

    await admin.ok("POST", f"/conversations/{thread.id}/reopen")
    await admin.ok("POST", f"/conversations/{thread.id}/resolve")
    async with harness.db.session() as session:  # both delays are over
        await session.execute(update(Job).values(run_at=utcnow() - timedelta(seconds=1)))
    await drain(harness, job_context)
    [question] = await outbound(harness)  # the stale job dropped, the second one asked
    assert [type for type, _ in await survey_events(harness)] == ["survey.asked"]
    assert question.ai_meta == {"survey": {"kind": "csat"}}


async def test_one_survey_of_a_kind_per_conversation_is_a_database_rule(
    harness: Harness, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    sms = await inbox(admin, "twilio_sms")
    await ask_with(admin, sms["id"], csat=True)
    await inbound(admin, sms["id"], "+15550006666", "Hello")
    thread = await only_thread(harness)
    await admin.ok("POST", f"/conversations/{thread.id}/resolve")
    await drain(harness, job_context)
    [first] = await survey_rows(harness)
    try:
        async with harness.db.session() as session:
            session.add(
                Survey(
                    workspace_id=first.workspace_id,
                    conversation_id=thread.id,
                    kind="csat",
                    status="asked",
                    handler="ai",
                )
            )
    except IntegrityError:
        pass
    else:
        raise AssertionError("a second CSAT row for one conversation was stored")
    async with harness.db.read_session() as session:
        assert len((await session.scalars(select(Survey))).all()) == 1
