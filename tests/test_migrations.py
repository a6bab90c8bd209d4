"""Migrations build the schema from empty on each backend, and match the models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from onethread.conversations.search import include_name
from onethread.db import migrate
from onethread.db.database import Database
from onethread.models import Base


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        names: list[str] = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return {name for name in names if include_name(name, "table", {})} - {"alembic_version"}


async def test_upgrade_from_empty_down_to_base_and_up_again(empty_database: Database) -> None:
    assert await _tables(empty_database) == set()
    await migrate.upgrade(empty_database.engine)
    assert await _tables(empty_database) == set(Base.metadata.tables)
    assert await migrate.current_revision(empty_database.engine) == migrate.head_revision()
    await migrate.downgrade(empty_database.engine, "base")
    assert await _tables(empty_database) == set()
    await migrate.upgrade(empty_database.engine)
    assert await _tables(empty_database) == set(Base.metadata.tables)


async def test_the_migrated_schema_matches_the_models(empty_database: Database) -> None:
    await migrate.upgrade(empty_database.engine)

    def differences(connection: Connection) -> list[Any]:
        opts = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(context, Base.metadata))

    async with empty_database.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}")
    try:
        async with db.engine.connect() as connection:
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        assert (journal, foreign_keys) == ("wal", 1)
    finally:
        await db.dispose()
