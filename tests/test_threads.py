"""One thread per customer: channels join it, the reopen window decides reopen or new."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from onethread.conversations.models import Conversation
from onethread.db.types import utcnow
from tests.conftest import Harness
from tests.factories import inbound, inbox, workspace


async def test_a_message_on_a_second_channel_joins_the_open_thread(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    sms = await inbox(admin, "twilio_sms")
    first = await inbound(
        admin,
        whatsapp["id"],
        "15551234567",
        "Hi, my invoice is wrong",
        sender_phone="+1 555 123 4567",
        verified=True,
        external_id="wamid.1",
    )
    second = await inbound(
        admin,
        sms["id"],
        "+15551234567",
        "Also sent you an SMS",
        sender_phone="+15551234567",
        verified=True,
        external_id="SM1",
    )

    assert first["outcome"] == "created"
    assert second["outcome"] == "joined"
    assert second["contact_id"] == first["contact_id"]
    assert second["conversation_id"] == first["conversation_id"]
    timeline = await admin.ok("GET", f"/conversations/{first['conversation_id']}/messages")
    assert [(m["channel"], m["text"]) for m in timeline] == [
        ("whatsapp", "Hi, my invoice is wrong"),
        ("twilio_sms", "Also sent you an SMS"),
    ]
    contact = await admin.ok("GET", f"/contacts/{first['contact_id']}")
    assert {i["channel"] for i in contact["identities"]} == {"whatsapp", "sms"}


async def test_unverified_identities_do_not_link_contacts(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    sms = await inbox(admin, "twilio_sms")
    first = await inbound(
        admin, whatsapp["id"], "15551234567", "hello", sender_phone="15551234567", verified=True
    )
    second = await inbound(
        admin, sms["id"], "+15551234567", "hello again", sender_phone="+15551234567"
    )
    assert second["contact_id"] != first["contact_id"]


async def test_duplicate_delivery_is_stored_once(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    first = await inbound(admin, whatsapp["id"], "155500001", "once", external_id="wamid.X")
    again = await inbound(admin, whatsapp["id"], "155500001", "once", external_id="wamid.X")
    assert again["outcome"] == "duplicate"
    assert again["message"]["id"] == first["message"]["id"]
    timeline = await admin.ok("GET", f"/conversations/{first['conversation_id']}/messages")
    assert len(timeline) == 1


async def _resolve_ago(
    harness: Harness, admin_api: object, conversation_id: int, hours: float
) -> None:
    async with harness.db.session() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(resolved_at=utcnow() - timedelta(hours=hours))
        )


async def test_reopen_inside_the_window_and_new_thread_after_it(harness: Harness) -> None:
    admin = await workspace(harness)
    await admin.ok("PATCH", "/workspace", json={"settings": {"reopen_window_hours": 24}})
    whatsapp = await inbox(admin, "whatsapp")
    first = await inbound(admin, whatsapp["id"], "155500002", "first question")
    conversation_id = first["conversation_id"]

    await admin.ok("POST", f"/conversations/{conversation_id}/resolve")
    await _resolve_ago(harness, admin, conversation_id, hours=23)
    inside = await inbound(admin, whatsapp["id"], "155500002", "one more thing")
    assert inside["outcome"] == "reopened"
    assert inside["conversation_id"] == conversation_id
    reopened = await admin.ok("GET", f"/conversations/{conversation_id}")
    assert reopened["status"] == "open"
    assert reopened["resolved_at"] is None

    await admin.ok("POST", f"/conversations/{conversation_id}/resolve")
    await _resolve_ago(harness, admin, conversation_id, hours=25)
    after = await inbound(admin, whatsapp["id"], "155500002", "a new problem")
    assert after["outcome"] == "created"
    assert after["conversation_id"] != conversation_id
    events = await admin.ok(
        "GET", "/events", params={"type": ["conversation.created", "conversation.reopened"]}
    )
    assert [e["type"] for e in events["items"]] == [
        "conversation.created",
        "conversation.reopened",
        "conversation.created",
    ]
    assert events["items"][-1]["data"]["previous_conversation_id"] == conversation_id


async def test_the_database_refuses_a_second_open_thread(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    first = await inbound(admin, whatsapp["id"], "155500003", "hello")
    conversation = await admin.ok("GET", f"/conversations/{first['conversation_id']}")
    import pytest
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        async with harness.db.session() as session:
            session.add(
                Conversation(
                    workspace_id=admin.workspace_id,
                    contact_id=conversation["contact"]["id"],
                    status="open",
                    handler="ai",
                    priority="normal",
                    last_message_at=utcnow(),
                    created_at=utcnow(),
                    ai_turns=0,
                )
            )


async def test_reopen_by_agent_is_refused_while_another_thread_is_open(harness: Harness) -> None:
    admin = await workspace(harness)
    await admin.ok("PATCH", "/workspace", json={"settings": {"reopen_window_hours": 0}})
    whatsapp = await inbox(admin, "whatsapp")
    old = await inbound(admin, whatsapp["id"], "155500004", "old")
    await admin.ok("POST", f"/conversations/{old['conversation_id']}/resolve")
    new = await inbound(admin, whatsapp["id"], "155500004", "new")
    assert new["conversation_id"] != old["conversation_id"]
    response = await admin.post(f"/conversations/{old['conversation_id']}/reopen")
    assert response.status_code == 409
    assert response.json()["error"]["details"]["open_conversation_id"] == new["conversation_id"]
