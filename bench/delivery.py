"""How long a 1,000-member round takes to deliver, against the floor Slack's tiers impose.

    python bench/delivery.py [--members 1000] [--database-url URL]

Runs the real round (matching, recording, outbox delivery) against the local Slack emulator
with Slack's rate-limit tiers enforced on a manual clock, so waiting out HTTP 429s costs
simulated seconds, not real ones. Prints simulated Slack time (what a real round would take),
the tier floor (the least time the limits allow), and real wall time; and, as the reference run
in the same process, the same round with no rate limits.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import UTC, datetime

from population import join_members

from bot.sandbox.clock import ManualClock
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_emulator import TIER_PER_MINUTE, SlackEmulator
from db.migrate import upgrade_to_head
from db.session import make_engine

ROUND_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def run(members: int, database_url: str, *, rate_limited: bool) -> dict[str, float]:
    upgrade_to_head(database_url)
    engine = make_engine(database_url)
    clock = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    with SlackEmulator(clock=clock.monotonic, enforce_rate_limits=rate_limited) as slack:
        sandbox = Sandbox(emulator=slack, engine=engine, clock=clock)
        with sandbox.deps.unit_of_work() as session:
            for user in join_members(
                session, team_id=slack.team_id, count=members, now=clock.now(), goal_stride=7
            ):
                slack.add_user(user)
        clock.set(ROUND_AT)
        started = time.perf_counter()
        report = sandbox.tick()
        wall = time.perf_counter() - started
        simulated = (clock.now() - ROUND_AT).total_seconds()
        opens = len(slack.successful("conversations.open"))
        throttled = sum(c.status == 429 for c in slack.calls)
        sandbox.close()
    engine.dispose()
    assert report.delivery.sent == members // 2, report  # a pair or trio per two members
    return {
        "sent": report.delivery.sent,
        "opens": opens,
        "simulated_s": simulated,
        "wall_s": wall,
        "throttled": throttled,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url_for = (
            (lambda name: args.database_url)
            if args.database_url
            else (lambda name: f"sqlite:///{folder}/{name}.db")
        )
        limited = run(args.members, url_for("limited"), rate_limited=True)
        if args.database_url:
            print(
                "note: --database-url reused for both runs; use an empty database", file=sys.stderr
            )
        reference = run(args.members, url_for("reference"), rate_limited=False)
    per_minute = TIER_PER_MINUTE["t3"]
    floor = (math.ceil(limited["opens"] / per_minute) - 1) * 60
    print(f"command: python bench/delivery.py --members {args.members}")
    print(f"{'run':<34}{'intros':>8}{'429s':>7}{'Slack time':>12}{'wall time':>11}")
    print(
        f"{'tiers enforced (t3 = 50/min)':<34}{limited['sent']:>8.0f}{limited['throttled']:>7.0f}"
        f"{limited['simulated_s']:>11.0f}s{limited['wall_s']:>10.1f}s"
    )
    print(
        f"{'reference: no rate limits':<34}{reference['sent']:>8.0f}{reference['throttled']:>7.0f}"
        f"{reference['simulated_s']:>11.0f}s{reference['wall_s']:>10.1f}s"
    )
    print(
        f"tier floor for {limited['opens']:.0f} conversations.open calls: {floor:.0f}s; "
        f"round took {limited['simulated_s'] / floor:.3f}x the floor"
        if floor
        else "under one tier window"
    )


if __name__ == "__main__":
    main()
