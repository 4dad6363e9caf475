"""Helpers for tests that send requests at the same moment and time their acknowledgements."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import Engine, text

from bot.sandbox.slack_requests import HttpResponse

# Slack's deadline for an acknowledgement: a correctness bound, not a benchmark.
ACK_DEADLINE_S = 3.0

Timed = tuple[HttpResponse, float]


def timed(call: Callable[[], HttpResponse]) -> Timed:
    """Send one request; return its response and how long the ack took (seconds)."""
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


def all_at_once(calls: list[Callable[[], HttpResponse]]) -> list[Timed]:
    """Send every request from its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], HttpResponse]) -> Timed:
        barrier.wait()
        return timed(call)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


# Another process holding the database's write lock (SQLite) or an exclusive lock on the
# members table (PostgreSQL; reads still pass) until it reads a line on stdin.
_LOCKER = """
import sys
from sqlalchemy import create_engine
engine = create_engine(sys.argv[1])
connection = engine.raw_connection()
cursor = connection.cursor()
if engine.dialect.name == "sqlite":
    cursor.execute("BEGIN IMMEDIATE")
else:
    cursor.execute("LOCK TABLE members IN EXCLUSIVE MODE")
print("locked", flush=True)
sys.stdin.readline()
connection.commit()
"""


@contextmanager
def database_locked_elsewhere(database_url: str) -> Iterator[Callable[[], None]]:
    """Hold a write lock from another process; yield a function that releases it."""
    locker = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, database_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert locker.stdin is not None and locker.stdout is not None
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            assert locker.stdin is not None
            locker.stdin.write("go\n")
            locker.stdin.flush()
            assert locker.wait(timeout=30) == 0

    try:
        assert locker.stdout.readline().strip() == "locked"
        yield release
    finally:
        release()


def wait_until_waiting_for_a_lock(
    engine: Engine, alive: Callable[[], bool], *, waiting: int = 1, query_like: str = "%"
) -> None:
    """Poll (PostgreSQL) until `waiting` connections wait for a lock while running a
    statement like `query_like`, or `alive` says the work that was to wait has ended."""
    with engine.connect() as probe:
        while (
            alive()
            and (
                probe.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND query ILIKE :query"
                    ),
                    {"query": query_like},
                ).scalar()
                or 0
            )
            < waiting
        ):
            probe.rollback()
            threading.Event().wait(0.02)  # a poll interval, not a synchronisation
