"""``GET /conversations/counts``: every inbox view's exact count in one request, under the
list's filters, for the caller's workspace only, and equal to what the list holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from onethread.conversations.models import Conversation, ConversationTopic
from tests.conftest import Harness
from tests.factories import Api, agent, inbound, inbox, workspace

Scenario = dict[str, Any]


async def _thread(admin: Api, inbox_id: int, sender: str, text: str) -> int:
    conversation_id: int = (await inbound(admin, inbox_id, sender, text))["conversation_id"]
    return conversation_id


async def _scenario(harness: Harness) -> Scenario:
    """Workspace A with six threads in known states, and a busy workspace B beside it.

    A's threads:
      assigned  — team Billing, then assigned to the admin (so handled by a human), "de"
      fresh     — handled by AI, nobody assigned, open; topic "refund" (service)
      waiting   — handed off to team Tech (handled by a human), nobody assigned
      closed    — handled by AI, resolved, nobody assigned
      teammate  — handed off, assigned to the plain agent, on the SMS inbox
      snoozed   — handled by AI, snoozed, nobody assigned
    """
    admin = await workspace(harness)
    plain = await agent(admin)
    billing = await admin.ok("POST", "/teams", 201, json={"name": "Billing", "domain": "service"})
    tech = await admin.ok("POST", "/teams", 201, json={"name": "Tech"})
    whatsapp = await inbox(admin, "whatsapp")
    sms = await inbox(admin, "twilio_sms")
    ids = {
        "assigned": await _thread(admin, whatsapp["id"], "15550000001", "invoice twice"),
        "fresh": await _thread(admin, whatsapp["id"], "15550000002", "I want a refund"),
        "waiting": await _thread(admin, whatsapp["id"], "15550000003", "app crashes"),
        "closed": await _thread(admin, whatsapp["id"], "15550000004", "thanks, solved"),
        "teammate": await _thread(admin, sms["id"], "+15550000005", "invoice address"),
        "snoozed": await _thread(admin, whatsapp["id"], "15550000006", "call me later"),
    }
    path = "/conversations/{}/".format
    await admin.ok("POST", path(ids["assigned"]) + "transfer", json={"team_id": billing["id"]})
    await admin.ok("POST", path(ids["assigned"]) + "assign", json={"assignee_id": admin.agent_id})
    await admin.ok(
        "POST", path(ids["waiting"]) + "handoff", json={"reason": "bug", "team_id": tech["id"]}
    )
    await admin.ok("POST", path(ids["closed"]) + "resolve")
    await admin.ok("POST", path(ids["teammate"]) + "handoff", json={"reason": "billing"})
    await admin.ok("POST", path(ids["teammate"]) + "assign", json={"assignee_id": plain.agent_id})
    await admin.ok("POST", path(ids["snoozed"]) + "snooze", json={"until": "2099-01-01T09:00Z"})
    async with harness.db.session() as session:
        await session.execute(
            update(Conversation).where(Conversation.id == ids["assigned"]).values(language="de")
        )
        session.add(
            ConversationTopic(
                workspace_id=admin.workspace_id,
                conversation_id=ids["fresh"],
                name="refund",
                domain="service",
            )
        )
        await session.commit()

    # Workspace B: the same shapes and words, all of which A must never count.
    other = await workspace(harness)
    other_team = await other.ok("POST", "/teams", 201, json={"name": "Billing"})
    other_inbox = await inbox(other, "whatsapp")
    for number in range(4):
        cid = await _thread(other, other_inbox["id"], f"1555999000{number}", "invoice refund")
        await other.ok("POST", path(cid) + "handoff", json={"reason": "x"})
        if number % 2:
            await other.ok("POST", path(cid) + "assign", json={"assignee_id": other.agent_id})
        await other.ok("POST", path(cid) + "transfer", json={"team_id": other_team["id"]})
    return {
        "admin": admin,
        "plain": plain,
        "ids": ids,
        "billing": billing["id"],
        "tech": tech["id"],
        "sms": sms["id"],
        "other_team": other_team["id"],
    }


VIEWS: dict[str, dict[str, str]] = {
    "all": {},
    "mine": {"assignee": "me"},
    "unassigned": {"assignee": "none", "status": "open"},
    "ai": {"handler": "ai"},
    "waiting": {"handler": "human", "assignee": "none"},
}


async def _listed(caller: Api, view: dict[str, Any], filters: dict[str, Any]) -> set[int]:
    page = await caller.ok("GET", "/conversations", params={**view, **filters, "limit": 100})
    assert page["next_cursor"] is None
    return {item["id"] for item in page["items"]}


async def test_counts_are_exact_per_view(harness: Harness) -> None:
    s = await _scenario(harness)
    admin, plain = s["admin"], s["plain"]
    billing, tech = str(s["billing"]), str(s["tech"])
    expected = {
        "all": 6,
        "mine": 1,
        "unassigned": 2,  # fresh and waiting; not the resolved or the snoozed one
        "ai": 3,
        "waiting": 1,
        "teams": {billing: 1, tech: 1},
    }
    assert await admin.ok("GET", "/conversations/counts") == expected
    # "mine" is the caller's: the plain agent has the teammate thread
    assert await plain.ok("GET", "/conversations/counts") == {**expected, "mine": 1}
    assert (await _listed(plain, VIEWS["mine"], {})) == {s["ids"]["teammate"]}


async def test_counts_follow_the_filters(harness: Harness) -> None:
    s = await _scenario(harness)
    admin = s["admin"]
    billing, tech = str(s["billing"]), str(s["tech"])
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        # a status filter replaces the unassigned view's "open"
        (
            {"status": "resolved"},
            {"all": 1, "mine": 0, "unassigned": 1, "ai": 1, "waiting": 0, "teams": {}},
        ),
        (
            {"status": "open"},
            {
                "all": 4,
                "mine": 1,
                "unassigned": 2,
                "ai": 1,
                "waiting": 1,
                "teams": {billing: 1, tech: 1},
            },
        ),
        (
            {"inbox": s["sms"]},
            {"all": 1, "mine": 0, "unassigned": 0, "ai": 0, "waiting": 0, "teams": {}},
        ),
        (
            {"q": "invoice"},
            {"all": 2, "mine": 1, "unassigned": 0, "ai": 0, "waiting": 0, "teams": {billing: 1}},
        ),
        (
            {"topic": "refund"},
            {"all": 1, "mine": 0, "unassigned": 1, "ai": 1, "waiting": 0, "teams": {}},
        ),
        (
            {"domain": "service"},
            {"all": 1, "mine": 0, "unassigned": 1, "ai": 1, "waiting": 0, "teams": {}},
        ),
        (
            {"language": "de"},
            {"all": 1, "mine": 1, "unassigned": 0, "ai": 0, "waiting": 0, "teams": {billing: 1}},
        ),
        (
            {"q": "nobody wrote this"},
            {"all": 0, "mine": 0, "unassigned": 0, "ai": 0, "waiting": 0, "teams": {}},
        ),
    ]
    for filters, counts in cases:
        assert await admin.ok("GET", "/conversations/counts", params=filters) == counts, filters


async def test_counts_equal_the_lists_they_badge(harness: Harness) -> None:
    """Each count is the size of the list the app shows for that view and those filters."""
    s = await _scenario(harness)
    admin = s["admin"]
    views = {**VIEWS, **{f"team {t}": {"team": t} for t in (s["billing"], s["tech"])}}
    for filters in (
        {},
        {"status": "resolved"},
        {"q": "invoice"},
        {"q": "re"},
        {"domain": "service"},
    ):
        counts = await admin.ok("GET", "/conversations/counts", params=filters)
        for name, view in views.items():
            listed = await _listed(admin, view, filters)
            if name.startswith("team "):
                count = counts["teams"].get(name.removeprefix("team "), 0)
            else:
                count = counts[name]
            assert count == len(listed), (name, filters)


async def test_another_workspace_is_never_counted(harness: Harness) -> None:
    s = await _scenario(harness)
    other_team = str(s["other_team"])
    for caller in (s["admin"], s["plain"]):
        for filters in ({}, {"q": "invoice refund"}, {"status": "open"}):
            counts = await caller.ok("GET", "/conversations/counts", params=filters)
            assert other_team not in counts["teams"]
            assert counts["all"] <= 6, filters
    found = await s["admin"].ok("GET", "/conversations/counts", params={"q": "invoice refund"})
    assert found == {"all": 0, "mine": 0, "unassigned": 0, "ai": 0, "waiting": 0, "teams": {}}


async def test_counts_refuse_bad_filters(harness: Harness) -> None:
    admin = await workspace(harness)
    for params in ({"status": "lost"}, {"domain": "sales"}, {"inbox": "x"}, {"q": "x" * 201}):
        response = await admin.get("/conversations/counts", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["error"]["code"] == "invalid_input"
