"""Acknowledgement latency and CPU per request: `peercoach serve` beside a bare Bolt app.

    python bench/ack.py [--rates 25,50,100,150] [--seconds 8] [--slices 8]
                        [--storm-rate 50] [--storm-seconds 4]

Both servers run as real subprocesses on loopback ports, each served by waitress with 8
threads, and get the same signed requests (half `/peercoach status` commands, half
`app_home_opened` events) at a fixed offered rate. The bare app only acks (the same
ephemeral answer, an empty 200 for events). Each rate runs for --seconds per server, cut into
--slices short phases that alternate between the two servers (the first one alternating too),
so what drifts on a shared machine (other load, clock speed) weighs on both alike. Figures
per rate: p50/p99 ack latency (client side, loopback), server CPU per request (user+system
from /proc, summed over the slices), errors (non-200 or no answer) and acks over Slack's 3 s.

Before the rates, every member opens their App Home once, measured as a phase of its own
("first Home opens"): PeerCoach renders and publishes (views.publish) a person's first view in
a process, and later opens of an unchanged Home publish nothing, so the rates measure the
steady state.

The storm phase then repeats at --storm-rate for --storm-seconds with a Slack that answers 429
(Retry-After 30 s) to every users.info, views.open and views.publish and to 20% of
conversations.open, fails 20% of chat.postMessage, while a round of --members members is
being delivered (an admin pressed "Run now"), and a fifth of the requests are join modal
submissions from new people: it reports joins acked but not stored ("lost"). Loopback only;
about two minutes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from population import join_members
from sqlalchemy import select

from bot import ids
from bot.domain.enums import AdminSource
from bot.sandbox.slack_emulator import SlackEmulator
from bot.sandbox.slack_requests import SlackRequests, join_values
from bot.services import admin
from bot.views import membership as membership_views
from db.migrate import upgrade_to_head
from db.models import Member, ProgramAdmin, Workspace
from db.session import make_engine, make_session_factory, unit_of_work

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
TEAM = "TBENCH"
ADMIN = "UADMIN"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

BARE_APP = """
import sys, waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

secret, api_url, port, join_modal = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
app = App(
    signing_secret=secret,
    client=WebClient(token="xoxb-bench", base_url=api_url),
    token_verification_enabled=False,
)

@app.command("/peercoach")
def command(ack):
    ack(response_type="ephemeral", text="You're active.")

@app.event("app_home_opened")
def home(event):
    pass

@app.view(join_modal)
def joined(ack):
    ack()

handler = SlackRequestHandler(app, path="/slack/events")
print("Serving on", port, file=sys.stderr, flush=True)
waitress.serve(handler, host="127.0.0.1", port=port, threads=8, _quiet=True)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Server:
    name: str
    process: subprocess.Popen[str]
    port: int

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)


def wait_until_serving(process: subprocess.Popen[str], name: str) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        if "Serving on" in line:
            threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
            return
    raise SystemExit(f"{name} exited with {process.wait()}")


def start_peercoach(database_url: str, api_url: str, folder: str) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "RUN_SCHEDULER": "false",
        "LOG_LEVEL": "INFO",  # waitress says "Serving on" at INFO
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"],
        env=env,
        cwd=folder,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until_serving(process, "peercoach serve")
    return Server("peercoach", process, port)


def start_bare(api_url: str) -> Server:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", BARE_APP, SECRET, api_url, str(port), ids.JOIN_MODAL],
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_until_serving(process, "bare Bolt")
    return Server("bare bolt", process, port)


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    # Which requests (by their number in the phase) were acked: 200 with no inline errors.
    acked: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


Request = tuple[bytes, dict[str, str]]


def send(port: int, request: Request, phase: Phase, number: int) -> None:
    body, headers = request
    started = time.perf_counter()
    answer = b""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/slack/events", body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        ok = response.status == 200
        connection.close()
    except OSError:
        ok = False
    took = time.perf_counter() - started
    with phase.lock:
        phase.latencies.append(took)
        phase.errors += not ok
        if ok and b'"response_action"' not in answer:
            phase.acked.add(number)


def run_phase(
    server: Server, rate: float, seconds: float, make: Callable[[int], Request]
) -> tuple[Phase, float, int]:
    """Offer `rate` requests/s for `seconds` (open loop); return the phase, CPU s, count."""
    count = int(rate * seconds)
    requests = [make(n) for n in range(count)]  # signed before the clock starts
    phase = Phase()
    cpu_before = server.cpu()
    start = time.perf_counter()
    with ThreadPoolExecutor(64) as pool:
        for n, request in enumerate(requests):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing the offered load, not synchronisation
            pool.submit(send, server.port, request, phase, n)
    return phase, server.cpu() - cpu_before, count


def run_alternating(
    servers: tuple[Server, Server],
    rate: float,
    seconds: float,
    make: Callable[[int], Request],
    slices: int,
) -> list[tuple[Phase, float, int]]:
    """run_phase for each server in turn, `slices` times over (each slice a share of
    `seconds`, the first server alternating): what drifts on a shared machine (other load,
    clock speed) weighs on both alike. Returns each server's phase, CPU s and count, summed."""
    totals = [(Phase(), 0.0, 0) for _ in servers]
    numbered = 0
    for turn in range(slices):
        order = list(enumerate(servers))
        for index, server in order if turn % 2 == 0 else order[::-1]:
            phase, cpu, count = run_phase(
                server, rate, seconds / slices, lambda n, first=numbered: make(first + n)
            )
            whole, cpu_so_far, count_so_far = totals[index]
            whole.latencies += phase.latencies
            whole.errors += phase.errors
            totals[index] = (whole, cpu_so_far + cpu, count_so_far + count)
        numbered += int(rate * seconds / slices)
    return totals


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Traffic:
    """Signed requests as Slack sends them."""

    def __init__(self, emulator: SlackEmulator, members: list[str]) -> None:
        self.people = SlackRequests(
            lambda *_: [], signing_secret=SECRET, emulator=emulator, team_id=TEAM
        )
        self.members = members
        self.join_modal = {"id": "VBENCH", "hash": "1", **membership_views.join_modal(None)}

    def _form(self, body: bytes) -> Request:
        return body, self.people.signed_headers(body, "application/x-www-form-urlencoded")

    def status(self, n: int) -> Request:
        user = self.members[n % len(self.members)]
        return self._form(self.people.command_body(user, "status"))

    def home(self, n: int) -> Request:
        envelope = {
            "token": "x",
            "team_id": TEAM,
            "api_app_id": "APEERCOACH",
            "type": "event_callback",
            "event_id": f"Ev{n:09d}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": self.members[n % len(self.members)],
                "channel": "D0HOME",
                "tab": "home",
                "event_ts": f"{int(time.time())}.000100",
            },
        }
        body = json.dumps(envelope).encode()
        return body, self.people.signed_headers(body, "application/json")

    def mixed(self, n: int) -> Request:
        return self.status(n) if n % 2 == 0 else self.home(n)

    def join(self, user: str) -> Request:
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "bench"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "api_app_id": "APEERCOACH",
            "token": "x",
            "trigger_id": f"{user}.trigger",
            "view": {
                **self.join_modal,
                "state": {"values": join_values(3, "Sales", ["delegation"])},
            },
            "response_urls": [],
        }
        return self._form(urlencode({"payload": json.dumps(payload)}).encode())

    def run_now(self) -> Request:
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "bench"},
            "user": {"id": ADMIN, "username": "admin", "team_id": TEAM},
            "api_app_id": "APEERCOACH",
            "token": "x",
            "trigger_id": "run.trigger",
            "container": {"type": "view", "view_id": "VHOME"},
            "view": {"id": "VHOME"},
            "actions": [
                {
                    "type": "button",
                    "action_id": ids.ADMIN_RUN_NOW,
                    "block_id": "b",
                    "value": "",
                    "action_ts": f"{int(time.time())}.000001",
                }
            ],
        }
        return self._form(urlencode({"payload": json.dumps(payload)}).encode())


def report(name: str, rate: float, phase: Phase, cpu: float, count: int, note: str = "") -> None:
    late = sum(t >= 3.0 for t in phase.latencies)
    print(
        f"{name:<10} {rate:>5.0f} rps  p50 {pct(phase.latencies, 0.5) * 1000:7.1f} ms  "
        f"p99 {pct(phase.latencies, 0.99) * 1000:7.1f} ms  "
        f"CPU {cpu / count * 1000:6.2f} ms/req  errors {phase.errors:>3}  over 3 s {late:>3}"
        + (f"  ({note})" if note else ""),
        flush=True,
    )


def storm(emulator: SlackEmulator) -> None:
    for method in ("users.info", "views.open", "views.publish"):
        emulator.fail_fraction(method, 1.0, "ratelimited", status=429, retry_after=30)
    emulator.fail_fraction("conversations.open", 0.2, "ratelimited", status=429, retry_after=30)
    emulator.fail_fraction("chat.postMessage", 0.2, "internal_error")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="25,50,100,150")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--slices", type=int, default=8)
    parser.add_argument("--storm-rate", type=float, default=50.0)
    parser.add_argument("--storm-seconds", type=float, default=4.0)
    parser.add_argument("--members", type=int, default=200)
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]

    with tempfile.TemporaryDirectory() as folder, SlackEmulator(team_id=TEAM) as emulator:
        url = f"sqlite:///{folder}/bench.db"
        upgrade_to_head(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        now = datetime.now(UTC) - timedelta(days=1)
        with unit_of_work(sessions) as session:
            members = join_members(
                session, team_id=TEAM, count=args.members, now=now, goal_stride=5
            )
            # A join through Slack also stores what users.info said of the person's role
            # (fill_time_zone, after the join's ack); join_members writes the profile only.
            for user in members:
                admin.record_slack_role(
                    session, team_id=TEAM, user_id=user, is_admin=False, now=now
                )
            workspace_id = session.scalar(select(Workspace.id))
            session.add(
                ProgramAdmin(
                    workspace_id=workspace_id,
                    slack_user_id=ADMIN,
                    source=AdminSource.ADDED,
                    added_at=now,
                )
            )
        for user in [*members, ADMIN]:
            emulator.add_user(user)
        traffic = Traffic(emulator, members)
        peercoach = start_peercoach(url, emulator.base_url, folder)
        bare = start_bare(emulator.base_url)
        try:
            print(f"{len(members)} members, {args.seconds:.0f} s per phase, SQLite, loopback")
            for server in (bare, peercoach):  # warm both (imports, auth.test, caches)
                run_phase(server, 20, 1, traffic.mixed)
            # Each member's first App Home open in this process publishes their view; later
            # opens of an unchanged Home publish nothing. Measured apart, as a phase of its own.
            for server in (bare, peercoach):
                phase, cpu, count = run_phase(server, 25, len(members) / 25, traffic.home)
                report(server.name, 25, phase, cpu, count, "first Home opens")
            for rate in rates:
                measured = run_alternating(
                    (bare, peercoach), rate, args.seconds, traffic.mixed, args.slices
                )
                for server, (phase, cpu, count) in zip((bare, peercoach), measured, strict=True):
                    report(server.name, rate, phase, cpu, count)

            print(f"-- 429 storm, a round of {len(members)} being delivered, a fifth joins --")
            storm(emulator)
            for server in (bare, peercoach):
                if server is peercoach:
                    run_phase(server, 1, 1, lambda n: traffic.run_now())
                # Slack user ids are upper case (the guard refuses anything else with a 400).
                joiners = [
                    f"UJ{server.name[:4].upper()}{n:05d}"
                    for n in range(int(args.storm_rate * args.storm_seconds))
                ]

                def storm_request(n: int, joiners: list[str] = joiners) -> Request:
                    return traffic.join(joiners[n]) if n % 5 == 0 else traffic.mixed(n)

                phase, cpu, count = run_phase(
                    server, args.storm_rate, args.storm_seconds, storm_request
                )
                report(server.name, args.storm_rate, phase, cpu, count)
            wanted = [u for n, u in enumerate(joiners) if n % 5 == 0]
            acked = [u for n, u in enumerate(joiners) if n % 5 == 0 and n in phase.acked]
            with unit_of_work(sessions) as session:
                stored = set(
                    session.scalars(
                        select(Member.slack_user_id).where(Member.slack_user_id.in_(wanted))
                    )
                )
            delivered = len(emulator.successful("chat.postMessage"))
            print(
                f"peercoach joins sent {len(wanted)}, acked {len(acked)}, stored {len(stored)}, "
                f"lost (acked, not stored) {len(set(acked) - stored)}; messages delivered "
                f"meanwhile {delivered}"
            )
        finally:
            for server in (bare, peercoach):
                server.process.terminate()
                try:
                    server.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.process.kill()


if __name__ == "__main__":
    main()
