"""Outbound webhooks end to end: events → deliveries in the same commit → signed POSTs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from onethread.db.types import utcnow
from onethread.errors import InvalidInput
from onethread.events.log import append_events
from onethread.events.models import Event
from onethread.events.types import EventType
from onethread.integrations.models import WebhookDelivery
from onethread.integrations.targets import TargetRefused, check_resolved, check_url, pinned
from onethread.jobs.context import JobContext
from onethread.jobs.worker import Worker
from onethread.outbox.models import Job
from tests.conftest import Harness
from tests.factories import Api, inbound, inbox, workspace
from tests.integrations.receiver import WebhookReceiver


async def subscribe(
    admin: Api, receiver: WebhookReceiver, event_types: list[str] | None = None
) -> dict[str, Any]:
    created: dict[str, Any] = await admin.ok(
        "POST",
        "/webhooks",
        201,
        json={"url": receiver.url, "event_types": event_types or ["message.created"]},
    )
    receiver.secret = created["secret"]
    return created


async def make_due(harness: Harness) -> None:
    """Skip the backoff: queued jobs become due now."""
    async with harness.db.session() as session:
        await session.execute(update(Job).where(Job.status == "queued").values(run_at=utcnow()))


async def deliveries(admin: Api, webhook_id: int, **params: Any) -> list[dict[str, Any]]:
    page = await admin.ok("GET", f"/webhooks/{webhook_id}/deliveries", params=params)
    items: list[dict[str, Any]] = page["items"]
    return items


async def test_a_delivery_is_signed_retried_after_500s_and_logged(
    harness: Harness, worker: Worker, receiver: WebhookReceiver
) -> None:
    admin = await workspace(harness)
    box = await inbox(admin, "webchat")
    hook = await subscribe(admin, receiver)
    assert "secret" not in await admin.ok("GET", f"/webhooks/{hook['id']}")
    receiver.script(500, times=2)
    sent = await inbound(admin, box["id"], "visitor-1", "Where is my order?")
    [queued] = await deliveries(admin, hook["id"])
    assert (queued["status"], queued["event_type"], queued["attempts"]) == (
        "queued",
        "message.created",
        0,
    )
    for attempt in (1, 2):
        await worker.run_once()
        [logged] = await deliveries(admin, hook["id"])
        assert (logged["status"], logged["attempts"], logged["response_status"]) == (
            "queued",
            attempt,
            500,
        )
        assert "HTTP 500" in logged["last_error"]
        await worker.run_once()
        assert len(receiver.received) == attempt  # backing off
        await make_due(harness)
    await worker.run_once()
    [logged] = await deliveries(admin, hook["id"])
    assert (logged["status"], logged["attempts"], logged["response_status"]) == (
        "delivered",
        3,
        200,
    )
    assert logged["last_error"] is None
    assert logged["response_ms"] is not None
    assert len(receiver.received) == 3
    assert all(r.signed for r in receiver.received)
    # One delivery id and one body across the retries: the receiver dedupes on it.
    assert {r.headers["x-onethread-delivery"] for r in receiver.received} == {str(logged["id"])}
    assert {r.headers["x-onethread-event"] for r in receiver.received} == {"message.created"}
    body = receiver.received[-1].body
    assert body == receiver.received[0].body
    assert (body["id"], body["type"], body["workspace_id"]) == (
        logged["id"],
        "message.created",
        admin.workspace_id,
    )
    assert body["data"]["message"]["id"] == sent["message"]["id"]
    assert body["data"]["message"]["text"] == "Where is my order?"
    assert body["data"]["conversation"]["id"] == sent["conversation_id"]
    assert logged["request_body"] is not None


async def test_replies_are_delivered_but_private_notes_never(
    harness: Harness, worker: Worker, receiver: WebhookReceiver
) -> None:
    admin = await workspace(harness)
    box = await inbox(admin, "webchat")
    sent = await inbound(admin, box["id"], "visitor-1", "Hello")
    hook = await subscribe(admin, receiver, ["message.created", "conversation.resolved"])
    conversation = f"/conversations/{sent['conversation_id']}"
    await admin.ok("POST", f"{conversation}/notes", 201, json={"text": "internal only"})
    await admin.ok("POST", f"{conversation}/reply", 201, json={"text": "Hi, how can I help?"})
    await admin.ok("POST", f"{conversation}/resolve")
    while await worker.run_once():
        pass
    types = [r.body["type"] for r in receiver.received]
    assert sorted(types) == ["conversation.resolved", "message.created"]
    texts = [
        r.body["data"]["message"]["text"] for r in receiver.received if "message" in r.body["data"]
    ]
    assert "internal only" not in texts
    assert len(await deliveries(admin, hook["id"], status="delivered")) == 2


async def test_handoffs_assignments_and_contact_changes_carry_their_resources(
    harness: Harness, worker: Worker, receiver: WebhookReceiver
) -> None:
    admin = await workspace(harness)
    box = await inbox(admin, "webchat")
    sent = await inbound(admin, box["id"], "visitor-1", "I want a human")
    await subscribe(
        admin, receiver, ["handoff.requested", "conversation.assigned", "contact.updated"]
    )
    conversation = f"/conversations/{sent['conversation_id']}"
    await admin.ok("POST", f"{conversation}/handoff", json={"reason": "customer_requested_human"})
    await admin.ok("POST", f"{conversation}/assign", json={"assignee_id": admin.agent_id})
    await admin.ok("PATCH", f"/contacts/{sent['contact_id']}", json={"name": "Ada Lovelace"})
    while await worker.run_once():
        pass
    by_type = {r.body["type"]: r.body["data"] for r in receiver.received}
    assert set(by_type) == {"handoff.requested", "conversation.assigned", "contact.updated"}
    assert by_type["handoff.requested"]["event"]["reason"] == "customer_requested_human"
    assert by_type["conversation.assigned"]["conversation"]["assignee_id"] == admin.agent_id
    assert by_type["contact.updated"]["contact"]["name"] == "Ada Lovelace"
    assert by_type["contact.updated"]["event"]["changed"] == ["name"]


async def test_410_gone_disables_the_subscription(
    harness: Harness, worker: Worker, receiver: WebhookReceiver
) -> None:
    admin = await workspace(harness)
    box = await inbox(admin, "webchat")
    hook = await subscribe(admin, receiver)
    receiver.script(410)
    await inbound(admin, box["id"], "visitor-1", "Hello")
    await worker.run_once()
    [logged] = await deliveries(admin, hook["id"])
    assert (logged["status"], logged["response_status"]) == ("failed", 410)
    after = await admin.ok("GET", f"/webhooks/{hook['id']}")
    assert after["active"] is False
    assert "410" in after["disabled_reason"]
    await inbound(admin, box["id"], "visitor-1", "Anyone there?")
    assert len(await deliveries(admin, hook["id"])) == 1  # nothing queued for a disabled one
    await admin.ok("PATCH", f"/webhooks/{hook['id']}", json={"active": True})
    await inbound(admin, box["id"], "visitor-1", "Hello again")
    assert len(await deliveries(admin, hook["id"])) == 2


async def test_another_workspaces_events_and_duplicates_are_never_delivered(
    harness: Harness, worker: Worker, receiver: WebhookReceiver
) -> None:
    admin = await workspace(harness)
    other = await workspace(harness)
    box = await inbox(admin, "webchat")
    other_box = await inbox(other, "webchat")
    hook = await subscribe(admin, receiver, ["message.created", "conversation.created"])
    await inbound(other, other_box["id"], "visitor-9", "Not yours", external_id="m-1")
    await inbound(admin, box["id"], "visitor-1", "Mine", external_id="m-1")
    await admin.request(
        "POST",
        f"/inboxes/{box['id']}/inbound",
        json={"sender_id": "visitor-1", "text": "Mine", "external_id": "m-1"},
    )  # the provider's retry of the same message
    while await worker.run_once():
        pass
    types = sorted(r.body["type"] for r in receiver.received)
    assert types == ["conversation.created", "message.created"]
    assert {r.body["workspace_id"] for r in receiver.received} == {admin.workspace_id}
    # A job run twice (a worker died after sending) sends a delivered delivery no more.
    delivered = (await deliveries(admin, hook["id"], status="delivered"))[0]
    async with harness.db.session() as session:
        session.add(
            Job(
                workspace_id=admin.workspace_id,
                kind="webhook.deliver",
                payload={"delivery_id": delivered["id"]},
                run_at=utcnow(),
            )
        )
    await worker.run_once()
    assert len(receiver.received) == 2
    # Tenancy: the other workspace's admin sees none of it.
    for path in (f"/webhooks/{hook['id']}", f"/webhooks/{hook['id']}/deliveries"):
        assert (await other.get(path)).status_code == 404
    assert await other.ok("GET", "/webhooks") == []


async def test_redeliver_and_ping_send_again_under_their_delivery_id(
    harness: Harness, worker: Worker, receiver: WebhookReceiver
) -> None:
    admin = await workspace(harness)
    box = await inbox(admin, "webchat")
    hook = await subscribe(admin, receiver)
    await inbound(admin, box["id"], "visitor-1", "Hello")
    [queued] = await deliveries(admin, hook["id"])
    path = f"/webhooks/{hook['id']}/deliveries/{queued['id']}/redeliver"
    assert (await admin.post(path)).status_code == 409  # already on its way
    await worker.run_once()
    again = await admin.ok("POST", path, 202)
    assert again["status"] == "queued"
    await worker.run_once()
    assert [r.headers["x-onethread-delivery"] for r in receiver.received] == [str(queued["id"])] * 2
    assert receiver.received[0].body == receiver.received[1].body
    [logged] = await deliveries(admin, hook["id"])
    assert (logged["status"], logged["attempts"]) == ("delivered", 2)

    ping = await admin.ok("POST", f"/webhooks/{hook['id']}/test", 202)
    old_secret = receiver.secret
    rotated = await admin.ok("POST", f"/webhooks/{hook['id']}/rotate_secret")
    assert rotated["secret"] != old_secret
    receiver.secret = rotated["secret"]
    await worker.run_once()
    last = receiver.received[-1]
    assert (last.body["type"], last.body["id"], last.signed) == ("ping", ping["id"], True)
    assert [d["event_type"] for d in await deliveries(admin, hook["id"], limit=1)] == ["ping"]
    page = await admin.ok("GET", f"/webhooks/{hook['id']}/deliveries", params={"limit": 1})
    older = await deliveries(admin, hook["id"], before=page["next_before"])
    assert [d["id"] for d in older] == [queued["id"]]
    async with harness.db.read_session() as session:
        audit = await session.scalars(
            select(Event).where(Event.type == "webhook.saved").order_by(Event.id)
        )
        assert [(e.agent_id, e.data["change"]) for e in audit] == [
            (admin.agent_id, "created"),
            (admin.agent_id, "secret_rotated"),
        ]


async def test_redirects_are_not_followed_but_retried(
    harness: Harness, worker: Worker, receiver: WebhookReceiver
) -> None:
    admin = await workspace(harness)
    box = await inbox(admin, "webchat")
    hook = await subscribe(admin, receiver)
    receiver.redirect_to = "/elsewhere"
    await inbound(admin, box["id"], "visitor-1", "Hello")
    await worker.run_once()
    assert [r.path for r in receiver.received] == ["/hooks/onethread"]
    [logged] = await deliveries(admin, hook["id"])
    assert (logged["status"], logged["attempts"], logged["response_status"]) == ("queued", 1, 307)
    await make_due(harness)
    await worker.run_once()
    assert [r.path for r in receiver.received] == ["/hooks/onethread"] * 2
    [logged] = await deliveries(admin, hook["id"])
    assert (logged["status"], logged["response_status"]) == ("delivered", 200)


async def test_a_delivery_fails_after_its_last_attempt(
    harness: Harness, worker: Worker, receiver: WebhookReceiver
) -> None:
    admin = await workspace(harness)
    box = await inbox(admin, "webchat")
    hook = await subscribe(admin, receiver)
    receiver.script(503, times=5)
    await inbound(admin, box["id"], "visitor-1", "Hello")
    async with harness.db.session() as session:
        await session.execute(
            update(Job).where(Job.kind == "webhook.deliver").values(max_attempts=2)
        )
    await worker.run_once()
    await make_due(harness)
    await worker.run_once()
    [logged] = await deliveries(admin, hook["id"], status="failed")
    assert (logged["attempts"], logged["response_status"]) == (2, 503)
    async with harness.db.read_session() as session:
        dead = await session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.status == "dead", Job.kind == "webhook.deliver")
        )
    assert dead == 1


async def test_subscriptions_refuse_bad_urls_and_unknown_event_types(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    admin = await workspace(harness)
    for body, reason in (
        ({"url": "ftp://example.com/x", "event_types": ["message.created"]}, "http"),
        ({"url": receiver.url, "event_types": ["message.sent", "contact.updated"]}, "message.sent"),
        ({"url": receiver.url, "event_types": []}, ""),
    ):
        response = await admin.post("/webhooks", json=body)
        assert response.status_code in (400, 422), response.text
        assert reason in response.text
    async with harness.db.read_session() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


async def test_private_targets_are_refused_unless_allowed() -> None:
    for url in (
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "https://10.1.2.3/x",
        "http://[::1]/",
    ):
        with pytest.raises(InvalidInput, match="private"):
            check_url(url, allow_private=False)
        assert check_url(url, allow_private=True) == url
    assert check_url("https://hooks.example.com/x", allow_private=False)
    with pytest.raises(TargetRefused, match="private"):
        await check_resolved("http://localhost:9/x", allow_private=False)
    assert await check_resolved("http://localhost:9/x", allow_private=True) is None
    # A public literal address resolves to itself, with no DNS server involved.
    assert await check_resolved("https://8.8.8.8/x", allow_private=False) == "8.8.8.8"


async def test_the_request_goes_to_the_address_that_was_checked() -> None:
    """No second lookup for DNS rebinding to answer differently: the address is pinned."""
    url, host, extensions = pinned("https://hooks.example.com:8443/in?x=1", "203.0.113.9")
    assert str(url) == "https://203.0.113.9:8443/in?x=1"
    assert host == {"Host": "hooks.example.com:8443"}
    assert extensions == {"sni_hostname": "hooks.example.com"}
    url, host, extensions = pinned("http://hooks.example.com/in", "2001:db8::1")
    assert str(url) == "http://[2001:db8::1]/in"
    assert (host, extensions) == ({"Host": "hooks.example.com"}, {})
    assert pinned("http://hooks.example.com/in", None) == (
        httpx.URL("http://hooks.example.com/in"),
        {},
        {},
    )
    # Over a real connection: the receiver sees the name, the socket went to the address.
    seen: list[str] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.extend(
            line for line in head.decode().split("\r\n") if line.lower().startswith("host:")
        )
        writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        url, host, extensions = pinned(f"http://hooks.invalid:{port}/in", "127.0.0.1")
        async with httpx.AsyncClient() as client:
            answer = await client.post(url, headers=host, extensions=extensions, content=b"{}")
        assert answer.status_code == 204
        assert [line.lower() for line in seen] == [f"host: hooks.invalid:{port}"]
    finally:
        server.close()
        await server.wait_closed()


async def test_a_private_target_fails_at_once_when_private_targets_are_refused(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    """Saved while allowed, sent after the setting changed: refused before any request."""
    admin = await workspace(harness)
    box = await inbox(admin, "webchat")
    hook = await subscribe(admin, receiver)
    await inbound(admin, box["id"], "visitor-1", "Hello")
    context = harness.app_context
    refusing = context.settings.model_copy(update={"webhook_allow_private": False})
    async with httpx.AsyncClient() as http:
        worker = Worker(JobContext(refusing, context.db, context.secrets, http))
        await worker.run_once()
    [logged] = await deliveries(admin, hook["id"])
    assert (logged["status"], logged["attempts"], logged["response_status"]) == ("failed", 1, None)
    assert "private address" in logged["last_error"]
    assert receiver.received == []


async def test_a_bulk_append_queues_every_delivery_in_its_own_transaction(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    """A CSV import appends thousands of events at once: more than one statement's ids."""
    admin = await workspace(harness)
    await subscribe(admin, receiver, ["contact.updated"])
    rows: list[dict[str, Any]] = [{"data": {"changed": ["name"]}} for _ in range(2500)]
    async with harness.db.session() as session:
        await append_events(session, admin.workspace_id, EventType.CONTACT_UPDATED, rows)
    async with harness.db.read_session() as session:
        queued = await session.scalar(select(func.count()).select_from(WebhookDelivery))
        jobs = await session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == "webhook.deliver")
        )
    assert (queued, jobs) == (2500, 2500)
