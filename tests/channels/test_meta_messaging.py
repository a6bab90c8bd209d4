"""Instagram and Messenger adapters: the shared fixtures in, the Send API out (REFERENCE.md
§1, §3, §4). Pure unit tests: no database; the provider is a real HTTP server on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from onethread.channels.base import (
    ChannelAdapter,
    DeliveryReceipt,
    Echo,
    Ignored,
    Outbound,
    PayloadInvalid,
    Recipient,
    SendFailed,
    SignatureInvalid,
    StatusUpdate,
    WebhookItem,
    WebhookRequest,
)
from onethread.channels.instagram import InstagramAdapter
from onethread.channels.messenger import MessengerAdapter
from onethread.channels.meta import sign
from onethread.channels.registry import adapter_for
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import DeliveryStatus
from onethread.errors import DomainError
from onethread.inboxes.channel_config import InstagramConfig, MessengerConfig, MetaConfig
from onethread.inboxes.models import ChannelKind
from tests.channels.conftest import FIXTURES
from tests.fakes.graph_api import FakeGraphApi

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "meatyhamhock"
INSTAGRAM_ACCOUNT = "17841400000000001"
MESSENGER_PAGE = "682498302938465"
CUSTOMER = "1234567890123456"

INSTAGRAM = InstagramAdapter()
MESSENGER = MessengerAdapter()


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def instagram_config(
    base_url: str = "https://graph.instagram.com/v25.0", **extra: Any
) -> InstagramConfig:
    return InstagramConfig.model_validate(
        {
            "account_id": INSTAGRAM_ACCOUNT,
            "access_token": "ig-token",
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "api_base_url": base_url,
        }
        | extra
    )


def messenger_config(
    base_url: str = "https://graph.facebook.com/v25.0", **extra: Any
) -> MessengerConfig:
    return MessengerConfig.model_validate(
        {
            "page_id": MESSENGER_PAGE,
            "access_token": "page-token",
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "api_base_url": base_url,
        }
        | extra
    )


def webhook(body: bytes | dict[str, Any], signature: str | None = "compute") -> WebhookRequest:
    """A POST as Meta sends it: JSON with non-ASCII escaped, signed over those bytes."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    if signature == "compute":
        signature = sign(raw, APP_SECRET)
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    return WebhookRequest("POST", "https://example.test/webhooks", headers, {}, raw)


def event(**fields: Any) -> dict[str, Any]:
    """One ``messaging[]`` event from the customer to the Instagram account."""
    return {
        "sender": {"id": CUSTOMER},
        "recipient": {"id": INSTAGRAM_ACCOUNT},
        "timestamp": 1569262485349,
    } | fields


def instagram_payload(*events: dict[str, Any], list_name: str = "messaging") -> dict[str, Any]:
    entry = {"id": INSTAGRAM_ACCOUNT, "time": 1569262486134, list_name: list(events)}
    return {"object": "instagram", "entry": [entry]}


def messenger_payload(*events: dict[str, Any]) -> dict[str, Any]:
    entry = {"id": MESSENGER_PAGE, "time": 1458692752478, "messaging": list(events)}
    return {"object": "page", "entry": [entry]}


CHANNELS: dict[str, Callable[[], tuple[ChannelAdapter, MetaConfig]]] = {
    "instagram": lambda: (INSTAGRAM, instagram_config()),
    "messenger": lambda: (MESSENGER, messenger_config()),
}


def parse_instagram(payload: dict[str, Any] | bytes) -> list[WebhookItem]:
    config = instagram_config()
    request = webhook(payload)
    INSTAGRAM.verify(config, request)
    return INSTAGRAM.parse(config, request)


def only_message(items: list[WebhookItem]) -> InboundMessage:
    assert len(items) == 1
    item = items[0]
    assert isinstance(item, InboundMessage)
    return item


# --- the contract ----------------------------------------------------------------------


def test_the_registry_finds_both_adapters_with_their_limits() -> None:
    instagram: ChannelAdapter = adapter_for(ChannelKind.INSTAGRAM)
    messenger: ChannelAdapter = adapter_for("messenger")
    assert isinstance(instagram, InstagramAdapter)
    assert isinstance(messenger, MessengerAdapter)
    assert (instagram.max_text_length, instagram.limit_in_bytes) == (1000, True)
    assert (messenger.max_text_length, messenger.limit_in_bytes) == (2000, False)
    for adapter in (instagram, messenger):
        assert adapter.supports_buttons
        assert adapter.window is not None
        assert (adapter.window.hours, adapter.window.human_agent_hours) == (24, 24 * 7)
        assert adapter.acknowledgement() == (b"", "text/plain")


def test_an_adapter_refuses_another_channels_config() -> None:
    with pytest.raises(TypeError, match="InstagramConfig"):
        INSTAGRAM.parse(messenger_config(), webhook(instagram_payload()))


# --- every fixture -----------------------------------------------------------------------

INBOUND_FIXTURES = sorted(
    path.stem
    for pattern in ("instagram_*.json", "messenger_*.json")
    for path in FIXTURES.glob(pattern)
    if json.loads(path.read_text())["direction"] == "inbound_webhook"
)


def test_the_inbound_fixtures_are_all_here() -> None:
    assert INBOUND_FIXTURES == [
        "instagram_echo",
        "instagram_image",
        "instagram_text",
        "instagram_unsend",
        "messenger_echo",
        "messenger_text",
    ]


@pytest.mark.parametrize("name", INBOUND_FIXTURES)
def test_every_inbound_fixture_verifies_and_parses_as_expected(name: str) -> None:
    case = fixture(name)
    adapter, config = CHANNELS[name.partition("_")[0]]()
    request = webhook(case["body"])
    adapter.verify(config, request)
    [item] = adapter.parse(config, request)
    expect = case["expect"]
    mid = case["body"]["entry"][0]["messaging"][0]["message"]["mid"]
    if expect.get("is_echo"):
        assert isinstance(item, Echo)
        assert item.external_id == mid
        assert item.recipient_id == expect["customer_id"]
        assert item.text == case["body"]["entry"][0]["messaging"][0]["message"]["text"]
    elif "deleted_message_id" in expect:
        assert item == Ignored("deleted", expect["deleted_message_id"])
    else:
        assert isinstance(item, InboundMessage)
        assert item.external_id == expect["message_id"]
        assert item.sender.channel == adapter.kind.value
        if expect.get("customer_id"):
            assert item.sender.external_id == expect["customer_id"]
        if expect.get("text"):
            assert item.text == expect["text"]
        expected_types = [attachment["type"] for attachment in expect.get("attachments", [])]
        assert [attachment["type"] for attachment in item.attachments] == expected_types


def test_instagram_text_keeps_ids_and_the_millisecond_timestamp() -> None:
    message = only_message(parse_instagram(fixture("instagram_text")["body"]))
    assert message.sender.external_id == CUSTOMER
    assert message.sender.channel == "instagram"
    assert message.sender.verified is False
    assert message.text == "Hi! Is this available?"
    assert message.external_id is not None
    assert message.external_id.endswith("NTYx")
    assert message.sent_at == datetime(2019, 9, 23, 18, 14, 45, 349000, tzinfo=UTC)
    assert message.attachments == []
    assert message.interactive is None


def test_instagram_image_has_its_url_and_a_readable_placeholder() -> None:
    message = only_message(parse_instagram(fixture("instagram_image")["body"]))
    assert message.text == "[Image]"
    assert message.attachments == [
        {
            "type": "image",
            "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1790000000000001&signature=EXAMPLE",
        }
    ]


def test_messenger_text_is_from_the_psid() -> None:
    case = fixture("messenger_text")
    config = messenger_config()
    message = only_message(MESSENGER.parse(config, webhook(case["body"])))
    assert message.sender.channel == "messenger"
    assert message.sender.external_id == "6789012345678901"
    assert message.external_id == "mid.1457764197618:41d102a3e1ae206a38"
    assert message.text == "hello, world!"


# --- events beyond the fixtures ----------------------------------------------------------


def test_non_ascii_text_arrives_escaped_and_reads_back_as_written() -> None:
    payload = instagram_payload(event(message={"mid": "m-1", "text": "äöå مرحبا"}))
    raw = json.dumps(payload).encode()
    assert b"\\u00e4\\u00f6\\u00e5" in raw
    assert only_message(parse_instagram(raw)).text == "äöå مرحبا"


def test_quick_reply_and_postback_are_interactive_answers() -> None:
    items = parse_instagram(
        instagram_payload(
            event(message={"mid": "m-1", "text": "Yes", "quick_reply": {"payload": "confirm"}}),
            event(postback={"mid": "m-2", "title": "Talk to us", "payload": "human"}),
            event(postback={"title": "Menu", "payload": "menu"}, timestamp=1569262490000),
        )
    )
    quick_reply, postback, without_mid = items
    assert isinstance(quick_reply, InboundMessage)
    assert (quick_reply.text, quick_reply.interactive) == (
        "Yes",
        {"type": "quick_reply", "payload": "confirm"},
    )
    assert isinstance(postback, InboundMessage)
    assert postback.external_id == "m-2"
    assert postback.text == "Talk to us"
    assert postback.interactive == {"type": "postback", "payload": "human", "title": "Talk to us"}
    assert isinstance(without_mid, InboundMessage)
    assert without_mid.external_id == f"postback:{CUSTOMER}:1569262490000"  # stable on retry


def test_attachment_kinds_and_their_placeholders() -> None:
    message = only_message(
        parse_instagram(
            instagram_payload(
                event(
                    message={
                        "mid": "m-1",
                        "attachments": [
                            {"type": "image", "payload": {"url": "https://cdn/s", "sticker_id": 7}},
                            {
                                "type": "ig_reel",
                                "payload": {"url": "https://cdn/r", "title": "Fun"},
                            },
                            {"type": "story_mention", "payload": {"url": "https://cdn/m"}},
                            {"type": "new_kind", "payload": {}},
                        ],
                    }
                )
            )
        )
    )
    assert [attachment["type"] for attachment in message.attachments] == [
        "sticker",
        "reel",
        "story_mention",
        "new_kind",
    ]
    assert message.attachments[0] == {"type": "sticker", "url": "https://cdn/s", "sticker_id": 7}
    assert message.attachments[1]["title"] == "Fun"
    assert message.text == "[Sticker, Reel, Story mention, New kind]"


def test_a_story_reply_keeps_the_story() -> None:
    reply_to = {"story": {"url": "https://cdn/story", "id": "story-1"}}
    message = only_message(
        parse_instagram(
            instagram_payload(
                event(message={"mid": "m-1", "text": "Love it", "reply_to": reply_to})
            )
        )
    )
    assert message.text == "Love it"
    assert message.attachments == [
        {"type": "story_reply", "url": "https://cdn/story", "id": "story-1"}
    ]


def test_unsupported_messages_are_kept_with_a_placeholder() -> None:
    payload = instagram_payload(event(message={"mid": "m-1", "is_unsupported": True}))
    message = only_message(parse_instagram(payload))
    assert (message.text, message.external_id) == ("[Unsupported message]", "m-1")


def test_standby_events_and_string_timestamps_are_read_too() -> None:
    payload = instagram_payload(
        event(message={"mid": "m-1", "text": "hi"}, timestamp="1569262485349"),
        list_name="standby",
    )
    message = only_message(parse_instagram(payload))
    assert message.sent_at == datetime(2019, 9, 23, 18, 14, 45, 349000, tzinfo=UTC)


def test_reactions_reads_deliveries_and_unknown_events() -> None:
    items = parse_instagram(
        instagram_payload(
            event(reaction={"mid": "m-9", "action": "react", "reaction": "love", "emoji": "❤"}),
            event(read={"mid": "m-out"}),
            event(read={"watermark": 1569262485000}),
            event(delivery={"mids": ["m-a", "m-b"], "watermark": 1569262485000}),
            event(delivery={"watermark": 1569262485000}),
            event(referral={"ref": "ad", "source": "ADS", "type": "OPEN_THREAD"}),
            event(message_edit={"mid": "m-1", "text": "edited"}),
        )
    )
    at = datetime(2019, 9, 23, 18, 14, 45, 349000, tzinfo=UTC)
    assert items == [
        Ignored("reaction", "m-9"),
        StatusUpdate("m-out", DeliveryStatus.READ, at=at),
        Ignored("read"),
        StatusUpdate("m-a", DeliveryStatus.DELIVERED, at=at),
        StatusUpdate("m-b", DeliveryStatus.DELIVERED, at=at),
        Ignored("delivery"),
        Ignored("referral"),
        Ignored("message_edit", "m-1"),
    ]


def test_events_of_several_entries_come_in_order_and_changes_are_ignored() -> None:
    payload = instagram_payload(event(message={"mid": "m-1", "text": "one"}))
    payload["entry"].append(
        {"id": INSTAGRAM_ACCOUNT, "messaging": [event(message={"mid": "m-2", "text": "two"})]}
    )
    payload["entry"].append({"id": INSTAGRAM_ACCOUNT, "changes": [{"field": "comments"}]})
    items = parse_instagram(payload)
    assert [getattr(item, "external_id", None) for item in items[:2]] == ["m-1", "m-2"]
    assert items[2] == Ignored("change:comments")


def test_messenger_deliveries_and_watermark_reads() -> None:
    page_event = {"sender": {"id": "6789012345678901"}, "recipient": {"id": MESSENGER_PAGE}}
    items = MESSENGER.parse(
        messenger_config(),
        webhook(
            messenger_payload(
                page_event | {"timestamp": 1458668856463, "delivery": {"mids": ["mid.1"]}},
                page_event | {"timestamp": 1458668856463, "read": {"watermark": 1458668856253}},
            )
        ),
    )
    assert [type(item) for item in items] == [StatusUpdate, Ignored]
    assert items[0] == StatusUpdate(
        "mid.1", DeliveryStatus.DELIVERED, at=datetime.fromtimestamp(1458668856.463, tz=UTC)
    )


# --- signatures and the handshake ------------------------------------------------------


def test_the_signature_covers_the_exact_escaped_bytes_not_a_reserialisation() -> None:
    config = instagram_config()
    escaped = json.dumps(instagram_payload(event(message={"mid": "m", "text": "äöå"}))).encode()
    assert b'"text": "\\u00e4\\u00f6\\u00e5"' in escaped
    signature = sign(escaped, APP_SECRET)
    INSTAGRAM.verify(config, webhook(escaped, signature))

    reserialised = json.dumps(json.loads(escaped), ensure_ascii=False).encode()
    assert "äöå".encode() in reserialised
    with pytest.raises(SignatureInvalid):
        INSTAGRAM.verify(config, webhook(reserialised, signature))


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, sign(b"another body", APP_SECRET), sign(b"{}", "wrong")],
)
def test_a_missing_or_forged_signature_is_refused(signature: str | None) -> None:
    request = webhook(fixture("messenger_text")["body"], signature)
    with pytest.raises(SignatureInvalid):
        MESSENGER.verify(messenger_config(), request)


def test_without_an_app_secret_nothing_verifies() -> None:
    request = webhook(fixture("instagram_text")["body"])
    with pytest.raises(SignatureInvalid, match="app secret"):
        INSTAGRAM.verify(instagram_config(app_secret=None), request)


@pytest.mark.parametrize("channel", ["instagram", "messenger"])
def test_the_handshake_echoes_the_challenge_only_for_the_right_token(channel: str) -> None:
    adapter, config = CHANNELS[channel]()
    cases = fixture("whatsapp_verify_handshake")["requests"]  # §1.1 is shared by all three
    for case in cases:
        request = WebhookRequest("GET", "https://example.test", {}, case["http"]["query"], b"")
        if case["expect"].get("status") == 200:
            assert adapter.handshake(config, request) == case["expect"]["body_exact"]
        else:
            with pytest.raises(DomainError):
                adapter.handshake(config, request)
    valid = WebhookRequest("GET", "https://example.test", {}, cases[0]["http"]["query"], b"")
    with pytest.raises(DomainError) as refused:
        adapter.handshake(config.model_copy(update={"verify_token": None}), valid)
    assert refused.value.status_code in {401, 403}


# --- malformed payloads ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe", "not JSON"),
        (json.dumps(fixture("messenger_text")["body"]).encode(), "expected object 'instagram'"),
        (json.dumps({"object": "instagram"}).encode(), "'entry' list"),
        (json.dumps({"object": "instagram", "entry": {"id": "1"}}).encode(), "'entry' list"),
        (json.dumps({"object": "instagram", "entry": ["x"]}).encode(), "entry[0] is not"),
        (
            json.dumps(
                {"object": "instagram", "entry": [{"id": INSTAGRAM_ACCOUNT, "messaging": {}}]}
            ).encode(),
            "messaging is not a list",
        ),
        (json.dumps(instagram_payload(event(message={"text": "no mid"}))).encode(), "no mid"),
        (
            json.dumps(instagram_payload({"message": {"mid": "m", "text": "who?"}})).encode(),
            "no sender.id",
        ),
        (json.dumps(instagram_payload(event(message="text"))).encode(), "message is not an object"),
    ],
)
def test_malformed_payloads_are_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(PayloadInvalid) as refused:
        parse_instagram(body)
    assert reason in refused.value.message


def test_a_webhook_for_another_account_names_both_ids() -> None:
    payload = instagram_payload(event(message={"mid": "m", "text": "hi"}))
    payload["entry"][0]["id"] = "17841499999999999"
    with pytest.raises(PayloadInvalid) as refused:
        parse_instagram(payload)
    assert "17841499999999999" in refused.value.message
    assert INSTAGRAM_ACCOUNT in refused.value.message


# --- sending through a fake Graph API on loopback ---------------------------------------


@pytest.fixture
def graph() -> Iterator[FakeGraphApi]:
    with FakeGraphApi() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


def outbound(text: str, recipient: str = CUSTOMER, **extra: Any) -> Outbound:
    return Outbound(message_id=1, recipient=Recipient(external_id=recipient), text=text, **extra)


async def test_instagram_send_matches_the_documented_request_and_reads_the_response(
    graph: FakeGraphApi, http: httpx.AsyncClient
) -> None:
    documented = fixture("instagram_send_request")["variants"]["instagram_login"]
    response = fixture("instagram_send_response")
    graph.script(status=response["http_status"], body=response["body"])
    text = documented["body"]["message"]["text"]

    receipt = await INSTAGRAM.send(instagram_config(graph.base_url), outbound(text), http)

    assert receipt == DeliveryReceipt(external_id=response["expect"]["outbound_message_id"])
    [sent] = graph.requests
    assert (sent.method, sent.path) == ("POST", f"/{INSTAGRAM_ACCOUNT}/messages")
    assert sent.headers["authorization"] == "Bearer ig-token"
    assert sent.headers["content-type"] == "application/json"
    assert sent.json == documented["body"] | {"messaging_type": "RESPONSE"}


async def test_messenger_send_is_exactly_the_documented_body(
    graph: FakeGraphApi, http: httpx.AsyncClient
) -> None:
    documented = fixture("messenger_send_request")
    response = fixture("messenger_send_response")
    graph.script(body=response["body"])
    text = documented["body"]["message"]["text"]
    recipient = documented["body"]["recipient"]["id"]

    receipt = await MESSENGER.send(
        messenger_config(graph.base_url), outbound(text, recipient), http
    )

    assert receipt.external_id == "AG5Hz2U..."
    assert receipt.status == DeliveryStatus.SENT
    [sent] = graph.requests
    assert sent.path == "/682498302938465/messages"
    assert sent.headers["authorization"] == "Bearer page-token"
    assert sent.json == documented["body"]


async def test_a_human_agent_reply_carries_the_human_agent_tag(
    graph: FakeGraphApi, http: httpx.AsyncClient
) -> None:
    documented = fixture("instagram_send_request")["human_agent_variant"]
    message = outbound(documented["message"]["text"], human_agent=True)
    receipt = await INSTAGRAM.send(instagram_config(graph.base_url), message, http)
    assert receipt.external_id.startswith("m_")  # the fake's default answer
    assert graph.requests[0].json == {key: documented[key] for key in documented if key != "note"}


async def test_buttons_become_quick_replies_with_short_titles(
    graph: FakeGraphApi, http: httpx.AsyncClient
) -> None:
    buttons = [
        {"id": "yes", "title": "Yes please"},
        {"id": "human", "title": "Talk to a human agent now"},
    ]
    message = outbound("Shall I book it?", interactive={"buttons": buttons})
    await MESSENGER.send(messenger_config(graph.base_url), message, http)
    assert graph.requests[0].json["message"] == {
        "text": "Shall I book it?",
        "quick_replies": [
            {"content_type": "text", "title": "Yes please", "payload": "yes"},
            {"content_type": "text", "title": "Talk to a human age…", "payload": "human"},
        ],
    }


async def test_more_than_thirteen_buttons_and_templates_degrade_to_text(
    graph: FakeGraphApi, http: httpx.AsyncClient
) -> None:
    config = messenger_config(graph.base_url)
    buttons = [{"id": f"b{number}", "title": f"Option {number}"} for number in range(1, 15)]
    await MESSENGER.send(config, outbound("Pick one:", interactive={"buttons": buttons}), http)
    template = {"template": {"name": "order_update", "language": "en_US", "parameters": []}}
    await MESSENGER.send(config, outbound("Your order shipped.", interactive=template), http)

    many, templated = (request.json["message"] for request in graph.requests)
    assert "quick_replies" not in many
    assert many["text"].startswith("Pick one:\n\n1. Option 1\n2. Option 2")
    assert many["text"].endswith("14. Option 14")
    assert templated == {"text": "Your order shipped."}


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_and_server_errors_are_transient(
    graph: FakeGraphApi, http: httpx.AsyncClient, status: int
) -> None:
    graph.script(status=status)
    with pytest.raises(SendFailed) as failed:
        await INSTAGRAM.send(instagram_config(graph.base_url), outbound("hi"), http)
    assert failed.value.transient
    assert failed.value.http_status == status


async def test_a_graph_error_is_final_and_keeps_code_and_message(
    graph: FakeGraphApi, http: httpx.AsyncClient
) -> None:
    error = {
        "error": {
            "message": "(#551) This person isn't available right now.",
            "type": "OAuthException",
            "code": 551,
            "error_subcode": 1545041,
            "fbtrace_id": "AbCdEf",
        }
    }
    graph.script(status=400, body=error)
    with pytest.raises(SendFailed) as failed:
        await MESSENGER.send(messenger_config(graph.base_url), outbound("hi"), http)
    assert not failed.value.transient
    assert (failed.value.code, failed.value.http_status) == ("551", 400)
    assert "isn't available right now" in failed.value.reason


async def test_a_provider_that_does_not_answer_in_time_is_transient(graph: FakeGraphApi) -> None:
    graph.script(delay=5.0)
    async with httpx.AsyncClient(timeout=0.2) as impatient:
        with pytest.raises(SendFailed) as failed:
            await INSTAGRAM.send(instagram_config(graph.base_url), outbound("hi"), impatient)
    assert failed.value.transient
    assert failed.value.code == "timeout"


async def test_nothing_is_sent_without_a_token_or_without_text(
    graph: FakeGraphApi, http: httpx.AsyncClient
) -> None:
    with pytest.raises(SendFailed) as no_token:
        await INSTAGRAM.send(
            instagram_config(graph.base_url, access_token=None), outbound("hi"), http
        )
    with pytest.raises(SendFailed) as no_text:
        await INSTAGRAM.send(instagram_config(graph.base_url), outbound("  "), http)
    assert (no_token.value.code, no_token.value.transient) == ("no_access_token", False)
    assert (no_text.value.code, no_text.value.transient) == ("empty_message", False)
    assert graph.requests == []


async def test_an_accepted_send_without_a_message_id_is_not_retried(
    graph: FakeGraphApi, http: httpx.AsyncClient
) -> None:
    graph.script(body={"recipient_id": CUSTOMER})
    with pytest.raises(SendFailed) as failed:
        await MESSENGER.send(messenger_config(graph.base_url), outbound("hi"), http)
    assert (failed.value.code, failed.value.transient) == ("no_message_id", False)


# --- media -----------------------------------------------------------------------------


async def test_fetch_media_downloads_the_cdn_url_without_leaking_the_token(
    graph: FakeGraphApi, http: httpx.AsyncClient
) -> None:
    graph.add_media("1790000000000001", b"\xff\xd8 a jpeg", "image/jpeg")
    attachment = {"type": "image", "url": f"{graph.base_url}/lookaside/1790000000000001"}
    media = await INSTAGRAM.fetch_media(instagram_config(graph.base_url), attachment, http)
    assert (media.content, media.mime_type) == (b"\xff\xd8 a jpeg", "image/jpeg")
    assert [request.path for request in graph.requests] == [
        "/lookaside/1790000000000001",  # redirects to the CDN, as lookaside URLs do
        "/cdn/1790000000000001",
    ]
    assert all("authorization" not in request.headers for request in graph.requests)


async def test_fetch_media_failures(graph: FakeGraphApi, http: httpx.AsyncClient) -> None:
    config = messenger_config(graph.base_url)
    with pytest.raises(SendFailed) as no_url:
        await MESSENGER.fetch_media(config, {"type": "image"}, http)
    graph.script(status=404, body=b"<html>expired</html>")
    with pytest.raises(SendFailed) as expired:
        await MESSENGER.fetch_media(config, {"url": f"{graph.base_url}/cdn/gone"}, http)
    assert (no_url.value.code, no_url.value.transient) == ("no_media_url", False)
    assert (expired.value.http_status, expired.value.transient) == (404, False)


# --- the fake Graph API itself (the WhatsApp and end-to-end tests rely on it too) --------


async def test_the_fake_answers_whatsapp_sends_and_serves_media_behind_the_token(
    http: httpx.AsyncClient,
) -> None:
    with FakeGraphApi(access_token="wa-token") as fake:
        auth = {"Authorization": "Bearer wa-token"}
        body = fixture("whatsapp_send_text_request")["body"]
        first = await http.post(
            f"{fake.base_url}/106540352242922/messages", json=body, headers=auth
        )
        second = await http.post(
            f"{fake.base_url}/106540352242922/messages", json=body, headers=auth
        )
        documented = fixture("whatsapp_send_text_response")["body"]
        assert first.json().keys() == documented.keys()
        assert first.json()["contacts"] == [{"input": "+16505551234", "wa_id": "16505551234"}]
        wamids = {answer.json()["messages"][0]["id"] for answer in (first, second)}
        assert len(wamids) == 2
        assert all(wamid.startswith("wamid.") for wamid in wamids)

        fake.add_media("1013859600285441", b"picture", "image/png")
        metadata = (await http.get(f"{fake.base_url}/1013859600285441", headers=auth)).json()
        assert metadata["url"] == f"{fake.base_url}/media-bytes/1013859600285441"
        assert (metadata["mime_type"], metadata["id"]) == ("image/png", "1013859600285441")
        download = await http.get(metadata["url"], headers=auth)
        assert (download.status_code, download.content) == (200, b"picture")
        assert (await http.get(metadata["url"])).status_code == 401
        wrong = {"Authorization": "Bearer other"}
        assert (await http.get(metadata["url"], headers=wrong)).status_code == 401
        assert (await http.post(f"{fake.base_url}/nowhere", json={})).status_code == 404
        assert [request.method for request in fake.requests] == ["POST"] * 2 + ["GET"] * 4 + [
            "POST"
        ]


async def test_the_fake_scripts_answers_per_path_and_in_order(http: httpx.AsyncClient) -> None:
    with FakeGraphApi() as fake:
        fake.script(status=500, times=2)
        fake.script(status=200, body={"scripted": True}, path="/1/messages")
        url = f"{fake.base_url}/1/messages"
        statuses = [(await http.post(url, json={})).status_code for _ in range(2)]
        assert statuses == [500, 500]
        assert (await http.post(url, json={})).json() == {"scripted": True}
        assert "message_id" in (await http.post(url, json={})).json()
