"""index verified identity lookups by phone and email

Linking a first-time sender to an existing contact looks identities up by phone or
email; without these indexes every new sender scanned the workspace's identities.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_identities", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_identities_workspace_id_phone", ["workspace_id", "phone"], unique=False
        )
        batch_op.create_index(
            "ix_contact_identities_workspace_id_email", ["workspace_id", "email"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_identities", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_identities_workspace_id_email")
        batch_op.drop_index("ix_contact_identities_workspace_id_phone")
