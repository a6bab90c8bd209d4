"""Instagram and Messenger end to end: signed webhooks in, the Send API out, echoes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from onethread.channels.outbound import OutsideReplyWindow, queue_reply
from onethread.conversations.models import Conversation, Message, SenderKind
from onethread.db.types import utcnow
from onethread.jobs.context import JobContext
from tests.channels.conftest import APP_SECRET, TOKEN, drain, fixture, meta_bytes, post_meta
from tests.channels.test_whatsapp_e2e import messages, path_of
from tests.conftest import Harness
from tests.factories import Api, inbox, snapshot, workspace
from tests.fakes.graph_api import FakeGraphApi

ACCOUNTS = {"instagram": "17841400000000001", "messenger": "682498302938465"}
CUSTOMERS = {"instagram": "1234567890123456", "messenger": "6789012345678901"}


async def meta_inbox(admin: Api, graph: FakeGraphApi, channel: str) -> dict[str, Any]:
    owner = "account_id" if channel == "instagram" else "page_id"
    return await inbox(
        admin,
        channel,
        sandbox=False,
        access_token=TOKEN,
        app_secret=APP_SECRET,
        verify_token="meatyhamhock",
        api_base_url=graph.base_url,
        **{owner: ACCOUNTS[channel]},
    )


async def post_fixture(harness: Harness, created: dict[str, Any], name: str) -> dict[str, Any]:
    body: dict[str, Any] = fixture(name)["body"]
    response = await post_meta(harness.client, path_of(created), meta_bytes(body))
    assert response.status_code == 200, (name, response.text)
    return body


async def setup(harness: Harness, graph: FakeGraphApi, channel: str) -> tuple[Api, dict[str, Any]]:
    admin = await workspace(harness)
    return admin, await meta_inbox(admin, graph, channel)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("instagram_text.json", "Hi! Is this available?"),
        ("instagram_image.json", None),
        ("messenger_text.json", "hello, world!"),
    ],
)
async def test_inbound_fixtures_are_stored(
    harness: Harness, graph: FakeGraphApi, name: str, text: str | None
) -> None:
    channel = name.split("_", maxsplit=1)[0]
    _, created = await setup(harness, graph, channel)
    body = await post_fixture(harness, created, name)
    [stored] = await messages(harness)
    event = body["entry"][0]["messaging"][0]
    assert stored.external_id == event["message"]["mid"]
    assert stored.text
    if text is not None:
        assert stored.text == text
    else:
        assert stored.attachments[0]["type"] == "image"
        assert stored.attachments[0]["url"] == event["message"]["attachments"][0]["payload"]["url"]


@pytest.mark.parametrize(
    "name", ["instagram_echo.json", "messenger_echo.json", "instagram_unsend.json"]
)
async def test_echoes_and_unsends_of_strangers_store_nothing(
    harness: Harness, graph: FakeGraphApi, name: str
) -> None:
    _, created = await setup(harness, graph, name.split("_", maxsplit=1)[0])
    before = await snapshot(harness)
    await post_fixture(harness, created, name)
    assert await snapshot(harness) == before


async def test_a_forged_signature_and_the_handshake(harness: Harness, graph: FakeGraphApi) -> None:
    _, created = await setup(harness, graph, "messenger")
    raw = meta_bytes(fixture("messenger_text.json")["body"])
    assert (await post_meta(harness.client, path_of(created), raw, secret="x")).status_code == 401
    params = {"hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": "meatyhamhock"}
    answer = await harness.client.get(path_of(created), params=params)
    assert (answer.status_code, answer.text) == (200, "42")
    assert await messages(harness) == []


async def _conversation(admin: Api) -> int:
    conversation_id: int = (await admin.ok("GET", "/conversations"))["items"][0]["id"]
    return conversation_id


@pytest.mark.parametrize("channel", ["instagram", "messenger"])
async def test_a_reply_goes_to_the_send_api_and_its_echo_is_not_stored_twice(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext, channel: str
) -> None:
    admin, created = await setup(harness, graph, channel)
    await post_fixture(harness, created, f"{channel}_text.json")
    conversation_id = await _conversation(admin)
    await admin.ok("POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Yes!"})
    await drain(harness, job_context)
    [request] = [r for r in graph.requests if r.method == "POST"]
    assert request.path.endswith(f"/{ACCOUNTS[channel]}/messages")
    assert request.json["recipient"] == {"id": CUSTOMERS[channel]}
    assert request.json["message"] == {"text": "Yes!"}
    assert request.json["messaging_type"] == "RESPONSE"
    [reply] = [m for m in await messages(harness) if m.direction == "out"]
    echo = fixture(f"{channel}_echo.json")["body"]
    echo["entry"][0]["messaging"][0]["message"]["mid"] = reply.external_id
    assert (await post_meta(harness.client, path_of(created), meta_bytes(echo))).is_success
    assert len(await messages(harness)) == 2


async def test_a_reply_sent_from_the_instagram_app_joins_the_thread(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin, created = await setup(harness, graph, "instagram")
    await post_fixture(harness, created, "instagram_text.json")
    await post_fixture(harness, created, "instagram_echo.json")
    await post_fixture(harness, created, "instagram_echo.json")  # redelivered: once
    timeline = await admin.ok("GET", f"/conversations/{await _conversation(admin)}/messages")
    assert [(m["direction"], m["sender_kind"]) for m in timeline] == [
        ("in", "contact"),
        ("out", "agent"),
    ]
    assert timeline[1]["text"] == "Yes, it is! Want me to reserve one?"
    assert timeline[1]["delivery_status"] == "sent"


async def test_an_echo_that_outruns_our_send_is_matched_to_our_reply(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin, created = await setup(harness, graph, "instagram")
    await post_fixture(harness, created, "instagram_text.json")
    conversation_id = await _conversation(admin)
    text = "Yes, it is! Want me to reserve one?"  # the echo fixture's text
    await admin.ok("POST", f"/conversations/{conversation_id}/reply", 201, json={"text": text})
    echo = await post_fixture(harness, created, "instagram_echo.json")
    mid = echo["entry"][0]["messaging"][0]["message"]["mid"]
    graph.script(body={"recipient_id": CUSTOMERS["instagram"], "message_id": mid})
    await drain(harness, job_context)
    outbound = [m for m in await messages(harness) if m.direction == "out"]
    assert [(m.external_id, m.delivery_status) for m in outbound] == [(mid, "sent")]


async def _age(harness: Harness, hours: float) -> None:
    async with harness.db.session() as session:
        await session.execute(
            update(Message)
            .where(Message.direction == "in")
            .values(created_at=utcnow() - timedelta(hours=hours))
        )


async def test_after_24_hours_only_a_human_may_answer_with_the_human_agent_tag(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin, created = await setup(harness, graph, "messenger")
    await post_fixture(harness, created, "messenger_text.json")
    conversation_id = await _conversation(admin)
    await _age(harness, 30)
    async with harness.db.session() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        with pytest.raises(OutsideReplyWindow, match="only a human agent"):
            await queue_reply(session, conversation, text="Bot here", sender_kind=SenderKind.AI)
    await admin.ok("POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Ana"})
    await drain(harness, job_context)
    [request] = [r for r in graph.requests if r.method == "POST"]
    assert request.json["messaging_type"] == "MESSAGE_TAG"
    assert request.json["tag"] == "HUMAN_AGENT"
    await _age(harness, 24 * 8)
    late = await admin.post(f"/conversations/{conversation_id}/reply", json={"text": "Still?"})
    assert late.status_code == 422
    assert late.json()["error"]["details"]["templates"] == []


async def test_instagram_text_is_split_at_1000_bytes(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin, created = await setup(harness, graph, "instagram")
    await post_fixture(harness, created, "instagram_text.json")
    text = "Ça coûte 5 € — merci beaucoup. " * 50  # ~1,800 bytes in UTF-8
    await admin.ok(
        "POST", f"/conversations/{await _conversation(admin)}/reply", 201, json={"text": text}
    )
    await drain(harness, job_context)
    parts = [r.json["message"]["text"] for r in graph.requests if r.method == "POST"]
    assert len(parts) == 2
    assert all(len(part.encode()) <= 1000 for part in parts)
    assert " ".join(parts) == text.strip()
