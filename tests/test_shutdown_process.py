"""SIGTERM, as an orchestrator sends it: serve and worker finish what is in flight (within
SHUTDOWN_GRACE_SECONDS), give the scheduler lease up so a replacement starts at once, log one
line and exit 0. Real processes on the test database, the emulator as Slack."""

from __future__ import annotations

import re
import signal
import socket
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from db.models import OutboxMessage, PairGroup
from tests import process_helpers
from tests.process_helpers import GatedSlack, Process, lease_holder, process_env, seed_due_round

gated_slack = process_helpers.gated_slack
processes = process_helpers.processes

pytestmark = pytest.mark.slow

TOOK_LEASE = "took the lease"
STOPPED = "stopped on SIGTERM"


def the_stop_line(process: Process) -> str:
    """The one line a process logs when SIGTERM stopped it (and what follows "in N s: ")."""
    [line] = process.lines_with(STOPPED)
    found = re.search(r"stopped on SIGTERM in \d+\.\d s: (.*)$", line)
    assert found, line
    return found.group(1)


def intro_counts(engine: Engine) -> dict[str, int]:
    """Outbox intros by status."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.kind == "intro")
            .group_by(OutboxMessage.status)
        )
        return {status: count for status, count in rows}


def posts_per_group(engine: Engine, slack: GatedSlack) -> list[int]:
    with engine.connect() as connection:
        channels = list(connection.scalars(select(PairGroup.channel_id)))
    posted = [call.args["channel"] for call in slack.successful("chat.postMessage")]
    return [posted.count(channel) for channel in channels]


def test_sigterm_stops_a_worker_and_a_replacement_takes_the_lease_at_once(
    db: Engine,
    database_url: str,
    gated_slack: GatedSlack,
    tmp_path: Path,
    processes: list[Process],
) -> None:
    seed_due_round(database_url, gated_slack.team_id, people=4)
    gated_slack.open_gate()
    env = process_env(database_url, gated_slack)  # the default lease: three minutes
    first = Process(["worker"], env, tmp_path)
    processes.append(first)
    first.wait_for_line(TOOK_LEASE)
    gated_slack.wait_for("chat.postMessage", count=2, timeout=60)

    signalled = time.monotonic()
    first.signal(signal.SIGTERM)
    assert first.exit_code() == 0
    stopped_in = time.monotonic() - signalled
    assert the_stop_line(first) == "in-flight work finished; released the scheduler lease"
    assert lease_holder(database_url) is None

    started = time.monotonic()
    second = Process(["worker"], env, tmp_path)
    processes.append(second)
    second.wait_for_line(TOOK_LEASE, timeout=60)  # far sooner than the 180 s lease would lapse
    print(
        f"\nSIGTERM to exit: {stopped_in:.2f} s; replacement start to lease: "
        f"{time.monotonic() - started:.2f} s"
    )
    assert posts_per_group(db, gated_slack) == [1, 1]  # the round was not run again


def test_sigterm_mid_delivery_finishes_the_intro_in_flight(
    db: Engine,
    database_url: str,
    gated_slack: GatedSlack,
    tmp_path: Path,
    processes: list[Process],
) -> None:
    seed_due_round(database_url, gated_slack.team_id, people=8)
    gated_slack.allow(1)
    worker = Process(
        ["worker"], process_env(database_url, gated_slack, LOG_LEVEL="DEBUG"), tmp_path
    )
    processes.append(worker)
    gated_slack.wait_for("chat.postMessage", count=1, timeout=60)
    gated_slack.wait_until_held()  # the second intro is with Slack, unanswered

    worker.signal(signal.SIGTERM)
    worker.wait_for_line("winding down")  # the process took the signal while still sending
    gated_slack.open_gate()

    assert worker.exit_code() == 0
    assert the_stop_line(worker) == "in-flight work finished; released the scheduler lease"
    assert intro_counts(db) == {"sent": 4}
    assert posts_per_group(db, gated_slack) == [1, 1, 1, 1]
    assert lease_holder(database_url) is None


def test_sigterm_gives_up_on_work_that_outlasts_the_grace_period(
    db: Engine,
    database_url: str,
    gated_slack: GatedSlack,
    tmp_path: Path,
    processes: list[Process],
) -> None:
    seed_due_round(database_url, gated_slack.team_id, people=4)
    env = process_env(database_url, gated_slack, SHUTDOWN_GRACE_SECONDS="1")
    worker = Process(["worker"], env, tmp_path)
    processes.append(worker)
    gated_slack.wait_until_held()  # and the gate stays shut: Slack never answers

    signalled = time.monotonic()
    worker.signal(signal.SIGTERM)

    assert worker.exit_code() == 0
    print(
        f"\nSIGTERM to exit with a stuck post and a 1 s grace: {time.monotonic() - signalled:.2f} s"
    )
    assert the_stop_line(worker) == (
        "SHUTDOWN_GRACE_SECONDS=1 ran out, abandoned the running tick; released the scheduler lease"
    )
    assert lease_holder(database_url) is None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_binds_where_told_says_so_and_stops_cleanly_on_sigterm(
    db: Engine,
    database_url: str,
    gated_slack: GatedSlack,
    tmp_path: Path,
    processes: list[Process],
) -> None:
    port = free_port()
    env = process_env(
        database_url,
        gated_slack,
        HOST="127.0.0.1",
        PORT=str(port),
        SLACK_SIGNING_SECRET="serve-secret",
    )
    server = Process(["serve"], env, tmp_path)
    processes.append(server)
    server.wait_for_line(f"Serving on http://127.0.0.1:{port} (POST /slack/events")
    server.wait_for_line(TOOK_LEASE)  # RUN_SCHEDULER defaults to true
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as health:
        assert health.status == 200

    signalled = time.monotonic()
    server.signal(signal.SIGTERM)

    assert server.exit_code() == 0
    print(f"\nserve: SIGTERM to exit {time.monotonic() - signalled:.2f} s")
    assert the_stop_line(server) == "in-flight work finished; released the scheduler lease"
    assert lease_holder(database_url) is None
    assert server.lines_with("will be unused") == []  # Bolt's token warning is gone
