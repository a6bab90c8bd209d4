"""WhatsApp Cloud API parsing and send bodies beyond the fixtures: pure, no database."""

from __future__ import annotations

import json
from typing import Any

from onethread.channels.base import Ignored, Outbound, Recipient, StatusUpdate, WebhookRequest
from onethread.channels.whatsapp import WhatsAppAdapter, _send_body
from onethread.conversations.inbound import InboundMessage
from onethread.conversations.models import DeliveryStatus
from onethread.inboxes.channel_config import WhatsAppConfig

CONFIG = WhatsAppConfig(phone_number_id="111", app_secret="s")  # type: ignore[arg-type]


def request(value: dict[str, Any], number_id: str = "111") -> WebhookRequest:
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": number_id}, **value}
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return WebhookRequest("POST", "https://x/", {}, {}, json.dumps(body).encode())


def parse(value: dict[str, Any], number_id: str = "111") -> list[Any]:
    return WhatsAppAdapter().parse(CONFIG, request(value, number_id))


def test_a_shared_contact_card_reads_as_text() -> None:
    card = {"name": {"formatted_name": "Ana Lima"}, "phones": [{"phone": "+5511999"}]}
    [item] = parse(
        {"messages": [{"from": "1555", "id": "w1", "type": "contacts", "contacts": [card]}]}
    )
    assert isinstance(item, InboundMessage)
    assert item.text == "[Shared contact: Ana Lima]"


def test_reactions_and_other_numbers_are_ignored_not_stored() -> None:
    reaction = {"from": "1555", "id": "w2", "type": "reaction", "reaction": {"emoji": "👍"}}
    assert parse({"messages": [reaction]}) == [Ignored("reaction", "w2")]
    text = {"from": "1555", "id": "w3", "type": "text", "text": {"body": "hi"}}
    assert parse({"messages": [text]}, number_id="222") == [Ignored("phone_number_id:222")]


def test_an_unknown_type_gets_a_placeholder() -> None:
    [item] = parse({"messages": [{"from": "1555", "id": "w4", "type": "hologram"}]})
    assert isinstance(item, InboundMessage)
    assert item.text == "[Unsupported WhatsApp message: hologram]"


def test_statuses_map_onto_the_ladder() -> None:
    statuses = [
        {"id": "a", "status": "played", "timestamp": "1"},
        {"id": "b", "status": "deleted", "timestamp": "1"},
        {"id": "c", "status": "failed", "errors": [{"code": 131026, "message": "Undeliverable"}]},
    ]
    played, unknown, failed = parse({"statuses": statuses})
    assert played == StatusUpdate("a", DeliveryStatus.READ, at=played.at)
    assert unknown == Ignored("status:deleted", "b")
    assert (failed.status, failed.error_code, failed.error) == (
        DeliveryStatus.FAILED,
        "131026",
        "Undeliverable",
    )


def outbound(text: str, interactive: dict[str, Any] | None = None) -> Outbound:
    return Outbound(1, Recipient("US.1", phone="+15550001111"), text, interactive)


def test_buttons_become_reply_buttons_then_a_list_then_text() -> None:
    three = [{"id": f"b{n}", "title": f"Option {n}"} for n in range(3)]
    body = _send_body(outbound("Pick one", {"buttons": three}))
    assert body["to"] == "15550001111"
    assert body["interactive"]["type"] == "button"
    assert len(body["interactive"]["action"]["buttons"]) == 3
    seven = [{"id": f"b{n}", "title": f"Option {n}"} for n in range(7)]
    body = _send_body(outbound("Pick one", {"buttons": seven}))
    assert body["interactive"]["type"] == "list"
    assert len(body["interactive"]["action"]["sections"][0]["rows"]) == 7
    many = [{"id": f"b{n}", "title": f"Option {n}"} for n in range(12)]
    body = _send_body(outbound("Pick one", {"buttons": many}))
    assert body["type"] == "text"
    assert body["text"]["body"].endswith("12. Option 11")


def test_without_a_number_the_bsuid_is_the_recipient() -> None:
    body = _send_body(Outbound(1, Recipient("US.13491208655302741918"), "Hi"))
    assert body["to"] == "US.13491208655302741918"
