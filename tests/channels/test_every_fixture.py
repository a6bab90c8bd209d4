"""Every documented webhook payload in ../shared/channels/fixtures goes through its webhook."""

from __future__ import annotations

from typing import Any

import pytest

from tests.channels.conftest import FIXTURES, fixture, meta_bytes, post_meta
from tests.channels.test_meta_messaging_e2e import meta_inbox
from tests.channels.test_twilio_e2e import post_form, twilio_inbox
from tests.channels.test_whatsapp_e2e import messages, path_of, whatsapp_inbox
from tests.conftest import Harness
from tests.factories import workspace
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.twilio_api import FakeTwilioApi

META_OBJECTS = {
    "whatsapp_business_account": "whatsapp",
    "instagram": "instagram",
    "page": "messenger",
}
TWILIO_PREFIXES = {
    "twilio_sms_": "twilio_sms",
    "twilio_mms_": "twilio_sms",
    "twilio_whatsapp_": "twilio_whatsapp",
    "twilio_voice_": "twilio_voice",
}
VOICE_EVENTS = {"speech": "event=speech&turn=1", "status": "event=status"}


def webhook_fixtures() -> list[tuple[str, str]]:
    """(file, channel) of every fixture that is a provider's request to us."""
    found = []
    for path in sorted(FIXTURES.glob("*.json")):
        case = fixture(path.name)
        body = case.get("body")
        if isinstance(body, dict) and body.get("object") in META_OBJECTS:
            found.append((path.name, META_OBJECTS[body["object"]]))
        elif "form_params" in case:
            prefix = next(p for p in TWILIO_PREFIXES if path.name.startswith(p))
            found.append((path.name, TWILIO_PREFIXES[prefix]))
    return found


def test_the_sweep_finds_every_channel() -> None:
    channels = {channel for _, channel in webhook_fixtures()}
    assert channels == {
        "whatsapp",
        "instagram",
        "messenger",
        "twilio_sms",
        "twilio_whatsapp",
        "twilio_voice",
    }
    assert len(webhook_fixtures()) >= 30


@pytest.mark.parametrize(("name", "channel"), webhook_fixtures())
async def test_a_fixture_is_accepted_by_its_webhook(
    harness: Harness, graph: FakeGraphApi, name: str, channel: str
) -> None:
    admin = await workspace(harness)
    case = fixture(name)
    if channel == "whatsapp":
        created = await whatsapp_inbox(admin, graph)
    elif channel in ("instagram", "messenger"):
        created = await meta_inbox(admin, graph, channel)
    else:
        with FakeTwilioApi() as twilio_api:
            created = await twilio_inbox(admin, twilio_api, channel)
            created["_token"] = twilio_api.auth_token
        harness.app_context.settings.voice_reply_seconds = 0.05
    if "form_params" in case:
        event = next((q for key, q in VOICE_EVENTS.items() if key in name), "")
        response = await post_form(harness, created, dict(case["form_params"]), query=event)
    else:
        response = await post_meta(harness.client, path_of(created), meta_bytes(case["body"]))
    assert response.status_code == 200, response.text
    stored: list[Any] = await messages(harness)
    inbound = [m for m in stored if m.direction == "in"]
    if "status" in name or "echo" in name or "unsend" in name or "incoming" in name:
        assert inbound == []
    else:
        assert inbound, f"{name} stored no message"
        assert all(m.text for m in inbound)
