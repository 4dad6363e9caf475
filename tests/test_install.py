"""Installing PeerCoach in many workspaces through Slack's OAuth flow, and uninstalling it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text

from bot.jobs.maintenance import daily
from bot.sandbox.clock import ManualClock
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import SlackEmulator
from bot.sandbox.slack_requests import SlackRequests
from db.models import Base, Member, Workspace
from tests.cycle_helpers import MONDAY_9, go_to

ACME, GLOBEX = "TACME0001", "TGLOBEX01"
ACME_PEOPLE = ["UACME01", "UACME02", "UACME03", "UACME04"]
GLOBEX_PEOPLE = ["UGLOBEX1", "UGLOBEX2", "UGLOBEX3", "UGLOBEX4"]


@pytest.fixture
def oauth_sandbox(db: Engine, slack: SlackEmulator, clock: ManualClock) -> Iterator[Sandbox]:
    for team, people in ((ACME, ACME_PEOPLE), (GLOBEX, GLOBEX_PEOPLE)):
        for user in people:
            slack.add_user(user, team_id=team)
    box = Sandbox(emulator=slack, engine=db, clock=clock, oauth=True)
    yield box
    box.settle()
    box.close()


def install_both(sandbox: Sandbox) -> tuple[SlackRequests, SlackRequests]:
    acme = sandbox.install(ACME, installer=ACME_PEOPLE[0])
    globex = sandbox.install(GLOBEX, installer=GLOBEX_PEOPLE[0])
    for people, via in ((ACME_PEOPLE, acme), (GLOBEX_PEOPLE, globex)):
        for user in people:
            sandbox.join(user, via=via)
    return acme, globex


def rows_mentioning(engine: Engine, needles: list[str]) -> list[str]:
    """Every row of every table holding any of `needles` in any column (a full scan)."""
    found = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                cells = " ".join(str(v) for v in row)
                if any(n in cells for n in needles):
                    found.append(f"{table.name}: {cells[:120]}")
    return found


def test_two_workspaces_installed_through_oauth_each_get_their_own_round_and_token(
    oauth_sandbox: Sandbox,
) -> None:
    install_both(oauth_sandbox)
    go_to(oauth_sandbox, MONDAY_9)
    oauth_sandbox.tick()

    for team, people in ((ACME, ACME_PEOPLE), (GLOBEX, GLOBEX_PEOPLE)):
        opened = [
            c for c in oauth_sandbox.emulator.calls_by(team) if c.method == "conversations.open"
        ]
        groups = [set(c.args["users"].split(",")) for c in opened if "," in c.args["users"]]
        # Two pairs per workspace, opened with that workspace's own token, nobody from the other.
        assert len(groups) == 2 and set().union(*groups) == set(people)
    default_team_calls = oauth_sandbox.emulator.calls_by(oauth_sandbox.emulator.team_id)
    assert [c.method for c in default_team_calls if c.method != "oauth.v2.access"] == []


def test_uninstall_stops_work_at_once_and_deletes_every_row_after_the_grace_period(
    oauth_sandbox: Sandbox, db: Engine
) -> None:
    acme, _globex = install_both(oauth_sandbox)
    go_to(oauth_sandbox, MONDAY_9)
    oauth_sandbox.tick()
    with db.connect() as connection:
        globex_rows_before = {
            t.name: connection.execute(select(text("count(*)")).select_from(t)).scalar()
            for t in Base.metadata.sorted_tables
        }

    oauth_sandbox.emulator.revoke_tokens(ACME)
    assert acme.event({"type": "app_uninstalled"}).status == 200
    oauth_sandbox.settle()
    calls_before = len(oauth_sandbox.emulator.calls_by(ACME))
    go_to(oauth_sandbox, MONDAY_9 + timedelta(weeks=1))
    oauth_sandbox.tick()  # Globex's next round; nothing at all for Acme
    assert len(oauth_sandbox.emulator.calls_by(ACME)) == calls_before
    assert rows_mentioning(db, [ACME]) != []  # kept through the grace period

    daily(oauth_sandbox.deps, MONDAY_9 + timedelta(days=29))
    assert rows_mentioning(db, [ACME]) != []
    report = daily(oauth_sandbox.deps, MONDAY_9 + timedelta(days=31))

    assert report.purged_teams == [ACME]
    assert rows_mentioning(db, [ACME, *ACME_PEOPLE]) == []
    with db.connect() as connection:
        members = connection.execute(select(Member.slack_user_id)).scalars().all()
    assert sorted(members) == sorted(GLOBEX_PEOPLE)
    with db.connect() as connection:
        for table in ("members", "group_seats", "slack_bots"):
            count = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            assert count and count >= globex_rows_before[table] // 2


def test_a_reinstall_inside_the_grace_period_keeps_the_programme(oauth_sandbox: Sandbox) -> None:
    acme, _ = install_both(oauth_sandbox)
    acme.event({"type": "app_uninstalled"})
    oauth_sandbox.settle()
    oauth_sandbox.sandbox_reinstalled = oauth_sandbox.install(ACME, installer=ACME_PEOPLE[1])

    assert daily(oauth_sandbox.deps, MONDAY_9 + timedelta(days=60)).purged_teams == []
    with oauth_sandbox.deps.unit_of_work() as session:
        workspace = session.scalars(select(Workspace).where(Workspace.team_id == ACME)).one()
        assert workspace.uninstalled_at is None
        assert (
            len(session.scalars(select(Member).where(Member.workspace_id == workspace.id)).all())
            == 4
        )
    go_to(oauth_sandbox, MONDAY_9)
    oauth_sandbox.tick()
    assert any(c.method == "chat.postMessage" for c in oauth_sandbox.emulator.calls_by(ACME))


def test_an_org_wide_install_serves_each_workspace_of_the_org_with_its_own_programme(
    slack: SlackEmulator, db: Engine, clock: ManualClock
) -> None:
    teams = {"TORGA0001": ["UORGA1", "UORGA2"], "TORGB0001": ["UORGB1", "UORGB2"]}
    for team, people in teams.items():
        for user in people:
            slack.add_user(user, team_id=team)
    slack.add_org("EORG", list(teams))
    box = Sandbox(emulator=slack, engine=db, clock=clock, oauth=True)
    try:
        box.install("TORGA0001", installer="UORGA1", enterprise_id="EORG", enterprise_install=True)
        for team, people in teams.items():
            via = SlackRequests(
                box.wsgi,
                signing_secret=box.settings.secret("slack_signing_secret"),
                emulator=slack,
                team_id=team,
                enterprise_id="EORG",
                enterprise_install=True,
            )
            for user in people:
                box.join(user, via=via)
        go_to(box, MONDAY_9)
        box.tick()
        with box.deps.unit_of_work() as session:
            workspaces = session.scalars(select(Workspace).order_by(Workspace.team_id)).all()
            assert [(w.team_id, w.enterprise_id) for w in workspaces] == [
                ("TORGA0001", "EORG"),
                ("TORGB0001", "EORG"),
            ]
        opened = {
            tuple(sorted(c.args["users"].split(",")))
            for c in slack.calls_to("conversations.open")
            if "," in c.args["users"]
        }
        assert opened == {("UORGA1", "UORGA2"), ("UORGB1", "UORGB2")}  # one programme each
    finally:
        box.settle()
        box.close()


def test_a_deactivated_account_leaves_and_is_never_paired_again(oauth_sandbox: Sandbox) -> None:
    acme, _ = install_both(oauth_sandbox)
    gone = ACME_PEOPLE[3]
    acme.event({"type": "user_change", "user": {"id": gone, "team_id": ACME, "deleted": True}})
    oauth_sandbox.settle()
    go_to(oauth_sandbox, MONDAY_9)
    oauth_sandbox.tick()

    with oauth_sandbox.deps.unit_of_work() as session:
        member = session.scalars(select(Member).where(Member.slack_user_id == gone)).one()
        assert member.status == "left" and member.level is None and member.team is None
    seated = {
        u
        for c in oauth_sandbox.emulator.calls_by(ACME)
        if c.method == "conversations.open" and "," in c.args["users"]  # group DMs, not welcomes
        for u in c.args["users"].split(",")
    }
    assert gone not in seated


def test_installation_tokens_are_stored_only_encrypted(oauth_sandbox: Sandbox, db: Engine) -> None:
    install_both(oauth_sandbox)
    issued = set(oauth_sandbox.emulator.tokens)
    with db.connect() as connection:
        stored = [
            str(value)
            for table in ("slack_bots", "slack_installations")
            for value in connection.execute(text(f"SELECT bot_token FROM {table}")).scalars()
        ]
    assert len(stored) == 4 and not any(token in value for value in stored for token in issued)
    assert all(value.startswith("gAAAAA") for value in stored)


def test_a_workspace_that_uninstalled_is_told_to_install_again_and_nothing_is_logged_at_error(
    oauth_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    acme, _ = install_both(oauth_sandbox)
    oauth_sandbox.emulator.revoke_tokens(ACME)
    acme.event({"type": "app_uninstalled"})
    oauth_sandbox.settle()
    daily(oauth_sandbox.deps, MONDAY_9 + timedelta(days=31))  # the installation is purged

    with caplog.at_level("DEBUG"):
        answer = acme.command(ACME_PEOPLE[1], "status")

    assert answer.status == 200
    oauth_sandbox.settle()
    assert "reinstall" in oauth_sandbox.emulator.responses[-1]["text"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= 40] == []
    assert any("AuthorizeResult" in r.getMessage() for r in caplog.records)  # still seen, quietly
