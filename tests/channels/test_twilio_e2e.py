"""Twilio SMS, WhatsApp and voice end to end: signed form webhooks in, REST and TwiML out."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from onethread.channels.outbound import queue_reply
from onethread.conversations.models import Conversation, Message, SenderKind
from onethread.jobs.context import JobContext
from tests.channels.conftest import drain, fixture, meta_bytes, post_meta
from tests.channels.test_whatsapp_e2e import messages, whatsapp_inbox
from tests.channels.test_whatsapp_e2e import path_of as meta_path
from tests.conftest import Harness
from tests.factories import Api, inbox, snapshot, workspace
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.twilio_api import FakeTwilioApi, webhook

SENDER = "+18005550199"
HUMAN = "+14155550123"


@pytest.fixture
def twilio_api() -> Any:
    with FakeTwilioApi() as fake:
        yield fake


async def twilio_inbox(
    admin: Api, api: FakeTwilioApi, channel: str = "twilio_sms", **config: Any
) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "sandbox": False,
        "account_sid": api.account_sid,
        "auth_token": api.auth_token,
        "sender": SENDER,
        "api_base_url": api.base_url,
    }
    return await inbox(admin, channel, **(settings | config))


def form_of(name: str, **changes: str) -> dict[str, str]:
    fields: dict[str, str] = dict(fixture(name)["form_params"])
    fields.update(changes)
    return fields


async def post_form(
    harness: Harness,
    created: dict[str, Any],
    fields: dict[str, str],
    *,
    query: str = "",
    token: str | None = None,
) -> httpx.Response:
    url = created["webhook_url"] + (f"?{query}" if query else "")
    body, headers = webhook(url, fields, token or created["_token"])
    split = urlsplit(url)
    target = split.path + (f"?{split.query}" if split.query else "")
    return await harness.client.post(target, content=body, headers=headers)


async def sms_setup(harness: Harness, api: FakeTwilioApi, channel: str = "twilio_sms") -> Any:
    admin = await workspace(harness)
    created = await twilio_inbox(admin, api, channel)
    created["_token"] = api.auth_token
    return admin, created


async def test_an_sms_is_stored_and_acknowledged_with_empty_twiml(
    harness: Harness, twilio_api: FakeTwilioApi
) -> None:
    admin, created = await sms_setup(harness, twilio_api)
    fields = form_of("twilio_sms_inbound.json")
    response = await post_form(harness, created, fields)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert ET.fromstring(response.content).tag == "Response"
    [stored] = await messages(harness)
    assert stored.external_id == fields["MessageSid"]
    assert stored.text == fields["Body"]
    [contact] = (await admin.ok("GET", "/contacts"))["items"]
    detail = await admin.ok("GET", f"/contacts/{contact['id']}")
    assert detail["identities"][0]["phone"] == fields["From"]
    assert detail["identities"][0]["verified"] is True


async def test_every_twilio_messaging_fixture_goes_through(
    harness: Harness, twilio_api: FakeTwilioApi
) -> None:
    _, sms = await sms_setup(harness, twilio_api)
    _, whatsapp = await sms_setup(harness, twilio_api, "twilio_whatsapp")
    for name, target in (
        ("twilio_sms_inbound.json", sms),
        ("twilio_mms_inbound.json", sms),
        ("twilio_whatsapp_inbound.json", whatsapp),
    ):
        response = await post_form(harness, target, form_of(name))
        assert response.status_code == 200, (name, response.text)
    stored = {m.external_id: m for m in await messages(harness)}
    mms = stored[fixture("twilio_mms_inbound.json")["form_params"]["MessageSid"]]
    assert [a["type"] for a in mms.attachments] == ["image", "image"]
    assert len(stored) == 3
    for name in (
        "twilio_sms_status_delivered.json",
        "twilio_sms_status_undelivered.json",
        "twilio_whatsapp_status_read.json",
        "twilio_whatsapp_status_failed_63016.json",
    ):
        target = whatsapp if "whatsapp" in name else sms
        response = await post_form(harness, target, form_of(name))
        assert response.status_code == 200, (name, response.text)


async def test_a_forged_twilio_signature_gets_401_and_stores_nothing(
    harness: Harness, twilio_api: FakeTwilioApi
) -> None:
    _, created = await sms_setup(harness, twilio_api)
    before = await snapshot(harness)
    fields = form_of("twilio_sms_inbound.json")
    forged = await post_form(harness, created, fields, token="not-the-token")
    # The fixture's own signature is for another URL: the URL is part of what is signed.
    raw = fixture("twilio_sms_inbound.json")
    replayed = await harness.client.post(
        meta_path(created),
        content=raw["raw_body"].encode(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": raw["http"]["headers"]["X-Twilio-Signature"],
        },
    )
    assert [forged.status_code, replayed.status_code] == [401, 401]
    assert await snapshot(harness) == before


async def test_a_repeated_message_sid_is_stored_once(
    harness: Harness, twilio_api: FakeTwilioApi
) -> None:
    _, created = await sms_setup(harness, twilio_api)
    for _ in range(2):
        assert (await post_form(harness, created, form_of("twilio_sms_inbound.json"))).is_success
    assert len(await messages(harness)) == 1


async def test_mms_media_is_fetched_from_twilio_and_stored(
    harness: Harness, twilio_api: FakeTwilioApi, job_context: JobContext
) -> None:
    _, created = await sms_setup(harness, twilio_api)
    fields = form_of("twilio_mms_inbound.json")
    for index in range(int(fields["NumMedia"])):
        fields[f"MediaUrl{index}"] = twilio_api.add_media(
            f"picture {index}".encode(), "image/png", fields["MessageSid"]
        )
    assert (await post_form(harness, created, fields)).is_success
    await drain(harness, job_context)
    [stored] = await messages(harness)
    media_dir = harness.app_context.settings.resolved_media_dir
    contents = [(media_dir / a["path"]).read_bytes() for a in stored.attachments]
    assert contents == [b"picture 0", b"picture 1"]


async def test_an_sms_reply_goes_through_the_rest_api_and_its_statuses_follow(
    harness: Harness, twilio_api: FakeTwilioApi, job_context: JobContext
) -> None:
    admin, created = await sms_setup(harness, twilio_api)
    fields = form_of("twilio_sms_inbound.json")
    await post_form(harness, created, fields)
    conversation_id = (await admin.ok("GET", "/conversations"))["items"][0]["id"]
    reply = await admin.ok(
        "POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Got it, thanks!"}
    )
    await drain(harness, job_context)
    [sent] = twilio_api.sent
    assert sent.basic_auth == (twilio_api.account_sid, twilio_api.auth_token)
    assert sent.form["To"] == fields["From"]
    assert sent.form["From"] == SENDER
    assert sent.form["Body"] == "Got it, thanks!"
    assert sent.form["StatusCallback"] == created["webhook_url"]
    timeline = await admin.ok("GET", f"/conversations/{conversation_id}/messages")
    [row] = [m for m in timeline if m["id"] == reply["id"]]
    assert row["delivery_status"] == "sent"
    status = form_of("twilio_sms_status_delivered.json", MessageSid=row["external_id"])
    status["SmsSid"] = row["external_id"]
    assert (await post_form(harness, created, status)).is_success
    timeline = await admin.ok("GET", f"/conversations/{conversation_id}/messages")
    [row] = [m for m in timeline if m["id"] == reply["id"]]
    assert row["delivery_status"] == "delivered"


async def test_63016_on_whatsapp_via_twilio_is_a_visible_window_failure(
    harness: Harness, twilio_api: FakeTwilioApi, job_context: JobContext
) -> None:
    admin, created = await sms_setup(harness, twilio_api, "twilio_whatsapp")
    await post_form(harness, created, form_of("twilio_whatsapp_inbound.json"))
    conversation_id = (await admin.ok("GET", "/conversations"))["items"][0]["id"]
    reply = await admin.ok(
        "POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Hi"}
    )
    await drain(harness, job_context)
    [sent] = twilio_api.sent
    assert sent.form["From"] == f"whatsapp:{SENDER}"
    assert sent.form["To"].startswith("whatsapp:+")
    timeline = await admin.ok("GET", f"/conversations/{conversation_id}/messages")
    [row] = [m for m in timeline if m["id"] == reply["id"]]
    failed = form_of("twilio_whatsapp_status_failed_63016.json", MessageSid=row["external_id"])
    failed["SmsSid"] = row["external_id"]
    assert (await post_form(harness, created, failed)).is_success
    timeline = await admin.ok("GET", f"/conversations/{conversation_id}/messages")
    [row] = [m for m in timeline if m["id"] == reply["id"]]
    assert row["delivery_status"] == "failed"
    assert row["delivery_error_code"] == "63016"
    assert "24-hour" in row["delivery_error"]


async def test_one_person_on_whatsapp_and_sms_is_one_contact_with_one_thread(
    harness: Harness, twilio_api: FakeTwilioApi, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    cloud = await whatsapp_inbox(admin, graph)
    sms = await twilio_inbox(admin, twilio_api)
    sms["_token"] = twilio_api.auth_token
    body = fixture("whatsapp_text.json")["body"]  # from wa_id 16505551234
    assert (await post_meta(harness.client, meta_path(cloud), meta_bytes(body))).is_success
    fields = form_of("twilio_sms_inbound.json", From="+16505551234")
    assert (await post_form(harness, sms, fields)).is_success
    contacts = (await admin.ok("GET", "/contacts"))["items"]
    assert len(contacts) == 1
    [conversation] = (await admin.ok("GET", "/conversations"))["items"]
    timeline = await admin.ok("GET", f"/conversations/{conversation['id']}/messages")
    assert [m["channel"] for m in timeline] == ["whatsapp", "twilio_sms"]
    # The reply goes on the latest inbound channel (SMS) unless the agent picks WhatsApp.
    await admin.ok("POST", f"/conversations/{conversation['id']}/reply", 201, json={"text": "A"})
    await admin.ok(
        "POST",
        f"/conversations/{conversation['id']}/reply",
        201,
        json={"text": "B", "inbox_id": cloud["id"]},
    )
    await drain(harness, job_context)
    assert [r.form["Body"] for r in twilio_api.sent] == ["A"]
    graph_sends = [r.json for r in graph.requests if r.method == "POST"]
    assert [(s["to"], s["text"]["body"]) for s in graph_sends] == [("16505551234", "B")]


async def test_an_unverified_caller_does_not_join_a_verified_contact(
    harness: Harness, twilio_api: FakeTwilioApi
) -> None:
    admin = await workspace(harness)
    sms = await twilio_inbox(admin, twilio_api)
    voice = await twilio_inbox(admin, twilio_api, "twilio_voice")
    sms["_token"] = voice["_token"] = twilio_api.auth_token
    fields = form_of("twilio_sms_inbound.json", From="+14155550100")
    assert (await post_form(harness, sms, fields)).is_success
    harness.app_context.settings.voice_reply_seconds = 0.05
    speech = form_of("twilio_voice_speech.json")  # the same number, by caller ID
    assert (await post_form(harness, voice, speech, query="event=speech&turn=1")).is_success
    assert len((await admin.ok("GET", "/contacts"))["items"]) == 2


# -- voice --------------------------------------------------------------------------------


def twiml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    return ET.fromstring(response.content)


async def _reply_when_the_caller_has_spoken(
    harness: Harness, admin: Api, text: str, count: int, *, by_assistant: bool
) -> None:
    """An agent through the API, or a reply queued as the assistant's worker will queue it."""
    while True:
        async with harness.db.read_session() as session:
            inbound = list(
                (await session.scalars(select(Message).where(Message.direction == "in"))).all()
            )
        if len(inbound) >= count:
            break
        await asyncio.sleep(0.02)
    if not by_assistant:
        await admin.ok(
            "POST", f"/conversations/{inbound[0].conversation_id}/reply", 201, json={"text": text}
        )
        return
    async with harness.db.session() as session:
        conversation = await session.get(Conversation, inbound[0].conversation_id)
        assert conversation is not None
        await queue_reply(session, conversation, text=text, sender_kind=SenderKind.AI)


async def test_a_whole_call_as_twilio_would_make_it(
    harness: Harness, twilio_api: FakeTwilioApi, job_context: JobContext
) -> None:
    admin, voice = await sms_setup(harness, twilio_api, "twilio_voice")
    await admin.ok(
        "PATCH",
        f"/inboxes/{voice['id']}",
        json={"config": {"human_transfer_number": HUMAN, "voice_language": "en-GB"}},
    )
    settings = harness.app_context.settings
    settings.voice_reply_seconds = 5.0  # returns as soon as the reply is queued
    call_sid = fixture("twilio_voice_incoming.json")["form_params"]["CallSid"]

    # 1. The call comes in: a greeting inside a speech <Gather> in the inbox's language.
    document = twiml(await post_form(harness, voice, form_of("twilio_voice_incoming.json")))
    gather = document.find("Gather")
    assert gather is not None
    assert gather.get("input") == "speech"
    assert gather.get("language") == "en-GB"
    assert gather.get("action", "").endswith("?event=speech&turn=1")

    # 2. The caller speaks; the reply (the assistant's, queued as its worker will) is said
    #    in the next <Gather>, within the reply budget.
    speech = form_of("twilio_voice_speech.json", CallSid=call_sid)
    replying = asyncio.create_task(
        _reply_when_the_caller_has_spoken(
            harness, admin, "Sure, what is the new one?", 1, by_assistant=True
        )
    )
    document = twiml(await post_form(harness, voice, speech, query="event=speech&turn=1"))
    await replying
    gather = document.find("Gather")
    assert gather is not None
    assert gather.findtext("Say") == "Sure, what is the new one?"
    assert gather.get("action", "").endswith("?event=speech&turn=2")

    # 3. No Confidence, and no reply in time: a holding line and a redirect to wait.
    settings.voice_reply_seconds = 0.3
    quiet = form_of("twilio_voice_speech_no_confidence.json", CallSid=call_sid)
    document = twiml(await post_form(harness, voice, quiet, query="event=speech&turn=2"))
    assert document.findtext("Say") == "One moment, please."
    redirect = document.findtext("Redirect") or ""
    assert redirect.endswith("?event=wait&turn=2&waited=1")

    # 4. Meanwhile a teammate takes the thread (a handoff): the caller is dialled through.
    conversation_id = (await admin.ok("GET", "/conversations"))["items"][0]["id"]
    await admin.ok(
        "POST",
        f"/conversations/{conversation_id}/handoff",
        json={"reason": "customer_requested_human", "summary": "Wants a new delivery address."},
    )
    document = twiml(
        await post_form(
            harness,
            voice,
            form_of("twilio_voice_speech.json", CallSid=call_sid),
            query=urlsplit(redirect).query,
        )
    )
    dial = document.find("Dial")
    assert dial is not None
    assert dial.findtext("Number") == HUMAN
    assert (dial.get("action") or "").endswith("?event=dial")

    # 5. The transfer ends, then the call: both are noted in the thread.
    ended_dial = form_of(
        "twilio_voice_status_completed.json",
        CallSid=call_sid,
        DialCallStatus="completed",
        DialCallDuration="30",
    )
    twiml(await post_form(harness, voice, ended_dial, query="event=dial"))
    completed = form_of("twilio_voice_status_completed.json", CallSid=call_sid)
    twiml(await post_form(harness, voice, completed, query="event=status"))

    timeline = await admin.ok("GET", f"/conversations/{conversation_id}/messages")
    said = [m["text"] for m in timeline if m["direction"] == "in"]
    assert said == [speech["SpeechResult"], quiet["SpeechResult"]]
    [spoken] = [m for m in timeline if m["sender_kind"] == "ai" and not m["private"]]
    assert spoken["delivery_status"] == "sent"
    notes = [m["text"] for m in timeline if m["private"]]
    assert any(note.startswith("Call transferred to") for note in notes)
    assert any(note.startswith("Call ended: completed") for note in notes)
    # Nothing was sent through an API for a call.
    await drain(harness, job_context)
    assert twilio_api.sent == []


async def test_a_retried_speech_webhook_is_one_message(
    harness: Harness, twilio_api: FakeTwilioApi
) -> None:
    _, voice = await sms_setup(harness, twilio_api, "twilio_voice")
    harness.app_context.settings.voice_reply_seconds = 0.05
    speech = form_of("twilio_voice_speech.json")
    for _ in range(2):
        twiml(await post_form(harness, voice, speech, query="event=speech&turn=1"))
    assert len(await messages(harness)) == 1


async def test_an_agent_answering_a_call_in_writing_keeps_it(
    harness: Harness, twilio_api: FakeTwilioApi
) -> None:
    admin, voice = await sms_setup(harness, twilio_api, "twilio_voice")
    await admin.ok(
        "PATCH", f"/inboxes/{voice['id']}", json={"config": {"human_transfer_number": HUMAN}}
    )
    harness.app_context.settings.voice_reply_seconds = 5.0  # returns once the reply is queued
    speech = form_of("twilio_voice_speech.json")
    replying = asyncio.create_task(
        _reply_when_the_caller_has_spoken(harness, admin, "Hi, Ana here.", 1, by_assistant=False)
    )
    document = twiml(await post_form(harness, voice, speech, query="event=speech&turn=1"))
    await replying
    assert document.findtext("Gather/Say") == "Hi, Ana here."
    harness.app_context.settings.voice_reply_seconds = 0.05
    again = form_of("twilio_voice_speech.json", SpeechResult="Are you there?")
    document = twiml(await post_form(harness, voice, again, query="event=speech&turn=2"))
    assert document.find("Dial") is None
    assert document.findtext("Say") == "One moment, please."
