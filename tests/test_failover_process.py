"""The production shape on one PostgreSQL: a web replica (serve, RUN_SCHEDULER=false) and two
workers, one active through the scheduler lease. The active worker is SIGKILLed in the middle of
a round's delivery; the standby takes over within the lease time and every group gets its
intro, a duplicate only from the documented crash window (Slack accepted the post, the process
died before recording its ts)."""

from __future__ import annotations

import signal
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from db.models import OutboxMessage, Round
from db.session import make_session_factory, unit_of_work
from tests import process_helpers
from tests.process_helpers import (
    GatedSlack,
    Process,
    lease_holder,
    process_env,
    seed_due_round,
    wait_until,
)
from tests.test_shutdown_process import TOOK_LEASE, free_port, intro_counts, posts_per_group

gated_slack = process_helpers.gated_slack
processes = process_helpers.processes

pytestmark = pytest.mark.slow

LEASE_SECONDS = 2  # checked every second; production keeps the default three minutes
PEOPLE = 20  # ten pairs, ten intros
POSTED_BEFORE_KILL = 3


def test_a_standby_worker_finishes_a_round_whose_worker_was_killed_mid_delivery(
    db: Engine,
    database_url: str,
    gated_slack: GatedSlack,
    tmp_path: Path,
    processes: list[Process],
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("several processes share one PostgreSQL in production; run with PostgreSQL")
    seed_due_round(database_url, gated_slack.team_id, people=PEOPLE)
    env = process_env(
        database_url, gated_slack, SCHEDULER_LEASE_SECONDS=str(LEASE_SECONDS), LOG_LEVEL="DEBUG"
    )
    port = free_port()
    web = Process(
        ["serve", "--no-migrate"],
        env
        | {"RUN_SCHEDULER": "false", "HOST": "127.0.0.1", "PORT": str(port)}
        | {"SLACK_SIGNING_SECRET": "web-secret"},
        tmp_path,
    )
    processes.append(web)
    gated_slack.allow(POSTED_BEFORE_KILL)
    active = Process(["worker", "--no-migrate"], env, tmp_path)
    processes.append(active)
    active.wait_for_line(TOOK_LEASE)
    standby = Process(["worker", "--no-migrate"], env, tmp_path)
    processes.append(standby)
    standby.wait_for_line("another scheduler holds the lease; staying idle")
    web.wait_for_line(f"Serving on http://127.0.0.1:{port}")

    gated_slack.wait_for("chat.postMessage", count=POSTED_BEFORE_KILL, timeout=60)
    gated_slack.wait_until_held()  # the next intro is with Slack, not yet answered
    active.signal(signal.SIGKILL)
    assert active.exit_code() == -signal.SIGKILL
    killed = time.monotonic()
    gated_slack.open_gate()  # Slack accepts that post; its sender is gone

    standby.wait_for_line(TOOK_LEASE, timeout=LEASE_SECONDS * 5 + 30)
    takeover = time.monotonic() - killed
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as health:
        assert health.status == 200  # the web replica never noticed
    holder = lease_holder(database_url)
    assert holder is not None and f":{standby.pid}:" in holder

    # The standby sends every intro but the one the dead worker had claimed...
    wait_until(
        lambda: intro_counts(db).get("pending", 0) == 0 and intro_counts(db).get("sending", 0) <= 1,
        timeout=60,
        what="the standby to send every unclaimed intro",
    )
    # ...whose claim lapses after CLAIM_TTL (five minutes of wall time): move it into the
    # past, as the clock would, instead of waiting.
    with unit_of_work(make_session_factory(db)) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending")
            .values(claimed_until=datetime.now(UTC) - timedelta(minutes=1))
        )
    wait_until(
        lambda: intro_counts(db) == {"sent": PEOPLE // 2},
        timeout=60,
        what="every intro to be sent",
    )

    per_group = posts_per_group(db, gated_slack)
    duplicates = sum(count - 1 for count in per_group)
    print(
        f"\nfailover: standby took the lease {takeover:.2f} s after SIGKILL "
        f"(lease {LEASE_SECONDS} s); intros per group {per_group}; duplicates {duplicates}"
    )
    assert len(per_group) == PEOPLE // 2
    assert min(per_group) == 1  # no group lost its intro
    assert duplicates <= 1  # at most one per kill: the crash window
    with db.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Round)) == 1
    assert web.lines_with(TOOK_LEASE) == []  # RUN_SCHEDULER=false: web replicas never schedule
