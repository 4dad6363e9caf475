"""Slack's word on who is a workspace admin, kept from users.info and `user_change` events, so
that opening the App Home asks Slack nothing in the steady state (docs/security.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.services import admin
from bot.services.admin import NOT_ADMIN_TRUSTED_FOR
from db.models import ProgramAdmin, SlackRole

ADMIN = "U040"


@pytest.fixture
def other_replica(sandbox: Sandbox) -> Iterator[Sandbox]:
    """A second web process on the same database and Slack: nothing remembered in memory."""
    replica = Sandbox(emulator=sandbox.emulator, engine=sandbox.engine, clock=sandbox.clock)
    yield replica
    replica.settle()
    replica.close()


def home_opened_by(sandbox: Sandbox, user: str) -> tuple[str, list[str]]:
    """The person opens the App Home: what it shows, and the Web API methods it called."""
    before = len(sandbox.emulator.calls)
    assert sandbox.people.open_home(user).status == 200
    sandbox.settle()
    # (A process's first request also asks auth.test who the app is: not about the person.)
    methods = [c.method for c in sandbox.emulator.calls[before:] if c.method != "auth.test"]
    return str(sandbox.emulator.homes[user]["blocks"]), methods


def user_change(sandbox: Sandbox, user: str, **fields: Any) -> None:
    """Slack tells the app that the person's account changed (role, time zone, ...)."""
    record = {**sandbox.emulator.users[user], **fields}
    sandbox.emulator.users[user] = record
    assert sandbox.people.event({"type": "user_change", "user": record}).status == 200
    sandbox.settle()


def test_a_member_opening_the_home_in_another_process_costs_no_users_info(
    sandbox: Sandbox, other_replica: Sandbox
) -> None:
    sandbox.join("U001")  # the join asked users.info once (time zone, role)

    home, methods = home_opened_by(other_replica, "U001")

    assert methods == ["views.publish"]
    assert "You're active" in home


def test_a_slack_admin_demoted_in_slack_loses_the_programme_section_at_the_next_open(
    sandbox: Sandbox, other_replica: Sandbox
) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    sandbox.join(ADMIN)
    home, _ = home_opened_by(sandbox, ADMIN)
    assert "Programme (admins)" in home and ids.ADMIN_RUN_NOW in home

    user_change(sandbox, ADMIN, is_admin=False)

    for process in (sandbox, other_replica):
        home, methods = home_opened_by(process, ADMIN)
        assert "Programme (admins)" not in home and ids.ADMIN_RUN_NOW not in home
        assert "users.info" not in methods
    with sandbox.deps.unit_of_work() as session:
        assert session.scalars(select(ProgramAdmin.slack_user_id)).all() == []


def test_someone_made_an_admin_in_slack_sees_the_programme_on_home_after_the_event(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    home, _ = home_opened_by(sandbox, "U001")
    assert "Programme (admins)" not in home

    user_change(sandbox, "U001", is_owner=True)

    home, methods = home_opened_by(sandbox, "U001")
    # Aggregates are shown only once Slack confirms the role (users.info).
    assert "Programme (admins)" in home and methods == ["users.info", "views.publish"]


def test_a_time_zone_changed_in_slack_shows_on_the_home(sandbox: Sandbox) -> None:
    sandbox.join("U001")

    user_change(sandbox, "U001", tz="Asia/Tokyo", tz_label="Japan", tz_offset=9 * 3600)

    home, methods = home_opened_by(sandbox, "U001")
    assert "Asia/Tokyo" in home and "users.info" not in methods


def test_account_changes_of_people_who_never_used_peercoach_are_not_kept(
    sandbox: Sandbox,
) -> None:
    sandbox.join("U001")
    sandbox.emulator.add_user("U099", is_admin=True, tz="Asia/Tokyo")

    user_change(sandbox, "U099", is_owner=True)

    with sandbox.deps.unit_of_work() as session:
        assert session.scalars(select(SlackRole.slack_user_id)).all() == ["U001"]
        assert session.scalars(select(ProgramAdmin.slack_user_id)).all() == []


def test_after_a_week_without_news_from_slack_the_home_asks_again(
    sandbox: Sandbox, other_replica: Sandbox
) -> None:
    sandbox.join("U001")
    sandbox.clock.advance(NOT_ADMIN_TRUSTED_FOR + timedelta(minutes=1))

    _, methods = home_opened_by(other_replica, "U001")
    assert methods == ["users.info", "views.publish"]

    third = Sandbox(emulator=sandbox.emulator, engine=sandbox.engine, clock=sandbox.clock)
    try:
        _, methods = home_opened_by(third, "U001")
        assert "users.info" not in methods  # Slack answered again a moment ago
    finally:
        third.close()


def test_deleting_ones_data_leaves_no_record_of_ones_slack_role_even_in_another_process(
    sandbox: Sandbox, other_replica: Sandbox
) -> None:
    sandbox.join("U001")

    other_replica.people.command("U001", "delete-my-data")
    other_replica.people.click(
        "U001", ids.DELETE_DATA_CONFIRM, channel_id="CGENERAL", message_ts="1.2"
    )
    other_replica.settle()

    assert "Your PeerCoach data is deleted" in sandbox.emulator.responses[-1]["text"]
    # The Home re-rendered after the deletion asked Slack nothing it would keep.
    with sandbox.deps.unit_of_work() as session:
        assert session.scalars(select(SlackRole.slack_user_id)).all() == []


def test_a_role_looked_up_before_a_deletion_is_not_kept_after_it(sandbox: Sandbox) -> None:
    """A Home render (or a join's look-up) asked users.info just before U001 deleted their
    data, and stores Slack's answer just after: it is not kept, nor is anything of anyone
    who takes no part (no membership). Meanwhile a member's answer is."""
    sandbox.join("U001")
    sandbox.join("U002")
    sandbox.people.command("U001", "delete-my-data")
    sandbox.people.click("U001", ids.DELETE_DATA_CONFIRM, channel_id="CGENERAL", message_ts="1.2")
    sandbox.settle()

    now = sandbox.clock.now()
    with sandbox.deps.unit_of_work() as session:  # the late writes, as a render makes them
        for user in ("U001", "U002", "U003"):
            admin.record_slack_role(
                session, team_id=sandbox.emulator.team_id, user_id=user, is_admin=False, now=now
            )
    with sandbox.deps.unit_of_work() as session:
        assert session.scalars(select(SlackRole.slack_user_id)).all() == ["U002"]
