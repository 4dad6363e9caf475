"""reporting lines: the imported org chart (person, manager as Slack user ids)

The programme's hard matching rules (reporting line, skip-level, same team, shared hours) are
fields of its settings document (programmes.settings): programmes stored before read their
defaults, so they need no migration.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 23:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0014"
down_revision: str | None = "0013"
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


def downgrade() -> None:
    op.drop_table("reporting_lines")
