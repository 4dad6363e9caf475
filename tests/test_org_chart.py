"""The org chart: an admin imports reporting lines (in Slack or with the CLI), unknown emails
are reported to that admin only, and rounds never pair a person with their manager."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import ids
from bot.cli import main
from bot.domain.programme import ProgramSettings
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import file_input, prefilled_values
from db.models import Programme, ReportingLine
from tests.concurrency import all_at_once
from tests.cycle_helpers import dms_to, go_to, intro_groups
from tests.surface_helpers import Attacker, every_logger_at

ADMIN = "U040"
GHOST = "ghost.writer@example.com"


def email(user: str) -> str:
    return f"{user.lower()}@example.com"


@pytest.fixture
def org_sandbox(sandbox: Sandbox) -> Sandbox:
    """A workspace whose people have profile emails, with a Slack admin."""
    for n in range(1, 40):
        user = f"U{n:03d}"
        sandbox.emulator.add_user(user, name=f"leader{n}", email=email(user))
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True, email=email(ADMIN))
    return sandbox


def chart(*lines: tuple[str, str]) -> bytes:
    rows = ["Email,Manager email"] + [f"{person},{manager}" for person, manager in lines]
    return ("\ufeff" + "\r\n".join(rows) + "\r\n").encode()


def upload_in_slack(sandbox: Sandbox, data: bytes, user: str = ADMIN) -> None:
    """The admin opens the org-chart modal, attaches the CSV and submits it."""
    sandbox.people.command(user, "admin org")
    sandbox.settle()
    view = sandbox.emulator.successful("views.open")[-1].response["view"]
    assert view["callback_id"] == ids.ORG_IMPORT_MODAL
    uploaded = sandbox.emulator.upload_file(user, "org.csv", data)
    values = prefilled_values(view) | file_input(
        ids.ORG_FILE_BLOCK, ids.ORG_FILE_ACTION, [uploaded]
    )
    response = sandbox.people.submit(user, view, values)
    assert response.status == 200 and response.body == b""  # acked; the import runs after
    sandbox.settle()


def stored_lines(sandbox: Sandbox) -> set[tuple[str, str]]:
    with sandbox.deps.unit_of_work() as session:
        return {
            (line.slack_user_id, line.manager_user_id)
            for line in session.scalars(select(ReportingLine))
        }


def run_round(sandbox: Sandbox, moment: datetime) -> list[tuple[str, ...]]:
    """An admin runs a round at `moment`; returns its groups."""
    go_to(sandbox, moment)
    before = len(intro_groups(sandbox))
    sandbox.people.click(ADMIN, ids.ADMIN_RUN_NOW, view={"id": "VHOME"})
    sandbox.settle()
    return intro_groups(sandbox)[before:]


def test_an_admin_uploads_the_org_chart_in_slack_and_alone_learns_which_emails_slack_lacks(
    org_sandbox: Sandbox,
) -> None:
    sandbox = org_sandbox
    sandbox.join("U001")
    data = chart(
        (email("U001"), email("U002")),
        (email("U002").upper(), f"  {email('U003')} "),
        (email("U004"), GHOST),
        (email("U003"), ""),
    )
    with every_logger_at(logging.DEBUG) as logs:
        upload_in_slack(sandbox, data)

    assert stored_lines(sandbox) == {("U001", "U002"), ("U002", "U003")}
    looked_up = sorted(c.args["email"] for c in sandbox.emulator.calls_to("users.lookupByEmail"))
    assert looked_up == sorted({email(u) for u in ("U001", "U002", "U003", "U004")} | {GHOST})
    told = dms_to(sandbox, ADMIN)[-1].text
    assert "2 reporting line(s) between 3 people, from 4 row(s)" in told
    assert "Slack knows no one by 1 email(s), so 1 row(s) naming them were not imported" in told
    assert GHOST in told
    # Nobody else hears of it, and the emails are in no log line.
    others = [m for m in sandbox.emulator.messages if GHOST in m.text]
    assert [m.channel for m in others] == [dms_to(sandbox, ADMIN)[-1].channel]
    assert GHOST not in logs.text and email("U001") not in logs.text


def test_a_new_import_replaces_the_old_one_whole(org_sandbox: Sandbox) -> None:
    sandbox = org_sandbox
    upload_in_slack(sandbox, chart((email("U001"), email("U002")), (email("U003"), email("U002"))))
    upload_in_slack(sandbox, chart((email("U005"), email("U006"))))
    assert stored_lines(sandbox) == {("U005", "U006")}


def test_someone_who_is_not_an_admin_cannot_import(org_sandbox: Sandbox) -> None:
    sandbox = org_sandbox
    sandbox.join("U001")
    reply = sandbox.people.command("U001", "admin org")
    assert "admins only" in reply.json()["text"]
    with pytest.raises(AssertionError):  # no modal: nothing to submit
        upload_in_slack(sandbox, chart((email("U001"), email("U002"))), user="U001")
    assert stored_lines(sandbox) == set()


def test_a_forged_submission_by_a_non_admin_imports_nothing(org_sandbox: Sandbox) -> None:
    sandbox = org_sandbox
    sandbox.join("U001")
    uploaded = sandbox.emulator.upload_file("U001", "org.csv", chart((email("U1"), email("U2"))))
    view = {"id": "VFORGED", "callback_id": ids.ORG_IMPORT_MODAL, "type": "modal"}
    sandbox.people.submit(
        "U001", view, file_input(ids.ORG_FILE_BLOCK, ids.ORG_FILE_ACTION, [uploaded])
    )
    sandbox.settle()
    assert sandbox.emulator.calls_to("users.lookupByEmail") == []
    assert stored_lines(sandbox) == set()


def test_a_file_that_is_not_an_org_chart_gets_a_plain_answer(org_sandbox: Sandbox) -> None:
    sandbox = org_sandbox
    upload_in_slack(sandbox, b"just some words")
    assert "The org chart was not imported" in dms_to(sandbox, ADMIN)[-1].text
    assert stored_lines(sandbox) == set()


def test_lookups_wait_out_slacks_rate_limit_and_still_find_everyone(
    org_sandbox: Sandbox,
) -> None:
    sandbox = org_sandbox
    sandbox.emulator.enforce_rate_limits = True  # users.lookupByEmail: tier 3, ~50 a minute
    lines = [(email(f"U{n:03d}"), email(f"U{n + 1:03d}")) for n in range(1, 39)]
    lines += [(f"person{n}@elsewhere.example", email("U001")) for n in range(20)]
    upload_in_slack(sandbox, chart(*lines))
    assert sandbox.clock.slept > 0  # waited out Retry-After (on the manual clock)
    assert len(stored_lines(sandbox)) == 38
    told = dms_to(sandbox, ADMIN)[-1].text
    assert "Slack knows no one by 20 email(s), so 20 row(s)" in told


def test_the_cli_imports_the_chart_and_lists_unknown_emails(
    org_sandbox: Sandbox,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = org_sandbox
    sandbox.join("U001")  # the workspace exists once someone used the app
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-cli")
    monkeypatch.setenv("SLACK_API_URL", sandbox.emulator.base_url)
    path = tmp_path / "org.csv"
    path.write_bytes(chart((email("U001"), email("U002")), (email("U002"), GHOST)))

    assert main(["org", "import", "--team", sandbox.team_id, str(path)]) == 0

    out = capsys.readouterr().out
    assert "imported 1 reporting line(s) between 2 people from 2 row(s)" in out
    assert "unknown emails: 1" in out and GHOST in out
    assert stored_lines(sandbox) == {("U001", "U002")}

    path.write_bytes(chart((email("U003"), email("U001")), (email("U001"), email("U003"))))
    assert main(["org", "import", "--team", sandbox.team_id, str(path)]) == 0
    assert "loop in the chart" in capsys.readouterr().out
    assert stored_lines(sandbox) == {("U003", "U001"), ("U001", "U003")}
    assert main(["org", "import", "--team", "TNOPE", str(path)]) == 1


def test_rounds_never_pair_a_person_with_their_manager(org_sandbox: Sandbox) -> None:
    sandbox = org_sandbox
    for user in ("U001", "U002", "U003", "U004"):
        sandbox.join(user)
    upload_in_slack(sandbox, chart((email("U002"), email("U001")), (email("U004"), email("U003"))))
    start = sandbox.now()
    seen = []
    for week in range(3):  # without the rule, three rounds would use all three pairings
        seen += run_round(sandbox, start + timedelta(weeks=week))
    assert len(seen) == 6
    lines = {frozenset(("U001", "U002")), frozenset(("U003", "U004"))}
    assert not {frozenset(g) for g in seen} & lines


def settings_with(view: dict, *rules: str, hours: int | None = None) -> dict:
    """The settings modal as opened, with the hard-rule boxes and shared hours changed."""
    values = prefilled_values(view)
    values[ids.HARD_RULES_BLOCK] = {
        ids.HARD_RULES_ACTION: {
            "type": "checkboxes",
            "selected_options": [{"value": rule} for rule in rules],
        }
    }
    if hours is not None:
        values[ids.SHARED_HOURS_BLOCK] = {
            ids.SHARED_HOURS_ACTION: {"type": "number_input", "value": str(hours)}
        }
    return values


def save_settings(sandbox: Sandbox, *rules: str, hours: int | None = None) -> None:
    sandbox.people.command(ADMIN, "admin")
    sandbox.settle()
    view = sandbox.emulator.successful("views.open")[-1].response["view"]
    assert view["callback_id"] == ids.SETTINGS_MODAL
    response = sandbox.people.submit(ADMIN, view, settings_with(view, *rules, hours=hours))
    assert response.status == 200 and response.body == b"", response.body
    sandbox.settle()


def test_skip_level_and_same_team_rules_set_in_settings_hold_in_rounds(
    org_sandbox: Sandbox,
) -> None:
    sandbox = org_sandbox
    # A reports to B, B to C; D and E sit elsewhere; F is on A's team (typed differently).
    sandbox.join("U001", team="Sales")
    sandbox.join("U002", team="Ops")
    sandbox.join("U003", team="Legal")
    sandbox.join("U004", team="Eng")
    sandbox.join("U005", team="Design")
    sandbox.join("U006", team="  sales ")
    upload_in_slack(sandbox, chart((email("U001"), email("U002")), (email("U002"), email("U003"))))
    save_settings(sandbox, "reporting_line", "skip_level", "same_team")
    with sandbox.deps.unit_of_work() as session:
        programme = session.scalar(select(Programme))
        assert programme is not None
        stored = ProgramSettings.from_stored(programme.settings)
        assert (
            stored.never_pair_reporting_line,
            stored.never_pair_skip_level,
            stored.avoid_same_team,
        ) == (True, True, True)
    banned = {frozenset(p) for p in (("U001", "U002"), ("U002", "U003"), ("U001", "U003"))}
    banned.add(frozenset(("U001", "U006")))
    start = sandbox.now()
    for week in range(3):
        groups = run_round(sandbox, start + timedelta(weeks=week))
        assert sorted(len(g) for g in groups) == [2, 2, 2]
        assert not {frozenset(p) for g in groups for p in combinations(g, 2)} & banned


def test_the_shared_hours_limit_follows_each_zones_own_daylight_saving(
    org_sandbox: Sandbox,
) -> None:
    sandbox = org_sandbox
    people = {"U011": "Europe/London", "U012": "Europe/London"}
    people |= {"U013": "America/New_York", "U014": "America/New_York"}
    for user, zone in people.items():
        sandbox.emulator.add_user(user, name=user.lower(), tz=zone, email=email(user))
        sandbox.join(user)
    save_settings(sandbox, "reporting_line", hours=4)
    london = {"U011", "U012"}

    def mixed(groups: list[tuple[str, ...]]) -> bool:
        return any(0 < len(london & set(g)) < len(g) for g in groups)

    # February: London and New York share 3 working hours (14:00-17:00 GMT), under 4.
    february = datetime.fromisoformat("2027-02-15T12:00:00+00:00")
    for day in (february, february + timedelta(weeks=1)):
        groups = run_round(sandbox, day)
        assert sorted(map(sorted, groups)) == [["U011", "U012"], ["U013", "U014"]]
    # 15 March 2027: New York is on summer time, London not until the 28th: 4 hours shared,
    # and first meetings are preferred over a third repeat.
    groups = run_round(sandbox, datetime.fromisoformat("2027-03-15T12:00:00+00:00"))
    assert len(groups) == 2 and mixed(groups)


def test_two_imports_at_the_same_moment_leave_one_chart_whole(org_sandbox: Sandbox) -> None:
    sandbox = org_sandbox
    sandbox.emulator.add_user("U039", name="second-admin", is_admin=True, email=email("U039"))
    first = chart(*[(email(f"U{n:03d}"), email("U001")) for n in range(2, 15)])
    second = chart(*[(email(f"U{n:03d}"), email("U020")) for n in range(21, 34)])
    submissions = []
    for admin, data in ((ADMIN, first), ("U039", second)):
        sandbox.people.command(admin, "admin org")
        sandbox.settle()
        view = sandbox.emulator.successful("views.open")[-1].response["view"]
        uploaded = sandbox.emulator.upload_file(admin, "org.csv", data)
        values = file_input(ids.ORG_FILE_BLOCK, ids.ORG_FILE_ACTION, [uploaded])
        submissions.append(lambda a=admin, v=view, s=values: sandbox.people.submit(a, v, s))
    answers = all_at_once(submissions)
    sandbox.settle()
    assert [response.status for response, _ in answers] == [200, 200]
    lines = stored_lines(sandbox)
    assert lines in (
        {(f"U{n:03d}", "U001") for n in range(2, 15)},
        {(f"U{n:03d}", "U020") for n in range(21, 34)},
    )
    assert "13 reporting line(s)" in dms_to(sandbox, ADMIN)[-1].text
    assert "13 reporting line(s)" in dms_to(sandbox, "U039")[-1].text


def test_a_large_chart_reads_the_people_list_instead_of_one_lookup_each(
    org_sandbox: Sandbox,
) -> None:
    sandbox = org_sandbox
    for n in range(100, 400):
        sandbox.emulator.add_user(f"U{n}", name=f"person{n}", email=f"Person{n}@Example.com")
    lines = [(f"person{n}@example.com", f"person{n + 1}@example.com") for n in range(100, 399)]
    upload_in_slack(sandbox, chart(*lines, (email("U001"), GHOST)))
    assert sandbox.emulator.calls_to("users.lookupByEmail") == []
    assert len(sandbox.emulator.successful("users.list")) >= 2  # paginated, 200 a page
    assert len(stored_lines(sandbox)) == 299
    told = dms_to(sandbox, ADMIN)[-1].text
    assert "Slack knows no one by 1 email(s)" in told and GHOST in told


def test_the_bot_token_goes_to_no_file_url_outside_slack(
    org_sandbox: Sandbox, attacker: Attacker
) -> None:
    sandbox = org_sandbox
    sandbox.people.command(ADMIN, "admin org")
    sandbox.settle()
    view = sandbox.emulator.successful("views.open")[-1].response["view"]
    uploaded = sandbox.emulator.upload_file(ADMIN, "org.csv", chart((email("U1"), email("U2"))))
    sandbox.emulator.files[uploaded["id"]]["url_private_download"] = attacker.url
    sandbox.people.submit(
        ADMIN, view, file_input(ids.ORG_FILE_BLOCK, ids.ORG_FILE_ACTION, [uploaded])
    )
    sandbox.settle()
    assert attacker.hits == []
    assert "couldn't download that file" in dms_to(sandbox, ADMIN)[-1].text
    assert stored_lines(sandbox) == set()
