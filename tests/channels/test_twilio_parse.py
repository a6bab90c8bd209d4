"""Twilio webhooks in, TwiML out (REFERENCE.md §5.2, §5.3): every shared fixture parsed
into the right item, the malformed ones refused with a reason. Pure unit tests."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from onethread.channels.base import (
    Ignored,
    PayloadInvalid,
    SendFailed,
    StatusUpdate,
    WebhookItem,
    WebhookRequest,
)
from onethread.channels.registry import adapter_for
from onethread.channels.twilio import EMPTY_TWIML
from onethread.channels.twilio_messaging import TwilioSmsAdapter, TwilioWhatsAppAdapter
from onethread.channels.twilio_voice import (
    CallEnded,
    CallEvent,
    CallStarted,
    SpeechHeard,
    TransferEnded,
    TwilioVoiceAdapter,
    dial,
    gather,
    hangup,
    hold,
    parse_call,
)
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import DeliveryStatus
from onethread.inboxes.channel_config import (
    TwilioConfig,
    TwilioVoiceConfig,
    TwilioWhatsAppConfig,
)
from onethread.inboxes.models import ChannelKind
from tests.channels.conftest import FIXTURES

ACCOUNT = "AC0123456789abcdef0123456789abcdef"

SMS = TwilioSmsAdapter()
WHATSAPP = TwilioWhatsAppAdapter()
VOICE = TwilioVoiceAdapter()
SMS_CONFIG = TwilioConfig(account_sid=ACCOUNT, sender="+15558675310")
WHATSAPP_CONFIG = TwilioWhatsAppConfig(account_sid=ACCOUNT, sender="+14155238886")
VOICE_CONFIG = TwilioVoiceConfig(account_sid=ACCOUNT, sender="+18005550199")
Messaging = TwilioSmsAdapter | TwilioWhatsAppAdapter


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def request(
    fields: dict[str, str] | str, url: str = "https://inbox.example.com/twilio"
) -> WebhookRequest:
    """A (signature-free) webhook: parse runs after verify, so it never looks at one."""
    body = fields if isinstance(fields, str) else urlencode(fields)
    return WebhookRequest(
        method="POST",
        url=url,
        headers={"content-type": "application/x-www-form-urlencoded"},
        query=dict(parse_qsl(urlsplit(url).query)),
        body=body.encode(),
    )


def from_fixture(name: str, **changes: str | None) -> WebhookRequest:
    fields = dict(fixture(name)["form_params"])
    for key, value in changes.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return request(fields, fixture(name)["http"]["url"])


def only(items: list[WebhookItem]) -> WebhookItem:
    assert len(items) == 1, items
    return items[0]


def inbound(adapter: Messaging, webhook: WebhookRequest) -> InboundMessage:
    item = only(adapter.parse(SMS_CONFIG, webhook))
    assert isinstance(item, InboundMessage), item
    return item


def status(adapter: Messaging, webhook: WebhookRequest) -> StatusUpdate:
    item = only(adapter.parse(SMS_CONFIG, webhook))
    assert isinstance(item, StatusUpdate), item
    return item


# --- the adapters' declared capabilities -------------------------------------------------


def test_registry_serves_these_adapters() -> None:
    assert isinstance(adapter_for(ChannelKind.TWILIO_SMS), TwilioSmsAdapter)
    assert isinstance(adapter_for(ChannelKind.TWILIO_WHATSAPP), TwilioWhatsAppAdapter)
    assert isinstance(adapter_for(ChannelKind.TWILIO_VOICE), TwilioVoiceAdapter)


def test_capabilities() -> None:
    assert (SMS.kind, SMS.max_text_length, SMS.limit_in_bytes) == (
        ChannelKind.TWILIO_SMS,
        1600,
        False,
    )
    assert SMS.window is None
    assert not SMS.supports_buttons
    assert WHATSAPP.kind is ChannelKind.TWILIO_WHATSAPP
    assert WHATSAPP.window is not None
    assert (WHATSAPP.window.hours, WHATSAPP.window.template_fallback) == (24, True)
    assert (VOICE.kind, VOICE.max_text_length, VOICE.window) == (
        ChannelKind.TWILIO_VOICE,
        None,
        None,
    )


@pytest.mark.parametrize("adapter", [SMS, WHATSAPP, VOICE])
def test_no_handshake(adapter: Messaging | TwilioVoiceAdapter) -> None:
    assert adapter.handshake(SMS_CONFIG, request({})) is None


def test_messaging_acknowledgement_is_the_empty_twiml() -> None:
    body, media_type = SMS.acknowledgement()
    assert (body, media_type) == (EMPTY_TWIML, "text/xml")
    expected = fixture("twilio_messaging_twiml")["variants"]["ack_only_reply_later_via_rest"]
    assert media_type == expected["headers"]["Content-Type"]
    ours, theirs = ET.fromstring(body), ET.fromstring(expected["body"])
    assert (ours.tag, list(ours), ours.text) == (theirs.tag, list(theirs), theirs.text)


# --- inbound messages (§5.3) -------------------------------------------------------------


def test_sms_inbound() -> None:
    expect = fixture("twilio_sms_inbound")["expect"]
    message = inbound(SMS, from_fixture("twilio_sms_inbound"))
    assert message.external_id == expect["message_id"]
    assert message.text == expect["text"]
    assert message.attachments == expect["media"] == []
    assert message.interactive is None
    sender = message.sender
    assert (sender.channel, sender.external_id, sender.phone) == (
        "sms",
        expect["from"],
        expect["from"],
    )
    assert sender.verified
    assert sender.display_name is None


def test_mms_inbound_has_its_media_in_order() -> None:
    case = fixture("twilio_mms_inbound")
    message = inbound(SMS, from_fixture("twilio_mms_inbound"))
    assert message.text == "photos of the damage"
    assert message.attachments == [
        {
            "type": "image",
            "mime_type": media["content_type"],
            "url": case["form_params"][f"MediaUrl{media['index']}"],
        }
        for media in case["expect"]["media"]
    ]


@pytest.mark.parametrize(
    ("mime_type", "kind"),
    [
        ("video/mp4", "video"),
        ("audio/ogg", "audio"),
        ("application/pdf", "file"),
        ("text/vcard", "file"),
        ("IMAGE/JPEG", "image"),
    ],
)
def test_media_types(mime_type: str, kind: str) -> None:
    webhook = from_fixture(
        "twilio_sms_inbound",
        NumMedia="1",
        MediaContentType0=mime_type,
        MediaUrl0="https://api.twilio.com/m",
    )
    assert inbound(SMS, webhook).attachments == [
        {"type": kind, "mime_type": mime_type, "url": "https://api.twilio.com/m"}
    ]


def test_whatsapp_inbound() -> None:
    expect = fixture("twilio_whatsapp_inbound")["expect"]
    message = inbound(WHATSAPP, from_fixture("twilio_whatsapp_inbound"))
    assert message.external_id == expect["message_id"]
    assert message.text == "Hola, do you ship to Mexico?"
    sender = message.sender
    assert sender.channel == "whatsapp"
    assert sender.external_id == sender.phone == expect["customer_phone_e164"]
    assert sender.display_name == expect["profile_name"]
    assert sender.verified
    assert sender.details == {"wa_id": "14017122661"}


def test_whatsapp_message_on_an_sms_inbox_is_refused() -> None:
    with pytest.raises(PayloadInvalid, match="plain phone number"):
        SMS.parse(SMS_CONFIG, from_fixture("twilio_whatsapp_inbound"))


def test_sms_on_a_whatsapp_inbox_is_refused() -> None:
    with pytest.raises(PayloadInvalid, match="'whatsapp:' address"):
        WHATSAPP.parse(WHATSAPP_CONFIG, from_fixture("twilio_sms_inbound"))


def test_location_share() -> None:
    webhook = from_fixture(
        "twilio_whatsapp_inbound",
        Body="",
        MessageType="location",
        Latitude="37.7879277",
        Longitude="-122.4075247",
        Label="Twilio HQ",
        Address="101 Spear St, San Francisco",
    )
    message = inbound(WHATSAPP, webhook)
    assert message.attachments == [
        {
            "type": "location",
            "latitude": 37.7879277,
            "longitude": -122.4075247,
            "name": "Twilio HQ",
            "address": "101 Spear St, San Francisco",
        }
    ]
    assert message.text == "📍 Twilio HQ, 101 Spear St, San Francisco"


def test_unnamed_location_reads_as_coordinates() -> None:
    webhook = from_fixture("twilio_whatsapp_inbound", Body="", Latitude="1.5", Longitude="-2")
    message = inbound(WHATSAPP, webhook)
    assert message.text == "📍 1.5, -2.0"
    assert message.attachments[0]["name"] is None


def test_location_keeps_a_body() -> None:
    webhook = from_fixture("twilio_whatsapp_inbound", Body="here I am", Latitude="1", Longitude="2")
    assert inbound(WHATSAPP, webhook).text == "here I am"


def test_button_reply() -> None:
    webhook = from_fixture(
        "twilio_whatsapp_inbound",
        Body="Yes, confirm",
        ButtonText="Yes, confirm",
        ButtonPayload="confirm_order_1234",
        MessageType="button",
    )
    message = inbound(WHATSAPP, webhook)
    assert message.interactive == {
        "type": "button_reply",
        "id": "confirm_order_1234",
        "title": "Yes, confirm",
    }
    assert message.text == "Yes, confirm"


def test_button_reply_without_body_reads_as_its_title() -> None:
    webhook = from_fixture("twilio_whatsapp_inbound", Body="", ButtonText="Track order")
    message = inbound(WHATSAPP, webhook)
    assert message.interactive == {
        "type": "button_reply",
        "id": "Track order",
        "title": "Track order",
    }
    assert message.text == "Track order"


def test_message_without_content_gets_a_placeholder() -> None:
    webhook = from_fixture("twilio_whatsapp_inbound", Body="", MessageType="sticker")
    assert inbound(WHATSAPP, webhook).text == "[Unsupported message: sticker]"


def test_short_code_sender_is_known_as_it_is() -> None:
    sender = inbound(SMS, from_fixture("twilio_sms_inbound", From="72345")).sender
    assert (sender.external_id, sender.phone, sender.verified) == ("72345", None, False)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"MessageSid": None}, "MessageSid"),
        ({"From": None}, "From"),
        ({"From": "  "}, "From"),
        ({"NumMedia": "two"}, "NumMedia"),
        ({"NumMedia": "1"}, "MediaUrl0"),
        ({"Latitude": "north", "Longitude": "1"}, "Latitude"),
        ({"Latitude": "1"}, "Longitude"),
    ],
)
def test_malformed_inbound_is_refused(changes: dict[str, str | None], reason: str) -> None:
    with pytest.raises(PayloadInvalid, match=reason):
        SMS.parse(SMS_CONFIG, from_fixture("twilio_sms_inbound", **changes))


@pytest.mark.parametrize("body", [b"\xff\xfe", b""])
def test_unreadable_body_is_refused(body: bytes) -> None:
    webhook = WebhookRequest(method="POST", url="https://x/", headers={}, query={}, body=body)
    with pytest.raises(PayloadInvalid):
        SMS.parse(SMS_CONFIG, webhook)


# --- status callbacks (§5.3) ------------------------------------------------------------


def test_status_delivered() -> None:
    update = status(SMS, from_fixture("twilio_sms_status_delivered"))
    assert update == StatusUpdate(
        external_id="SM1342fe1b2c904d1ab04f0fc7a58abca9", status=DeliveryStatus.DELIVERED
    )


def test_status_undelivered_explains_the_error() -> None:
    update = status(SMS, from_fixture("twilio_sms_status_undelivered"))
    assert update.status is DeliveryStatus.FAILED
    assert update.error_code == "30003"
    assert update.error is not None
    assert "unreachable" in update.error
    assert "30003" in update.error


def test_whatsapp_status_read() -> None:
    update = status(WHATSAPP, from_fixture("twilio_whatsapp_status_read"))
    assert (update.external_id, update.status) == (
        "SMbb112233445566778899aabbccddeeff",
        DeliveryStatus.READ,
    )


def test_whatsapp_window_failure_says_to_send_a_template() -> None:
    update = status(WHATSAPP, from_fixture("twilio_whatsapp_status_failed_63016"))
    assert (update.status, update.error_code) == (DeliveryStatus.FAILED, "63016")
    assert update.error == (
        "Outside WhatsApp's 24-hour customer service window: "
        "send an approved template (Twilio 63016)"
    )


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("30005", "Unknown destination"),
        ("30006", "landline"),
        ("30007", "filtered"),
        ("21610", "STOP"),
    ],
)
def test_common_errors_read_plainly(code: str, words: str) -> None:
    update = status(SMS, from_fixture("twilio_sms_status_undelivered", ErrorCode=code))
    assert update.error is not None
    assert words in update.error


def test_unknown_error_falls_back_on_twilio_words() -> None:
    webhook = from_fixture(
        "twilio_whatsapp_status_failed_63016",
        ErrorCode="63999",
        ChannelStatusMessage="Media too big",
    )
    assert status(WHATSAPP, webhook).error == "Media too big (Twilio 63999)"
    webhook = from_fixture("twilio_sms_status_undelivered", ErrorCode="30999")
    assert status(SMS, webhook).error == "Twilio error 30999"


def test_failure_without_code() -> None:
    update = status(
        SMS, from_fixture("twilio_sms_status_undelivered", ErrorCode=None, MessageStatus="failed")
    )
    assert (update.status, update.error_code) == (DeliveryStatus.FAILED, None)
    assert update.error == "Twilio reports the message as failed without an error code"


def test_canceled_scheduled_message_fails() -> None:
    update = status(SMS, from_fixture("twilio_sms_status_delivered", MessageStatus="canceled"))
    assert update.status is DeliveryStatus.FAILED
    assert update.error is not None
    assert "canceled" in update.error


def test_sent_status() -> None:
    update = status(SMS, from_fixture("twilio_sms_status_delivered", MessageStatus="sent"))
    assert update.status is DeliveryStatus.SENT


@pytest.mark.parametrize(
    "step", ["queued", "sending", "accepted", "scheduled", "partially_delivered", "new_status"]
)
def test_steps_before_sent_and_unknown_statuses_are_ignored(step: str) -> None:
    item = only(
        SMS.parse(SMS_CONFIG, from_fixture("twilio_sms_status_delivered", MessageStatus=step))
    )
    assert item == Ignored(
        kind=f"twilio_status_{step}", external_id="SM1342fe1b2c904d1ab04f0fc7a58abca9"
    )


def test_status_callback_without_message_sid_is_refused() -> None:
    with pytest.raises(PayloadInvalid, match="MessageSid"):
        SMS.parse(SMS_CONFIG, from_fixture("twilio_sms_status_delivered", MessageSid=None))


# --- voice webhooks (§5.2) --------------------------------------------------------------


def call_event(webhook: WebhookRequest) -> CallEvent:
    return parse_call(webhook)


def test_the_adapter_hands_the_generic_ingest_only_the_callers_words() -> None:
    [speech] = VOICE.parse(VOICE_CONFIG, from_fixture("twilio_voice_speech"))
    assert isinstance(speech, InboundMessage)
    assert speech.text == fixture("twilio_voice_speech")["form_params"]["SpeechResult"]
    [started] = VOICE.parse(VOICE_CONFIG, from_fixture("twilio_voice_incoming"))
    assert isinstance(started, Ignored)
    assert started.kind == "call:CallStarted"


def test_incoming_call() -> None:
    expect = fixture("twilio_voice_incoming")["expect"]
    event = call_event(from_fixture("twilio_voice_incoming"))
    assert isinstance(event, CallStarted)
    assert (event.call_sid, event.to) == (expect["call_id"], "+18005550199")
    caller = event.caller
    assert (caller.channel, caller.external_id, caller.phone) == (
        "voice",
        expect["caller"],
        expect["caller"],
    )
    assert not caller.verified  # caller ID is spoofable


def test_speech_turn() -> None:
    expect = fixture("twilio_voice_speech")["expect"]
    event = call_event(from_fixture("twilio_voice_speech"))
    assert isinstance(event, SpeechHeard)
    assert (event.call_sid, event.text, event.confidence, event.turn) == (
        expect["call_id"],
        expect["text"],
        expect["confidence"],
        0,
    )
    assert event.caller.external_id == "+14155550100"


def test_speech_turn_from_the_action_url() -> None:
    fields = fixture("twilio_voice_speech")["form_params"]
    event = call_event(
        request(fields, "https://inbox.example.com/webhooks/twilio_voice/7?event=speech&turn=3")
    )
    assert isinstance(event, SpeechHeard)
    assert event.turn == 3
    message = event.as_inbound()
    assert (message.external_id, message.text) == (f"{event.call_sid}:3", event.text)
    assert message.sender is event.caller


@pytest.mark.parametrize("confidence", [None, "", "not-a-number", "1.5"])
def test_speech_without_usable_confidence(confidence: str | None) -> None:
    webhook = from_fixture("twilio_voice_speech", Confidence=confidence)
    event = call_event(webhook)
    assert isinstance(event, SpeechHeard)
    assert event.confidence is None


def test_speech_fixture_without_confidence() -> None:
    expect = fixture("twilio_voice_speech_no_confidence")["expect"]
    event = call_event(from_fixture("twilio_voice_speech_no_confidence"))
    assert isinstance(event, SpeechHeard)
    assert (event.text, event.confidence) == (expect["text"], expect["confidence"])


def test_speech_action_with_nothing_heard() -> None:
    fields = {
        key: value
        for key, value in fixture("twilio_voice_speech")["form_params"].items()
        if key not in {"SpeechResult", "Confidence"}
    }
    event = call_event(request(fields, "https://x/webhooks/twilio_voice/7?event=speech&turn=2"))
    assert isinstance(event, SpeechHeard)
    assert (event.text, event.turn) == ("", 2)


def test_call_completed() -> None:
    expect = fixture("twilio_voice_status_completed")["expect"]
    event = call_event(from_fixture("twilio_voice_status_completed"))
    assert event == CallEnded(expect["call_id"], expect["final_status"], expect["duration_seconds"])


@pytest.mark.parametrize("final", ["busy", "failed", "no-answer", "canceled"])
def test_call_ended_without_duration(final: str) -> None:
    fields = dict(fixture("twilio_voice_incoming")["form_params"], CallStatus=final)
    event = call_event(request(fields, "https://x/webhooks/twilio_voice/7?event=status"))
    assert event == CallEnded("CAfedcba9876543210fedcba9876543210", final, None)


def test_progress_on_the_status_url_is_ignored() -> None:
    fields = dict(fixture("twilio_voice_incoming")["form_params"], CallStatus="in-progress")
    event = call_event(request(fields, "https://x/webhooks/twilio_voice/7?event=status"))
    assert event == Ignored(
        kind="call_in-progress", external_id="CAfedcba9876543210fedcba9876543210"
    )


def test_transfer_ended() -> None:
    fields = dict(
        fixture("twilio_voice_speech")["form_params"],
        DialCallStatus="no-answer",
        DialCallSid="CA00000000000000000000000000000001",
    )
    fields.pop("SpeechResult")
    for url in (
        "https://x/webhooks/twilio_voice/7?event=dial",
        "https://x/webhooks/twilio_voice/7",
    ):
        event = call_event(request(fields, url))
        assert event == TransferEnded("CAfedcba9876543210fedcba9876543210", "no-answer", None)
    fields["DialCallStatus"], fields["DialCallDuration"] = "completed", "42"
    assert call_event(request(fields, "https://x/?event=dial")) == TransferEnded(
        "CAfedcba9876543210fedcba9876543210", "completed", 42
    )


def test_withheld_caller_id_is_known_by_the_call() -> None:
    event = call_event(from_fixture("twilio_voice_incoming", From="anonymous"))
    assert isinstance(event, CallStarted)
    caller = event.caller
    assert (caller.external_id, caller.phone) == ("call:CAfedcba9876543210fedcba9876543210", None)
    assert caller.details == {"caller_id": "anonymous"}


@pytest.mark.parametrize(
    ("url", "changes", "reason"),
    [
        ("https://x/", {"CallSid": None}, "CallSid"),
        ("https://x/", {"From": None}, "From"),
        ("https://x/?event=speech&turn=second", {}, "turn"),
        ("https://x/?event=speech&turn=-1", {}, "turn"),
        ("https://x/?event=recording", {}, "unknown voice event"),
    ],
)
def test_malformed_voice_webhook_is_refused(
    url: str, changes: dict[str, str | None], reason: str
) -> None:
    fields = dict(fixture("twilio_voice_speech")["form_params"])
    for key, value in changes.items():
        if value is None:
            fields.pop(key)
    with pytest.raises(PayloadInvalid, match=reason):
        VOICE.parse(VOICE_CONFIG, request(fields, url))


async def test_voice_has_nothing_to_send_or_fetch() -> None:
    with pytest.raises(SendFailed) as sent:
        await VOICE.send(VOICE_CONFIG, None, None)  # type: ignore[arg-type]
    assert (sent.value.code, sent.value.transient) == ("voice_spoken", False)
    with pytest.raises(SendFailed) as fetched:
        await VOICE.fetch_media(VOICE_CONFIG, {}, None)  # type: ignore[arg-type]
    assert not fetched.value.transient


def test_voice_acknowledgement_is_empty_twiml() -> None:
    assert VOICE.acknowledgement() == (EMPTY_TWIML, "text/xml")


# --- TwiML (§5.2) -----------------------------------------------------------------------


def tree(xml: bytes | str) -> tuple[Any, ...]:
    """An element as (tag, attributes, text, children), whitespace between verbs ignored."""

    def shape(element: ET.Element) -> tuple[Any, ...]:
        return (
            element.tag,
            element.attrib,
            (element.text or "").strip(),
            [shape(child) for child in element],
        )

    return shape(ET.fromstring(xml))


def test_gather_matches_the_fixture() -> None:
    case = fixture("twilio_twiml_gather_speech")
    body = gather(
        "Thanks for calling. How can I help you today?",
        action_url="https://inbox.example.com/twilio/voice/gather",
        language="en-US",
        hints=["order", "delivery", "refund", "agent"],
        goodbye="Sorry, I didn't catch that.",
        fallback_url="https://inbox.example.com/twilio/voice",
    )
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    ours = tree(body)
    theirs = tree(case["http_response"]["body"])
    # ours adds language="en-US" on each <Say>, so the caller hears the language it is heard in
    for verb in (ours[3][0][3][0], ours[3][1]):
        assert verb[1].pop("language") == "en-US"
    assert ours == theirs


def test_gather_defaults() -> None:
    (_, _, _, verbs) = tree(
        gather("Hi", action_url="https://x/?event=speech&turn=1", language="es-MX")
    )
    listen, goodbye = verbs
    assert listen[1] == {
        "input": "speech",
        "action": "https://x/?event=speech&turn=1",
        "method": "POST",
        "language": "es-MX",
        "speechTimeout": "auto",
    }
    assert listen[3] == [("Say", {"language": "es-MX"}, "Hi", [])]
    assert goodbye[0] == "Say"


def test_gather_keeps_hints_twilio_accepts() -> None:
    hints = ["ok", "", "x" * 101, *[f"h{n}" for n in range(600)]]
    (_, _, _, verbs) = tree(gather("Hi", action_url="https://x/", language="en-US", hints=hints))
    kept = verbs[0][1]["hints"].split(", ")
    assert len(kept) == 500
    assert kept[0] == "ok"


def test_dial_matches_the_fixture() -> None:
    case = fixture("twilio_twiml_dial_transfer")
    body = dial(
        "Connecting you to an agent now.",
        "+15005550006",
        "https://inbox.example.com/twilio/voice/dial-status",
    )
    assert tree(body) == tree(case["http_response"]["body"])


def test_dial_without_action() -> None:
    (_, _, _, verbs) = tree(dial("", "+15005550006", None))
    assert verbs == [("Dial", {"timeout": "25"}, "", [("Number", {}, "+15005550006", [])])]


def test_hold_then_redirect() -> None:
    body = hold(
        "One moment please.",
        "https://x/webhooks/twilio_voice/7?event=speech&turn=3",
        language="en-GB",
    )
    assert tree(body) == (
        "Response",
        {},
        "",
        [
            ("Say", {"language": "en-GB"}, "One moment please.", []),
            ("Pause", {"length": "1"}, "", []),
            (
                "Redirect",
                {"method": "POST"},
                "https://x/webhooks/twilio_voice/7?event=speech&turn=3",
                [],
            ),
        ],
    )


def test_hangup() -> None:
    assert tree(hangup("Goodbye!")) == (
        "Response",
        {},
        "",
        [("Say", {}, "Goodbye!", []), ("Hangup", {}, "", [])],
    )


def test_twiml_escapes_what_it_carries() -> None:
    say = 'Fish & chips <today> for "you" \x00\x0b'
    (_, _, _, verbs) = tree(hangup(say))
    assert verbs[0][2] == 'Fish & chips <today> for "you"'
    body = gather(say, action_url='https://x/?a=1&b="2"', language="en-US")
    assert b"&amp;" in body
    assert tree(body)[3][0][1]["action"] == 'https://x/?a=1&b="2"'


@pytest.mark.parametrize("field", ["MessageStatus", "SmsStatus"])
def test_a_received_status_is_an_inbound_message(field: str) -> None:
    changes: dict[str, str | None] = {"SmsStatus": None, field: "received"}
    webhook = from_fixture("twilio_sms_inbound", **changes)
    assert inbound(SMS, webhook).text == "Hi, where is my order #1234?"
