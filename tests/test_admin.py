"""Programme admins: who they are, settings in Slack, preview, run now, invite, export, digest."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.cli import main
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import multi_select, text_input
from bot.sandbox.slack_requests import select as select_state
from db.models import PairGroup, Round, SettingsChange, Workspace
from tests.cycle_helpers import MONDAY_9, dms_to, go_to, intro_groups, intros

ADMIN = "U040"


@pytest.fixture
def admin_sandbox(sandbox: Sandbox) -> Sandbox:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    return sandbox


def settings_values(**overrides: object) -> dict:
    values = {
        "cadence": "1",
        "day": "0",
        "hour": "9",
        "tz": "UTC",
        "size": "2",
        "prefs": ["level", "goals", "tz"],
        "repeat": None,
        "themes": [],
        "admins": [],
        # As the modal opens for a new programme: the reporting-line rule ticked.
        "rules": ["reporting_line"],
        "format": "pairs",
        "season": "6",
        "circle": "4",
        "keep": "3",
    }
    values.update(overrides)
    return (
        select_state(ids.CADENCE_BLOCK, ids.CADENCE_ACTION, str(values["cadence"]))
        | select_state(ids.DAY_BLOCK, ids.DAY_ACTION, str(values["day"]))
        | select_state(ids.HOUR_BLOCK, ids.HOUR_ACTION, str(values["hour"]))
        | text_input(ids.TIMEZONE_BLOCK, ids.TIMEZONE_ACTION, str(values["tz"]))
        | select_state(ids.GROUP_SIZE_BLOCK, ids.GROUP_SIZE_ACTION, str(values["size"]))
        | select_state(ids.FORMAT_BLOCK, ids.FORMAT_ACTION, str(values["format"]))
        | select_state(ids.CIRCLE_SIZE_BLOCK, ids.CIRCLE_SIZE_ACTION, str(values["circle"]))
        | select_state(ids.KEEP_MAX_BLOCK, ids.KEEP_MAX_ACTION, str(values["keep"]))
        | text_input(ids.SEASON_BLOCK, ids.SEASON_ACTION, str(values["season"]))
        | {
            ids.PREFERENCES_BLOCK: {
                ids.PREFERENCES_ACTION: {
                    "type": "checkboxes",
                    "selected_options": [{"value": v} for v in values["prefs"]],
                }
            }
        }
        | {
            ids.REPEAT_WINDOW_BLOCK: {
                ids.REPEAT_WINDOW_ACTION: {"type": "number_input", "value": values["repeat"]}
            }
        }
        | multi_select(ids.THEMES_BLOCK, ids.THEMES_ACTION, list(values["themes"]))
        | {
            ids.HARD_RULES_BLOCK: {
                ids.HARD_RULES_ACTION: {
                    "type": "checkboxes",
                    "selected_options": [{"value": v} for v in values["rules"]],
                }
            }
        }
        | {
            ids.ADMINS_BLOCK: {
                ids.ADMINS_ACTION: {
                    "type": "multi_users_select",
                    "selected_users": list(values["admins"]),
                }
            }
        }
    )


def open_settings(sandbox: Sandbox, user: str = ADMIN) -> dict:
    sandbox.people.command(user, "admin")
    sandbox.settle()
    return sandbox.emulator.successful("views.open")[-1].response["view"]


def test_a_non_admin_is_refused_politely_and_sees_no_admin_surface(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    reply = sandbox.people.command("U001", "admin")
    assert reply.json()["text"] == "Sorry, that's for PeerCoach programme admins only."
    assert "Programme (admins)" not in str(sandbox.emulator.homes["U001"])

    sandbox.people.click("U001", ids.ADMIN_RUN_NOW, view=sandbox.emulator.homes["U001"])
    sandbox.settle()
    assert "admins only" in dms_to(sandbox, "U001")[-1].text
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Round)) == 0


def test_a_slack_admin_opens_settings_and_sees_the_programme_on_home(
    admin_sandbox: Sandbox,
) -> None:
    view = open_settings(admin_sandbox)
    assert view["callback_id"] == ids.SETTINGS_MODAL
    admin_sandbox.people.open_home(ADMIN)
    admin_sandbox.settle()
    home = str(admin_sandbox.emulator.homes[ADMIN]["blocks"])
    assert "Programme (admins)" in home and ids.ADMIN_RUN_NOW in home


def test_invalid_settings_come_back_as_inline_errors(admin_sandbox: Sandbox) -> None:
    view = open_settings(admin_sandbox)
    response = admin_sandbox.people.submit(
        ADMIN, view, settings_values(tz="Mars/Olympus", repeat="0")
    )
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {ids.TIMEZONE_BLOCK, ids.REPEAT_WINDOW_BLOCK}


def test_admin_settings_are_recorded_and_the_next_round_follows_them(
    admin_sandbox: Sandbox,
) -> None:
    sandbox = admin_sandbox
    for user in ("U001", "U002", "U003", "U004", "U005", "U006"):
        sandbox.join(user)
    view = open_settings(sandbox)
    response = sandbox.people.submit(
        ADMIN,
        view,
        settings_values(
            day="2",
            hour="10",
            tz="America/New_York",
            size="3",
            repeat="6",
            themes=["feedback"],
            admins=["U039"],
        ),
    )
    assert response.status == 200 and response.body == b""
    sandbox.settle()

    with sandbox.deps.unit_of_work() as session:
        changed = {
            c.field: (c.old_value, c.new_value, c.changed_by)
            for c in session.scalars(select(SettingsChange))
        }
    assert changed["group_size"] == ("2", "3", ADMIN)
    assert changed["timezone"] == ("UTC", "America/New_York", ADMIN)
    assert {"day_of_week", "hour", "repeat_window", "prompt_themes", "admins"} <= set(changed)

    go_to(sandbox, MONDAY_9)  # Monday is no longer a round day
    assert sandbox.tick().rounds_started == []
    wednesday_10_new_york = MONDAY_9.astimezone(ZoneInfo("America/New_York")).replace(
        hour=10, minute=0
    ) + timedelta(days=2)
    go_to(sandbox, wednesday_10_new_york)
    assert len(sandbox.tick().rounds_started) == 1
    assert sorted(len(g) for g in intro_groups(sandbox)) == [3, 3]
    with sandbox.deps.unit_of_work() as session:
        prompts = [p for ids_ in session.scalars(select(PairGroup.prompt_ids)) for p in ids_]
    assert prompts and all(p.startswith("feedback-") for p in prompts)


def test_an_admin_added_in_settings_has_admin_rights(admin_sandbox: Sandbox) -> None:
    view = open_settings(admin_sandbox)
    admin_sandbox.people.submit(ADMIN, view, settings_values(admins=["U007"]))
    admin_sandbox.settle()
    assert open_settings(admin_sandbox, "U007")["callback_id"] == ids.SETTINGS_MODAL


def test_preview_shows_the_admin_the_groups_and_sends_nothing(admin_sandbox: Sandbox) -> None:
    sandbox = admin_sandbox
    for user in ("U001", "U002", "U003", "U004"):
        sandbox.join(user)
    messages_before = len(sandbox.emulator.messages)
    opened_before = len(sandbox.emulator.calls_to("conversations.open"))
    sandbox.people.click(
        ADMIN, ids.ADMIN_PREVIEW, view=sandbox.emulator.homes.get(ADMIN) or {"id": "V0"}
    )
    sandbox.settle()

    preview = sandbox.emulator.successful("views.open")[-1].args["view"]
    assert preview["callback_id"] == ids.PREVIEW_MODAL
    text = str(preview["blocks"])
    assert "nothing has been sent" in text and "Groups: 2" in text and "<@U001>" in text
    assert len(sandbox.emulator.messages) == messages_before
    assert len(sandbox.emulator.calls_to("conversations.open")) == opened_before
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Round)) == 0


def test_run_now_starts_a_round_and_tells_the_admin(admin_sandbox: Sandbox) -> None:
    sandbox = admin_sandbox
    for user in ("U001", "U002"):
        sandbox.join(user)
    sandbox.people.click(ADMIN, ids.ADMIN_RUN_NOW, view={"id": "VHOME"})
    sandbox.settle()
    assert intro_groups(sandbox) == [("U001", "U002")]
    assert dms_to(sandbox, ADMIN)[-1].text == (
        "A new round has started: 1 groups, intros are going out."
    )


def test_invite_dms_each_channel_member_once_with_progress(admin_sandbox: Sandbox) -> None:
    sandbox = admin_sandbox
    sandbox.join("U001")
    people = [f"U{n:03d}" for n in range(1, 24)] + [ADMIN]
    sandbox.emulator.channel_members["C0LEADERS"] = people

    reply = sandbox.people.command(ADMIN, "admin invite <#C0LEADERS|leaders>")
    sandbox.settle()

    assert "Sending invitations" in reply.text
    invited = [u for u in people if any("invites you" in m.text for m in dms_to(sandbox, u))]
    assert invited == [f"U{n:03d}" for n in range(2, 24)]  # not the member, not the admin
    progress = [m for m in dms_to(sandbox, ADMIN) if m.text.startswith("Invited")]
    assert len(progress) == 1 and progress[0].text.startswith("Invited 22 of 22")
    assert progress[0].text.endswith("Done.")
    assert len(sandbox.emulator.successful("chat.update")) >= 2  # it counted up as it went

    sandbox.people.command(ADMIN, "admin invite <#C0LEADERS|leaders>")
    sandbox.settle()
    assert sum("invites you" in m.text for m in sandbox.emulator.messages) == 22


def test_invite_needs_a_channel(admin_sandbox: Sandbox) -> None:
    assert "Name a channel" in admin_sandbox.people.command(ADMIN, "admin invite leaders").text


def run_two_rounds_with_reflections(sandbox: Sandbox, users: list[str]) -> None:
    for user in users:
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    for intro in intros(sandbox):
        first = sandbox.emulator.conversation_members(intro.channel)[0]
        sandbox.people.click(
            first,
            ids.WE_MET,
            value=intro.blocks[-2]["elements"][0]["value"],
            channel_id=intro.channel,
            message_ts=intro.ts,
        )
    sandbox.settle()
    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    sandbox.tick()


def test_admins_get_a_digest_with_figures_and_a_chart_when_a_round_closes(
    admin_sandbox: Sandbox,
) -> None:
    sandbox = admin_sandbox
    sandbox.people.command(ADMIN, "admin")  # a Slack admin seen using PeerCoach gets digests
    sandbox.settle()
    run_two_rounds_with_reflections(sandbox, [f"U{n:03d}" for n in range(1, 11)])

    uploads = [u for u in sandbox.emulator.uploads.values() if u["content"]]
    assert len(uploads) == 1
    digest = uploads[0]
    assert digest["content"].startswith(b"\x89PNG")
    assert digest["alt_txt"].startswith("Bar chart of people paired")
    assert (
        "paired 10" in digest["initial_comment"] and "Groups met 100%" in digest["initial_comment"]
    )
    assert sandbox.emulator.conversation_members(digest["channel"]) == (ADMIN,)

    sandbox.tick()  # sent once, not again
    assert len([u for u in sandbox.emulator.uploads.values() if u["content"]]) == 1


def test_digest_command_resends_the_latest_digest(
    admin_sandbox: Sandbox,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = admin_sandbox
    sandbox.people.command(ADMIN, "admin")
    sandbox.settle()
    run_two_rounds_with_reflections(sandbox, [f"U{n:03d}" for n in range(1, 7)])
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_API_URL", sandbox.emulator.base_url)

    assert main(["digest", "--team", sandbox.team_id]) == 0

    assert "sent to 1 admin(s)" in capsys.readouterr().out
    assert len([u for u in sandbox.emulator.uploads.values() if u["content"]]) == 2


def test_export_uploads_a_csv_that_matches_the_database(admin_sandbox: Sandbox) -> None:
    sandbox = admin_sandbox
    run_two_rounds_with_reflections(sandbox, [f"U{n:03d}" for n in range(1, 13)])
    sandbox.people.command(ADMIN, "admin export")
    sandbox.settle()

    upload = next(u for u in sandbox.emulator.uploads.values() if u["filename"].endswith(".csv"))
    rows = list(csv.DictReader(io.StringIO(upload["content"].decode())))
    with sandbox.deps.unit_of_work() as session:
        counts = [len(r.groups) for r in session.scalars(select(Round).order_by(Round.id))]
        seats = [
            sum(len(g.seats) for g in r.groups)
            for r in session.scalars(select(Round).order_by(Round.id))
        ]
    assert [int(r["paired"]) for r in rows] == seats == [12, 12]
    assert counts == [6, 6]
    assert rows[0]["met_rate"] == "1.0" and rows[1]["met_rate"] == "fewer than 5"
    assert sandbox.emulator.conversation_members(upload["channel"]) == (ADMIN,)


def test_report_command_prints_the_same_aggregates_as_json(
    admin_sandbox: Sandbox,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_two_rounds_with_reflections(admin_sandbox, [f"U{n:03d}" for n in range(1, 9)])
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["report", "--team", admin_sandbox.team_id, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [c["paired"] for c in report["cycles"]] == [8, 8]
    assert report["members_now"]["active"] == 8
    with admin_sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(Workspace.team_id)) == admin_sandbox.team_id


def test_an_added_admin_sees_the_programme_on_home_at_once_and_loses_it_once_removed(
    admin_sandbox: Sandbox,
) -> None:
    sandbox = admin_sandbox
    sandbox.join("U007")
    sandbox.people.open_home("U007")
    sandbox.settle()
    assert "Programme (admins)" not in str(sandbox.emulator.homes["U007"])

    view = open_settings(sandbox)
    sandbox.people.submit(ADMIN, view, settings_values(admins=["U007"]))
    sandbox.settle()
    sandbox.people.open_home("U007")
    sandbox.settle()
    assert "Programme (admins)" in str(sandbox.emulator.homes["U007"])

    view = open_settings(sandbox)
    sandbox.people.submit(ADMIN, view, settings_values(admins=[]))
    sandbox.settle()
    sandbox.people.open_home("U007")
    sandbox.settle()
    assert "Programme (admins)" not in str(sandbox.emulator.homes["U007"])
