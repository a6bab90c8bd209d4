"""WhatsApp Cloud API end to end: signed webhooks in, Graph API sends out, on real databases."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from onethread.channels import meta
from onethread.conversations.models import Message
from onethread.db.types import utcnow
from onethread.jobs.context import JobContext
from onethread.outbox.models import Job
from tests.channels.conftest import APP_SECRET, TOKEN, drain, fixture, meta_bytes, post_meta
from tests.conftest import Harness
from tests.factories import Api, inbox, snapshot, workspace
from tests.fakes.graph_api import FakeGraphApi

PHONE_NUMBER_ID = "106540352242922"  # the fixtures' metadata.phone_number_id


async def whatsapp_inbox(admin: Api, graph: FakeGraphApi, **config: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "sandbox": False,
        "phone_number_id": PHONE_NUMBER_ID,
        "access_token": TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": "meatyhamhock",
        "api_base_url": graph.base_url,
    }
    return await inbox(admin, "whatsapp", **(settings | config))


def path_of(created: dict[str, Any]) -> str:
    url: str = created["webhook_url"]
    return url.removeprefix("http://localhost:8000")


async def messages(harness: Harness) -> list[Message]:
    async with harness.db.read_session() as session:
        return list((await session.scalars(select(Message).order_by(Message.id))).all())


async def deliver(harness: Harness, created: dict[str, Any], name: str) -> dict[str, Any]:
    body = fixture(name)["body"]
    response = await post_meta(harness.client, path_of(created), meta_bytes(body))
    assert response.status_code == 200, response.text
    return body


INBOUND_CASES = [
    ("whatsapp_text.json", "Does it come in another color?", None),
    ("whatsapp_text_bsuid_username.json", "Hi, I only want to share my username", None),
    ("whatsapp_image.json", None, "image"),
    ("whatsapp_interactive_button_reply.json", None, None),
    ("whatsapp_interactive_list_reply.json", None, None),
    ("whatsapp_template_quick_reply.json", None, None),
    ("whatsapp_location.json", "📍", "location"),
    ("whatsapp_unsupported.json", "[Unsupported WhatsApp message: poll]", None),
]


@pytest.mark.parametrize(("name", "text", "attachment"), INBOUND_CASES)
async def test_every_inbound_fixture_is_stored_in_a_thread(
    harness: Harness, graph: FakeGraphApi, name: str, text: str | None, attachment: str | None
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    body = await deliver(harness, created, name)
    [stored] = await messages(harness)
    wamid = body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert stored.external_id == wamid
    assert stored.direction == "in"
    assert stored.text, "every message gets readable text, even unsupported ones"
    if text is not None:
        assert stored.text.startswith(text)
    if attachment is not None:
        assert stored.attachments[0]["type"] == attachment
    conversations = await admin.ok("GET", "/conversations")
    assert len(conversations["items"]) == 1


async def test_interactive_replies_keep_the_chosen_id(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    body = await deliver(harness, created, "whatsapp_interactive_button_reply.json")
    sent = body["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["button_reply"]
    [stored] = await messages(harness)
    assert stored.interactive == {"type": "button_reply", "id": sent["id"], "title": sent["title"]}
    assert stored.text == sent["title"]


async def test_a_username_user_is_keyed_on_their_bsuid(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    await deliver(harness, created, "whatsapp_text_bsuid_username.json")
    [contact] = (await admin.ok("GET", "/contacts"))["items"]
    detail = await admin.ok("GET", f"/contacts/{contact['id']}")
    [identity] = detail["identities"]
    assert identity["external_id"] == "US.13491208655302741918"
    assert identity["phone"] is None
    assert identity["verified"] is False
    assert contact["name"] == "Sheena Nelson"


async def test_a_batched_payload_is_processed_entirely(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    body = fixture("whatsapp_batched_mixed.json")["body"]
    changes = body["entry"][0]["changes"]
    wamids = [m["id"] for change in changes for m in change["value"].get("messages", [])]
    response = await post_meta(harness.client, path_of(created), meta_bytes(body))
    assert response.status_code == 200
    stored = await messages(harness)
    assert sorted(m.external_id for m in stored) == sorted(wamids)
    assert len(wamids) == 2


async def test_a_duplicate_delivery_is_stored_once(harness: Harness, graph: FakeGraphApi) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    for _ in range(3):
        await deliver(harness, created, "whatsapp_text.json")
    assert len(await messages(harness)) == 1
    async with harness.db.read_session() as session:
        turns = await session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == "assistant.turn")
        )
    assert turns == 1, "one assistant turn, so one auto-reply at most"


async def test_a_forged_or_missing_signature_gets_401_and_stores_nothing(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    raw = meta_bytes(fixture("whatsapp_text.json")["body"])
    before = await snapshot(harness)
    forged = await post_meta(harness.client, path_of(created), raw, secret="not-the-secret")
    missing = await harness.client.post(path_of(created), content=raw)
    tampered = await harness.client.post(
        path_of(created),
        content=raw.replace(b"color", b"colour"),
        headers={"X-Hub-Signature-256": meta.sign(raw, APP_SECRET)},
    )
    assert [forged.status_code, missing.status_code, tampered.status_code] == [401, 401, 401]
    assert forged.json()["error"]["code"] == "invalid_signature"
    assert await snapshot(harness) == before


async def test_another_inboxs_secret_does_not_sign_for_this_one(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    other = await workspace(harness)
    await whatsapp_inbox(admin, graph)
    foreign = await whatsapp_inbox(other, graph, app_secret="the-other-secret")
    raw = meta_bytes(fixture("whatsapp_text.json")["body"])
    response = await post_meta(harness.client, path_of(foreign), raw, secret=APP_SECRET)
    assert response.status_code == 401
    assert await messages(harness) == []


async def test_non_ascii_text_is_verified_over_the_escaped_bytes(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    body = fixture("whatsapp_text.json")["body"]
    body["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "äöå — مرحبا 🎉"
    escaped = meta_bytes(body)
    assert b"\\u00e4\\u00f6\\u00e5" in escaped
    reserialised = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    signature = meta.sign(escaped, APP_SECRET)
    refused = await harness.client.post(
        path_of(created), content=reserialised, headers={"X-Hub-Signature-256": signature}
    )
    assert refused.status_code == 401
    accepted = await post_meta(harness.client, path_of(created), escaped)
    assert accepted.status_code == 200
    [stored] = await messages(harness)
    assert stored.text == "äöå — مرحبا 🎉"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"object": "page", "entry": []}', "whatsapp_business_account"),
        (b'{"object": "whatsapp_business_account", "entry": {}}', "entry"),
        (
            b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages",'
            b'"value":{"messages":[{"type":"text","text":{"body":"x"}}]}}]}]}',
            "without an id",
        ),
    ],
)
async def test_a_signed_but_malformed_payload_gets_400_with_a_reason(
    harness: Harness, graph: FakeGraphApi, raw: bytes, reason: str
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    before = await snapshot(harness)
    response = await post_meta(harness.client, path_of(created), raw)
    assert response.status_code == 400, response.text
    assert reason in response.json()["error"]["message"]
    assert await snapshot(harness) == before


async def test_the_verification_handshake(harness: Harness, graph: FakeGraphApi) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    cases = fixture("whatsapp_verify_handshake.json")["requests"]
    for case in cases:
        response = await harness.client.get(path_of(created), params=case["http"]["query"])
        expect = case["expect"]
        if "status" in expect:
            assert response.status_code == expect["status"]
            assert response.text == expect["body_exact"]
        else:
            assert response.status_code != 200, case["name"]
            assert 400 <= response.status_code < 500
    wrong = next(case for case in cases if case["name"] == "wrong_token")
    response = await harness.client.get(path_of(created), params=wrong["http"]["query"])
    assert response.status_code == 403


async def test_an_unknown_inbox_or_channel_is_404(harness: Harness, graph: FakeGraphApi) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    raw = meta_bytes(fixture("whatsapp_text.json")["body"])
    wrong_kind = path_of(created).replace("/whatsapp/", "/messenger/")
    assert (await post_meta(harness.client, wrong_kind, raw)).status_code == 404
    assert (await post_meta(harness.client, "/webhooks/whatsapp/999999", raw)).status_code == 404


async def test_a_webhook_over_the_size_limit_is_refused(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    raw = b"{" + b" " * (5 * 1024 * 1024) + b"}"
    response = await post_meta(harness.client, path_of(created), raw)
    assert response.status_code == 413


# -- outbound ----------------------------------------------------------------------------


async def _thread_with_inbound(harness: Harness, admin: Api, created: dict[str, Any]) -> int:
    await deliver(harness, created, "whatsapp_text.json")
    conversation_id: int = (await admin.ok("GET", "/conversations"))["items"][0]["id"]
    return conversation_id


async def _timeline(admin: Api, conversation_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await admin.ok("GET", f"/conversations/{conversation_id}/messages")
    return rows


async def test_a_reply_is_sent_to_the_graph_api_and_its_statuses_follow(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    conversation_id = await _thread_with_inbound(harness, admin, created)
    reply = await admin.ok(
        "POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Yes: blue and red."}
    )
    assert reply["delivery_status"] == "queued"
    await drain(harness, job_context)
    [request] = [r for r in graph.requests if r.method == "POST"]
    expected = fixture("whatsapp_send_text_request.json")
    assert request.path.endswith(f"/{PHONE_NUMBER_ID}/messages")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert set(request.json) == set(expected["body"])
    assert request.json["to"] == "16505551234"
    assert request.json["text"]["body"] == "Yes: blue and red."
    [sent] = [m for m in await _timeline(admin, conversation_id) if m["id"] == reply["id"]]
    assert sent["delivery_status"] == "sent"
    wamid = sent["external_id"]
    assert wamid.startswith("wamid.")

    async def status(name: str) -> None:
        body = fixture(name)["body"]
        body["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = wamid
        response = await post_meta(harness.client, path_of(created), meta_bytes(body))
        assert response.status_code == 200

    await status("whatsapp_status_read.json")  # read may come without delivered
    await status("whatsapp_status_delivered.json")  # late: never moves it back
    await status("whatsapp_status_read.json")  # repeated: idempotent
    [after] = [m for m in await _timeline(admin, conversation_id) if m["id"] == reply["id"]]
    assert after["delivery_status"] == "read"
    events = await admin.ok("GET", "/events", params={"type": "message.status_changed"})
    changes = [e["data"]["status"] for e in events["items"] if e["message_id"] == reply["id"]]
    assert changes == ["sent", "read"]


async def test_a_late_131047_failure_shows_the_window_reason(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    conversation_id = await _thread_with_inbound(harness, admin, created)
    reply = await admin.ok(
        "POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Hello again"}
    )
    await drain(harness, job_context)
    [sent] = [m for m in await _timeline(admin, conversation_id) if m["id"] == reply["id"]]
    body = fixture("whatsapp_status_failed_131047.json")["body"]
    body["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = sent["external_id"]
    assert (await post_meta(harness.client, path_of(created), meta_bytes(body))).status_code == 200
    [failed] = [m for m in await _timeline(admin, conversation_id) if m["id"] == reply["id"]]
    assert failed["delivery_status"] == "failed"
    assert failed["delivery_error_code"] == "131047"
    assert "24-hour" in failed["delivery_error"]
    assert "template" in failed["delivery_error"]


async def test_429_and_timeouts_are_retried_then_the_message_is_sent(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    conversation_id = await _thread_with_inbound(harness, admin, created)
    graph.script(status=429)
    graph.script(delay=3.0)  # longer than the worker's 2 s client timeout
    graph.script(status=500)
    reply = await admin.ok(
        "POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Persistent"}
    )
    await drain(harness, job_context, make_due=True)
    sends = [r for r in graph.requests if r.method == "POST"]
    assert len(sends) == 4
    [sent] = [m for m in await _timeline(admin, conversation_id) if m["id"] == reply["id"]]
    assert sent["delivery_status"] == "sent"
    async with harness.db.read_session() as session:
        job = await session.scalar(select(Job).where(Job.kind == "delivery.send"))
    assert job is not None
    assert job.attempts == 4
    assert job.status == "done"


async def test_a_provider_outage_ends_in_a_visible_failure(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    conversation_id = await _thread_with_inbound(harness, admin, created)
    graph.script(status=503, times=50)
    reply = await admin.ok(
        "POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Into the void"}
    )
    await drain(harness, job_context, make_due=True)
    [failed] = [m for m in await _timeline(admin, conversation_id) if m["id"] == reply["id"]]
    assert failed["delivery_status"] == "failed"
    assert "gave up" in failed["delivery_error"]
    async with harness.db.read_session() as session:
        job = await session.scalar(select(Job).where(Job.kind == "delivery.send"))
    assert job is not None
    assert job.status == "dead"
    assert job.attempts == job.max_attempts


async def test_a_final_refusal_is_not_retried(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    conversation_id = await _thread_with_inbound(harness, admin, created)
    graph.script(status=400, body=fixture("whatsapp_send_error_131047.json")["body"])
    reply = await admin.ok(
        "POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Too late"}
    )
    await drain(harness, job_context, make_due=True)
    assert len([r for r in graph.requests if r.method == "POST"]) == 1
    [failed] = [m for m in await _timeline(admin, conversation_id) if m["id"] == reply["id"]]
    assert failed["delivery_status"] == "failed"
    assert failed["delivery_error_code"] == "131047"
    assert "24-hour" in failed["delivery_error"]


async def _age_inbound(harness: Harness, hours: float) -> None:
    async with harness.db.session() as session:
        await session.execute(
            update(Message)
            .where(Message.direction == "in")
            .values(created_at=utcnow() - timedelta(hours=hours))
        )


TEMPLATES = [
    {"name": "order_update", "language": "en_US", "body": "Hi {{1}}, your order {{2}} is ready."}
]


async def test_outside_the_24_hour_window_text_is_refused_and_a_template_goes(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph, templates=TEMPLATES)
    conversation_id = await _thread_with_inbound(harness, admin, created)
    await _age_inbound(harness, 25)
    refused = await admin.post(f"/conversations/{conversation_id}/reply", json={"text": "Hi"})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "outside_reply_window"
    assert "24-hour" in error["message"]
    assert error["details"]["templates"] == ["order_update"]
    wrong = await admin.post(
        f"/conversations/{conversation_id}/reply",
        json={"template": {"name": "order_update", "parameters": ["Sheena"]}},
    )
    assert wrong.status_code == 400
    sent = await admin.ok(
        "POST",
        f"/conversations/{conversation_id}/reply",
        201,
        json={"template": {"name": "order_update", "parameters": ["Sheena", "#1042"]}},
    )
    assert sent["text"] == "Hi Sheena, your order #1042 is ready."
    await drain(harness, job_context)
    [request] = [r for r in graph.requests if r.method == "POST"]
    expected = fixture("whatsapp_send_template_request.json")["body"]
    assert request.json["type"] == "template" == expected["type"]
    template = request.json["template"]
    assert template["name"] == "order_update"
    assert template["language"] == {"code": "en_US"}
    assert template["components"][0]["parameters"] == [
        {"type": "text", "text": "Sheena"},
        {"type": "text", "text": "#1042"},
    ]


async def test_inside_the_window_a_long_reply_is_split(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    conversation_id = await _thread_with_inbound(harness, admin, created)
    await _age_inbound(harness, 23)
    sentence = "This sentence is part of a long and careful answer. "
    text = sentence * 150  # ~7,800 characters; WhatsApp takes 4,096
    await admin.ok("POST", f"/conversations/{conversation_id}/reply", 201, json={"text": text})
    await drain(harness, job_context)
    bodies = [r.json["text"]["body"] for r in graph.requests if r.method == "POST"]
    assert len(bodies) == 2
    assert all(len(body) <= 4096 and body.endswith(".") for body in bodies)
    assert " ".join(bodies) == text.strip()


async def test_a_bsuid_customer_is_answered_on_their_bsuid(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    await deliver(harness, created, "whatsapp_text_bsuid_username.json")
    conversation_id = (await admin.ok("GET", "/conversations"))["items"][0]["id"]
    await admin.ok("POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Hi!"})
    await drain(harness, job_context)
    [request] = [r for r in graph.requests if r.method == "POST"]
    assert request.json["to"] == "US.13491208655302741918"


async def test_media_is_fetched_with_the_inbox_token_and_stored(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    body = fixture("whatsapp_image.json")["body"]
    media_id = body["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["id"]
    graph.add_media(media_id, b"\x89PNG fake picture", "image/png")
    await post_meta(harness.client, path_of(created), meta_bytes(body))
    await drain(harness, job_context)
    [stored] = await messages(harness)
    attachment = stored.attachments[0]
    assert attachment["status"] == "stored", attachment
    media_dir: Path = harness.app_context.settings.resolved_media_dir
    assert (media_dir / attachment["path"]).read_bytes() == b"\x89PNG fake picture"
    assert attachment["mime_type"] == "image/png"
    fetches = [r for r in graph.requests if r.method == "GET"]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fetches)


async def test_a_note_is_never_sent(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    conversation_id = await _thread_with_inbound(harness, admin, created)
    await admin.ok("POST", f"/conversations/{conversation_id}/notes", 201, json={"text": "psst"})
    await drain(harness, job_context)
    assert [r for r in graph.requests if r.method == "POST"] == []


async def test_a_rotated_app_secret_takes_effect_at_once(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    raw = meta_bytes(fixture("whatsapp_text.json")["body"])
    assert (await post_meta(harness.client, path_of(created), raw)).status_code == 200
    await admin.ok(
        "PATCH", f"/inboxes/{created['id']}", json={"config": {"app_secret": "rotated-secret"}}
    )
    old = await post_meta(harness.client, path_of(created), raw)
    new = await post_meta(harness.client, path_of(created), raw, secret="rotated-secret")
    assert (old.status_code, new.status_code) == (401, 200)
