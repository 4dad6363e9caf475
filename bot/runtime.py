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
from sqlalchemy import Engine, NullPool, literal, select
from sqlalchemy.engine import make_url

from bot import crypto
from bot.config import HINTS, ConfigError, Settings
from bot.deps import Deps
from bot.installations import installation_store
from bot.slack_app import create_app
from bot.views.notices import render
from db.migrate import SchemaNotCurrent, schema_includes, schema_problem, upgrade_to_head
from db.models import Base
from db.session import make_engine, make_session_factory
from db.types import encrypted_columns

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


# The migration that encrypts text at rest: before it, the same columns hold plain text.
ENCRYPTING_REVISION = "0006"


def configure_encryption(settings: Settings, *, needs_key: bool = False) -> None:
    """Install the key ring from PEERCOACH_ENCRYPTION_KEYS before any row is read or written.

    Without the variable, a SQLite database uses a key kept beside its file, generated when
    the database holds no encrypted text yet (bot.crypto.sqlite_key_file); any other database
    raises ConfigError when `needs_key` (the long-running modes), and open_database raises it
    anyway if encrypted text exists.
    """
    keys = settings.encryption_keys()
    url = make_url(settings.database_url)
    if not keys and url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:":
            keys = [crypto.generate_key()]  # an in-memory database dies with the process
        else:
            keys = crypto.sqlite_key_file(
                database, create=not _holds_encrypted_rows(settings.database_url)
            )
    if not keys and needs_key:
        raise ConfigError(
            f"PEERCOACH_ENCRYPTION_KEYS is not set: set it to {HINTS['PEERCOACH_ENCRYPTION_KEYS']}"
        )
    crypto.configure(keys)


def _holds_encrypted_rows(database_url: str) -> bool:
    """Answer whether the schema is encrypted already and any encrypted column holds a value."""
    if not schema_includes(database_url, ENCRYPTING_REVISION):
        return False
    engine = make_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return any(
                connection.execute(
                    select(literal(1)).select_from(column.table).where(column.is_not(None)).limit(1)
                ).first()
                for column in encrypted_columns(Base.metadata)
            )
    finally:
        engine.dispose()


def open_database(
    settings: Settings, *, migrate: bool = False, needs_key: bool = False
) -> tuple[Engine, Deps]:
    """Configure encryption and return the engine and the app's dependencies.

    With `migrate`, bring the schema to head first (Alembic logs what it applies). Without
    it nothing is written: a schema that is not at head raises SchemaNotCurrent, whose
    one-line message says to run `peercoach db upgrade`. Raises ConfigError if encrypted rows
    exist but no key is set (or, with `needs_key`, if no key is set at all).
    """
    if not migrate:
        problem = schema_problem(settings.database_url)
        if problem is not None:
            raise SchemaNotCurrent(problem)
    configure_encryption(settings, needs_key=needs_key)
    if migrate:
        logger.info("bringing the database schema to head")
        upgrade_to_head(settings.database_url)
    engine = make_engine(settings.database_url)
    if not crypto.is_configured() and _holds_encrypted_rows(settings.database_url):
        raise ConfigError(
            "PEERCOACH_ENCRYPTION_KEYS is not set but the database holds encrypted text: "
            f"set it to {HINTS['PEERCOACH_ENCRYPTION_KEYS']}"
        )
    sessions = make_session_factory(engine)
    deps = Deps(settings=settings, sessions=sessions, render=render)
    if settings.oauth_enabled:
        deps.installation_store = installation_store(settings, engine, sessions, deps.clock)
    return engine, deps


def start_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Open the database (migrating it unless told not to), then build the app on it."""
    engine, deps = open_database(settings, migrate=migrate, needs_key=True)
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
