"""Every webhook parser, fed arbitrary and mutated payloads: items we can store, or
``InvalidInput`` (a 400 with a reason), never another exception. Pure: no database."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from onethread.channels.base import ChannelAdapter, Echo, Ignored, StatusUpdate, WebhookRequest
from onethread.channels.registry import adapter_for
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import DeliveryStatus
from onethread.errors import InvalidInput
from onethread.inboxes.channel_config import ChannelConfig, validate_config
from onethread.inboxes.models import ChannelKind
from tests.channels.conftest import fixture
from tests.fuzz.strategies import JSON, mutated, mutated_form, webhook_fixture_names

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
FUZZ = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
META_CHANNELS = {"whatsapp_": "whatsapp", "instagram_": "instagram", "messenger_": "messenger"}
TWILIO_CHANNELS = {
    "twilio_sms_": "twilio_sms",
    "twilio_mms_": "twilio_sms",
    "twilio_whatsapp_": "twilio_whatsapp",
    "twilio_voice_": "twilio_voice",
}
VOICE_QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "event": st.sampled_from(["start", "speech", "wait", "status", "dial"])
        | st.text(max_size=8),
        "turn": st.sampled_from(["1", "0", "-3", "x", "99999999999999999999"])
        | st.text(max_size=5),
        "waited": st.sampled_from(["1", "-1", "z"]) | st.text(max_size=5),
    },
)


def channel_of(name: str) -> str:
    table = META_CHANNELS | TWILIO_CHANNELS
    return next(channel for prefix, channel in table.items() if name.startswith(prefix))


def config_for(name: str) -> ChannelConfig:
    """An inbox config that matches the fixture's own ids, so parsing goes all the way."""
    channel = channel_of(name)
    case = fixture(name)
    kind = ChannelKind(channel)
    if channel in TWILIO_CHANNELS.values():
        to = case["form_params"].get("To", "+15550000000").removeprefix("whatsapp:")
        return validate_config(kind, {"account_sid": ACCOUNT, "sender": to})
    entry = case["body"]["entry"][0]
    if channel == "whatsapp":
        number = entry["changes"][0]["value"].get("metadata", {}).get("phone_number_id", "1")
        return validate_config(kind, {"phone_number_id": number})
    key = "account_id" if channel == "instagram" else "page_id"
    return validate_config(kind, {key: entry["id"]})


def meta_request(body: bytes, query: dict[str, str] | None = None) -> WebhookRequest:
    return WebhookRequest(
        "POST",
        "https://onethread.test/webhooks",
        {"content-type": "application/json"},
        query or {},
        body,
    )


def form_request(pairs: list[tuple[str, str]], query: dict[str, str]) -> WebhookRequest:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    body = urlencode(pairs).encode()
    return WebhookRequest("POST", "https://onethread.test/webhooks", headers, query, body)


def assert_parses_or_refuses(
    adapter: ChannelAdapter, config: ChannelConfig, request: WebhookRequest
) -> None:
    """The contract under test: storable items, or ``InvalidInput``; nothing else."""
    try:
        items = adapter.parse(config, request)
    except InvalidInput as refused:
        assert refused.message, "a refusal says why"  # noqa: PT017
        return
    assert isinstance(items, list)
    for item in items:
        assert_storable(item)


def assert_storable(item: object) -> None:
    """What ingest will write has the types its columns expect."""
    if isinstance(item, InboundMessage):
        assert isinstance(item.text, str)
        assert isinstance(item.sender.external_id, str)
        assert item.sender.external_id
        assert isinstance(item.sender.channel, str)
        assert item.external_id is None or isinstance(item.external_id, str)
        assert item.sender.display_name is None or isinstance(item.sender.display_name, str)
        assert item.sender.phone is None or isinstance(item.sender.phone, str)
        assert isinstance(item.attachments, list)
        assert all(isinstance(attachment, dict) for attachment in item.attachments)
        assert item.interactive is None or isinstance(item.interactive, dict)
        json.dumps(item.attachments)  # stored as JSON
        json.dumps(item.interactive)
        json.dumps(item.sender.details)
        assert item.sent_at is None or isinstance(item.sent_at, datetime)
    elif isinstance(item, StatusUpdate):
        assert isinstance(item.external_id, str)
        assert isinstance(item.status, DeliveryStatus)
        assert item.error_code is None or isinstance(item.error_code, str)
        assert item.error is None or isinstance(item.error, str)
        assert item.at is None or isinstance(item.at, datetime)
    elif isinstance(item, Echo):
        assert isinstance(item.external_id, str)
        assert isinstance(item.text, str)
        json.dumps(item.attachments)
    else:
        assert isinstance(item, Ignored), item


META_FIXTURES = webhook_fixture_names(tuple(META_CHANNELS))
TWILIO_FIXTURES = webhook_fixture_names(tuple(TWILIO_CHANNELS))


def test_every_channel_has_fixtures_to_mutate() -> None:
    channels = {channel_of(name) for name in META_FIXTURES + TWILIO_FIXTURES}
    assert channels == set(META_CHANNELS.values()) | set(TWILIO_CHANNELS.values())


@pytest.mark.parametrize("name", META_FIXTURES)
@FUZZ
@given(data=st.data())
def test_mutated_meta_fixtures(name: str, data: st.DataObject) -> None:
    body = data.draw(mutated(fixture(name)["body"]))
    request = meta_request(json.dumps(body).encode())
    assert_parses_or_refuses(adapter_for(channel_of(name)), config_for(name), request)


@pytest.mark.parametrize("name", TWILIO_FIXTURES)
@FUZZ
@given(data=st.data())
def test_mutated_twilio_fixtures(name: str, data: st.DataObject) -> None:
    pairs = data.draw(mutated_form(fixture(name)["form_params"]))
    query = data.draw(VOICE_QUERIES) if channel_of(name) == "twilio_voice" else {}
    assert_parses_or_refuses(
        adapter_for(channel_of(name)), config_for(name), form_request(pairs, query)
    )


ALL_CHANNELS = sorted(set(META_CHANNELS.values()) | set(TWILIO_CHANNELS.values()))
ONE_FIXTURE = {channel_of(name): name for name in META_FIXTURES + TWILIO_FIXTURES}


@pytest.mark.parametrize("channel", ALL_CHANNELS)
@FUZZ
@given(raw=st.binary(max_size=200) | JSON.map(lambda value: json.dumps(value).encode()))
def test_arbitrary_bodies(channel: str, raw: bytes) -> None:
    config = config_for(ONE_FIXTURE[channel])
    assert_parses_or_refuses(adapter_for(channel), config, meta_request(raw, {"event": "speech"}))


@pytest.mark.parametrize("channel", ["whatsapp", "instagram", "messenger"])
@FUZZ
@given(
    body=st.fixed_dictionaries(
        {
            "object": st.sampled_from(["whatsapp_business_account", "instagram", "page"]),
            "entry": JSON,
        }
    )
)
def test_arbitrary_meta_envelopes(channel: str, body: dict[str, Any]) -> None:
    config = config_for(ONE_FIXTURE[channel])
    assert_parses_or_refuses(adapter_for(channel), config, meta_request(json.dumps(body).encode()))


# -- shapes that once escaped the parsers as AttributeError, TypeError or KeyError (a 500,
# which Meta retries for days), or put a list or an object where text is stored ----------

WHATSAPP_NUMBER = "106540352242922"
TEXT = {"from": "1555", "id": "w1", "type": "text", "text": {"body": "hi"}}


def whatsapp_body(change: Any) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}


def whatsapp_value(**value: Any) -> dict[str, Any]:
    metadata = {"phone_number_id": WHATSAPP_NUMBER}
    return {"field": "messages", "value": {"metadata": metadata, **value}}


@FUZZ
@given(body=mutated(whatsapp_body(whatsapp_value(messages=[TEXT]))))
@example(body=whatsapp_body([whatsapp_value(messages=[TEXT])]))  # a change that is a list
@example(body=whatsapp_body({"field": "messages", "value": {"metadata": [1], "messages": []}}))
@example(body=whatsapp_body(whatsapp_value(messages=[TEXT], contacts=[["x"], 3])))
@example(
    body=whatsapp_body(
        whatsapp_value(messages=[TEXT], contacts=[{"wa_id": "1555", "profile": "x"}])
    )
)
@example(
    body=whatsapp_body(
        whatsapp_value(messages=[TEXT], contacts=[{"wa_id": "1555", "profile": {"name": ["A"]}}])
    )
)
@example(
    body=whatsapp_body(
        whatsapp_value(
            messages=[{**TEXT, "type": "interactive", "interactive": {"button_reply": "x"}}]
        )
    )
)
@example(body=whatsapp_body(whatsapp_value(messages=[{**TEXT, "text": {"body": {"nested": 1}}}])))
@example(body=whatsapp_body(whatsapp_value(statuses=7)))
@example(
    body=whatsapp_body(
        whatsapp_value(statuses=[{"id": "s", "status": "failed", "errors": {"0": 1}}])
    )
)
@example(
    body=whatsapp_body(whatsapp_value(statuses=[{"id": "s", "status": "failed", "errors": ["x"]}]))
)
def test_whatsapp_shapes(body: dict[str, Any]) -> None:
    config = validate_config(ChannelKind.WHATSAPP, {"phone_number_id": WHATSAPP_NUMBER})
    assert_parses_or_refuses(
        adapter_for("whatsapp"), config, meta_request(json.dumps(body).encode())
    )


INSTAGRAM_ACCOUNT = "17841400000000001"
MESSAGE = {"mid": "m1", "text": "hi"}


def instagram_body(**event: Any) -> dict[str, Any]:
    event = {"sender": {"id": "42"}, "recipient": {"id": INSTAGRAM_ACCOUNT}, **event}
    return {"object": "instagram", "entry": [{"id": INSTAGRAM_ACCOUNT, "messaging": [event]}]}


@FUZZ
@given(body=mutated(instagram_body(message=MESSAGE)))
@example(body=instagram_body(message=MESSAGE, sender=["42"]))
@example(body=instagram_body(message={"mid": "m1", "text": ["hi"]}))
@example(body=instagram_body(message={"mid": ["m1"], "text": "hi"}))
@example(
    body=instagram_body(message={"mid": "m1", "is_echo": True, "text": {"a": 1}}, recipient=[])
)
@example(body=instagram_body(message={"mid": "m1", "text": "hi", "reply_to": ["story"]}))
@example(body=instagram_body(postback={"title": {"t": 1}, "payload": [1]}))
def test_instagram_shapes(body: dict[str, Any]) -> None:
    config = validate_config(ChannelKind.INSTAGRAM, {"account_id": INSTAGRAM_ACCOUNT})
    assert_parses_or_refuses(
        adapter_for("instagram"), config, meta_request(json.dumps(body).encode())
    )
