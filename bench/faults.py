"""A crash campaign: kill the delivering process mid-round, restart it, count lost/repeated intros.

    python bench/faults.py [--members 500] [--trials 20] [--time-scale 100] [--folder DIR]
    python bench/faults.py --large 10000 [--time-scale 50] [--folder DIR]

Each trial records a fresh `--members` round (SQLite in a temp folder), then runs delivery in a
separate process (`bot.jobs.rounds.make_delivery`, as the worker does) against the local Slack
emulator with Slack's rate-limit tiers enforced, kills it with SIGKILL at a random moment
(after a random number of chat.postMessage calls, plus a random part of one message's time in
the reference trial) and starts a new process that delivers the rest. It reports per trial the
intros lost (a group with no intro) and repeated (a group with more than one), and whether
each repeat is the documented crash window: Slack accepted the post from the process that was
killed, which died before storing its `ts`. Then the same with a random 20% of
conversations.open and chat.postMessage answering HTTP 503 or 429.

Real processes can't share a manual clock, so the emulator and the delivering process run on
real time sped up `--time-scale` times: the emulator's tier windows (50 conversations.open per
minute) pass that much faster, and so do the app's clock (retry backoff, the 5-minute claim a
killed sender leaves behind) and its waits on Retry-After. A trial then takes seconds, and the
tiers still apply as Slack's do, only in compressed time.

With `--large N`, one N-member round is delivered without faults instead, and the wall time is
printed against the tier floor (N/2 groups need N/2 conversations.open calls at 50 per minute,
at the same time scale), with the delivering process's peak memory (getrusage).

The SQLite files go in a temporary folder under `--folder` (default: the system's); a folder
on tmpfs keeps fsync out of the figures on a machine with a slow disk.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from population import join_members
from sqlalchemy import func, select

from bot import crypto
from bot.domain.enums import RoundKind
from bot.sandbox.slack_emulator import TIER_PER_MINUTE, SlackEmulator
from bot.services import rounds
from db.migrate import upgrade_to_head
from db.models import OutboxMessage, PairGroup, Programme
from db.session import make_engine, make_session_factory, unit_of_work

TEAM = "T0PEERS"
# The app's clock at real time EPOCH_REAL; it then runs --time-scale times faster.
EPOCH_APP = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
INTRO_TEXT = "Meet your PeerCoach peers"
KEY = crypto.generate_key()  # the bench's key ring, handed to each delivering process


def app_clock(epoch_real: float, scale: float) -> datetime:
    """The app's sped-up clock, shared by the bench and every delivering process."""
    return EPOCH_APP + timedelta(seconds=(time.time() - epoch_real) * scale)


# -- the delivering process -------------------------------------------------------------------


def deliver(database_url: str, api_url: str, token: str, epoch_real: float, scale: float) -> None:
    """Deliver everything pending (waiting out backoffs and lapsed claims), then exit.

    Prints "ready" once set up (the bench times its kill from then), and its peak memory.
    The key ring comes from the bench in PEERCOACH_BENCH_KEY (messages are stored encrypted).
    """
    crypto.configure([os.environ["PEERCOACH_BENCH_KEY"]])
    from bot.config import load_settings
    from bot.deps import Deps
    from bot.jobs.rounds import make_delivery
    from bot.views.notices import render
    from db.models import OutboxMessage as Outbox

    settings = load_settings(
        slack_bot_token=token, slack_api_url=api_url, database_url=database_url
    )
    sessions = make_session_factory(make_engine(database_url))
    deps = Deps(
        settings=settings,
        sessions=sessions,
        render=render,
        clock=lambda: app_clock(epoch_real, scale),
        sleep=lambda seconds: time.sleep(seconds / scale),
    )
    delivery = make_delivery(deps)
    print("ready", flush=True)
    while True:
        delivery.run()
        with unit_of_work(sessions) as session:
            waiting = session.execute(
                select(func.min(Outbox.not_before), func.min(Outbox.claimed_until)).where(
                    Outbox.status.in_(["pending", "sending"])
                )
            ).one()
        due = [moment for moment in waiting if moment is not None]
        if not due:
            break
        # Nothing claimable now: sleep until a backoff ends or a dead sender's claim lapses.
        time.sleep(max(0.0, (min(due) - deps.clock()).total_seconds()) / scale + 0.001)
    print(f"peak_kb {own_peak_kb()}", flush=True)


def own_peak_kb() -> int:
    """This process's peak resident memory in KiB.

    getrusage's ru_maxrss survives fork and exec on Linux, so a child started by a large
    parent reports the parent's size; /proc's VmHWM belongs to the running program alone and
    is preferred where it exists.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# -- the campaign -------------------------------------------------------------------------------


@dataclass
class Trial:
    groups: int
    lost: int
    repeated: int
    in_window: int
    killed_at: float | None
    calls_failed: int
    throttled: int
    wall: float
    peak_kb: int = 0  # the delivering processes' peak memory (largest), KiB


def prepare_template(folder: Path, members: int) -> tuple[Path, list[str]]:
    """A migrated SQLite database with the members joined (copied for every trial)."""
    template = folder / "template.db"
    url = f"sqlite:///{template}"
    upgrade_to_head(url)
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        users = join_members(
            session,
            team_id=TEAM,
            count=members,
            now=EPOCH_APP - timedelta(days=1),
            goal_stride=7,
            bulk=True,
        )
    engine.dispose()
    return template, users


def start_round(url: str, now: datetime) -> int:
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        programme = session.scalars(select(Programme).order_by(Programme.id)).first()
        assert programme is not None
        started = rounds.start_round(
            session, programme, now=now, period_key=now.isoformat(), kind=RoundKind.SCHEDULED
        )
        assert started is not None
        groups = session.scalar(
            select(func.count()).select_from(PairGroup).where(PairGroup.round_id == started.id)
        )
    engine.dispose()
    return int(groups or 0)


def spawn(
    url: str, slack: SlackEmulator, token: str, epoch: float, scale: float
) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--deliver",
            url,
            slack.base_url,
            token,
            repr(epoch),
            repr(scale),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "LOG_LEVEL": "ERROR", "PEERCOACH_BENCH_KEY": KEY},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready", "the delivering process did not start"
    return process


def run_trial(
    folder: Path,
    template: Path,
    users: list[str],
    *,
    number: int,
    scale: float,
    kill_after: tuple[int, float] | None,
    flaky: bool,
) -> tuple[Trial, float]:
    """One trial; returns it and the first process's delivery time (ready to exit or kill)."""
    db_file = folder / f"trial{number}.db"
    shutil.copy(template, db_file)
    url = f"sqlite:///{db_file}"
    epoch = time.time()
    groups = start_round(url, app_clock(epoch, scale))
    with SlackEmulator(
        team_id=TEAM, clock=lambda: time.time() * scale, enforce_rate_limits=True
    ) as slack:
        for user in users:
            slack.add_user(user)
        if flaky:  # one method answers 503, the other 429, swapped every other trial
            unavailable, throttled = (
                ("conversations.open", "chat.postMessage")
                if number % 2
                else ("chat.postMessage", "conversations.open")
            )
            slack.fail_fraction(unavailable, 0.2, "service_unavailable", status=503)
            slack.fail_fraction(throttled, 0.2, "ratelimited", status=429, retry_after=1)
        started = time.perf_counter()
        first = spawn(url, slack, f"xoxb-trial{number}-first", epoch, scale)
        ready = time.perf_counter()
        killed_at = None
        if kill_after is not None:
            # A random moment of the delivery: once Slack has seen `posts` chat.postMessage
            # calls, plus a random part of one message's time (open, post and writes).
            posts, within = kill_after
            with contextlib.suppress(AssertionError):  # it ended before that many posts
                slack.wait_for("chat.postMessage", posts, timeout=600)
            time.sleep(within)
            if first.poll() is None:
                first.send_signal(signal.SIGKILL)
                killed_at = time.perf_counter() - ready
        first.wait()
        first_time = time.perf_counter() - ready
        if killed_at is not None:  # the replacement delivers the rest
            second = spawn(url, slack, f"xoxb-trial{number}-second", epoch, scale)
            second.wait()
        self_peaks = [
            int(line.split()[1])
            for process in (first, *([second] if killed_at is not None else []))
            for line in (process.stdout.read() if process.stdout else "").splitlines()
            if line.startswith("peak_kb ")
        ]
        wall = time.perf_counter() - started
        trial = count_intros(url, slack, groups, killed_at, wall)
        trial.peak_kb = max(self_peaks, default=0)
    db_file.unlink()
    return trial, first_time


def count_intros(
    url: str, slack: SlackEmulator, groups: int, killed_at: float | None, wall: float
) -> Trial:
    """Lost and repeated intros, from what the emulator received against what was recorded."""
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        recorded = {
            channel: ts
            for channel, ts in session.execute(
                select(OutboxMessage.channel_id, OutboxMessage.ts).where(
                    OutboxMessage.kind == "intro", OutboxMessage.status == "sent"
                )
            )
        }
    engine.dispose()
    posts = [
        c
        for c in slack.successful("chat.postMessage")
        if str(c.args.get("text", "")).startswith(INTRO_TEXT)
    ]
    per_channel = Counter(c.args["channel"] for c in posts)
    repeated = sum(n - 1 for n in per_channel.values() if n > 1)
    # A repeat is the crash window when the extra post came from the killed process and its
    # ts is not the one stored: Slack took it, the process died before writing it down.
    in_window = sum(
        1
        for c in posts
        if per_channel[c.args["channel"]] > 1
        and c.args["token"].endswith("-first")
        and c.response.get("ts") != recorded.get(c.args["channel"])
    )
    failed = sum(c.status >= 500 for c in slack.calls)
    throttled = sum(c.status == 429 for c in slack.calls)
    return Trial(
        groups, groups - len(per_channel), repeated, in_window, killed_at, failed, throttled, wall
    )


def campaign(folder: Path, members: int, trials: int, scale: float, seed: int) -> None:
    template, users = prepare_template(folder, members)
    chooser = random.Random(seed)
    reference, reference_time = run_trial(
        folder, template, users, number=0, scale=scale, kill_after=None, flaky=False
    )
    print(
        f"reference (no kill, no faults): {reference.groups} groups, {reference.lost} lost, "
        f"{reference.repeated} repeated, {reference.throttled} HTTP 429 (tiers), "
        f"delivery {reference_time:.1f}s, trial {reference.wall:.1f}s"
    )
    for flaky in (False, True):
        title = "with 20% of opens/posts answering 503 or 429" if flaky else "no Slack faults"
        print(f"\n{trials} trials, SIGKILL at a random moment, {title}:")
        print(
            f"{'trial':>5}{'groups':>8}{'kill at s':>10}{'lost':>6}{'repeated':>10}"
            f"{'in window':>10}{'503s':>6}{'429s':>6}{'wall s':>8}"
        )
        totals = Counter()
        for number in range(1, trials + 1):
            kill_after = (
                chooser.randint(1, reference.groups),
                chooser.uniform(0, reference_time / reference.groups),
            )
            trial, _ = run_trial(
                folder,
                template,
                users,
                number=number + (1000 if flaky else 0),
                scale=scale,
                kill_after=kill_after,
                flaky=flaky,
            )
            killed = f"{trial.killed_at:.2f}" if trial.killed_at is not None else "done"
            print(
                f"{number:>5}{trial.groups:>8}{killed:>10}{trial.lost:>6}{trial.repeated:>10}"
                f"{trial.in_window:>10}{trial.calls_failed:>6}{trial.throttled:>6}{trial.wall:>8.1f}"
            )
            totals.update(
                lost=trial.lost,
                repeated=trial.repeated,
                in_window=trial.in_window,
                groups=trial.groups,
                killed=int(trial.killed_at is not None),
            )
        print(
            f"total: {totals['groups']} intros over {trials} trials ({totals['killed']} killed "
            f"mid-delivery): {totals['lost']} lost, {totals['repeated']} repeated, of which "
            f"{totals['in_window']} in the documented crash window"
        )


def large_round(folder: Path, members: int, scale: float) -> None:
    template, users = prepare_template(folder, members)
    start = time.perf_counter()
    trial, delivery_time = run_trial(
        folder, template, users, number=0, scale=scale, kill_after=None, flaky=False
    )
    groups = trial.groups
    per_minute = TIER_PER_MINUTE["t3"] * scale
    floor = groups / per_minute * 60
    print(f"{members} members, {groups} groups, emulator and app clock at {scale:g}x real time")
    print(
        f"conversations.open tier 3: {TIER_PER_MINUTE['t3']}/min = {per_minute:g} per real minute"
    )
    print(f"tier floor (groups / rate): {floor:.1f}s real ({floor * scale / 60:.0f} min at 1x)")
    print(f"delivery (process ready to exit): {delivery_time:.1f}s, {delivery_time / floor:.2f}x")
    print(f"wall time incl. round start, process start-up: {time.perf_counter() - start:.1f}s")
    print(f"lost {trial.lost}, repeated {trial.repeated}, HTTP 429 answered: {trial.throttled}")
    print(
        f"peak memory: delivering process {trial.peak_kb / 1024:.0f} MB (its VmHWM); "
        f"bench process (round start + emulator) {own_peak_kb() / 1024:.0f} MB; "
        f"getrusage(RUSAGE_CHILDREN).ru_maxrss {child_peak_kb() / 1024:.0f} MB "
        "(includes the parent's pages at fork)"
    )


def child_peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def main() -> None:
    if sys.argv[1:2] == ["--deliver"]:
        url, api_url, token, epoch, scale = sys.argv[2:7]
        deliver(url, api_url, token, float(epoch), float(scale))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument(
        "--time-scale", type=float, default=None, help="default 100 (50 with --large)"
    )
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--large", type=int, default=0, metavar="N", help="one N-member round instead"
    )
    parser.add_argument("--folder", default=None, help="where the temporary SQLite files go")
    args = parser.parse_args()
    crypto.configure([KEY])
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        if args.large:
            scale = args.time_scale or 50
            print(f"command: python bench/faults.py --large {args.large} --time-scale {scale:g}")
            large_round(Path(folder), args.large, scale)
        else:
            scale = args.time_scale or 100
            print(
                f"command: python bench/faults.py --members {args.members} --trials {args.trials} "
                f"--time-scale {scale:g}"
            )
            campaign(Path(folder), args.members, args.trials, scale, args.seed)


if __name__ == "__main__":
    main()
