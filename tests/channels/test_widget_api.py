"""The web chat widget's API: visitor sessions and tokens, messages, history, origins,
rate limits, and live replies over a real websocket (uvicorn on loopback)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from onethread.api.ratelimit import SlidingWindowLimiter
from onethread.channels.base import Outbound, PayloadInvalid, Recipient, SendFailed, WebhookRequest
from onethread.channels.registry import adapter_for
from onethread.channels.webchat import WebchatAdapter
from onethread.channels.widget_access import LIMITS_KEY, WidgetLimits
from onethread.channels.widget_live import VisitorFeed, visible_to_visitor
from onethread.channels.widget_tokens import (
    TOKEN_LIFETIME_SECONDS,
    VisitorClaims,
    issue_token,
    read_token,
    user_hash,
    verify_user_hash,
)
from onethread.conversations.models import DeliveryStatus
from onethread.inboxes.channel_config import WebchatConfig
from onethread.settings import Settings
from tests.channels.widget_server import LiveServer, live_server
from tests.conftest import Harness
from tests.factories import Api, inbound, inbox, snapshot, workspace

SITE = "https://shop.example.com"  # in the factory's allowed_origins
SECRET = "s3cret"  # the factory's identity secret


def widget_path(inbox_id: int, rest: str) -> str:
    return f"/api/v1/widget/{inbox_id}/{rest}"


async def start(client: httpx.AsyncClient, inbox_id: int, **body: Any) -> dict[str, Any]:
    response = await client.post(widget_path(inbox_id, "session"), json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def say(
    client: httpx.AsyncClient, inbox_id: int, token: str, text: str, **extra: Any
) -> httpx.Response:
    return await client.post(
        widget_path(inbox_id, "messages"),
        json={"text": text, **extra},
        headers={"Authorization": f"Bearer {token}"},
    )


async def history(client: httpx.AsyncClient, inbox_id: int, token: str) -> list[dict[str, Any]]:
    response = await client.get(
        widget_path(inbox_id, "messages"), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()
    return messages


# -- sessions ------------------------------------------------------------------------------


async def test_an_anonymous_session_stores_nothing_until_the_visitor_writes(
    harness: Harness,
) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat", title="Acme help", greeting="Hello!", color="#112233")
    before = await snapshot(harness)

    session = await start(harness.client, chat["id"])

    assert session["inbox"] == {"title": "Acme help", "color": "#112233", "greeting": "Hello!"}
    assert session["messages"] == []
    assert session["identified"] is False
    assert await snapshot(harness) == before  # a page view creates no contact
    again = await start(harness.client, chat["id"], visitor_token=session["visitor_token"])
    secret_key = harness.app_context.settings.effective_secret_key
    first = read_token(secret_key, session["visitor_token"], inbox_id=chat["id"])
    renewed = read_token(secret_key, again["visitor_token"], inbox_id=chat["id"])
    assert first.identity.startswith("visitor:")
    assert renewed.identity == first.identity  # the browser keeps being the same visitor


async def test_identified_sessions_need_a_matching_user_hash(harness: Harness) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    no_secret = await inbox(admin, "webchat", identity_secret=None)
    path = widget_path(chat["id"], "session")

    good = await start(harness.client, chat["id"], user_id="42", user_hash=user_hash(SECRET, "42"))
    wrong = await harness.client.post(path, json={"user_id": "42", "user_hash": "0" * 64})
    missing = await harness.client.post(path, json={"user_id": "42"})
    hash_alone = await harness.client.post(path, json={"user_hash": user_hash(SECRET, "42")})
    unconfigured = await harness.client.post(
        widget_path(no_secret["id"], "session"),
        json={"user_id": "42", "user_hash": user_hash(SECRET, "42")},
    )

    assert good["identified"] is True
    claims = read_token(
        harness.app_context.settings.effective_secret_key,
        good["visitor_token"],
        inbox_id=chat["id"],
    )
    assert claims.identity == "user:42"
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "invalid_user_hash")
    assert missing.status_code == 401
    assert hash_alone.status_code == 400
    assert unconfigured.status_code == 400
    assert unconfigured.json()["error"]["code"] == "identity_not_configured"


async def test_an_identified_visitor_joins_the_customers_thread_by_signed_email(
    harness: Harness,
) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    chat = await inbox(admin, "webchat")
    earlier = await inbound(
        admin,
        whatsapp["id"],
        "15551230001",
        "my order is late",
        sender_email="ana@example.com",
        verified=True,
    )
    signed = user_hash(SECRET, "ana-7", email="Ana@Example.com")
    session = await start(
        harness.client, chat["id"], user_id="ana-7", user_hash=signed, email="Ana@Example.com"
    )

    sent = await say(harness.client, chat["id"], session["visitor_token"], "it is me again")

    assert sent.status_code == 201, sent.text
    timeline = await admin.ok("GET", f"/conversations/{earlier['conversation_id']}/messages")
    assert [(m["channel"], m["text"]) for m in timeline] == [
        ("whatsapp", "my order is late"),
        ("webchat", "it is me again"),
    ]
    contact = await admin.ok("GET", f"/contacts/{earlier['contact_id']}")
    assert {i["channel"] for i in contact["identities"]} == {"whatsapp", "webchat"}
    # The widget shows this inbox's messages only, not the WhatsApp one.
    seen = await history(harness.client, chat["id"], session["visitor_token"])
    assert [m["text"] for m in seen] == ["it is me again"]


async def test_an_email_outside_the_signature_does_not_link_contacts(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    chat = await inbox(admin, "webchat")
    earlier = await inbound(
        admin, whatsapp["id"], "15551230002", "hi", sender_email="bo@example.com", verified=True
    )
    # A signed-in user of the site with their own valid hash, claiming someone else's email.
    session = await start(
        harness.client,
        chat["id"],
        user_id="mallory",
        user_hash=user_hash(SECRET, "mallory"),
        email="bo@example.com",
    )
    assert session["identified"] is True

    sent = await say(harness.client, chat["id"], session["visitor_token"], "show me Bo's chats")

    assert sent.status_code == 201
    conversations = await admin.ok("GET", "/conversations", params={"inbox": chat["id"]})
    (webchat_thread,) = conversations["items"]
    assert webchat_thread["contact"]["id"] != earlier["contact_id"]
    assert await history(harness.client, chat["id"], session["visitor_token"]) == [sent.json()]


async def test_signing_out_on_the_site_starts_an_anonymous_visitor(harness: Harness) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    identified = await start(
        harness.client, chat["id"], user_id="42", user_hash=user_hash(SECRET, "42")
    )
    await say(harness.client, chat["id"], identified["visitor_token"], "private matter")

    later = await start(harness.client, chat["id"], visitor_token=identified["visitor_token"])

    assert later["identified"] is False
    assert later["messages"] == []  # the next person at this computer sees nothing


# -- messages and history ------------------------------------------------------------------


async def test_a_retried_message_is_stored_once(harness: Harness) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    token = (await start(harness.client, chat["id"], name="Ana"))["visitor_token"]

    first = await say(harness.client, chat["id"], token, "hello", client_message_id="c-1")
    retry = await say(harness.client, chat["id"], token, "hello", client_message_id="c-1")

    assert first.status_code == retry.status_code == 201
    assert first.json()["id"] == retry.json()["id"]
    assert first.json()["author"] == "visitor"
    assert first.json()["client_message_id"] == "c-1"
    conversations = await admin.ok("GET", "/conversations", params={"inbox": chat["id"]})
    (conversation,) = conversations["items"]
    assert conversation["contact"]["name"] == "Ana"
    timeline = await admin.ok("GET", f"/conversations/{conversation['id']}/messages")
    assert [m["text"] for m in timeline] == ["hello"]


async def test_another_visitors_client_id_never_returns_their_message(harness: Harness) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    ana = (await start(harness.client, chat["id"]))["visitor_token"]
    bo = (await start(harness.client, chat["id"]))["visitor_token"]

    mine = await say(harness.client, chat["id"], ana, "Ana's secret", client_message_id="same")
    theirs = await say(harness.client, chat["id"], bo, "Bo's question", client_message_id="same")

    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["text"] == "Bo's question"


async def test_history_shows_replies_but_never_notes_or_other_visitors(harness: Harness) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    ana = (await start(harness.client, chat["id"]))["visitor_token"]
    bo = (await start(harness.client, chat["id"]))["visitor_token"]
    asked = (await say(harness.client, chat["id"], ana, "where is my parcel?")).json()
    await say(harness.client, chat["id"], bo, "do you ship abroad?")
    conversation_id = (await admin.ok("GET", "/conversations", params={"q": "parcel"}))["items"][0][
        "id"
    ]
    await admin.ok("POST", f"/conversations/{conversation_id}/notes", 201, json={"text": "VIP!"})
    await admin.ok("POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Today"})

    seen = await history(harness.client, chat["id"], ana)

    assert [(m["author"], m["text"]) for m in seen] == [
        ("visitor", "where is my parcel?"),
        ("agent", "Today"),
    ]
    assert seen[0] == asked
    assert set(seen[1]) == {"id", "author", "text", "buttons", "client_message_id", "created_at"}
    session = await start(harness.client, chat["id"], visitor_token=ana)
    assert session["messages"] == seen
    assert [m["text"] for m in await history(harness.client, chat["id"], bo)] == [
        "do you ship abroad?"
    ]


async def test_blank_and_oversized_messages_are_refused(harness: Harness) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    token = (await start(harness.client, chat["id"]))["visitor_token"]

    assert (await say(harness.client, chat["id"], token, "   ")).status_code == 400
    assert (await say(harness.client, chat["id"], token, "x" * 5001)).status_code == 400
    bad_id = await say(harness.client, chat["id"], token, "hi", client_message_id="a b")
    assert bad_id.status_code == 400


# -- tokens --------------------------------------------------------------------------------


async def test_tampered_foreign_and_expired_tokens_are_refused(harness: Harness) -> None:
    admin = await workspace(harness)
    other_admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    second_chat = await inbox(admin, "webchat")
    foreign_chat = await inbox(other_admin, "webchat")
    token = (await start(harness.client, chat["id"]))["visitor_token"]
    version, payload, signature = token.split(".")
    tampered = f"{version}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}."
    tampered += signature
    secret_key = harness.app_context.settings.effective_secret_key
    claims = read_token(secret_key, token, inbox_id=chat["id"])
    expired = issue_token(
        secret_key,
        VisitorClaims(
            claims.workspace_id,
            chat["id"],
            claims.identity,
            issued_at=int(time.time()) - TOKEN_LIFETIME_SECONDS - 60,
        ),
    )

    for inbox_id, presented in [
        (chat["id"], tampered),
        (chat["id"], expired),
        (chat["id"], "not-a-token"),
        (second_chat["id"], token),
        (foreign_chat["id"], token),
    ]:
        response = await say(harness.client, inbox_id, presented, "hi")
        assert response.status_code == 401, (inbox_id, presented)
        assert response.json()["error"]["code"] == "invalid_visitor_token"
        listing = await harness.client.get(
            widget_path(inbox_id, "messages"), headers={"Authorization": f"Bearer {presented}"}
        )
        assert listing.status_code == 401
    unauthenticated = await harness.client.post(
        widget_path(chat["id"], "messages"), json={"text": "hi"}
    )
    assert unauthenticated.status_code == 401


def test_user_hash_checks_are_exact() -> None:
    signed = user_hash("secret", "42")
    assert verify_user_hash("secret", "42", signed)
    assert verify_user_hash("secret", "42", signed.upper())  # hex is case-insensitive
    assert not verify_user_hash("secret", "43", signed)
    assert not verify_user_hash("other", "42", signed)
    assert not verify_user_hash("secret", "42", signed, email="a@example.com")
    with_email = user_hash("secret", "42", email="a@example.com")
    assert verify_user_hash("secret", "42", with_email, email="a@example.com")
    assert not verify_user_hash("secret", "42", with_email, email="b@example.com")


async def test_an_unknown_or_non_widget_inbox_is_not_found(harness: Harness) -> None:
    admin = await workspace(harness)
    whatsapp = await inbox(admin, "whatsapp")
    for inbox_id in (whatsapp["id"], 999_999):
        response = await harness.client.post(widget_path(inbox_id, "session"), json={})
        assert response.status_code == 404


# -- origins and CORS ----------------------------------------------------------------------


async def test_origins_outside_the_allowed_list_are_refused(harness: Harness) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    closed = await inbox(admin, "webchat", allowed_origins=[])
    token = (await start(harness.client, chat["id"]))["visitor_token"]
    evil = {"Origin": "https://evil.example"}

    refused = [
        await harness.client.post(widget_path(chat["id"], "session"), json={}, headers=evil),
        await harness.client.post(widget_path(closed["id"], "session"), json={}, headers=evil),
        await harness.client.options(widget_path(chat["id"], "messages"), headers=evil),
        await harness.client.get(
            widget_path(chat["id"], "messages"),
            headers={**evil, "Authorization": f"Bearer {token}"},
        ),
    ]
    same_origin = await harness.client.post(
        widget_path(closed["id"], "session"), json={}, headers={"Origin": "http://testserver"}
    )

    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert all("access-control-allow-origin" not in r.headers for r in refused)
    assert same_origin.status_code == 200


async def test_allowed_origins_get_cors_headers_even_on_errors(harness: Harness) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    site = {"Origin": SITE}

    preflight = await harness.client.options(
        widget_path(chat["id"], "messages"),
        headers={
            **site,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    session = await harness.client.post(widget_path(chat["id"], "session"), json={}, headers=site)
    refused = await harness.client.post(
        widget_path(chat["id"], "messages"), json={"text": "hi"}, headers=site
    )

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SITE
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed_headers = preflight.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type"} <= {h.strip() for h in allowed_headers.split(",")}
    for response in (session, refused):
        assert response.headers["access-control-allow-origin"] == SITE
        assert "Origin" in response.headers["vary"]
    assert session.status_code == 200
    assert refused.status_code == 401  # readable by the widget: it starts a new session


# -- rate limits ---------------------------------------------------------------------------


async def test_visitors_and_addresses_are_rate_limited(harness: Harness) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    harness.app_context.extras[LIMITS_KEY] = WidgetLimits(
        messages_per_visitor=SlidingWindowLimiter(2, 60),
        sessions_per_address=SlidingWindowLimiter(3, 600),
    )
    token = (await start(harness.client, chat["id"]))["visitor_token"]
    statuses = [(await say(harness.client, chat["id"], token, f"m{n}")).status_code for n in (1, 2)]
    limited = await say(harness.client, chat["id"], token, "m3")
    other_visitor = (await start(harness.client, chat["id"]))["visitor_token"]
    await start(harness.client, chat["id"])
    too_many_sessions = await harness.client.post(widget_path(chat["id"], "session"), json={})

    assert statuses == [201, 201]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert (await say(harness.client, chat["id"], other_visitor, "mine")).status_code == 201
    assert too_many_sessions.status_code == 429


# -- the script and the adapter ------------------------------------------------------------


async def test_the_script_is_served_with_caching_headers(harness: Harness) -> None:
    response = await harness.client.get("/widget.js")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert "max-age" in response.headers["cache-control"]
    assert "data-inbox" in response.text
    assert "attachShadow" in response.text
    again = await harness.client.get(
        "/widget.js", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


async def test_the_adapter_has_no_webhooks_and_sends_by_marking_sent(harness: Harness) -> None:
    adapter = adapter_for("webchat")
    assert isinstance(adapter, WebchatAdapter)
    config = WebchatConfig()
    request = WebhookRequest("POST", "https://x.test/", {}, {}, b"{}")
    with pytest.raises(PayloadInvalid):
        adapter.verify(config, request)
    with pytest.raises(PayloadInvalid):
        adapter.parse(config, request)
    assert adapter.handshake(config, request) is None
    receipt = await adapter.send(config, Outbound(7, Recipient("visitor:1"), "hi"), harness.client)
    assert (receipt.external_id, receipt.status) == ("webchat-7", DeliveryStatus.SENT)
    with pytest.raises(SendFailed) as failure:
        await adapter.fetch_media(config, {}, harness.client)
    assert failure.value.transient is False
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    webhook = await harness.client.post(f"/webhooks/webchat/{chat['id']}", content=b"{}")
    assert webhook.status_code == 404


# -- who sees which event ------------------------------------------------------------------


def _reply_event(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message.created",
        "workspace_id": 1,
        "contact_id": 10,
        "conversation_id": 100,
        "message_id": 1000,
        "data": {"inbox_id": 5, "private": False, "sender_kind": "agent"},
    }
    data = changes.pop("data", {})
    return {**event, **changes, "data": {**event["data"], **data}}


def test_only_public_replies_to_this_visitor_on_this_inbox_are_visible() -> None:
    def visible(event: dict[str, Any]) -> bool:
        return visible_to_visitor(event, workspace_id=1, inbox_id=5, contact_id=10)

    assert visible(_reply_event())
    assert visible(_reply_event(data={"sender_kind": "ai"}))
    assert not visible(_reply_event(workspace_id=2))
    assert not visible(_reply_event(contact_id=11))
    assert not visible(_reply_event(data={"inbox_id": 6}))
    assert not visible(_reply_event(data={"private": True}))
    assert not visible(_reply_event(data={"private": None}))
    assert not visible(_reply_event(data={"sender_kind": "contact"}))
    assert not visible(_reply_event(type="note.added"))
    assert not visible(_reply_event(type="message.received"))
    assert not visible_to_visitor(_reply_event(), workspace_id=1, inbox_id=5, contact_id=None)


def test_a_reply_racing_the_first_message_is_kept_until_the_contact_is_known() -> None:
    claims = VisitorClaims(workspace_id=1, inbox_id=5, identity="visitor:x", issued_at=0)
    feed = VisitorFeed(claims, contact_id=None)

    assert feed.on_event(_reply_event(message_id=1)) == []
    assert feed.on_event(_reply_event(message_id=2, contact_id=99)) == []
    assert feed.on_event(_reply_event(message_id=3, data={"private": True})) == []
    assert feed.on_contact_known(10) == [1]
    assert feed.on_event(_reply_event(message_id=4)) == [4]
    merged = {"type": "contact.merged", "workspace_id": 1, "contact_id": 20, "data": {}}
    feed.on_event({**merged, "data": {"source_id": 10, "target_id": 20}})
    assert feed.on_event(_reply_event(message_id=5, contact_id=20)) == [5]


# -- live replies over a real websocket ----------------------------------------------------


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[LiveServer]:
    async with live_server(settings) as running:
        yield running


async def _frame(socket: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(5):
        frame: dict[str, Any] = json.loads(await socket.recv())
    return frame


async def _visitor(server: LiveServer) -> tuple[Api, int, str]:
    """An agent API, a widget inbox and a visitor token, on the live server."""
    admin = await server.workspace("Live", "live-admin@example.com")
    chat = await inbox(admin, "webchat")
    token = (await start(server.client, chat["id"]))["visitor_token"]
    return admin, chat["id"], token


async def test_the_visitor_sees_agent_replies_live_and_never_notes(server: LiveServer) -> None:
    admin, inbox_id, token = await _visitor(server)
    url = f"{server.ws_url}{widget_path(inbox_id, 'ws')}?token={token}"
    async with connect(url, origin=Origin(SITE)) as socket:
        assert await _frame(socket) == {"type": "ready"}
        sent = await say(server.client, inbox_id, token, "is anyone there?")
        assert sent.status_code == 201
        await socket.send(json.dumps({"type": "sync"}))  # as the widget does after writing
        listing = await admin.ok("GET", "/conversations", params={"inbox": inbox_id})
        conversation_id = listing["items"][0]["id"]

        await admin.ok(
            "POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Yes!"}
        )
        live = await _frame(socket)
        await admin.ok("POST", f"/conversations/{conversation_id}/notes", 201, json={"text": "x"})
        await admin.ok("POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "2"})
        after_note = await _frame(socket)
        await socket.send(json.dumps({"type": "ping"}))
        pong = await _frame(socket)

    assert live["type"] == "message"
    assert (live["message"]["author"], live["message"]["text"]) == ("agent", "Yes!")
    assert after_note["message"]["text"] == "2"  # the note in between was never pushed
    assert pong == {"type": "pong"}


async def test_the_websocket_refuses_bad_tokens_and_foreign_origins(server: LiveServer) -> None:
    _admin, inbox_id, token = await _visitor(server)
    base = f"{server.ws_url}{widget_path(inbox_id, 'ws')}"

    async def close_code(url: str, origin: str | None = None) -> int | None:
        async with connect(url, origin=Origin(origin) if origin else None) as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await _frame(socket)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code

    assert await close_code(f"{base}?token=forged") == 4401
    assert await close_code(f"{base}?token={token}", origin="https://evil.example") == 4403
    assert await close_code(f"{server.ws_url}{widget_path(999_999, 'ws')}?token={token}") == 4404


async def test_the_preview_page_embeds_the_inboxs_widget(harness: Harness) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    whatsapp = await inbox(admin, "whatsapp")
    page = await harness.client.get(f"/widget/preview/{chat['id']}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'/widget.js" data-inbox="{chat["id"]}"' in page.text
    assert (await harness.client.get(f"/widget/preview/{whatsapp['id']}")).status_code == 404
    assert (await harness.client.get("/widget/preview/999999")).status_code == 404
