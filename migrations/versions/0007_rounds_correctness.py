"""rounds correctness: one round at a time, schedule changes, undelivered intros, guests

Revision ID: 0007
Revises: 0010
Create Date: 2026-11-30 21:00:00

Upgrade: workspaces gain include_guests (false), last_round_started_at (filled from each
workspace's newest round, so the "a round started moments ago" rule holds across the
upgrade), schedule_changed_at, delivery_blocked_at and delivery_blocked_error; pair_groups
gain undelivered_at. Downgrade drops them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types
from migrations.ops import drop_columns

revision: str = "0007"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): on SQLite a batch copy of `workspaces` drops the old
    # table, and with foreign keys on that deletes every member of it (migrations/ops.py).
    op.add_column(
        "workspaces",
        sa.Column("include_guests", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    for name in ("last_round_started_at", "schedule_changed_at", "delivery_blocked_at"):
        op.add_column(
            "workspaces", sa.Column(name, db.types.UtcDateTime(timezone=True), nullable=True)
        )
    op.add_column("workspaces", sa.Column("delivery_blocked_error", sa.String(32), nullable=True))
    op.add_column(
        "pair_groups",
        sa.Column("undelivered_at", db.types.UtcDateTime(timezone=True), nullable=True),
    )
    workspaces = sa.table(
        "workspaces", sa.column("id", sa.Integer), sa.column("last_round_started_at")
    )
    rounds = sa.table("rounds", sa.column("workspace_id", sa.Integer), sa.column("started_at"))
    newest = (
        sa.select(sa.func.max(rounds.c.started_at))
        .where(rounds.c.workspace_id == workspaces.c.id)
        .scalar_subquery()
    )
    op.execute(workspaces.update().values(last_round_started_at=newest))


def downgrade() -> None:
    drop_columns("pair_groups", "undelivered_at")
    drop_columns(
        "workspaces",
        "delivery_blocked_error",
        "delivery_blocked_at",
        "schedule_changed_at",
        "last_round_started_at",
        "include_guests",
    )
