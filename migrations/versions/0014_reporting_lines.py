"""reporting lines: the imported org chart (person, manager as Slack user ids) and the
programme's hard matching rules (reporting line, skip-level, same team, shared hours)

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-30 23:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types
from migrations.ops import drop_columns

revision: str = "0014"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reporting_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("manager_user_id", sa.String(length=32), nullable=False),
        sa.Column("imported_at", db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_reporting_lines_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporting_lines")),
        sa.UniqueConstraint(
            "workspace_id",
            "slack_user_id",
            "manager_user_id",
            name=op.f("uq_reporting_lines_workspace_id_slack_user_id_manager_user_id"),
        ),
    )
    # Plain add_column: a batch copy of workspaces would cascade-delete on SQLite.
    op.add_column(
        "workspaces",
        sa.Column(
            "never_pair_reporting_line", sa.Boolean(), server_default=sa.true(), nullable=False
        ),
    )
    op.add_column(
        "workspaces",
        sa.Column("never_pair_skip_level", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "workspaces",
        sa.Column("avoid_same_team", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "workspaces",
        sa.Column("min_shared_hours", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    drop_columns(
        "workspaces",
        "min_shared_hours",
        "avoid_same_team",
        "never_pair_skip_level",
        "never_pair_reporting_line",
    )
    op.drop_table("reporting_lines")
