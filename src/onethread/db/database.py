"""Engines and sessions. Nothing connects at import; ``Database`` is built by the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from onethread.db.failures import is_lost_race
from onethread.db.group_commit import BatchStep, GroupCommit
from onethread.db.sqlite_inline import inline_connector

T = TypeVar("T")

# Session.info keys: events appended in a unit of work, and who publishes them after commit.
PENDING_EVENTS_KEY = "onethread.pending_events"
PUBLISHER_KEY = "onethread.publisher"

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
)


def _prepare_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself so that writers can take the lock up front.
        if dbapi_connection.isolation_level is not None:
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        # A deferred transaction that reads then writes fails at once with SQLITE_BUSY
        # when another writer committed in between; IMMEDIATE waits on busy_timeout instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


async def connect_or_unavailable(*args: Any, **kwargs: Any) -> Any:
    """``asyncpg.connect``, with a server that cannot be reached reported as a database error.

    asyncpg raises the socket's ``OSError`` when nothing listens, which SQLAlchemy passes
    through unwrapped; as a connection failure (SQLSTATE 08006) it becomes a ``DBAPIError``
    that the API answers with 503 (``api/errors.py``).
    """
    import asyncpg

    try:
        return await asyncpg.connect(*args, **kwargs)
    except (OSError, TimeoutError) as exc:
        raise asyncpg.exceptions.ConnectionFailureError(
            f"cannot reach the database: {exc}"
        ) from exc


@asynccontextmanager
async def _unit_of_work(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


class Database:
    """A writer engine and, on SQLite, a separate reader engine so reads never queue."""

    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 10
    ) -> None:
        """``pool_size`` and ``max_overflow``: PostgreSQL connections per process, kept
        and on demand (docs/deploy.md sizes them against the server's ``max_connections``)."""
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            # One writer connection, inline on the event loop (sqlite_inline.py): SQLite
            # admits one writer at a time anyway, and queueing here hands over at once
            # where busy_timeout polls with sleeps of up to 100 ms.
            self.engine = create_async_engine(
                url,
                echo=echo,
                pool_size=1,
                max_overflow=0,
                pool_timeout=10,
                async_creator=inline_connector(database or ":memory:"),
            )
            _prepare_sqlite(self.engine, immediate=True)
            self.read_engine = create_async_engine(url, echo=echo, pool_size=4, max_overflow=8)
            _prepare_sqlite(self.read_engine, immediate=False)
            self.lease_engine = self.engine  # one writer: renewals queue like any write
        else:
            # pre-ping: a connection the server dropped (a restart) is replaced on checkout.
            self.engine = create_async_engine(
                url,
                echo=echo,
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_pre_ping=True,
                connect_args={"async_creator_fn": connect_or_unavailable},
            )
            self.read_engine = self.engine
            # The queue's lease renewals on a connection of their own: a worker running a
            # batch bigger than the pool must not let its leases lapse waiting behind it.
            self.lease_engine = create_async_engine(
                url,
                echo=echo,
                pool_size=1,
                max_overflow=1,
                pool_pre_ping=True,
                connect_args={"async_creator_fn": connect_or_unavailable},
            )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self.lease_sessions = async_sessionmaker(self.lease_engine, expire_on_commit=False)
        # SQLite has one writer: one batch at a time. PostgreSQL overlaps a few.
        self.group_commit = GroupCommit(self.sessions, in_flight=1 if self.is_sqlite else 4)

    def set_publisher(self, publisher: Callable[[list[dict[str, Any]]], None]) -> None:
        """Events committed through these sessions are handed to ``publisher`` after commit."""
        for factory in (self.sessions, self.read_sessions):
            factory.configure(info={PUBLISHER_KEY: publisher})

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A unit of work for writes: committed on success, rolled back on error."""
        return _unit_of_work(self.sessions)

    async def write(self, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 3) -> T:
        """Run ``work`` in a unit of work, again from scratch if a unique index refused it.

        Two deliveries racing to create the same row (a message id, a contact's one open
        thread) are settled by the database; the loser re-reads and finds the winner's row.
        A deadlock's victim runs again too.
        """
        for attempt in range(1, attempts + 1):
            try:
                async with self.session() as session:
                    return await work(session)
            except Exception as exc:
                if attempt == attempts or not is_lost_race(exc):
                    raise
        raise AssertionError("unreachable")

    async def write_grouped(
        self,
        work: Callable[[AsyncSession], Awaitable[T]],
        *,
        step: BatchStep | None = None,
        payload: Any = None,
    ) -> T:
        """``write``, sharing a transaction with the units of work queued at the same time.

        For many small, independent writes arriving together (webhooks): the result comes
        once the shared transaction has committed; a unit that fails fails alone. A
        ``step`` does the units' shared part at once (``db/group_commit.py``).
        """
        return await self.group_commit.run(work, step=step, payload=payload)

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        async with self.read_sessions() as session:
            yield session

    def lease_session(self) -> AbstractAsyncContextManager[AsyncSession]:
        """``session`` on the lease connection (``outbox.actions.extend_lease``)."""
        return _unit_of_work(self.lease_sessions)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.lease_engine is not self.engine:
            await self.lease_engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
