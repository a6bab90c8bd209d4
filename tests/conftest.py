"""Every database test runs on SQLite, and again on PostgreSQL when
ONETHREAD_TEST_POSTGRES_URL is set (``.ci/run`` sets it to the local server)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from onethread.api.context import AppContext
from onethread.db import migrate
from onethread.db.database import Database
from onethread.main import create_app
from onethread.models import Base
from onethread.settings import Settings

POSTGRES_URL = os.environ.get("ONETHREAD_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
SHARED = Path(__file__).resolve().parents[2] / "shared"


@asynccontextmanager
async def scratch_postgres_database(base_url: str) -> AsyncIterator[str]:
    """A fresh database next to ``base_url``'s, dropped afterwards: runs never collide."""
    base = make_url(base_url)
    name = f"{base.database}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@asynccontextmanager
async def fresh_database_url(backend: str, directory: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database of ``backend``, gone afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'onethread.db'}"
        return
    assert POSTGRES_URL is not None
    async with scratch_postgres_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture(params=BACKENDS)
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database with nothing in it, not even migrations, on each backend."""
    async with fresh_database_url(request.param, tmp_path) as url:
        db = Database(url)
        try:
            yield db
        finally:
            await db.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A database migrated from empty, once per backend and test session."""
    async with fresh_database_url(request.param, tmp_path_factory.mktemp("db")) as url:
        db = Database(url)
        await migrate.upgrade(db.engine)
        await db.dispose()
        yield url


async def truncate_all(db: Database) -> None:
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with db.engine.begin() as connection:
        if db.is_sqlite:
            for name in tables:
                await connection.execute(text(f"DELETE FROM {name}"))
        else:
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="test-secret-key",
        public_url="https://onethread.test",
        login_attempts=5,
        login_window_seconds=60,
    )


@dataclass
class Harness:
    """A running app on a clean database, and an HTTP client speaking to it in-process."""

    app: FastAPI
    app_context: AppContext
    client: httpx.AsyncClient

    @property
    def db(self) -> Database:
        return self.app_context.db


@pytest.fixture
async def harness(settings: Settings) -> AsyncIterator[Harness]:
    app = create_app(settings, auto_migrate=False)
    async with app.router.lifespan_context(app):
        context: AppContext = app.state.context
        await truncate_all(context.db)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Harness(app, context, client)
