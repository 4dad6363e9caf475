"""formats: coaching circles kept for a season, keep-meeting wishes, rescued chats

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 23:50:00

Upgrade: rounds gain season and session; pair_groups gain
circle_id, kept_from_id and rescue (false); group_seats gain rescued_at; new tables circles,
circle_seats (per programme) and keep_meetings. The new settings (format, season_sessions,
circle_size, keep_meeting_max) live in programmes.settings and read their defaults from
ProgramSettings, so they need no column. Nothing existing changes meaning. Downgrade drops
them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types
from migrations.ops import drop_columns

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, db.types.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Plain ADD COLUMN on parent tables (migrations/ops.py: a batch copy would cascade).
    op.add_column("rounds", sa.Column("season", sa.Integer(), nullable=True))
    op.add_column("rounds", sa.Column("session", sa.Integer(), nullable=True))
    op.add_column("pair_groups", sa.Column("circle_id", sa.Integer(), nullable=True))
    op.add_column("pair_groups", sa.Column("kept_from_id", sa.Integer(), nullable=True))
    op.add_column(
        "pair_groups",
        sa.Column("rescue", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("group_seats", _when("rescued_at"))
    op.create_table(
        "circles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        _when("formed_at", nullable=False),
        _when("merged_at"),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_circles_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_circles_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circles")),
        sa.UniqueConstraint(
            "programme_id", "season", "number", name=op.f("uq_circles_programme_id_season_number")
        ),
    )
    op.create_table(
        "circle_seats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        _when("joined_at", nullable=False),
        _when("left_at"),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circles.id"],
            name=op.f("fk_circle_seats_circle_id_circles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_circle_seats_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_circle_seats_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_circle_seats_programme_id_programmes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circle_seats")),
        sa.UniqueConstraint(
            "programme_id",
            "season",
            "member_id",
            name=op.f("uq_circle_seats_programme_id_season_member_id"),
        ),
    )
    op.create_index(op.f("ix_circle_seats_circle_id"), "circle_seats", ["circle_id"])
    op.create_index(op.f("ix_circle_seats_member_id"), "circle_seats", ["member_id"])
    op.create_table(
        "keep_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        _when("chosen_at", nullable=False),
        _when("ended_at"),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["pair_groups.id"],
            name=op.f("fk_keep_meetings_group_id_pair_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_keep_meetings_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_keep_meetings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keep_meetings")),
        sa.UniqueConstraint(
            "group_id", "member_id", name=op.f("uq_keep_meetings_group_id_member_id")
        ),
    )
    op.create_index(op.f("ix_keep_meetings_member_id"), "keep_meetings", ["member_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_keep_meetings_member_id"), table_name="keep_meetings")
    op.drop_table("keep_meetings")
    op.drop_index(op.f("ix_circle_seats_member_id"), table_name="circle_seats")
    op.drop_index(op.f("ix_circle_seats_circle_id"), table_name="circle_seats")
    op.drop_table("circle_seats")
    op.drop_table("circles")
    drop_columns("group_seats", "rescued_at")
    drop_columns("pair_groups", "rescue", "kept_from_id", "circle_id")
    drop_columns("rounds", "session", "season")
