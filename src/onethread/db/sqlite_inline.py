"""A SQLite connection for SQLAlchemy's aiosqlite dialect that runs on the event loop.

aiosqlite sends every cursor operation to its own thread and back: about four round
trips per statement, which cost more than SQLite's work for the short statements of
a unit of work (measured in docs/benchmarks.md). The writer engine uses this shim
instead, so its statements run inline; the reader engine keeps aiosqlite's thread, so
a long read never holds up the loop. A writer can still wait on another process's
lock for up to ``busy_timeout``: the embedded deployment is one process.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any


class InlineCursor:
    """The coroutine API of ``aiosqlite.Cursor`` over a plain ``sqlite3.Cursor``."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    """The parts of ``aiosqlite.Connection`` that SQLAlchemy's dialect calls."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection

    @property
    def _live(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        return self._live.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._live.cursor())

    async def commit(self) -> None:
        self._live.commit()

    async def rollback(self) -> None:
        self._live.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._live.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def inline_connector(path: str) -> Any:
    """An ``async_creator`` for ``create_async_engine``: autocommit mode, as aiosqlite's
    connections are after ``isolation_level = None`` (SQLAlchemy emits BEGIN itself)."""

    async def connect() -> InlineConnection:
        return InlineConnection(
            sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        )

    return connect
