"""One scheduler per deployment, explicit rounds from the command line, dry runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.sandbox.harness import Sandbox
from bot.scheduler import LEASE_TTL, RoundScheduler, acquire_lease
from bot.services.rounds import start_manual_round
from db.models import Round
from tests.cycle_helpers import MONDAY_9, go_to, intro_groups, intros


def test_a_second_scheduler_stays_idle_while_the_first_holds_the_lease(sandbox: Sandbox) -> None:
    sandbox.join("U001")
    sandbox.join("U002")
    go_to(sandbox, MONDAY_9)
    first = RoundScheduler(sandbox.deps)
    second = RoundScheduler(sandbox.deps)
    first.delivery.sleep = second.delivery.sleep = sandbox.clock.sleep

    assert first.run_once() is not None
    assert second.run_once() is None
    assert len(intros(sandbox)) == 1

    first.shutdown()  # releases the lease on the way out
    assert second.run_once() is not None
    assert len(intros(sandbox)) == 1  # and the round was not run twice


def test_a_dead_schedulers_lease_expires(sandbox: Sandbox) -> None:
    now = sandbox.now()
    assert acquire_lease(sandbox.deps, "a", now)
    assert not acquire_lease(sandbox.deps, "b", now + LEASE_TTL - timedelta(seconds=1))
    assert acquire_lease(sandbox.deps, "b", now + LEASE_TTL + timedelta(seconds=1))
    assert not acquire_lease(sandbox.deps, "a", now + LEASE_TTL + timedelta(seconds=2))


def test_an_explicit_round_closes_the_current_one_and_the_schedule_carries_on(
    sandbox: Sandbox,
) -> None:
    for user in ("U001", "U002", "U003", "U004"):
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    go_to(sandbox, MONDAY_9 + timedelta(days=2))

    with sandbox.deps.unit_of_work() as session:
        start_manual_round(session, team_id=sandbox.team_id, now=sandbox.now())
    sandbox.delivery.run()

    with sandbox.deps.unit_of_work() as session:
        rounds = session.scalars(select(Round).order_by(Round.id)).all()
        assert [r.kind for r in rounds] == ["scheduled", "manual"]
        assert rounds[0].closed_at == sandbox.now() and rounds[1].closed_at is None
    assert len(intros(sandbox)) == 4
    assert set(intro_groups(sandbox)[:2]).isdisjoint(intro_groups(sandbox)[2:])  # fresh pairs

    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    assert len(sandbox.tick().rounds_started) == 1


def test_round_run_dry_run_prints_groups_and_sends_nothing(
    sandbox: Sandbox,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for user in ("U001", "U002", "U003"):
        sandbox.join(user)
    calls_before = len(sandbox.emulator.calls)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_API_URL", sandbox.emulator.base_url)

    assert main(["round", "run", "--team", sandbox.team_id, "--dry-run"]) == 0

    printed = capsys.readouterr().out
    assert "U001" in printed and "U002" in printed and "U003" in printed
    assert "1 groups, 0 not paired (dry run: nothing sent)" in printed
    assert len(sandbox.emulator.calls) == calls_before
    with sandbox.deps.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Round)) == 0


def test_round_run_for_an_unknown_team_says_so(
    sandbox: Sandbox,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_API_URL", sandbox.emulator.base_url)
    assert main(["round", "run", "--team", "TNOPE"]) == 1
    assert "no workspace TNOPE" in capsys.readouterr().err
