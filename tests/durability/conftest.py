"""Settings for tests that run real processes on PostgreSQL (and Redis when configured)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from onethread.db import migrate
from onethread.db.database import Database
from onethread.settings import Settings
from tests.conftest import POSTGRES_URL, scratch_postgres_database
from tests.durability.provider import CountingGraphApi

REDIS_URL = os.environ.get("ONETHREAD_TEST_REDIS_URL")
LEASE_SECONDS = 3


def process_settings(database_url: str, data_dir: Path, redis_url: str | None) -> Settings:
    """What every process of a test shares: a short job lease, quick polling."""
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=data_dir,
        secret_key="durability-secret-key",
        public_url="https://onethread.test",
        job_lease_seconds=LEASE_SECONDS,
        worker_poll_seconds=0.2,
        encoder="lexical",
    )


async def migrated(url: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db.engine)
    finally:
        await db.dispose()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database on the configured server."""
    if not POSTGRES_URL:
        pytest.skip("ONETHREAD_TEST_POSTGRES_URL is not set: these tests need PostgreSQL")
    async with scratch_postgres_database(POSTGRES_URL) as url:
        await migrated(url)
        yield url


@pytest.fixture
def graph() -> Iterator[CountingGraphApi]:
    with CountingGraphApi() as fake:
        yield fake
