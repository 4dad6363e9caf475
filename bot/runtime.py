"""Wiring shared by the CLI's modes: settings -> database -> Bolt app, and a graceful stop."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine

from bot.config import Settings
from bot.deps import Deps
from bot.slack_app import create_app
from db.migrate import SchemaNotCurrent, schema_problem, upgrade_to_head
from db.session import make_engine, make_session_factory

logger = logging.getLogger(__name__)

# Bolt's own default for its listener pool.
LISTENER_THREADS = 10


class DrainingExecutor(ThreadPoolExecutor):
    """A thread pool that can wait, with a bound, for the work it already accepted.

    Bolt runs listeners (what happens after the ack) here; on SIGTERM the process stops
    submitting and gives the running ones a bounded time to finish.
    """

    def __init__(self, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._pending: set[Future[Any]] = set()
        self._pending_lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._pending_lock:
            self._pending.discard(future)

    def drain(self, timeout: float) -> int:
        """Take no more work and wait up to `timeout` seconds; return how many are unfinished."""
        self.shutdown(wait=False)
        with self._pending_lock:
            pending = list(self._pending)
        _, unfinished = wait(pending, timeout=max(0.0, timeout))
        return len(unfinished)


@dataclass
class Runtime:
    """Everything a running PeerCoach process holds."""

    settings: Settings
    engine: Engine
    deps: Deps
    app: App
    listeners: DrainingExecutor = field(repr=False)


def open_database(settings: Settings, *, migrate: bool = False) -> tuple[Engine, Deps]:
    """Return the engine and the app's dependencies on the configured database.

    With `migrate`, bring the schema to head first (Alembic logs what it applies). Without
    it nothing is written: a schema that is not at head raises SchemaNotCurrent, whose
    one-line message says to run `peercoach db upgrade`.
    """
    if migrate:
        logger.info("bringing the database schema to head")
        upgrade_to_head(settings.database_url)
    else:
        problem = schema_problem(settings.database_url)
        if problem is not None:
            raise SchemaNotCurrent(problem)
    engine = make_engine(settings.database_url)
    return engine, Deps(settings=settings, sessions=make_session_factory(engine))


def start_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Open the database (migrating it unless told not to), then build the app on it."""
    engine, deps = open_database(settings, migrate=migrate)
    listeners = DrainingExecutor(LISTENER_THREADS, thread_name_prefix="listener")
    app = create_app(deps, listener_executor=listeners)
    return Runtime(settings=settings, engine=engine, deps=deps, app=app, listeners=listeners)


class Stop:
    """SIGTERM handling for long-running modes: note the signal, then let the caller wind down.

    `install(interrupt=True)` also raises SystemExit in the main thread, which is how a
    blocking server loop (waitress) is told to stop accepting; a later SIGTERM is ignored so
    the wind-down is not itself interrupted.
    """

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.signal_name = ""
        self.started = 0.0

    def install(self, *, interrupt: bool = False) -> None:
        """Handle SIGTERM from now on (call from the main thread)."""

        def handler(signum: int, _frame: FrameType | None) -> None:
            if self.requested.is_set():
                return
            self.signal_name = signal.Signals(signum).name
            self.started = time.monotonic()
            self.requested.set()
            if interrupt:
                raise SystemExit(0)

        signal.signal(signal.SIGTERM, handler)

    def wait(self) -> None:
        """Block the main thread until SIGTERM."""
        while not self.requested.wait(timeout=3600):
            pass

    def remaining(self, grace_seconds: float) -> float:
        """Seconds left of the grace period that began with the signal (now, if none came)."""
        if not self.started:
            self.started = time.monotonic()
        return max(0.0, self.started + grace_seconds - time.monotonic())

    def elapsed(self) -> float:
        return time.monotonic() - self.started if self.started else 0.0
