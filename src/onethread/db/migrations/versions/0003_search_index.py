"""trigram search index over message text and contact name, email and phone

``GET /conversations?q=`` is a case-insensitive substring match, which no B-tree can
serve. SQLite gets FTS5 tables with the trigram tokenizer (3.34+) over the rows of
``messages`` and ``contacts`` (external content: the index stores no second copy of the
text), kept in sync by triggers and filled from the existing rows here. PostgreSQL gets
``pg_trgm`` GIN indexes, which ``ILIKE '%…%'`` uses as it is.

None of this is in the ORM models; ``onethread.conversations.search`` names it for the
model comparison. On SQLite, a later migration that rebuilds ``messages`` or
``contacts`` (batch mode copies and drops the table) drops these triggers: recreate them
and ``rebuild`` the index, which must hold exactly what the table holds.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# FTS table -> (content table, indexed columns)
FTS_TABLES = {
    "messages_search": ("messages", ("text",)),
    "contacts_search": ("contacts", ("name", "email", "phone")),
}
TRIGRAM_INDEXES = {
    "ix_messages_text_trgm": ("messages", "text"),
    "ix_contacts_name_trgm": ("contacts", "name"),
    "ix_contacts_email_trgm": ("contacts", "email"),
    "ix_contacts_phone_trgm": ("contacts", "phone"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _require_sqlite_trigram()
        for fts, (content, columns) in FTS_TABLES.items():
            _create_fts(fts, content, columns)
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, (table, column) in TRIGRAM_INDEXES.items():
            op.create_index(
                name,
                table,
                [column],
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
                # A short pending list (kB): every search scans it until it is merged, and
                # the planner shuns an index with a long one; none at all slows writers.
                postgresql_with={"fastupdate": "on", "gin_pending_list_limit": "256"},
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for fts, (content, _columns) in FTS_TABLES.items():
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {content}_search_{event}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    else:
        for name, (table, _column) in TRIGRAM_INDEXES.items():
            op.drop_index(name, table_name=table)
        # Only if nothing else in the database uses it: an extension is database-wide.
        op.execute(
            "DO $$ BEGIN DROP EXTENSION IF EXISTS pg_trgm; "
            "EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END $$"
        )


def _require_sqlite_trigram() -> None:
    version = op.get_bind().exec_driver_sql("SELECT sqlite_version()").scalar_one()
    if tuple(int(part) for part in str(version).split(".")[:2]) < (3, 34):
        raise RuntimeError(
            f"SQLite {version} has no FTS5 trigram tokenizer; the search index needs 3.34 or later"
        )


def _create_fts(fts: str, content: str, columns: tuple[str, ...]) -> None:
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    # columnsize=0: no per-row size table, which only ranking would read.
    op.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{content}', "
        "content_rowid='id', tokenize='trigram', columnsize=0)"
    )
    # External content: the index is told the old values to remove, so they must be exact.
    add = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new});"
    remove = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
    op.execute(f"CREATE TRIGGER {content}_search_insert AFTER INSERT ON {content} BEGIN {add} END")
    op.execute(
        f"CREATE TRIGGER {content}_search_delete AFTER DELETE ON {content} BEGIN {remove} END"
    )
    op.execute(
        f"CREATE TRIGGER {content}_search_update AFTER UPDATE OF {names} ON {content} "
        f"BEGIN {remove} {add} END"
    )
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
