"""Canned responses through the API: admins write them, every agent finds and inserts them."""

from __future__ import annotations

from tests.conftest import Harness
from tests.factories import agent, workspace


async def test_admins_save_canned_responses_and_agents_find_them(harness: Harness) -> None:
    admin = await workspace(harness)
    teammate = await agent(admin)
    saved = await admin.ok(
        "POST",
        "/canned_responses",
        201,
        json={"shortcut": "refund", "title": "Refund timing", "text": "Refunds take 5-10 days."},
    )
    await admin.ok(
        "POST", "/canned_responses", 201, json={"shortcut": "hi", "title": "Hi", "text": "Hello!"}
    )
    found = await teammate.ok("GET", "/canned_responses", params={"q": "refund"})
    assert [c["shortcut"] for c in found] == ["refund"]
    assert [c["shortcut"] for c in await teammate.ok("GET", "/canned_responses")] == [
        "hi",
        "refund",
    ]

    renamed = await admin.ok(
        "PATCH", f"/canned_responses/{saved['id']}", json={"shortcut": "refunds"}
    )
    assert renamed["shortcut"] == "refunds"
    taken = await admin.request(
        "PATCH", f"/canned_responses/{saved['id']}", json={"shortcut": "hi"}
    )
    assert taken.status_code == 409
    bad = await admin.request(
        "POST", "/canned_responses", json={"shortcut": "Not OK", "title": "x", "text": "y"}
    )
    assert bad.status_code == 400
    await admin.ok("DELETE", f"/canned_responses/{saved['id']}", 204)
    assert [c["shortcut"] for c in await teammate.ok("GET", "/canned_responses")] == ["hi"]
