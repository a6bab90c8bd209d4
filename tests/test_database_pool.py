"""The PostgreSQL pool of each process is sized by settings (docs/deploy.md)."""

from __future__ import annotations

import pytest

from onethread.db.database import Database
from onethread.settings import Settings
from tests.conftest import POSTGRES_URL


def test_the_pool_settings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONETHREAD_DB_POOL_SIZE", "3")
    monkeypatch.setenv("ONETHREAD_DB_MAX_OVERFLOW", "2")
    settings = Settings()
    assert (settings.db_pool_size, settings.db_max_overflow) == (3, 2)


@pytest.mark.skipif(POSTGRES_URL is None, reason="ONETHREAD_TEST_POSTGRES_URL is not set")
async def test_the_engine_is_built_with_the_pool_it_was_given() -> None:
    assert POSTGRES_URL is not None
    db = Database(POSTGRES_URL, pool_size=2, max_overflow=1)
    try:
        pool = db.engine.pool
        assert pool.size() == 2  # type: ignore[attr-defined]
        assert pool._max_overflow == 1  # type: ignore[attr-defined]
    finally:
        await db.dispose()
