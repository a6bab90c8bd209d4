"""conversations: a covering index for the inbox's view counts

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 17:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["workspace_id", "team_id", "merged_into_id", "status", "assignee_id", "handler"]


def upgrade() -> None:
    op.create_index("ix_conversations_counts", "conversations", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_conversations_counts", table_name="conversations")
