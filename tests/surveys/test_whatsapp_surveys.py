"""Surveys on WhatsApp end to end: signed webhooks in, the fake Graph API out, real databases."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from onethread.conversations.models import Message
from onethread.db.types import utcnow
from onethread.jobs.context import JobContext
from onethread.outbox.models import Job
from tests.channels.conftest import drain, fixture, meta_bytes, post_meta
from tests.channels.test_ingest_batching import text_webhook
from tests.channels.test_whatsapp_e2e import path_of, whatsapp_inbox
from tests.conftest import Harness
from tests.factories import Api, workspace
from tests.fakes.graph_api import FakeGraphApi
from tests.surveys.flow import ask_with, only_thread, outbound, survey_events, survey_rows

NUMBER = "16505551234"


def list_reply(wamid: str, reply_id: str, title: str) -> bytes:
    """The customer picks a row of a list message (the CSAT question)."""
    body: dict[str, Any] = copy.deepcopy(fixture("whatsapp_interactive_list_reply.json")["body"])
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update({"id": wamid, "from": NUMBER})
    message["interactive"]["list_reply"] = {"id": reply_id, "title": title}
    return meta_bytes(body)


def sent_to_graph(graph: FakeGraphApi) -> list[dict[str, Any]]:
    return [r.json for r in graph.requests if r.method == "POST" and r.path.endswith("/messages")]


async def resolved_thread(
    harness: Harness, admin: Api, graph: FakeGraphApi, **surveys: Any
) -> tuple[str, int]:
    """A WhatsApp inbox that asks ``surveys``, a customer's message, resolved by an agent."""
    created = await whatsapp_inbox(admin, graph)
    path = path_of(await ask_with(admin, created["id"], **surveys))
    response = await post_meta(harness.client, path, text_webhook("wamid.q1", NUMBER, "Help?"))
    assert response.status_code == 200
    thread = await only_thread(harness)
    await admin.ok("POST", f"/conversations/{thread.id}/resolve")
    return path, thread.id


async def test_csat_then_nps_asked_once_and_answered_without_reopening(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    path, thread_id = await resolved_thread(harness, admin, graph, csat=True, nps=True)
    await drain(harness, job_context)

    # CSAT: five choices, more than WhatsApp's 3 reply buttons, so a list message.
    [question] = sent_to_graph(graph)
    assert question["type"] == "interactive"
    assert question["interactive"]["type"] == "list"
    rows = question["interactive"]["action"]["sections"][0]["rows"]
    assert [row["id"] for row in rows] == [f"survey:csat:{n}" for n in range(1, 6)]
    [asked] = await outbound(harness)
    assert asked.sender_kind == "system"
    assert asked.ai_meta == {"survey": {"kind": "csat"}}
    assert asked.delivery_status == "sent"

    picked = list_reply("wamid.a1", "survey:csat:4", "4")
    assert (await post_meta(harness.client, path, picked)).status_code == 200
    thread = await only_thread(harness)
    assert thread.status == "resolved", "an answer does not reopen the conversation"
    await drain(harness, job_context)

    # NPS has 11 scores, more than a list's 10 rows: a question in text.
    nps = sent_to_graph(graph)[-1]
    assert nps["type"] == "text"
    assert "from 0 to 10" in nps["text"]["body"]
    answer = text_webhook("wamid.a2", NUMBER, "9 - quick and kind")
    assert (await post_meta(harness.client, path, answer)).status_code == 200
    await drain(harness, job_context)
    assert (await only_thread(harness)).status == "resolved"
    assert len(sent_to_graph(graph)) == 2, "nothing more is asked"

    assert await survey_events(harness) == [
        ("survey.asked", {"kind": "csat", "channel": "whatsapp", "inbox_id": asked.inbox_id}),
        ("survey.answered", {"kind": "csat", "score": 4, "comment": None, "handler": "ai"}),
        ("survey.asked", {"kind": "nps", "channel": "whatsapp", "inbox_id": asked.inbox_id}),
        (
            "survey.answered",
            {"kind": "nps", "score": 9, "comment": "quick and kind", "handler": "ai"},
        ),
    ]
    listed = await admin.ok("GET", f"/conversations/{thread_id}/surveys")
    assert [(s["kind"], s["status"], s["score"], s["comment"]) for s in listed] == [
        ("csat", "answered", 4, None),
        ("nps", "answered", 9, "quick and kind"),
    ]
    async with harness.db.read_session() as session:
        turns = await session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == "assistant.turn")
        )
    assert turns == 1, "answers never wake the assistant"


async def test_an_invalid_answer_reopens_and_the_thread_is_never_asked_again(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    path, thread_id = await resolved_thread(harness, admin, graph, csat=True)
    await drain(harness, job_context)
    assert len(sent_to_graph(graph)) == 1

    not_an_answer = text_webhook("wamid.b1", NUMBER, "2 questions about my bill")
    assert (await post_meta(harness.client, path, not_an_answer)).status_code == 200
    assert (await only_thread(harness)).status == "open"

    await admin.ok("POST", f"/conversations/{thread_id}/resolve")
    await drain(harness, job_context)
    assert len(sent_to_graph(graph)) == 1, "resolved again after a reopen: not asked twice"
    # The question belongs to the first resolution: a late "5" is an ordinary message.
    assert (await post_meta(harness.client, path, text_webhook("wamid.b2", NUMBER, "5"))).is_success
    assert (await only_thread(harness)).status == "open"
    [survey] = await survey_rows(harness)
    assert (survey.kind, survey.status, survey.score) == ("csat", "asked", None)
    assert [type for type, _ in await survey_events(harness)] == ["survey.asked"]


async def test_outside_the_24_hour_window_the_surveys_are_skipped_not_sent(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    await resolved_thread(harness, admin, graph, csat=True, nps=True)
    async with harness.db.session() as session:
        await session.execute(update(Message).values(created_at=utcnow() - timedelta(hours=25)))
    await drain(harness, job_context)
    assert sent_to_graph(graph) == []
    assert await outbound(harness) == []
    assert await survey_events(harness) == [
        ("survey.skipped", {"kind": "csat", "reason": "outside_window"}),
        ("survey.skipped", {"kind": "nps", "reason": "outside_window"}),
    ]
    assert [(s.kind, s.status, s.reason) for s in await survey_rows(harness)] == [
        ("csat", "skipped", "outside_window"),
        ("nps", "skipped", "outside_window"),
    ]


async def test_a_failed_send_is_the_question_failing_like_any_reply(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    await resolved_thread(harness, admin, graph, csat=True)
    graph.script(status=400, body={"error": {"message": "Invalid parameter", "code": 100}})
    await drain(harness, job_context)
    [question] = await outbound(harness)
    assert question.delivery_status == "failed"
    assert [(s.status, s.question_message_id) for s in await survey_rows(harness)] == [
        ("asked", question.id)
    ]
