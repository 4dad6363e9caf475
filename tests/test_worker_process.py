"""`peercoach worker` as deployed: APScheduler ticking for real; a second worker stays idle."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.sandbox.slack_emulator import SlackEmulator
from bot.services import membership
from db.migrate import upgrade_to_head
from db.models import Round
from db.session import make_engine, make_session_factory, unit_of_work
from tests.cycle_helpers import change_programme, first_programme

pytestmark = pytest.mark.slow  # real worker processes


@pytest.fixture
def due_workspace(tmp_path: Path, slack: SlackEmulator) -> str:
    """A SQLite database with four members whose weekly round is due this very hour."""
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    with unit_of_work(make_session_factory(engine)) as session:
        # They joined before this hour's slot: a slot before the programme started never runs.
        for user in ("U001", "U002", "U003", "U004"):
            membership.save_profile(
                session,
                team_id=slack.team_id,
                user_id=user,
                profile=membership.Profile(
                    level=2, team="Ops", goals=("feedback",), agreement_version=1
                ),
                tz_name="UTC",
                tz_offset_minutes=0,
                now=now - timedelta(hours=1),
            )
        change_programme(first_programme(session), day_of_week=now.weekday(), hour=now.hour)
    engine.dispose()
    return url


def start_worker(url: str, slack: SlackEmulator, cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-worker",
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": url,
        "LOG_LEVEL": "DEBUG",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        env=env,
        cwd=cwd,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until(process: subprocess.Popen[str], marker: str) -> None:
    assert process.stderr is not None
    for line in process.stderr:  # blocks on the worker's own log, no sleeping
        if marker in line:
            return
    pytest.fail(f"worker exited ({process.wait()}) before logging {marker!r}")


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def test_a_worker_runs_the_due_round_and_a_second_worker_stays_idle(
    due_workspace: str,
    slack: SlackEmulator,
    tmp_path: Path,
    workers: list[subprocess.Popen[str]],
) -> None:
    first = start_worker(due_workspace, slack, tmp_path)
    workers.append(first)
    slack.wait_for("chat.postMessage", count=2, timeout=60)  # two intros for four members

    second = start_worker(due_workspace, slack, tmp_path)
    workers.append(second)
    read_until(second, "another scheduler holds the lease; staying idle")

    engine = make_engine(due_workspace)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Round)) == 1
    engine.dispose()
    assert len(slack.successful("chat.postMessage")) == 2
