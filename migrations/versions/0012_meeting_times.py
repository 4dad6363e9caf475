"""meeting times: members' working hours, suggested slots and the picked time of a group
(with its version), and who paid for a least-bad slot (the programme's auto-schedule is
a field of its settings document, no column)

Revision ID: 0012
Revises: 0015
Create Date: 2026-11-30 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types
from migrations.ops import drop_columns

revision: str = "0012"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): members and pair_groups are parent tables, and on
    # SQLite a batch copy would cascade-delete their children.
    op.add_column(
        "members",
        sa.Column("work_start_minute", sa.Integer(), server_default="540", nullable=False),
    )
    op.add_column(
        "members",
        sa.Column("work_end_minute", sa.Integer(), server_default="1020", nullable=False),
    )
    op.add_column(
        "members",
        sa.Column("work_days", sa.JSON(), server_default="[0, 1, 2, 3, 4]", nullable=False),
    )
    op.add_column(
        "members", sa.Column("no_meeting_days", sa.JSON(), server_default="[]", nullable=False)
    )
    op.add_column("pair_groups", sa.Column("slots", sa.JSON(), server_default="[]", nullable=False))
    op.add_column(
        "pair_groups",
        sa.Column("picked_start", db.types.UtcDateTime(timezone=True), nullable=True),
    )
    op.add_column("pair_groups", sa.Column("picked_by", sa.String(length=32), nullable=True))
    op.add_column(
        "pair_groups", sa.Column("picked_at", db.types.UtcDateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "pair_groups",
        sa.Column("pick_version", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "pair_groups",
        sa.Column("auto_picked_at", db.types.UtcDateTime(timezone=True), nullable=True),
    )
    op.add_column("group_seats", sa.Column("slot_cost", sa.String(length=8), nullable=True))


def downgrade() -> None:
    drop_columns("group_seats", "slot_cost")
    drop_columns(
        "pair_groups",
        "auto_picked_at",
        "pick_version",
        "picked_at",
        "picked_by",
        "picked_start",
        "slots",
    )
    drop_columns("members", "no_meeting_days", "work_days", "work_end_minute", "work_start_minute")
