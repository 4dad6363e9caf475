"""How long starting a round takes for a large programme with a long history.

    python bench/rounds.py [--members 5000] [--rounds 30] [--database-url URL] [--profile N]

Seeds members (one multi-row insert of the rows joining writes), then starts `--rounds` weekly
rounds one after the other (every intro marked delivered and every group as met, so nobody is
auto-paused), timing each `start_round` (close the previous round and queue its intros'
closing updates, load history, match, record groups, seats, prompts and outbox rows). The
reference, measured in the same process on the same population and history, is the matching
alone for the last round (`match_members` on the inputs that round reads). Wall and CPU
seconds are both printed: on a busy machine wall time includes waiting for a core (and, on
PostgreSQL, for the server). With `--profile N`, the last round start is run under cProfile
and its N most expensive calls are printed. On PostgreSQL on this machine, the server's CPU
seconds for the round start (its backend, from /proc) are printed too. Nothing is sent to
Slack: delivery is measured by bench/delivery.py and bench/faults.py.

`--database-url` must name an empty database (tables are created by migrating it).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from population import join_members
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from bot import crypto
from bot.matching import match_members
from bot.services import rounds
from db.migrate import upgrade_to_head
from db.models import OutboxMessage, PairGroup, Programme
from db.session import make_engine, make_session_factory, unit_of_work

FIRST_ROUND = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEAM = "TBENCH"


def server_cpu(session: Session) -> float:
    """CPU seconds used so far by this session's PostgreSQL backend, when the server runs on
    this machine (read from /proc); 0 for SQLite, which runs inside this process."""
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    pid = session.scalar(text("SELECT pg_backend_pid()"))
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Timer:
    """Wall and CPU seconds of a block: this process's, plus the database server's."""

    def __init__(self, session: Session | None = None) -> None:
        self.session = session

    def __enter__(self) -> Timer:
        self.server = server_cpu(self.session) if self.session is not None else 0.0
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        if self.session is not None:
            self.server = server_cpu(self.session) - self.server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", help="an empty database (default: SQLite in a temp dir)")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="profile the last round start"
    )
    parser.add_argument(
        "--profile-sort", default="cumulative", help="pstats order: cumulative or tottime"
    )
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
                bulk=True,
            )
        timings: list[Timer] = []
        profile = cProfile.Profile()
        for week in range(args.rounds):
            now = FIRST_ROUND + timedelta(weeks=week)
            last = week == args.rounds - 1
            if last:  # the reference: matching alone, on what this round will read
                with unit_of_work(sessions) as session:
                    programme = session.scalars(select(Programme).order_by(Programme.id)).first()
                    assert programme is not None
                    rounds.close_open_rounds(session, programme, now=now)
                    members = {
                        m.slack_user_id: m
                        for m in rounds.eligible_members(session, programme.id, now)
                    }
                    inputs = rounds.match_inputs(session, programme, members, now=now)
                    with Timer() as matching:
                        match_members(
                            inputs.candidates,
                            history=inputs.history,
                            exclusions=inputs.exclusions,
                            rules=inputs.rules,
                            seed=rounds.seed_for(TEAM, now.isoformat()),
                        )
                    session.rollback()
            with unit_of_work(sessions) as session:
                programme = session.scalars(select(Programme).order_by(Programme.id)).first()
                assert programme is not None
                if last and args.profile:
                    profile.enable()
                with Timer(session) as timer:
                    rounds.start_round(
                        session, programme, now=now, period_key=now.isoformat(), kind="scheduled"
                    )
                    session.flush()
                profile.disable()
                timings.append(timer)
            print(
                f"round {week + 1}: {timer.wall:.2f}s wall, {timer.cpu:.2f}s cpu, "
                f"{timer.server:.2f}s db server cpu",
                file=sys.stderr,
            )
            with unit_of_work(sessions) as session:  # the new round delivered, and it met
                # Only this round's rows, as production writes them: rewriting every past row
                # each week would leave PostgreSQL tables full of dead rows no deployment has.
                session.execute(
                    update(PairGroup)
                    .where(PairGroup.met_at.is_(None))
                    .values(met_at=now, channel_id="DBENCH")
                )
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.kind == "intro", OutboxMessage.status == "pending")
                    .values(status="sent", channel_id="DBENCH", sent_at=now)
                )
            if engine.dialect.name == "postgresql":
                # Tables as autovacuum keeps them in a running deployment, where a week passes
                # between rounds (a bench's minutes are shorter than its naptime): statistics,
                # and the visibility map that lets history be read from its indexes alone
                # (without it, reading 2.9 million prompts shown took 2.7 s, not 0.7 s, at
                # 50,000 members). Not timed.
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
                    raw.execute(text("VACUUM ANALYZE"))
        with unit_of_work(sessions) as session:
            groups = session.scalar(select(func.count()).select_from(PairGroup))
            intros = session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "intro")
            )
        engine.dispose()
    command = f"python bench/rounds.py --members {args.members} --rounds {args.rounds}"
    print(f"command: {command}" + (" --database-url URL" if args.database_url else ""))
    print(
        f"database: {engine.dialect.name}{'' if args.database_url else ' (temp file)'}; "
        f"{groups} groups and {intros} intros recorded in all"
    )
    print(f"{'':<44}{'wall s':>9}{'cpu s':>9}{'db cpu s':>10}")
    history = args.rounds - 1
    print(
        f"{f'reference: matching alone, {history} rounds of history':<44}"
        f"{matching.wall:>9.2f}{matching.cpu:>9.2f}"
    )
    for week in sorted({0, len(timings) // 2, len(timings) - 1}):
        label = f"round {week + 1} start ({week} rounds of history)"
        timing = timings[week]
        print(f"{label:<44}{timing.wall:>9.2f}{timing.cpu:>9.2f}{timing.server:>10.2f}")
    print(
        f"last round start took {timings[-1].wall / matching.wall:.1f}x the matching alone "
        f"(wall), {timings[-1].cpu / matching.cpu:.1f}x (cpu)"
    )
    if args.profile:
        print(f"\nprofile of the last round start (top {args.profile} by {args.profile_sort}):")
        pstats.Stats(profile).sort_stats(args.profile_sort).print_stats(args.profile)


if __name__ == "__main__":
    main()
