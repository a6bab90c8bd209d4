"""Liveness, readiness and settings."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import httpx
import pytest

from onethread.events.bus import RedisBus
from onethread.main import create_app
from onethread.settings import Settings
from tests.conftest import Harness


async def test_healthz_and_readyz_without_a_worker(harness: Harness) -> None:
    assert (await harness.client.get("/healthz")).json() == {"status": "ok"}
    response = await harness.client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"]
    assert checks["migrations"]["ok"]
    assert checks["worker"] == {"ok": False, "live": 0}


async def test_readyz_is_ready_with_the_in_process_worker(settings: Settings) -> None:
    app = create_app(settings, run_worker=True, auto_migrate=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(50):
                response = await client.get("/readyz")
                if response.status_code == 200:
                    break
                await asyncio.sleep(0.1)
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["worker"]["live"] >= 1


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ONETHREAD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ONETHREAD_PUBLIC_URL", "https://support.example.com")
    monkeypatch.setenv("ONETHREAD_PORT", "9000")
    settings = Settings()
    assert (
        settings.resolved_database_url
        == f"sqlite+aiosqlite:///{(tmp_path / 'onethread.db').resolve()}"
    )
    assert settings.port == 9000
    assert (
        settings.public_path_url("/webhooks/whatsapp/3")
        == "https://support.example.com/webhooks/whatsapp/3"
    )


def test_a_missing_secret_key_is_generated_once_and_kept(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        first = Settings(data_dir=tmp_path, secret_key=None).effective_secret_key
    assert "ONETHREAD_SECRET_KEY is not set" in caplog.text
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        second = Settings(data_dir=tmp_path, secret_key=None).effective_secret_key
    assert second == first
    assert caplog.text == ""


REDIS_URL = os.environ.get("ONETHREAD_TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="ONETHREAD_TEST_REDIS_URL is not set")
async def test_events_cross_processes_through_redis() -> None:
    assert REDIS_URL is not None
    sender, receiver = RedisBus(REDIS_URL), RedisBus(REDIS_URL)
    await sender.start()
    await receiver.start()
    subscription = receiver.subscribe()
    try:
        await asyncio.sleep(0.2)  # let the listener subscribe
        sender.publish([{"id": 1, "type": "message.received", "workspace_id": 7}])
        event = await asyncio.wait_for(subscription.queue.get(), timeout=5)
        assert event == {"id": 1, "type": "message.received", "workspace_id": 7}
    finally:
        subscription.close()
        await sender.stop()
        await receiver.stop()
