"""GET /metrics after real webhooks, jobs and deliveries, read with Prometheus' own parser."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from websockets.asyncio.client import connect

from onethread import __version__
from onethread.channels.api import MAX_WEBHOOK_BYTES
from onethread.conversations.models import Conversation
from onethread.db.types import utcnow
from onethread.jobs.context import JobContext
from onethread.jobs.worker import Worker
from onethread.main import API_PREFIX, create_app
from onethread.outbox.actions import enqueue
from onethread.outbox.models import Job
from onethread.settings import Settings
from tests.channels.conftest import drain, post_meta
from tests.channels.test_ingest_batching import text_webhook
from tests.channels.widget_server import live_server
from tests.conftest import Harness
from tests.factories import workspace
from tests.fakes.graph_api import FakeGraphApi, graph_error
from tests.ops.conftest import path_of, scrape, value, whatsapp_inbox

WEBHOOKS = "onethread_webhooks_received_total"


async def test_webhooks_are_counted_by_channel_and_outcome(
    harness: Harness, graph: FakeGraphApi
) -> None:
    admin = await workspace(harness)
    path = path_of(await whatsapp_inbox(admin, graph))
    before = await scrape(harness.client)

    assert (await post_meta(harness.client, path, text_webhook("wamid.m1"))).status_code == 200
    assert (await post_meta(harness.client, path, text_webhook("wamid.m1"))).status_code == 200
    forged = await post_meta(harness.client, path, text_webhook("wamid.m2"), secret="wrong")
    assert forged.status_code == 401
    garbage = await post_meta(harness.client, path, b'{"object": "whatsapp_business_account"}')
    assert garbage.status_code == 400
    unknown = await post_meta(harness.client, "/webhooks/whatsapp/999999", text_webhook("w.3"))
    assert unknown.status_code == 404
    made_up = await post_meta(harness.client, "/webhooks/pigeon/1", text_webhook("w.4"))
    assert made_up.status_code == 404
    huge = await post_meta(harness.client, path, b" " * (MAX_WEBHOOK_BYTES + 1))
    assert huge.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: found out while reading
        for _ in range(MAX_WEBHOOK_BYTES // 65536 + 2):
            yield b" " * 65536

    streamed = await harness.client.post(path, content=chunks())
    assert streamed.status_code == 413

    after = await scrape(harness.client)
    for outcome, expected in [
        ("accepted", 1),
        ("duplicate", 1),
        ("bad_signature", 1),
        ("malformed", 1),
        ("unknown_inbox", 1),
        ("too_large", 2),
    ]:
        grew = value(after, WEBHOOKS, channel="whatsapp", outcome=outcome) - value(
            before, WEBHOOKS, channel="whatsapp", outcome=outcome
        )
        assert grew == expected, outcome
    # A channel named in the path by a caller never becomes a label of its own.
    assert value(after, WEBHOOKS, channel="unknown", outcome="unknown_inbox") >= 1
    assert not any(dict(labels).get("channel") == "pigeon" for _, labels in after)


async def test_jobs_assistant_decisions_and_delivery_failures_are_counted(
    harness: Harness, graph: FakeGraphApi, job_context: JobContext
) -> None:
    admin = await workspace(harness)
    path = path_of(await whatsapp_inbox(admin, graph))
    before = await scrape(harness.client)
    assert (await post_meta(harness.client, path, text_webhook("wamid.j1"))).status_code == 200
    assert await drain(harness, job_context) >= 1
    async with harness.db.read_session() as session:
        conversation_id = await session.scalar(select(Conversation.id))
    # The provider refuses for good (Meta's 131026, "message undeliverable").
    graph.script(status=400, body=graph_error("Message Undeliverable.", code=131026), times=5)
    await admin.ok("POST", f"/conversations/{conversation_id}/reply", 201, json={"text": "Hi"})
    await drain(harness, job_context)

    after = await scrape(harness.client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("onethread_jobs_total", kind="assistant.turn", result="done") == 1
    assert grew("onethread_job_seconds_count", kind="assistant.turn") == 1
    assert grew("onethread_jobs_total", kind="delivery.send", result="dead") == 1
    decisions = sum(
        amount - value(before, name, **dict(labels))
        for (name, labels), amount in after.items()
        if name == "onethread_assistant_decisions_total"
    )
    assert decisions == 1
    failures = grew(
        "onethread_delivery_failures_total", channel="whatsapp", code="131026", final="true"
    )
    assert failures == 1


async def test_queue_depth_and_oldest_due_age_by_kind(harness: Harness) -> None:
    admin = await workspace(harness)
    now = utcnow()
    async with harness.db.session() as session:
        for minutes in (10, 3):
            enqueue(
                session,
                "delivery.send",
                {"message_id": minutes},
                workspace_id=admin.workspace_id,
                run_at=now - timedelta(minutes=minutes),
            )
        enqueue(
            session,
            "conversation.wake",
            {"conversation_id": 1},
            workspace_id=None,
            run_at=now + timedelta(hours=1),
        )
    samples = await scrape(harness.client)
    assert value(samples, "onethread_jobs_queue_readable") == 1
    assert value(samples, "onethread_jobs_queued", kind="delivery.send") == 2
    assert value(samples, "onethread_jobs_due", kind="delivery.send") == 2
    age = value(samples, "onethread_jobs_oldest_due_age_seconds", kind="delivery.send")
    assert 600 <= age < 660
    # Scheduled for later: queued, not due, and no age yet.
    assert value(samples, "onethread_jobs_queued", kind="conversation.wake") == 1
    assert value(samples, "onethread_jobs_due", kind="conversation.wake") == 0
    assert value(samples, "onethread_jobs_oldest_due_age_seconds", kind="conversation.wake") == 0


async def test_metrics_are_open_by_default_and_not_in_the_api_schema(harness: Harness) -> None:
    response = await harness.client.get("/metrics")
    assert response.status_code == 200
    assert "onethread_build_info" in response.text
    assert "process_" in response.text or "python_info" in response.text
    document = (await harness.client.get(f"{API_PREFIX}/openapi.json")).json()
    assert "/metrics" not in document["paths"]


async def test_every_answer_carries_a_request_id(harness: Harness) -> None:
    sane = await harness.client.get("/healthz", headers={"X-Request-ID": "lb-1.2_3"})
    assert sane.headers["x-request-id"] == "lb-1.2_3"
    for insane in ("a" * 129, "spaces are not ids", "semi;colon"):
        made = await harness.client.get("/healthz", headers={"X-Request-ID": insane})
        assert made.headers["x-request-id"] != insane
        assert len(made.headers["x-request-id"]) == 32
    refused = await harness.client.get(f"{API_PREFIX}/conversations")
    assert refused.status_code == 401
    assert refused.headers["x-request-id"]


async def test_an_unexpected_error_answers_500_with_its_request_id(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug")

    harness.app.add_api_route("/test-only/broken", broken)
    answer = await harness.client.get("/test-only/broken", headers={"X-Request-ID": "boom-1"})
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert answer.headers["x-request-id"] == "boom-1"
    logged = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert logged
    assert logged[0].exc_info is not None


async def test_open_websockets_are_a_gauge(settings: Settings) -> None:
    async with live_server(settings) as server:
        admin = await server.workspace("Ops", "ops-ws@example.com")
        gauge = "onethread_websocket_connections"
        before = value(await scrape(server.client), gauge, socket="agents")
        url = f"{server.ws_url}{API_PREFIX}/realtime?token={admin.token}"
        async with connect(url) as socket:
            assert json.loads(await socket.recv())["type"] == "hello"
            during = value(await scrape(server.client), gauge, socket="agents")
            assert during == before + 1
        for _ in range(100):  # the server notices the close on its own time
            if value(await scrape(server.client), gauge, socket="agents") == before:
                break
            await asyncio.sleep(0.02)
        assert value(await scrape(server.client), gauge, socket="agents") == before


async def test_a_scrape_answers_when_the_database_does_not(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/gone"  # nothing listens there
    app = create_app(Settings(database_url=url, data_dir=tmp_path, secret_key="k"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            samples = await scrape(client)
    assert value(samples, "onethread_jobs_queue_readable") == 0
    assert not any(name == "onethread_jobs_queued" for name, _ in samples)
    assert value(samples, "onethread_build_info", version=__version__) == 1


async def test_a_failing_job_counts_a_retry_then_its_death(
    harness: Harness, job_context: JobContext
) -> None:
    async def flaky(context: JobContext, job: Job) -> None:
        raise RuntimeError("the service is down")

    worker = Worker(job_context, handlers={"test.flaky": flaky})
    async with harness.db.session() as session:
        enqueue(session, "test.flaky", {}, workspace_id=None, max_attempts=2)
    before = await scrape(harness.client)
    assert await worker.run_once() == 1
    async with harness.db.session() as session:
        await session.execute(update(Job).values(run_at=utcnow()))  # skip the backoff
    assert await worker.run_once() == 1
    after = await scrape(harness.client)
    for result in ("retry", "dead"):
        grew = value(after, "onethread_jobs_total", kind="test.flaky", result=result) - value(
            before, "onethread_jobs_total", kind="test.flaky", result=result
        )
        assert grew == 1, result
