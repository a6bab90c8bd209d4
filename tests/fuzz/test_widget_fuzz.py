"""The widget API under arbitrary bodies and headers: 2xx or a 4xx with a reason, never 5xx."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.typing import Origin

from onethread.api.ratelimit import SlidingWindowLimiter
from onethread.channels.widget_access import LIMITS_KEY, WidgetLimits
from onethread.channels.widget_tokens import user_hash
from onethread.settings import Settings
from tests.channels.widget_server import live_server
from tests.conftest import Harness
from tests.factories import inbox, snapshot, workspace
from tests.fuzz.strategies import JSON, mutated
from tests.fuzz.test_webhooks_e2e import drawn

IDENTITY_SECRET = "widget-identity-secret"
ORIGIN = "https://shop.example"
REQUESTS = 150

VALID_SESSION = {"name": "Ada", "email": "ada@example.com", "phone": "+15550001111"}
VALID_MESSAGE = {"text": "hello", "client_message_id": "c-1"}
SESSION_BODIES = st.one_of(
    st.just(VALID_SESSION),
    JSON,
    mutated(VALID_SESSION),
    mutated({"user_id": "u1", "user_hash": user_hash(IDENTITY_SECRET, "u1"), "email": "a@b.c"}),
    mutated({"visitor_token": "TOKEN"}),
)
MESSAGE_BODIES = st.one_of(st.just({"text": "hi"}), JSON, mutated(VALID_MESSAGE))
TEXT_OR_BYTES = st.text(max_size=60) | st.binary(max_size=60).map(lambda raw: raw.decode("latin-1"))
AUTHORIZATION = st.one_of(
    st.just("Bearer TOKEN"),
    st.sampled_from(["TOKEN", "Bearer ", "Basic TOKEN", "Bearer TOKENx"]),
    TEXT_OR_BYTES.map(lambda text: "Bearer " + text),
)
ORIGINS = st.one_of(
    st.just(ORIGIN), st.sampled_from(["https://evil.example", "null"]), TEXT_OR_BYTES
)
CONTENT_TYPES = st.one_of(
    st.just("application/json"),
    st.sampled_from(["text/plain", "multipart/form-data", "application/json; charset=latin-1"]),
)


@st.composite
def widget_calls(draw: st.DrawFn) -> dict[str, Any]:
    """One request: which call, its body (JSON or raw), and the headers a browser might send.

    Each part is valid about half the time, so that calls get past the first check."""
    call = draw(st.sampled_from(["session", "send", "history", "preflight", "elsewhere"]))
    body: Any = draw(SESSION_BODIES if call == "session" else MESSAGE_BODIES)
    raw = draw(st.one_of(st.none(), st.none(), st.binary(max_size=80)))
    headers = {
        "authorization": draw(AUTHORIZATION),
        "origin": draw(ORIGINS),
        "content-type": draw(CONTENT_TYPES),
    }
    dropped = draw(st.sets(st.sampled_from(sorted(headers))))
    headers = {name: value for name, value in headers.items() if name not in dropped}
    inbox_part = draw(st.one_of(st.just("INBOX"), st.sampled_from(["0", "-1", "9" * 20, "abc"])))
    return {"call": call, "body": body, "raw": raw, "headers": headers, "inbox": inbox_part}


def _as_sent(headers: dict[str, str]) -> dict[str, bytes]:
    """Header values as raw bytes (latin-1, line breaks removed), as a client may send them."""
    return {
        name: value.replace("\r", " ").replace("\n", " ").encode("latin-1", "replace")
        for name, value in headers.items()
    }


async def _send(
    client: httpx.AsyncClient, case: dict[str, Any], inbox_id: int, token: str
) -> httpx.Response:
    inbox_part = str(inbox_id) if case["inbox"] == "INBOX" else case["inbox"]
    base = f"/api/v1/widget/{inbox_part}"
    headers = _as_sent({k: v.replace("TOKEN", token) for k, v in case["headers"].items()})
    body = json.loads(json.dumps(case["body"]).replace("TOKEN", token))
    content = case["raw"] if case["raw"] is not None else json.dumps(body).encode()
    if case["call"] == "session":
        return await client.post(f"{base}/session", content=content, headers=headers)
    if case["call"] == "send":
        return await client.post(f"{base}/messages", content=content, headers=headers)
    if case["call"] == "history":
        return await client.get(f"{base}/messages", headers=headers)
    if case["call"] == "preflight":
        return await client.options(f"{base}/session", headers=headers)
    return await client.request("DELETE", f"{base}/messages", headers=headers)


async def test_widget_calls_never_fail_on_the_server(harness: Harness) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat", allowed_origins=[ORIGIN], identity_secret=IDENTITY_SECRET)
    unlimited = SlidingWindowLimiter(10**6, 60)
    harness.app_context.extras[LIMITS_KEY] = WidgetLimits(unlimited, unlimited, unlimited)
    started = await harness.client.post(f"/api/v1/widget/{chat['id']}/session", json={})
    token = started.json()["visitor_token"]

    statuses: dict[int, int] = {}
    for case in drawn(widget_calls(), REQUESTS):
        before = await snapshot(harness) if case["call"] == "send" else None
        response = await _send(harness.client, case, chat["id"], token)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (case, response.text)
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["code"], response.text
            assert error["message"], response.text
            if before is not None:
                assert await snapshot(harness) == before  # a refused message stores nothing
    assert {200, 201} & set(statuses), statuses  # some calls got through
    assert any(400 <= status < 500 for status in statuses), statuses

    history = await harness.client.get(
        f"/api/v1/widget/{chat['id']}/messages", headers={"Authorization": f"Bearer {token}"}
    )
    assert history.status_code == 200, history.text  # what was stored reads back


FRAMES = st.one_of(
    JSON.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["ping", "sync", "message", ""])}, optional={"x": JSON}
    ).map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=200),
)
# A binary frame once ended the socket with an unhandled KeyError (close code 1011).
KNOWN_BAD_FRAMES: list[str | bytes] = [b"\x00binary", "[]", '{"type": ["ping"]}']


async def test_widget_socket_survives_arbitrary_frames(settings: Settings) -> None:
    async with live_server(settings) as server:
        admin = await server.workspace("Socket", "socket-admin@example.com")
        chat = await inbox(admin, "webchat", allowed_origins=[ORIGIN])
        started = await server.client.post(f"/api/v1/widget/{chat['id']}/session", json={})
        token = started.json()["visitor_token"]
        url = f"{server.ws_url}/api/v1/widget/{chat['id']}/ws?token={token}"
        frames = KNOWN_BAD_FRAMES + drawn(FRAMES, 60)
        async with connect(url, origin=Origin(ORIGIN)) as socket:
            assert json.loads(await asyncio.wait_for(socket.recv(), 5)) == {"type": "ready"}
            for frame in frames:
                await socket.send(frame)
            await socket.send(json.dumps({"type": "ping"}))
            answers = []
            while (answer := json.loads(await asyncio.wait_for(socket.recv(), 5))) != {
                "type": "pong"
            }:
                answers.append(answer)  # pongs to the fuzzed pings come first
        assert all(answer == {"type": "pong"} for answer in answers), answers
