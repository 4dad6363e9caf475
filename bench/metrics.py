"""What a Prometheus scrape and a Slack request cost with observability on.

    python bench/metrics.py [--members 5000] [--database-url URL] [--scrapes 50]

Starts a round for `--members` members without sending it, so the outbox holds one pending
intro per group, then times GET /metrics through the WSGI app (the outbox and lease queries run
at scrape time) beside the reference run in the same process: GET /healthz (one `SELECT 1`).
Then times `/peercoach help` commands end to end (signature check, Bolt, the request-id and
latency wrapping) against the emulator.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime

from population import join_members
from sqlalchemy import func, select

from bot.sandbox.clock import ManualClock
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import SlackEmulator
from bot.sandbox.slack_requests import call_wsgi
from bot.services.rounds import start_round
from db.migrate import upgrade_to_head
from db.models import OutboxMessage, Programme
from db.session import make_engine

ROUND_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def timed(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and worst time of `repeat` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--scrapes", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/metrics.db"
        upgrade_to_head(url)
        engine = make_engine(url)
        clock = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
        with SlackEmulator(clock=clock.monotonic) as slack:
            sandbox = Sandbox(emulator=slack, engine=engine, clock=clock)
            with sandbox.deps.unit_of_work() as session:
                join_members(
                    session,
                    team_id=slack.team_id,
                    count=args.members,
                    now=clock.now(),
                    goal_stride=7,
                )
            clock.set(ROUND_AT)
            with sandbox.deps.unit_of_work() as session:
                workspace = session.scalars(select(Programme).order_by(Programme.id)).first()
                assert workspace is not None
                start_round(session, workspace, now=ROUND_AT, period_key="bench", kind="manual")
                pending = session.scalar(select(func.count()).select_from(OutboxMessage))
            slack.add_user("U000001")
            metrics = timed(lambda: call_wsgi(sandbox.wsgi, "GET", "/metrics"), args.scrapes)
            health = timed(lambda: call_wsgi(sandbox.wsgi, "GET", "/healthz"), args.scrapes)
            size = len(call_wsgi(sandbox.wsgi, "GET", "/metrics").body)
            command = timed(lambda: sandbox.people.command("U000001", "help"), args.scrapes)
            sandbox.settle()
            sandbox.close()
        engine.dispose()
    print(
        f"command: python bench/metrics.py --members {args.members} --scrapes {args.scrapes}"
        + (" --database-url ..." if args.database_url else "")
    )
    print(f"database: {engine.dialect.name}; outbox rows pending: {pending}; scrape {size} bytes")
    print(f"{'request':<40}{'median':>10}{'worst':>10}")
    print(f"{'GET /metrics (outbox + lease queries)':<40}{metrics[0]:>8.2f}ms{metrics[1]:>8.2f}ms")
    print(f"{'reference: GET /healthz (SELECT 1)':<40}{health[0]:>8.2f}ms{health[1]:>8.2f}ms")
    print(f"{'/peercoach help (signed, to the ack)':<40}{command[0]:>8.2f}ms{command[1]:>8.2f}ms")


if __name__ == "__main__":
    main()
