"""The admin preview and `round run --dry-run` show the groups the round that follows sends."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot import ids
from bot.cli import main
from bot.sandbox.harness import Sandbox
from tests.cycle_helpers import MONDAY_9, go_to, intro_groups, intros, press

ADMIN = "U040"
PEOPLE = [f"U{n:03d}" for n in range(1, 11)]


@pytest.fixture
def admin_sandbox(sandbox: Sandbox) -> Sandbox:
    sandbox.emulator.add_user(ADMIN, name="programme-lead", is_admin=True)
    return sandbox


def groups(found: list[tuple[str, ...]]) -> set[frozenset[str]]:
    return {frozenset(g) for g in found}


def preview_groups(sandbox: Sandbox) -> set[frozenset[str]]:
    """The admin presses "Preview next round" and reads the groups in the modal."""
    sandbox.people.click(ADMIN, ids.ADMIN_PREVIEW, view={"id": "VHOME"})
    sandbox.settle()
    preview = sandbox.emulator.successful("views.open")[-1].args["view"]
    assert preview["callback_id"] == ids.PREVIEW_MODAL
    lines = [
        line
        for block in preview["blocks"]
        for line in block.get("text", {}).get("text", "").splitlines()
        if line.startswith("<@")
    ]
    return {frozenset(re.findall(r"<@(\w+)>", line)) for line in lines}


def test_the_preview_shows_the_groups_run_now_then_sends(admin_sandbox: Sandbox) -> None:
    sandbox = admin_sandbox
    for user in PEOPLE:
        sandbox.join(user)
    shown = preview_groups(sandbox)
    sandbox.clock.advance(timedelta(minutes=3))  # the admin reads it, then runs the round

    sandbox.people.click(ADMIN, ids.ADMIN_RUN_NOW, view={"id": "VHOME"})
    sandbox.settle()

    assert len(shown) == 5
    assert groups(intro_groups(sandbox)) == shown


def test_the_preview_shows_the_next_scheduled_round_with_its_auto_pauses(
    admin_sandbox: Sandbox,
) -> None:
    """Three rounds in which one person never answers: the preview before the fourth leaves
    them out (closing the third pauses them) and shows the fourth round's groups exactly."""
    sandbox = admin_sandbox
    for user in PEOPLE[:7]:
        sandbox.join(user)
    ghost = PEOPLE[0]
    for week in range(3):
        go_to(sandbox, MONDAY_9 + timedelta(weeks=week))
        before = len(intros(sandbox))
        sandbox.tick()
        for intro in intros(sandbox)[before:]:
            members = sandbox.emulator.conversation_members(intro.channel)
            if ghost in members and len(members) == 2:
                continue  # a pair with the ghost never meets
            speaker = next(u for u in members if u != ghost)
            press(sandbox, speaker, ids.CANT_MAKE_IT if ghost in members else ids.WE_MET, intro)
        sandbox.settle()
    go_to(sandbox, MONDAY_9 + timedelta(weeks=3) - timedelta(hours=2))
    shown = preview_groups(sandbox)

    go_to(sandbox, MONDAY_9 + timedelta(weeks=3))
    before = len(intros(sandbox))
    assert len(sandbox.tick().rounds_started) == 1

    assert all(ghost not in g for g in shown)
    assert groups(intro_groups(sandbox, since=before)) == shown


def test_round_run_dry_run_prints_the_groups_the_real_run_sends(
    sandbox: Sandbox,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for user in PEOPLE:
        sandbox.join(user)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_API_URL", sandbox.emulator.base_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")

    assert main(["round", "run", "--team", sandbox.team_id, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    shown = {
        frozenset(line.split("  ")[0].split(" + "))
        for line in printed.splitlines()
        if " + " in line
    }
    assert main(["round", "run", "--team", sandbox.team_id]) == 0

    assert len(shown) == 5
    assert groups(intro_groups(sandbox)) == shown
