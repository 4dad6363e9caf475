"""How long starting a round takes for a large programme with a long history.

    python bench/rounds.py [--members 5000] [--rounds 30]

Seeds members through the membership service, then starts `--rounds` weekly rounds one after
the other (every group marked as met, so nobody is auto-paused), timing each `start_round`
(close the previous round, load history, match, record groups, prompts and outbox). The first
round, with no history, is the reference measured in the same run. Nothing is sent to Slack:
delivery is measured by bench/delivery.py.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta

from population import join_members
from sqlalchemy import func, select, update

from bot import crypto
from bot.services import rounds
from db.migrate import upgrade_to_head
from db.models import OutboxMessage, PairGroup, Programme
from db.session import make_engine, make_session_factory, unit_of_work

FIRST_ROUND = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEAM = "TBENCH"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", help="an empty database (default: SQLite in a temp dir)")
    args = parser.parse_args()
    crypto.configure([crypto.generate_key()])  # messages are stored encrypted, as in production
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/rounds.db"
        upgrade_to_head(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with unit_of_work(sessions) as session:
            join_members(
                session,
                team_id=TEAM,
                count=args.members,
                now=FIRST_ROUND - timedelta(days=1),
                goal_stride=5,
            )
        timings = []
        for week in range(args.rounds):
            now = FIRST_ROUND + timedelta(weeks=week)
            with unit_of_work(sessions) as session:
                workspace = session.scalars(select(Programme).order_by(Programme.id)).first()
                started = time.perf_counter()
                rounds.start_round(
                    session, workspace, now=now, period_key=now.isoformat(), kind="scheduled"
                )
                session.flush()
                timings.append(time.perf_counter() - started)
            with unit_of_work(sessions) as session:
                session.execute(update(PairGroup).values(met_at=now))
        with unit_of_work(sessions) as session:
            groups = session.scalar(select(func.count()).select_from(PairGroup))
            intros = session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "intro")
            )
        engine.dispose()
    print(f"command: python bench/rounds.py --members {args.members} --rounds {args.rounds}")
    print(
        f"database: {'given URL' if args.database_url else 'SQLite (temp file)'}; "
        f"{groups} groups and {intros} intros recorded in all"
    )
    print(f"{'round':<34}{'seconds':>9}")
    print(f"{'first (reference: no history)':<34}{timings[0]:>9.2f}")
    for week in sorted({len(timings) // 2, len(timings) - 1} - {0}):
        print(f"{f'round {week + 1} ({week} rounds of history)':<34}{timings[week]:>9.2f}")
    print(f"last round took {timings[-1] / timings[0]:.2f}x the reference")


if __name__ == "__main__":
    main()
