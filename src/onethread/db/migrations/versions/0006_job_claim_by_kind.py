"""index jobs for claiming one kind first

The worker claims delivery jobs before any other kind each round, so that a reply never
waits behind a backlog of assistant turns; this index serves that claim.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 14:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_claim_kind", ["status", "kind", "run_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_claim_kind")
