"""slack roles: whether Slack said a person is a workspace admin or owner, and when

An App Home open reads the recorded answer instead of calling users.info; `user_change`
events keep it current. Downgrade drops the table (the App Home asks users.info again).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("checked_at", db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_slack_roles_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_roles")),
        sa.UniqueConstraint(
            "workspace_id", "slack_user_id", name=op.f("uq_slack_roles_workspace_id_slack_user_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("slack_roles")
