"""Every action appends its event in the same transaction and publishes it after commit."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from onethread.conversations.models import Conversation
from onethread.db.types import utcnow
from onethread.events.log import append_event
from onethread.events.types import EventType
from tests.conftest import Harness
from tests.factories import Api, agent, inbound, inbox, workspace


async def _types_after(api: Api, after: int) -> list[str]:
    page = await api.ok("GET", "/events", params={"after": after, "limit": 1000})
    return [event["type"] for event in page["items"]]


async def _last_id(api: Api) -> int:
    return int((await api.ok("GET", "/events", params={"limit": 1}))["head_event_id"])


async def test_each_action_appends_its_event(harness: Harness) -> None:
    admin = await workspace(harness)
    teammate = await agent(admin)
    whatsapp = await inbox(admin, "whatsapp")
    team = await admin.ok("POST", "/teams", 201, json={"name": "Billing", "domain": "service"})

    async def expect(
        types: list[str], method: str, path: str, status: int = 200, **kwargs: Any
    ) -> Any:
        before = await _last_id(admin)
        body = await admin.ok(method, path, status, **kwargs)
        assert await _types_after(admin, before) == types, path
        return body

    first = await expect(
        ["contact.created", "contact.identity_linked", "conversation.created", "message.received"],
        "POST",
        f"/inboxes/{whatsapp['id']}/inbound",
        201,
        json={"sender_id": "15550009999", "text": "hello"},
    )
    conversation = f"/conversations/{first['conversation_id']}"
    await expect(
        ["note.added"],
        "POST",
        f"{conversation}/notes",
        201,
        json={"text": "@teammate look", "mentions": [teammate.agent_id]},
    )
    await expect(
        ["conversation.transferred"],
        "POST",
        f"{conversation}/transfer",
        json={"team_id": team["id"]},
    )
    await expect(
        ["handoff.requested", "note.added"],
        "POST",
        f"{conversation}/handoff",
        json={"reason": "customer_requested_human", "summary": "wants a person"},
    )
    await expect(
        ["conversation.assigned"],
        "POST",
        f"{conversation}/assign",
        json={"assignee_id": teammate.agent_id},
    )
    await expect(
        ["message.created"], "POST", f"{conversation}/reply", 201, json={"text": "Hi, I'm here"}
    )
    await expect(
        ["conversation.priority_changed"],
        "POST",
        f"{conversation}/priority",
        json={"priority": "urgent"},
    )
    await expect(["conversation.handed_back"], "POST", f"{conversation}/handback")
    until = (utcnow() + timedelta(hours=2)).isoformat()
    await expect(["conversation.snoozed"], "POST", f"{conversation}/snooze", json={"until": until})
    await expect(["conversation.resolved"], "POST", f"{conversation}/resolve")
    await expect(["conversation.reopened"], "POST", f"{conversation}/reopen")
    other = await inbound(admin, whatsapp["id"], "15550008888", "second person")
    await expect(
        ["contact.merged"],
        "POST",
        f"/contacts/{first['contact_id']}/merge",
        json={"source_id": other["contact_id"]},
    )
    await expect(
        ["contact.updated"],
        "PATCH",
        f"/contacts/{first['contact_id']}",
        json={"attributes": {"plan": "Business"}},
    )
    await expect(
        ["inbox.updated"], "PATCH", f"/inboxes/{whatsapp['id']}", json={"ai_mode": "assist"}
    )
    await expect(
        ["agent.updated"], "PATCH", f"/agents/{teammate.agent_id}", json={"name": "Renamed"}
    )
    await expect(["team.updated"], "PATCH", f"/teams/{team['id']}", json={"name": "Billing 2"})
    await expect(["workspace.updated"], "PATCH", "/workspace", json={"name": "Renamed Inc"})


async def test_reply_by_a_human_takes_the_thread_from_the_assistant(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    first = await inbound(admin, whatsapp["id"], "15550007777", "hello")
    before = await _last_id(admin)
    await admin.ok(
        "POST",
        f"/conversations/{first['conversation_id']}/reply",
        201,
        json={"text": "A human here"},
    )
    events = (await admin.ok("GET", "/events", params={"after": before}))["items"]
    assert [e["type"] for e in events] == [
        "handoff.requested",
        "conversation.assigned",
        "message.created",
    ]
    assert events[0]["data"]["reason"] == "agent_replied"
    conversation = await admin.ok("GET", f"/conversations/{first['conversation_id']}")
    assert (conversation["handler"], conversation["assignee_id"]) == ("human", admin.agent_id)


async def test_events_reach_the_bus_after_commit_and_never_on_rollback(harness: Harness) -> None:
    admin = await workspace(harness)
    subscription = harness.app_context.bus.subscribe()

    async def aborted_unit_of_work() -> None:
        async with harness.db.session() as session:
            append_event(
                session, admin.workspace_id, EventType.CONTACT_UPDATED, data={"changed": ["name"]}
            )
            await session.flush()
            assert subscription.queue.empty()  # flushed, not committed: not published
            raise RuntimeError("abort the unit of work")

    try:
        with pytest.raises(RuntimeError):
            await aborted_unit_of_work()
        assert subscription.queue.empty()
        async with harness.db.session() as session:
            row = append_event(
                session, admin.workspace_id, EventType.CONTACT_UPDATED, data={"changed": ["email"]}
            )
        published = await asyncio.wait_for(subscription.queue.get(), timeout=2)
        assert published["id"] == row.id
        assert published["data"] == {"changed": ["email"]}
    finally:
        subscription.close()


async def test_events_since_pages_through_the_log(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    for number in range(5):
        await inbound(admin, whatsapp["id"], f"1555000100{number}", f"message {number}")
    seen: list[int] = []
    after = 0
    while True:
        page = await admin.ok("GET", "/events", params={"after": after, "limit": 3})
        if not page["items"]:
            break
        seen += [event["id"] for event in page["items"]]
        after = page["last_event_id"]
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))
    received = await admin.ok("GET", "/events", params={"type": "message.received"})
    assert len(received["items"]) == 5


async def test_failed_action_leaves_no_event(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    first = await inbound(admin, whatsapp["id"], "15550006666", "hello")
    before = await _last_id(admin)
    response = await admin.post(f"/conversations/{first['conversation_id']}/reopen")
    assert response.status_code == 409
    assert await _types_after(admin, before) == []
    async with harness.db.read_session() as session:
        conversation = await session.get(Conversation, first["conversation_id"])
        assert conversation is not None
        assert conversation.status == "open"


def test_every_event_type_is_in_the_catalogue() -> None:
    from pathlib import Path

    catalogue = (Path(__file__).resolve().parents[1] / "docs" / "events.md").read_text()
    missing = [t.value for t in EventType if f"`{t.value}`" not in catalogue]
    assert missing == []
