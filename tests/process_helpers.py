"""Real `peercoach` processes for tests: start them, read their log as it comes, stop them.

Nothing here sleeps to synchronise: tests wait for a log line or a database condition, each
with a deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.sandbox.slack_emulator import SlackEmulator
from bot.services import membership
from db.models import SchedulerLease
from db.session import make_engine, make_session_factory, unit_of_work
from tests.cycle_helpers import change_programme, first_programme

REPO = Path(__file__).resolve().parents[1]


class Process:
    """A `python -m bot.cli ...` child whose stderr is collected line by line on a thread."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._ended = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_for_line(self, marker: str, timeout: float = 60.0) -> str:
        """The first log line containing `marker`, waiting up to `timeout` seconds for it."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: self._ended or any(marker in line for line in self.lines), timeout
            )
            matches = [line for line in self.lines if marker in line]
        if not matches:
            reason = "exited" if found else f"did not log it within {timeout} s"
            pytest.fail(f"process {reason}, no {marker!r} in:\n" + "\n".join(self.lines[-40:]))
        return matches[0]

    def lines_with(self, marker: str) -> list[str]:
        with self._changed:
            return [line for line in self.lines if marker in line]

    def exit_code(self, timeout: float = 60.0) -> int:
        """Wait for the process to end and for its log to be read to the end."""
        code = self.popen.wait(timeout=timeout)
        with self._changed:
            self._changed.wait_for(lambda: self._ended, timeout)
        return code

    def signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=30)


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Processes a test starts; whatever is still running at the end is stopped."""
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


def process_env(database_url: str, slack: SlackEmulator, **settings: str) -> dict[str, str]:
    """The environment of a child process: this checkout's code, the emulator as Slack."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env = {k: v for k, v in env.items() if k not in {"PORT", "HOST", "RUN_SCHEDULER"}}
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-process-test",
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(REPO),
    }
    return env | settings


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `condition` until it is truthy (returned) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)  # a polling interval, not synchronisation: the condition decides


def seed_due_round(database_url: str, team_id: str, people: int) -> None:
    """`people` members, joined an hour ago, whose weekly round is due this very hour (UTC)."""
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    joined = now - timedelta(hours=1)  # a slot before the first join never runs
    with unit_of_work(make_session_factory(engine)) as session:
        for n in range(1, people + 1):
            membership.save_profile(
                session,
                team_id=team_id,
                user_id=f"U{n:03d}",
                profile=membership.Profile(
                    level=2, team="Ops", goals=("feedback",), agreement_version=1
                ),
                tz_name="UTC",
                tz_offset_minutes=0,
                now=joined,
            )
        change_programme(first_programme(session), day_of_week=now.weekday(), hour=now.hour)
    engine.dispose()


def lease_holder(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(SchedulerLease.holder))
    finally:
        engine.dispose()


class GatedSlack(SlackEmulator):
    """The emulator, with chat.postMessage held at a gate the test opens post by post.

    A post held at the gate is one Slack has received but not yet answered: kill the sender
    then, open the gate, and Slack has accepted a message whose `ts` was never recorded.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gate = threading.Condition()
        self._permits = 0
        self.held = 0

    def allow(self, posts: int) -> None:
        with self._gate:
            self._permits += posts
            self._gate.notify_all()

    def open_gate(self) -> None:
        self.allow(1_000_000)

    def wait_until_held(self, timeout: float = 60.0) -> None:
        """Block until a post is waiting at the gate."""
        with self._gate:
            if not self._gate.wait_for(lambda: self.held > 0, timeout):
                raise AssertionError("no chat.postMessage reached the gate")

    def _answer(
        self, method: str, args: dict[str, Any], team_id: str
    ) -> tuple[int, dict[str, Any], Any]:
        if method == "chat.postMessage":
            with self._gate:
                self.held += 1
                self._gate.notify_all()
                self._gate.wait_for(lambda: self._permits > 0, timeout=300)
                self._permits -= 1
                self.held -= 1
        return super()._answer(method, args, team_id)


@pytest.fixture
def gated_slack() -> Iterator[GatedSlack]:
    with GatedSlack() as emulator:
        for n in range(1, 41):
            emulator.add_user(f"U{n:03d}", name=f"leader{n}")
        yield emulator
        emulator.open_gate()  # let any post still held finish before the server stops
    assert emulator.violations == [], "calls real Slack would refuse"
