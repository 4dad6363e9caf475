"""programmes: a workspace runs any number of programmes; members, rounds, owners and settings
changes belong to one

Upgrade: creates `programmes`; each workspace gets one programme (named "PeerCoach") holding
its current settings (cadence, day, hour, time zone, group size, matching rules, prompt
themes, retention, agreement, guest policy) as one JSON document, its agreement version and
its round-start state; every member, round, added admin and settings change is stamped with
it (Slack admins' rows stay workspace-wide: programme_id NULL). Members become memberships,
unique per (programme, person); rounds unique per (programme, period). The settings columns
leave `workspaces`. Nothing is lost.

Downgrade: only when every workspace has at most one programme (it raises otherwise, changing
nothing): the settings go back onto `workspaces` and the programme columns and table go.

SQLite: `members` and `rounds` are parents of other tables, so their rebuild (new unique
keys) runs with foreign keys off (migrations.ops.foreign_keys_off); otherwise dropping the
old table would cascade and delete every row that points at it.

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-30 23:30:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import db.types
from migrations.ops import drop_columns, foreign_keys_off

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_NAME = "PeerCoach"
# The workspace columns that become the programme's settings document: (column, type, default
# when re-added by the downgrade).
SETTINGS_COLUMNS: tuple[tuple[str, Any, str | None], ...] = (
    ("cadence_weeks", sa.Integer(), "1"),
    ("day_of_week", sa.Integer(), "0"),
    ("hour", sa.Integer(), "9"),
    ("timezone", sa.String(64), "UTC"),
    ("group_size", sa.Integer(), "2"),
    ("repeat_window", sa.Integer(), None),
    ("level_weight", sa.Double(), "1"),
    ("goal_weight", sa.Double(), "1"),
    ("tz_weight", sa.Double(), "1"),
    ("cross_team_weight", sa.Double(), "0"),
    ("prompt_themes", sa.JSON(), "[]"),
    ("retention_months", sa.Integer(), "12"),
    ("agreement_text", sa.String(1000), None),
    ("include_guests", sa.Boolean(), None),
    ("pulse_every_cycles", sa.Integer(), "4"),
)
STATE_COLUMNS = ("agreement_version", "last_round_started_at", "schedule_changed_at")
WEIGHTS = {
    "level_weight": "prefer_same_level",
    "goal_weight": "prefer_shared_goals",
    "tz_weight": "prefer_tz_overlap",
    "cross_team_weight": "prefer_cross_team",
}


def _settings_from(row: Any) -> dict[str, Any]:
    """The ProgramSettings document of a workspace row (bot.domain.programme.to_stored)."""
    themes = row.prompt_themes
    if isinstance(themes, str):
        themes = json.loads(themes)
    return {
        "cadence_weeks": row.cadence_weeks,
        "day_of_week": row.day_of_week,
        "hour": row.hour,
        "timezone": row.timezone,
        "group_size": row.group_size,
        "repeat_window": row.repeat_window,
        **{flag: (getattr(row, column) or 0) > 0 for column, flag in WEIGHTS.items()},
        "prompt_themes": list(themes or []),
        "retention_months": row.retention_months,
        "agreement_text": row.agreement_text or "",
        "include_guests": bool(row.include_guests),
        "pulse_every_cycles": row.pulse_every_cycles,
    }


def upgrade() -> None:
    op.create_table(
        "programmes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=300), server_default="", nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("is_open", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("agreement_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("last_round_started_at", db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("schedule_changed_at", db.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_programmes_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programmes")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_programmes_workspace_id_name")),
    )
    bind = op.get_bind()
    columns = [c for c, _, _ in SETTINGS_COLUMNS] + list(STATE_COLUMNS)
    workspaces = sa.table(
        "workspaces",
        sa.column("id", sa.Integer),
        sa.column("created_at", db.types.UtcDateTime(timezone=True)),
        *(sa.column(c, t) for c, t, _ in SETTINGS_COLUMNS),
        sa.column("agreement_version", sa.Integer),
        sa.column("last_round_started_at", db.types.UtcDateTime(timezone=True)),
        sa.column("schedule_changed_at", db.types.UtcDateTime(timezone=True)),
    )
    programmes = sa.table(
        "programmes",
        sa.column("id", sa.Integer),
        sa.column("workspace_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("description", sa.String),
        sa.column("settings", sa.JSON),
        sa.column("is_open", sa.Boolean),
        sa.column("created_at", db.types.UtcDateTime(timezone=True)),
        sa.column("agreement_version", sa.Integer),
        sa.column("last_round_started_at", db.types.UtcDateTime(timezone=True)),
        sa.column("schedule_changed_at", db.types.UtcDateTime(timezone=True)),
    )
    for row in bind.execute(sa.select(workspaces)).all():
        bind.execute(
            programmes.insert().values(
                workspace_id=row.id,
                name=FIRST_NAME,
                description="",
                settings=_settings_from(row),
                is_open=True,
                created_at=row.created_at,
                agreement_version=row.agreement_version,
                last_round_started_at=row.last_round_started_at,
                schedule_changed_at=row.schedule_changed_at,
            )
        )
    with foreign_keys_off():
        for table, nullable in (
            ("members", False),
            ("rounds", False),
            ("program_admins", True),
            ("settings_changes", False),
        ):
            op.add_column(table, sa.Column("programme_id", sa.Integer(), nullable=True))
            stamp = sa.table(
                table,
                sa.column("workspace_id", sa.Integer),
                sa.column("programme_id", sa.Integer),
                *((sa.column("source", sa.String),) if table == "program_admins" else ()),
            )
            first = (
                sa.select(sa.func.min(programmes.c.id))
                .where(programmes.c.workspace_id == stamp.c.workspace_id)
                .scalar_subquery()
            )
            update = stamp.update().values(programme_id=first)
            if table == "program_admins":
                # Slack admins run every programme; added admins own the first one.
                update = update.where(stamp.c.source != "slack_admin")
            op.execute(update)
            with op.batch_alter_table(table) as batch_op:
                batch_op.alter_column("programme_id", existing_type=sa.Integer(), nullable=nullable)
                batch_op.create_foreign_key(
                    op.f(f"fk_{table}_programme_id_programmes"),
                    "programmes",
                    ["programme_id"],
                    ["id"],
                    ondelete="CASCADE",
                )
                if table == "members":
                    batch_op.drop_constraint(
                        "uq_members_workspace_id_slack_user_id", type_="unique"
                    )
                    batch_op.create_unique_constraint(
                        op.f("uq_members_programme_id_slack_user_id"),
                        ["programme_id", "slack_user_id"],
                    )
                    batch_op.create_index(
                        op.f("ix_members_programme_id"), ["programme_id"], unique=False
                    )
                elif table == "rounds":
                    batch_op.drop_constraint("uq_rounds_workspace_id_period_key", type_="unique")
                    batch_op.create_unique_constraint(
                        op.f("uq_rounds_programme_id_period_key"), ["programme_id", "period_key"]
                    )
                elif table == "program_admins":
                    batch_op.drop_constraint(
                        "uq_program_admins_workspace_id_slack_user_id", type_="unique"
                    )
                    batch_op.create_unique_constraint(
                        op.f("uq_program_admins_workspace_id_slack_user_id_programme_id"),
                        ["workspace_id", "slack_user_id", "programme_id"],
                    )
    drop_columns("workspaces", *columns)


def downgrade() -> None:
    bind = op.get_bind()
    programmes = sa.table(
        "programmes",
        sa.column("id", sa.Integer),
        sa.column("workspace_id", sa.Integer),
        sa.column("settings", sa.JSON),
        sa.column("agreement_version", sa.Integer),
        sa.column("last_round_started_at", db.types.UtcDateTime(timezone=True)),
        sa.column("schedule_changed_at", db.types.UtcDateTime(timezone=True)),
    )
    several = bind.execute(
        sa.select(programmes.c.workspace_id)
        .group_by(programmes.c.workspace_id)
        .having(sa.func.count() > 1)
    ).first()
    if several is not None:
        raise RuntimeError(
            "Downgrading below 0013 keeps one programme per workspace: workspace "
            f"{several[0]} has several. Delete all but one of its programmes first."
        )
    for name, type_, default in SETTINGS_COLUMNS:
        if name == "include_guests":
            column = sa.Column(name, type_, server_default=sa.false(), nullable=False)
        elif default is None:
            column = sa.Column(name, type_, nullable=True)
        else:
            column = sa.Column(name, type_, server_default=default, nullable=False)
        op.add_column("workspaces", column)
    op.add_column(
        "workspaces",
        sa.Column("agreement_version", sa.Integer(), server_default="1", nullable=False),
    )
    for name in ("last_round_started_at", "schedule_changed_at"):
        op.add_column(
            "workspaces", sa.Column(name, db.types.UtcDateTime(timezone=True), nullable=True)
        )
    workspaces = sa.table(
        "workspaces",
        sa.column("id", sa.Integer),
        *(sa.column(c, t) for c, t, _ in SETTINGS_COLUMNS),
        sa.column("agreement_version", sa.Integer),
        sa.column("last_round_started_at", db.types.UtcDateTime(timezone=True)),
        sa.column("schedule_changed_at", db.types.UtcDateTime(timezone=True)),
    )
    for row in bind.execute(sa.select(programmes)).all():
        stored = row.settings if isinstance(row.settings, dict) else json.loads(row.settings)
        values: dict[str, Any] = {
            c: stored.get(c) for c, _, _ in SETTINGS_COLUMNS if c not in WEIGHTS
        }
        for column, flag in WEIGHTS.items():
            values[column] = 1.0 if stored.get(flag, column != "cross_team_weight") else 0.0
        values["agreement_text"] = stored.get("agreement_text") or None
        values["prompt_themes"] = list(stored.get("prompt_themes") or [])
        values["include_guests"] = bool(stored.get("include_guests"))
        values = {k: v for k, v in values.items() if v is not None or k in ("repeat_window",)}
        bind.execute(
            workspaces.update()
            .where(workspaces.c.id == row.workspace_id)
            .values(
                **values,
                agreement_version=row.agreement_version,
                last_round_started_at=row.last_round_started_at,
                schedule_changed_at=row.schedule_changed_at,
            )
        )
    with foreign_keys_off():
        for table in ("settings_changes", "program_admins", "rounds", "members"):
            if table == "program_admins":
                # One row per person again: an owner who is also a Slack admin keeps one.
                admins = sa.table(
                    "program_admins",
                    sa.column("id", sa.Integer),
                    sa.column("workspace_id", sa.Integer),
                    sa.column("slack_user_id", sa.String),
                )
                keep = sa.select(sa.func.min(admins.c.id)).group_by(
                    admins.c.workspace_id, admins.c.slack_user_id
                )
                op.execute(admins.delete().where(admins.c.id.not_in(keep)))
            with op.batch_alter_table(table) as batch_op:
                if table == "members":
                    batch_op.drop_index(op.f("ix_members_programme_id"))
                    batch_op.drop_constraint(
                        op.f("uq_members_programme_id_slack_user_id"), type_="unique"
                    )
                    batch_op.create_unique_constraint(
                        op.f("uq_members_workspace_id_slack_user_id"),
                        ["workspace_id", "slack_user_id"],
                    )
                elif table == "rounds":
                    batch_op.drop_constraint(
                        op.f("uq_rounds_programme_id_period_key"), type_="unique"
                    )
                    batch_op.create_unique_constraint(
                        op.f("uq_rounds_workspace_id_period_key"), ["workspace_id", "period_key"]
                    )
                elif table == "program_admins":
                    batch_op.drop_constraint(
                        op.f("uq_program_admins_workspace_id_slack_user_id_programme_id"),
                        type_="unique",
                    )
                    batch_op.create_unique_constraint(
                        op.f("uq_program_admins_workspace_id_slack_user_id"),
                        ["workspace_id", "slack_user_id"],
                    )
                batch_op.drop_constraint(
                    op.f(f"fk_{table}_programme_id_programmes"), type_="foreignkey"
                )
                batch_op.drop_column("programme_id")
    op.drop_table("programmes")
