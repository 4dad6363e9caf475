"""Issue 12, one round at a time: double presses and concurrent `round run` processes start
one round; the second request is told plainly, and an admin may still insist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from bot import ids
from bot.sandbox.harness import Sandbox
from db.models import GroupSeat, Round
from tests.cycle_helpers import dms_to, intro_groups, intros

ADMIN = "U040"
FOUR = ["U001", "U002", "U003", "U004"]


def rounds_count(sandbox: Sandbox) -> int:
    with sandbox.deps.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(Round)) or 0)


def test_run_now_pressed_twice_two_seconds_apart_starts_one_round(sandbox: Sandbox) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    for user in FOUR:
        sandbox.join(user)

    sandbox.people.click(ADMIN, ids.ADMIN_RUN_NOW, view={"id": "VHOME"})
    sandbox.clock.advance(seconds=2)
    sandbox.people.click(ADMIN, ids.ADMIN_RUN_NOW, view={"id": "VHOME"})
    sandbox.settle()  # both listeners ran on the listener pool, side by side

    assert rounds_count(sandbox) == 1
    assert sorted(u for g in intro_groups(sandbox) for u in g) == FOUR  # one intro each
    answers = [m for m in dms_to(sandbox, ADMIN) if "round" in m.text]
    assert sum(m.text.startswith("A new round has started") for m in answers) == 1
    moments_ago = [m for m in answers if "A round started moments ago" in m.text]
    assert len(moments_ago) == 1
    assert "Start another round anyway" in str(moments_ago[0].blocks)


def test_start_another_anyway_starts_exactly_one_more_however_often_pressed(
    sandbox: Sandbox,
) -> None:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    for user in FOUR:
        sandbox.join(user)
    sandbox.people.click(ADMIN, ids.ADMIN_RUN_NOW, view={"id": "VHOME"})
    sandbox.settle()
    sandbox.clock.advance(seconds=30)
    sandbox.people.click(ADMIN, ids.ADMIN_RUN_NOW, view={"id": "VHOME"})
    sandbox.settle()
    offer = next(m for m in dms_to(sandbox, ADMIN) if "moments ago" in m.text)
    value = offer.blocks[-1]["elements"][0]["value"]

    for _ in range(2):  # the override pressed twice at once
        sandbox.people.click(ADMIN, ids.ADMIN_RUN_ANYWAY, value=value, view={"id": "VHOME"})
    sandbox.settle()

    assert rounds_count(sandbox) == 2
    assert len(intros(sandbox)) == 4
    with sandbox.deps.unit_of_work() as session:
        closed = session.scalars(select(Round.closed_at).order_by(Round.id)).all()
    assert closed[0] is not None and closed[1] is None


def run_round_process(database_url: str, api_url: str, team: str, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-cli",
        "SLACK_API_URL": api_url,
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "round", "run", "--team", team, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_round_run_processes_started_together_open_one_round(
    sandbox: Sandbox, database_url: str
) -> None:
    twenty = [f"U{n:03d}" for n in range(1, 21)]
    for user in twenty:
        sandbox.join(user)

    # Two real processes against the same database (PostgreSQL under
    # PEERCOACH_TEST_DATABASE_URL): the workspace row lock decides, not process memory.
    processes = [
        run_round_process(database_url, sandbox.emulator.base_url, sandbox.team_id)
        for _ in range(2)
    ]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in processes]

    assert sorted(code for code, _, _ in results) == [0, 3], results
    refused = next(err for code, _, err in results if code == 3)
    assert "a round started moments ago" in refused and "--force" in refused
    assert rounds_count(sandbox) == 1
    with sandbox.deps.unit_of_work() as session:
        seats = session.scalars(select(GroupSeat.slack_user_id)).all()
    assert sorted(seats) == twenty  # everyone seated once
    assert len(intros(sandbox)) == 10  # ten pairs, ten intros

    forced = run_round_process(database_url, sandbox.emulator.base_url, sandbox.team_id, "--force")
    assert forced.wait(timeout=120) == 0, forced.stderr.read()
    assert rounds_count(sandbox) == 2
