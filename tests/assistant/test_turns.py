"""Assistant turns end to end: a message arrives, the worker decides, the thread shows it.

Every AI mode and every escalation trigger, through the API and the job queue on a
real database, with the real encoder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

import httpx
import pytest

from onethread.assistant.service import Assistant
from onethread.jobs.context import JobContext
from tests.channels.conftest import drain
from tests.conftest import Harness
from tests.factories import Api, agent, inbound, inbox, workspace

PLAYBOOK: dict[str, Any] = {
    "settings": {"greeting": {"en": "Hi, this is the onethread assistant."}},
    "topics": [
        {
            "name": "export_broken",
            "title": "the export problem",
            "domain": "support",
            "team": "Technical Support",
            "examples": [
                "the export button is broken",
                "export to CSV does nothing",
                "I can't export my data, the export fails",
                "exporting reports gives an error",
            ],
            "resolve": "human",
        },
        {
            "name": "password_reset",
            "title": "password reset",
            "domain": "support",
            "team": "Technical Support",
            "examples": [
                "how do I reset my password",
                "I forgot my password",
                "password reset link not working",
            ],
            "resolve": "knowledge",
        },
        {
            "name": "cancel_subscription",
            "title": "cancellation",
            "domain": "service",
            "team": "Billing & Accounts",
            "examples": ["I want to cancel my subscription", "how do I cancel my plan"],
            "resolve": "human",
        },
    ],
    "rules": {"keep_human": [{"attribute": "vip", "equals": True}], "max_ai_turns": 2},
    "out_of_scope": [
        "what is the capital of France",
        "tell me a joke",
        "will it rain in London tomorrow",
        "recommend me a good pizza place",
        "who won the game last night",
    ],
}


@dataclass
class Shop:
    admin: Api
    inbox_id: int
    harness: Harness
    context: JobContext

    async def says(self, sender: str, text: str) -> dict[str, Any]:
        received = await inbound(self.admin, self.inbox_id, sender, text)
        await drain(self.harness, self.context)
        conversation: dict[str, Any] = await self.admin.ok(
            "GET", f"/conversations/{received['conversation_id']}"
        )
        return conversation

    async def messages(self, conversation_id: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.admin.ok(
            "GET", f"/conversations/{conversation_id}/messages"
        )
        return found

    async def decisions(self) -> list[dict[str, Any]]:
        page = await self.admin.ok(
            "GET", "/events", params={"limit": 1000, "type": "assistant.decided"}
        )
        return [e["data"] for e in page["items"] if e["type"] == "assistant.decided"]


@pytest.fixture
async def shop(harness: Harness) -> AsyncIterator[Shop]:
    admin = await workspace(harness)
    for name, domain in (("Technical Support", "support"), ("Billing & Accounts", "service")):
        await admin.ok("POST", "/teams", 201, json={"name": name, "domain": domain})
    await admin.ok("PUT", "/playbook", json=PLAYBOOK)
    whatsapp = await inbox(admin, "whatsapp")
    async with httpx.AsyncClient(timeout=2) as http:
        context = JobContext(
            settings=harness.app_context.settings,
            db=harness.db,
            secrets=harness.app_context.secrets,
            http=http,
            assistant=Assistant(),
        )
        yield Shop(admin, whatsapp["id"], harness, context)


def _ai_replies(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages if m["sender_kind"] == "ai" and not m["private"]]


def _notes(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages if m["private"]]


async def test_a_human_only_topic_is_handed_to_its_team_with_a_summary(shop: Shop) -> None:
    conversation = await shop.says("15550001", "Hello, the export button is broken since Monday")
    assert conversation["handler"] == "human"
    teams = await shop.admin.ok("GET", "/teams")
    support = next(t for t in teams if t["name"] == "Technical Support")
    assert conversation["team_id"] == support["id"]
    messages = await shop.messages(conversation["id"])
    replies = _ai_replies(messages)
    assert len(replies) == 1
    assert "a person will reply here" in replies[0]
    [note] = _notes(messages)
    assert "Handoff: a topic that always goes to a person" in note
    assert "the export problem (support" in note
    assert "Customer wrote: “Hello, the export button is broken since Monday”" in note
    [decision] = await shop.decisions()
    assert decision["outcome"] == "handoff"
    assert decision["reason"] == "human_only_topic"
    assert [t["name"] for t in decision["topics"]] == ["export_broken"]

    # Once humans have it, the assistant stays silent in the thread.
    await shop.says("15550001", "any news about the export?")
    assert len(_ai_replies(await shop.messages(conversation["id"]))) == 1
    assert (await shop.decisions())[-1]["reason"] == "human_handles"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("I want to talk to a human", "customer_requested_human"),
        ("This is UNACCEPTABLE, you are useless and a total scam!!", "negative_sentiment"),
        ("What is the weather on Mars tomorrow?", "low_confidence"),
    ],
)
async def test_escalation_triggers_hand_the_whole_turn_off(
    shop: Shop, text: str, reason: str
) -> None:
    conversation = await shop.says("15550002", text)
    assert conversation["handler"] == "human"
    decision = (await shop.decisions())[-1]
    assert (decision["outcome"], decision["reason"]) == ("handoff", reason)
    [note] = _notes(await shop.messages(conversation["id"]))
    assert note.startswith("Handoff: ")


async def test_a_vip_contact_is_kept_human(shop: Shop) -> None:
    first = await inbound(shop.admin, shop.inbox_id, "15550003", "hi there")
    await shop.admin.ok(
        "PATCH", f"/contacts/{first['contact_id']}", json={"attributes": {"vip": True}}
    )
    await drain(shop.harness, shop.context)
    decision = (await shop.decisions())[-1]
    assert decision["reason"] == "contact_kept_human"


async def test_courtesy_is_answered_without_a_handoff(shop: Shop) -> None:
    conversation = await shop.says("15550004", "thanks!")
    assert conversation["handler"] == "ai"
    assert _ai_replies(await shop.messages(conversation["id"])) == [
        "You're welcome! Is there anything else I can help with?"
    ]


async def test_ai_mode_off_keeps_the_assistant_silent(shop: Shop) -> None:
    await shop.admin.ok("PATCH", f"/inboxes/{shop.inbox_id}", json={"ai_mode": "off"})
    conversation = await shop.says("15550005", "the export button is broken")
    assert conversation["handler"] == "ai"  # stored and routed, nobody answered by AI
    assert _ai_replies(await shop.messages(conversation["id"])) == []
    assert (await shop.decisions())[-1]["reason"] == "ai_off"


async def test_assist_mode_drafts_for_agents_and_sends_nothing(shop: Shop) -> None:
    await shop.admin.ok("PATCH", f"/inboxes/{shop.inbox_id}", json={"ai_mode": "assist"})
    conversation = await shop.says("15550006", "thank you")
    messages = await shop.messages(conversation["id"])
    assert _ai_replies(messages) == []
    [draft] = [m for m in messages if m["private"]]
    assert draft["text"].startswith("You're welcome")
    assert (await shop.decisions())[-1]["draft"] is True


async def test_after_hours_mode_answers_only_outside_business_hours(shop: Shop) -> None:
    await shop.admin.ok("PATCH", f"/inboxes/{shop.inbox_id}", json={"ai_mode": "after_hours"})
    now = datetime.now(UTC)
    always_open = [
        {"day": day, "start": time(0, 0).isoformat(), "end": time(23, 59, 59).isoformat()}
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    ]
    await shop.admin.ok(
        "PATCH", "/workspace", json={"settings": {"timezone": "UTC", "business_hours": always_open}}
    )
    if now.time() >= time(23, 59, 54):  # pragma: no cover
        pytest.skip("too close to midnight to be sure of the hours")
    await shop.says("15550007", "thanks")
    assert (await shop.decisions())[-1]["reason"] == "inside_business_hours"
    await shop.admin.ok("PATCH", "/workspace", json={"settings": {"business_hours": []}})
    await shop.says("15550008", "thanks")
    assert (await shop.decisions())[-1]["reason"] == "small_talk"


async def test_too_many_ai_turns_hand_off(shop: Shop) -> None:
    for _ in range(2):
        conversation = await shop.says("15550009", "thank you")
        assert conversation["handler"] == "ai"
    conversation = await shop.says("15550009", "thanks again")
    assert conversation["handler"] == "human"
    assert (await shop.decisions())[-1]["reason"] == "max_ai_turns"


async def test_a_repeat_contact_on_the_same_topic_goes_to_a_person(shop: Shop) -> None:
    # No reopen window: the second message starts a new thread rather than reopening.
    await shop.admin.ok("PATCH", "/workspace", json={"settings": {"reopen_window_hours": 0}})
    first = await shop.says("15550010", "I want to cancel my subscription")
    await shop.admin.ok("POST", f"/conversations/{first['id']}/resolve")
    second = await shop.says("15550010", "how do I cancel my plan?")
    assert second["id"] != first["id"]
    decision = (await shop.decisions())[-1]
    assert decision["reason"] == "repeat_contact"


async def test_an_agent_who_speaks_the_language_is_picked(shop: Shop) -> None:
    french = await agent(shop.admin)
    teams = await shop.admin.ok("GET", "/teams")
    support = next(t for t in teams if t["name"] == "Technical Support")
    await shop.admin.ok("PATCH", f"/teams/{support['id']}", json={"member_ids": [french.agent_id]})
    await french.ok("PATCH", "/auth/me", json={"languages": ["fr", "en"], "availability": "online"})
    conversation = await shop.says(
        "15550011", "Bonjour, le bouton d'export ne marche plus, je ne peux pas exporter"
    )
    assert conversation["handler"] == "human"
    assert conversation["assignee_id"] == french.agent_id
    replies = _ai_replies(await shop.messages(conversation["id"]))
    assert "une personne va vous répondre" in replies[0]


ARTICLE = """# Resetting your password

Open Settings, choose Security and click Reset password. The reset link we email you
is valid for 30 minutes.

# Two-factor authentication

Turn it on under Settings, Security, with any authenticator app.
"""


async def test_a_knowledge_topic_is_answered_from_its_passage_and_cites_it(shop: Shop) -> None:
    conversation = await shop.says("15550012", "how do I reset my password?")
    assert conversation["handler"] == "human"  # no article yet: nothing to ground on
    assert (await shop.decisions())[-1]["reason"] == "no_knowledge"

    await shop.admin.ok(
        "POST",
        "/knowledge/articles",
        201,
        json={"title": "Resetting your password", "body": ARTICLE, "language": "en"},
    )
    conversation = await shop.says("15550013", "I forgot my password, how can I reset it?")
    assert conversation["handler"] == "ai"
    [reply] = _ai_replies(await shop.messages(conversation["id"]))
    assert "valid for 30 minutes" in reply
    assert "(from “Resetting your password”)" in reply
    assert reply.startswith("Hi, this is the onethread assistant.")
    decision = (await shop.decisions())[-1]
    assert decision["outcome"] == "reply"
    assert {s["kind"] for s in decision["sources"]} == {"article"}


async def test_an_agent_gets_a_grounded_suggestion_and_nothing_is_sent(shop: Shop) -> None:
    await shop.admin.ok(
        "POST",
        "/knowledge/articles",
        201,
        json={"title": "Resetting your password", "body": ARTICLE, "language": "en"},
    )
    await shop.admin.ok("PATCH", f"/inboxes/{shop.inbox_id}", json={"ai_mode": "off"})
    conversation = await shop.says(
        "15550014", "how do I reset my password? and the export button is broken"
    )
    before = await shop.messages(conversation["id"])
    suggestion = await shop.admin.ok("POST", f"/conversations/{conversation['id']}/suggestion")
    assert "valid for 30 minutes" in suggestion["text"]
    assert [s["kind"] for s in suggestion["sources"]] == ["article"]
    assert {p["topic"] for p in suggestion["not_answered"]} == {"export_broken"}
    assert await shop.messages(conversation["id"]) == before  # nothing written, nothing sent
