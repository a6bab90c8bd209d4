"""Signed garbage through the real webhook endpoints: 200 or 400, never a 500, and a 400
stores nothing. The payloads are mutated fixtures, drawn once (derandomized) by Hypothesis."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.channels.conftest import fixture, meta_bytes, post_meta
from tests.channels.test_meta_messaging_e2e import meta_inbox
from tests.channels.test_twilio_e2e import twilio_inbox, webhook
from tests.channels.test_whatsapp_e2e import path_of, whatsapp_inbox
from tests.conftest import Harness
from tests.factories import snapshot, workspace
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.twilio_api import FakeTwilioApi
from tests.fuzz.strategies import JSON, mutated, mutated_form, webhook_fixture_names

PER_CHANNEL = 20


def drawn(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` values of ``strategy``, the same ones on every run."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


def meta_payloads(prefix: str) -> list[bytes]:
    bodies = [fixture(name)["body"] for name in webhook_fixture_names((prefix,))]
    strategy = st.sampled_from(bodies).flatmap(mutated) | JSON
    return [meta_bytes(body) for body in drawn(strategy, PER_CHANNEL)]


def twilio_forms(prefixes: tuple[str, ...]) -> list[list[tuple[str, str]]]:
    forms = [fixture(name)["form_params"] for name in webhook_fixture_names(prefixes)]
    return drawn(st.sampled_from(forms).flatmap(mutated_form), PER_CHANNEL)


async def assert_answered_cleanly(harness: Harness, before: Any, response: httpx.Response) -> Any:
    """200, or a 400 with a reason and nothing stored; returns the state to compare next."""
    assert response.status_code in (200, 400), (response.status_code, response.text)
    after = await snapshot(harness)
    if response.status_code == 400:
        assert response.json()["error"]["message"]
        assert after == before, response.request.content[:300]
    return after


@pytest.mark.parametrize("channel", ["whatsapp", "instagram", "messenger"])
async def test_signed_meta_garbage(harness: Harness, graph: FakeGraphApi, channel: str) -> None:
    admin = await workspace(harness)
    if channel == "whatsapp":
        created = await whatsapp_inbox(admin, graph)
    else:
        created = await meta_inbox(admin, graph, channel)
    state = await snapshot(harness)
    statuses = set()
    for raw in meta_payloads(f"{channel}_"):
        response = await post_meta(harness.client, path_of(created), raw)
        statuses.add(response.status_code)
        state = await assert_answered_cleanly(harness, state, response)
    assert statuses == {200, 400}  # the mutations reach both sides of the parser


TWILIO_PREFIXES = {
    "twilio_sms": ("twilio_sms_", "twilio_mms_"),
    "twilio_whatsapp": ("twilio_whatsapp_",),
    "twilio_voice": ("twilio_voice_",),
}


@pytest.mark.parametrize("channel", sorted(TWILIO_PREFIXES))
async def test_signed_twilio_garbage(harness: Harness, channel: str) -> None:
    admin = await workspace(harness)
    harness.app_context.settings.voice_reply_seconds = 0.05
    queries = ["", "event=speech&turn=1", "event=status", "event=dial", "event=wait&turn=x"]
    with FakeTwilioApi() as twilio_api:
        created = await twilio_inbox(admin, twilio_api, channel)
        state = await snapshot(harness)
        for number, pairs in enumerate(twilio_forms(TWILIO_PREFIXES[channel])):
            query = queries[number % len(queries)] if channel == "twilio_voice" else ""
            url = created["webhook_url"] + (f"?{query}" if query else "")
            fields = dict(pairs)  # what Twilio signs: one value per name
            body, headers = webhook(url, fields, twilio_api.auth_token)
            split = urlsplit(url)
            target = split.path + (f"?{split.query}" if split.query else "")
            response = await harness.client.post(target, content=body, headers=headers)
            state = await assert_answered_cleanly(harness, state, response)


async def test_unsigned_or_unreadable_bodies_store_nothing(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    created = await whatsapp_inbox(admin, graph)
    before = await snapshot(harness)
    for raw in [b"", b"\xff\xfe", b"[]", b"null", json.dumps({"object": 1}).encode()]:
        response = await post_meta(harness.client, path_of(created), raw)
        assert response.status_code == 400, response.text
    unsigned = await harness.client.post(path_of(created), content=urlencode({"a": "b"}))
    assert unsigned.status_code == 401
    assert await snapshot(harness) == before
