"""Migration 0013 on a populated database: today's single programme becomes the workspace's
first programme with nothing lost, and the downgrade puts everything back."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, select

from bot import ids
from bot.domain.programme import ProgramSettings
from bot.sandbox.harness import Sandbox
from db.migrate import alembic_config, upgrade_to_head
from db.models import Member, ProgramAdmin, Programme, Round, SettingsChange
from tests.cycle_helpers import MONDAY_9, go_to, intros, press
from tests.surface_helpers import row_counts
from tests.test_admin import ADMIN, open_settings, settings_values

PEOPLE = [f"U{n:03d}" for n in range(1, 9)]
OWNER = "U900"


def populate(sandbox: Sandbox) -> None:
    """Eight members, an added owner, a changed schedule, two rounds with met chats."""
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    sandbox.emulator.add_user(OWNER, name="co-lead")
    for user in PEOPLE:
        sandbox.join(user)
    view = open_settings(sandbox)
    response = sandbox.people.submit(ADMIN, view, settings_values(hour="9", admins=[OWNER]))
    assert response.status == 200
    sandbox.settle()
    for week in range(2):
        go_to(sandbox, MONDAY_9 + timedelta(weeks=week))
        sandbox.tick()
        sandbox.settle()
        for message in intros(sandbox)[-4:]:
            press(
                sandbox,
                sandbox.emulator.conversation_members(message.channel)[0],
                ids.WE_MET,
                message,
            )
        sandbox.settle()
    view = open_settings(sandbox)
    response = sandbox.people.submit(
        ADMIN, view, settings_values(hour="17", tz="Europe/London", admins=[OWNER])
    )
    assert response.status == 200
    sandbox.settle()


# Tables of later migrations (0015: circles, keep-meeting wishes), gone below 0013.
# Tables of migrations after 0013: absent below it.
LATER_TABLES = frozenset(
    {"circles", "circle_seats", "keep_meetings", "reporting_lines", "slack_roles"}
)
# What Slack said of people's roles (0017) is not kept across a downgrade below it: the App
# Home asks users.info again.
ASKED_AGAIN = "slack_roles"


def test_0013_keeps_every_row_down_and_up(sandbox: Sandbox, db: Engine, database_url: str) -> None:
    populate(sandbox)
    before = row_counts(db)
    with sandbox.deps.unit_of_work() as session:
        programme = session.scalars(select(Programme)).one()
        settings_before = ProgramSettings.from_stored(programme.settings)
        state_before = (
            programme.agreement_version,
            programme.last_round_started_at,
            programme.schedule_changed_at,
        )
    assert settings_before.hour == 17 and settings_before.timezone == "Europe/London"
    assert before["members"] == 8 and before["rounds"] == 2 and before["settings_changes"] >= 3

    sandbox.settle()
    db.dispose()
    command.downgrade(alembic_config(database_url), "0011")
    db.dispose()
    with db.connect() as connection:
        existing = set(sa.inspect(connection).get_table_names())
        for table, count in before.items():
            if table == "programmes" or table in LATER_TABLES:
                assert table not in existing, table
                continue
            assert connection.scalar(sa.text(f"SELECT count(*) FROM {table}")) == count, table
        hour, zone, last_started = connection.execute(
            sa.text("SELECT hour, timezone, last_round_started_at FROM workspaces")
        ).one()
        assert (hour, zone) == (17, "Europe/London") and last_started is not None
        assert "programmes" not in sa.inspect(connection).get_table_names()

    upgrade_to_head(database_url)
    db.dispose()
    assert before[ASKED_AGAIN] > 0 and row_counts(db) == before | {ASKED_AGAIN: 0}
    with sandbox.deps.unit_of_work() as session:
        programme = session.scalars(select(Programme)).one()
        assert ProgramSettings.from_stored(programme.settings) == settings_before
        assert (
            programme.agreement_version,
            programme.last_round_started_at,
            programme.schedule_changed_at,
        ) == state_before
        for model in (Member, Round, SettingsChange):
            assert set(session.scalars(select(model.programme_id))) == {programme.id}, model
        owners = session.execute(
            select(ProgramAdmin.slack_user_id, ProgramAdmin.programme_id)
        ).all()
        assert (OWNER, programme.id) in owners and (ADMIN, None) in owners
    # And the app carries on: people's status reads the programme's schedule.
    assert "Next round" in sandbox.people.command("U001", "status").text


def test_0013_downgrade_refuses_a_workspace_with_several_programmes(
    sandbox: Sandbox, db: Engine, database_url: str
) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    sandbox.join("U001")
    sandbox.people.command(ADMIN, "admin programme new Directors")
    sandbox.settle()
    db.dispose()
    with pytest.raises(RuntimeError, match="several"):
        command.downgrade(alembic_config(database_url), "0011")
    db.dispose()
    with db.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM programmes")) == 2
