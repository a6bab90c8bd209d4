"""the reports' projection of the event log

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 16:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onethread.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_conversations",
        sa.Column("conversation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("previous_conversation_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("first_resolved_at", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", sa.BigInteger(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("inbox_id", sa.BigInteger(), nullable=True),
        sa.Column("team_id", sa.BigInteger(), nullable=True),
        sa.Column("agent_id", sa.BigInteger(), nullable=True),
        sa.Column("topic", sa.String(length=100), nullable=True),
        sa.Column("domain", sa.String(length=16), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("handler", sa.String(length=16), nullable=False),
        sa.Column("messages_received", sa.Integer(), nullable=False),
        sa.Column("first_response_s", sa.Float(), nullable=True),
        sa.Column("first_response_bh_s", sa.Float(), nullable=True),
        sa.Column("first_human_response_s", sa.Float(), nullable=True),
        sa.Column("first_human_response_bh_s", sa.Float(), nullable=True),
        sa.Column("handle_s", sa.Float(), nullable=True),
        sa.Column("handle_bh_s", sa.Float(), nullable=True),
        sa.Column("reopens", sa.Integer(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("ai_involved", sa.Boolean(), nullable=False),
        sa.Column("ai_resolved", sa.Boolean(), nullable=False),
        sa.Column("handoff_reason", sa.String(length=100), nullable=True),
        sa.Column("handoff_pickup_s", sa.Float(), nullable=True),
        sa.Column("handoff_pickup_bh_s", sa.Float(), nullable=True),
        sa.Column("restated", sa.Boolean(), nullable=True),
        sa.Column("csat_score", sa.Integer(), nullable=True),
        sa.Column("csat_at", sa.BigInteger(), nullable=True),
        sa.Column("csat_handler", sa.String(length=16), nullable=True),
        sa.Column("nps_score", sa.Integer(), nullable=True),
        sa.Column("nps_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_report_conversations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_report_conversations")),
    )
    with op.batch_alter_table("report_conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_conversations_contact",
            ["contact_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_report_conversations_created", ["workspace_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_report_conversations_csat", ["workspace_id", "csat_at"], unique=False
        )
        batch_op.create_index(
            "ix_report_conversations_nps", ["workspace_id", "nps_at"], unique=False
        )
        batch_op.create_index(
            "ix_report_conversations_resolved", ["workspace_id", "resolved_at"], unique=False
        )
    op.create_table(
        "report_cursor",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", onethread.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_report_cursor_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_report_cursor")),
    )
    op.create_table(
        "report_customers",
        sa.Column("contact_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("customer_since", sa.String(length=10), nullable=False),
        sa.Column("churned_at", sa.String(length=10), nullable=True),
        sa.Column("plan", sa.String(length=100), nullable=True),
        sa.Column("monthly_revenue", sa.Float(), nullable=True),
        sa.Column("lifetime_revenue", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_report_customers_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_report_customers")),
    )
    with op.batch_alter_table("report_customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_customers_since", ["workspace_id", "customer_since"], unique=False
        )
    op.create_table(
        "report_spans",
        sa.Column("conversation_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("episode", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_report_spans_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "episode", name=op.f("pk_report_spans")),
    )
    with op.batch_alter_table("report_spans", schema=None) as batch_op:
        batch_op.create_index("ix_report_spans_closed", ["workspace_id", "closed_at"], unique=False)
        batch_op.create_index("ix_report_spans_opened", ["workspace_id", "opened_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("report_spans", schema=None) as batch_op:
        batch_op.drop_index("ix_report_spans_opened")
        batch_op.drop_index("ix_report_spans_closed")
    op.drop_table("report_spans")
    with op.batch_alter_table("report_customers", schema=None) as batch_op:
        batch_op.drop_index("ix_report_customers_since")
    op.drop_table("report_customers")
    op.drop_table("report_cursor")
    with op.batch_alter_table("report_conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_report_conversations_resolved")
        batch_op.drop_index("ix_report_conversations_nps")
        batch_op.drop_index("ix_report_conversations_csat")
        batch_op.drop_index("ix_report_conversations_created")
        batch_op.drop_index("ix_report_conversations_contact")
    op.drop_table("report_conversations")
