"""Request size limits per path, and rate limits in one process, across two, and without Redis."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from onethread.api.body_limit import BodyLimit, PathLimit
from onethread.api.ratelimit import KEY_PREFIX, RateLimits, SlidingWindowLimiter
from onethread.channels.api import MAX_WEBHOOK_BYTES
from onethread.channels.widget_access import MAX_WIDGET_BODY
from onethread.main import create_app
from onethread.settings import Settings
from tests.conftest import Harness
from tests.factories import PASSWORD, Api, inbox, workspace
from tests.processes import serve_process

REDIS_URL = os.environ.get("ONETHREAD_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="ONETHREAD_TEST_REDIS_URL is not set")
MiB = 1024 * 1024


def _too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert error["details"] == {"limit_bytes": limit}
    assert str(limit) in error["message"]


async def _chunks(total: int, size: int, sent: list[int]) -> AsyncIterator[bytes]:
    """``total`` bytes in ``size`` pieces, without a Content-Length; counts what was taken."""
    while sum(sent) < total:
        piece = b"x" * min(size, total - sum(sent))
        sent.append(len(piece))
        yield piece


# -- body limits through the app -------------------------------------------------------------


async def test_a_declared_body_over_the_default_is_refused_before_reading(
    harness: Harness,
) -> None:
    admin = await workspace(harness)
    headers = {"Authorization": f"Bearer {admin.token}", "Content-Type": "application/json"}
    sent: list[int] = []
    body = b"".join([piece async for piece in _chunks(MiB + 1, 64 * 1024, sent)])
    response = await harness.client.post("/api/v1/contacts", content=body, headers=headers)
    _too_large(response, MiB)
    small = await admin.post("/contacts", json={"name": "Ada"})
    assert small.status_code == 201, small.text


async def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(harness: Harness) -> None:
    admin = await workspace(harness)
    headers = {"Authorization": f"Bearer {admin.token}", "Content-Type": "application/json"}
    sent: list[int] = []
    response = await harness.client.post(
        "/api/v1/contacts", content=_chunks(8 * MiB, 64 * 1024, sent), headers=headers
    )
    _too_large(response, MiB)
    assert sum(sent) <= MiB + 64 * 1024  # read no further than the chunk that overflowed
    assert "content-length" not in response.request.headers


async def test_each_public_path_has_its_own_limit(harness: Harness) -> None:
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    client = harness.client

    two_mib = b"{" + b" " * (2 * MiB) + b"}"
    webhook = await client.post("/webhooks/whatsapp/999999", content=two_mib)
    assert webhook.status_code == 404  # past the size check: a 2 MiB webhook is fine
    over = b" " * (MAX_WEBHOOK_BYTES + 1)
    _too_large(await client.post("/webhooks/whatsapp/999999", content=over), MAX_WEBHOOK_BYTES)
    _too_large(await admin.post("/contacts", content=two_mib), MiB)

    widget = f"/api/v1/widget/{chat['id']}/session"
    origin = {"Origin": "https://shop.example"}
    refused = await client.post(widget, content=b" " * (MAX_WIDGET_BODY + 1), headers=origin)
    _too_large(refused, MAX_WIDGET_BODY)
    assert refused.headers["access-control-allow-origin"] == "*"  # the widget can read why
    streamed: list[int] = []
    chunked = await client.post(widget, content=_chunks(MiB, 16 * 1024, streamed))
    _too_large(chunked, MAX_WIDGET_BODY)
    assert sum(streamed) <= MAX_WIDGET_BODY + 16 * 1024


async def test_uploads_keep_their_own_larger_limits(harness: Harness) -> None:
    admin = await workspace(harness)
    csv = b"name,email\n" + b"Ada,ada@example.com\n" * (MiB // 20 + 10)  # over 1 MiB
    imported = await admin.post("/contacts/import", files={"file": ("c.csv", csv, "text/csv")})
    assert imported.status_code == 200, imported.text


async def test_the_default_limit_is_a_setting(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"max_body_bytes": 100}), auto_migrate=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/api/v1/auth/login", content=b"{" + b" " * 100 + b"}")
    _too_large(response, 100)


# -- the middleware alone ----------------------------------------------------------------------


async def _echo_length(request: Request) -> Response:
    return JSONResponse({"read": len(await request.body())})


async def _swallowing(request: Request) -> Response:
    try:
        await request.body()
    except Exception:
        return JSONResponse({"error": "could not read"}, status_code=400)
    return JSONResponse({})


async def _stream(_request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for n in range(50):
            yield b"%d," % n * 1000

    return StreamingResponse(parts())


async def _socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("x" * 5000)
    await websocket.close()


def _tiny_app() -> BodyLimit:
    app = Starlette(
        routes=[
            Route("/echo", _echo_length, methods=["POST"]),
            Route("/big/echo", _echo_length, methods=["POST"]),
            Route("/swallow", _swallowing, methods=["POST"]),
            Route("/stream", _stream, methods=["GET", "POST"]),
            WebSocketRoute("/ws", _socket),
        ]
    )
    return BodyLimit(app, default=1000, paths=[PathLimit("/big/", 5000)])


async def test_the_middleware_counts_bodies_and_leaves_the_rest_alone() -> None:
    transport = httpx.ASGITransport(app=_tiny_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/echo", content=b"a" * 1000)).json() == {"read": 1000}
        _too_large(await client.post("/echo", content=b"a" * 1001), 1000)
        assert (await client.post("/big/echo", content=b"a" * 4000)).json() == {"read": 4000}
        sent: list[int] = []
        _too_large(await client.post("/big/echo", content=_chunks(10**6, 100, sent)), 5000)
        assert sum(sent) == 5100
        # A view that turns the overflow into some other answer is overruled.
        _too_large(await client.post("/swallow", content=_chunks(5000, 300, [])), 1000)
        streamed = await client.get("/stream")
        assert streamed.status_code == 200
        assert len(streamed.content) == sum(len(b"%d," % n * 1000) for n in range(50))


def test_websockets_pass_through() -> None:
    with TestClient(_tiny_app()) as client, client.websocket_connect("/ws") as socket_:
        assert socket_.receive_text() == "x" * 5000


# -- rate limits: one process -------------------------------------------------------------------


async def _limiter_semantics(limits: RateLimits) -> None:
    limiter = limits.sliding_window("test:semantics", 3, 30)
    key = f"key-{os.getpid()}-{id(limiter)}"
    for _ in range(3):
        assert await limiter.retry_after(key) == 0
        await limiter.hit(key)
    wait = await limiter.retry_after(key)
    assert 1 <= wait <= 30
    assert await limiter.retry_after("someone-else") == 0
    await limiter.reset(key)
    assert await limiter.retry_after(key) == 0
    # take: check and count in one step, even for many callers at once.
    taken = await asyncio.gather(*(limiter.take(key) for _ in range(8)))
    admitted = [hit for wait, hit in taken if wait == 0]
    assert len(admitted) == 3
    assert all(wait >= 1 and hit is None for wait, hit in taken if wait)
    # give_back uncounts one hit: one more caller may go on.
    assert admitted[0] is not None
    await limiter.give_back(key, admitted[0])
    wait, hit = await limiter.take(key)
    assert (wait, hit is not None) == (0, True)
    assert (await limiter.take(key))[0] >= 1
    await limiter.reset(key)


async def test_the_in_memory_window_allows_limit_hits_then_waits() -> None:
    await _limiter_semantics(RateLimits())
    limiter = SlidingWindowLimiter(2, 0.2)
    await limiter.hit("k")
    await limiter.hit("k")
    assert await limiter.retry_after("k") == 1
    await asyncio.sleep(0.25)
    assert await limiter.retry_after("k") == 0  # the window slid past both hits


@needs_redis
async def test_the_redis_window_has_the_same_semantics_and_is_shared() -> None:
    assert REDIS_URL is not None
    first, second = RateLimits(REDIS_URL), RateLimits(REDIS_URL)
    try:
        assert first.shared
        await _limiter_semantics(first)
        one = first.sliding_window("test:shared", 2, 0.5)
        other = second.sliding_window("test:shared", 2, 0.5)
        key = f"shared-{os.getpid()}"
        await one.reset(key)
        await one.hit(key)
        await other.hit(key)
        assert await one.retry_after(key) == 1
        assert await other.retry_after(key) == 1
        await asyncio.sleep(0.6)
        assert await other.retry_after(key) == 0
        client = redis.from_url(REDIS_URL)
        db = client.connection_pool.connection_kwargs.get("db") or 0
        await one.hit(key)
        assert await client.exists(f"{KEY_PREFIX}@{db}:test:shared:{key}")
        assert 0 < await client.pttl(f"{KEY_PREFIX}@{db}:test:shared:{key}") <= 1000
        await client.aclose()
    finally:
        await first.close()
        await second.close()


async def test_an_unreachable_redis_lets_everyone_through_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limits = RateLimits(f"redis://127.0.0.1:{_free_port()}/0")
    limiter = limits.sliding_window("test:down", 1, 60)
    with caplog.at_level(logging.WARNING, logger="onethread.api.ratelimit"):
        for _ in range(3):
            await limiter.hit("k")
            assert await limiter.retry_after("k") == 0
        await limiter.reset("k")
    await limits.close()
    warnings = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(warnings) == 1


# -- rate limits: real processes ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _forget_rate_limits(url: str) -> None:
    client = redis.from_url(url)
    async for key in client.scan_iter(match=f"{KEY_PREFIX}@*"):
        await client.delete(key)
    await client.aclose()


async def _login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


@needs_redis
async def test_sign_in_and_widget_limits_hold_across_two_processes(
    harness: Harness, settings: Settings
) -> None:
    assert REDIS_URL is not None
    await _forget_rate_limits(REDIS_URL)
    admin = await workspace(harness)
    chat = await inbox(admin, "webchat")
    shared = settings.model_copy(update={"redis_url": REDIS_URL})
    try:
        await _limits_hold_across(shared, admin, chat["id"])
    finally:  # the windows live in the shared test Redis: leave none for later tests
        await _forget_rate_limits(REDIS_URL)


async def _limits_hold_across(shared: Settings, admin: Api, chat_id: int) -> None:
    settings = shared
    async with (
        serve_process(shared, worker=False) as first,
        serve_process(shared, worker=False) as second,
    ):
        servers = [first.client, second.client]
        failures = [
            (await _login(servers[n % 2], admin.email, "wrong")).status_code
            for n in range(settings.login_attempts)
        ]
        assert failures == [401] * settings.login_attempts
        for client in servers:
            refused = await _login(client, admin.email, PASSWORD)
            assert refused.status_code == 429, refused.text
            assert int(refused.headers["retry-after"]) >= 1

        widget = f"/api/v1/widget/{chat_id}"
        session = await first.client.post(f"{widget}/session", json={})
        token = {"Authorization": f"Bearer {session.json()['visitor_token']}"}
        sent = [
            (
                await servers[n % 2].post(
                    f"{widget}/messages", json={"text": f"m{n}"}, headers=token
                )
            ).status_code
            for n in range(30)
        ]
        assert sent == [201] * 30
        for client in servers:
            limited = await client.post(f"{widget}/messages", json={"text": "x"}, headers=token)
            assert limited.status_code == 429, limited.text


@asynccontextmanager
async def own_redis() -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """A throwaway redis-server on a spare port, killed on exit."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        binary,
        *("--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"),
        stdout=asyncio.subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.from_url(url)
        for _ in range(100):
            try:
                await client.ping()
                break
            except (redis.ConnectionError, OSError):
                await asyncio.sleep(0.05)
        await client.aclose()
        yield url, process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_concurrent_wrong_passwords_cannot_outrun_the_sign_in_limit(
    harness: Harness,
) -> None:
    admin = await workspace(harness)
    attempts = harness.app_context.settings.login_attempts
    wrong = {"email": admin.email, "password": "not the password"}
    answers = await asyncio.gather(
        *(harness.client.post("/api/v1/auth/login", json=wrong) for _ in range(attempts * 4))
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(401) == attempts, statuses
    assert statuses.count(429) == attempts * 3, statuses


async def test_a_right_password_gives_its_attempt_back(harness: Harness) -> None:
    admin = await workspace(harness)
    attempts = harness.app_context.settings.login_attempts
    right = {"email": admin.email, "password": PASSWORD}
    for _ in range(attempts + 2):  # successes never use up the window
        answer = await harness.client.post("/api/v1/auth/login", json=right)
        assert answer.status_code == 200, answer.text


async def test_sign_in_works_while_redis_is_down(settings: Settings, harness: Harness) -> None:
    admin = await workspace(harness)
    async with own_redis() as (url, redis_process):
        app = create_app(settings.model_copy(update={"redis_url": url}), auto_migrate=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await _login(client, admin.email, "wrong")).status_code == 401
                redis_process.kill()
                await redis_process.wait()
                statuses: list[Any] = [
                    (await _login(client, admin.email, "wrong")).status_code
                    for _ in range(settings.login_attempts + 2)
                ]
                signed_in = await _login(client, admin.email, PASSWORD)
    assert statuses == [401] * (settings.login_attempts + 2)  # fails open, never 500
    assert signed_in.status_code == 200, signed_in.text
