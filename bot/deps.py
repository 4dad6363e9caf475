"""What listeners and jobs need from the outside world, passed in rather than imported."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import observability
from bot.config import Settings
from bot.domain.messages import DigestReport, Notice, Rendered
from bot.errors import Busy
from bot.logs import describe_failure
from db.session import DatabaseBusy, bounded_read, bounded_unit_of_work, unit_of_work

logger = logging.getLogger(__name__)

BACKGROUND_WORKERS = 4
# Work waiting for a background thread, beyond the running ones. A burst larger than this is
# shed (see BoundedExecutor) rather than queued behind Slack's rate limits for minutes.
BACKGROUND_QUEUE = 64
# Slack wants an acknowledgement within 3 s. Database work done before an ack may wait this
# long for a lock; the rest of the budget is for Bolt, the network and the answer itself.
REQUEST_DB_BUDGET_S = 1.5


def utc_now() -> datetime:
    """The current moment, timezone-aware UTC."""
    return datetime.now(UTC)


class BackgroundFull(Exception):
    """The background executor has no room for more work right now."""


class BoundedExecutor(Executor):
    """Runs work on `inner`, refusing (never blocking) once `capacity` items are in flight.

    A listener must never wait for a slot: `try_submit` answers None at once when full, so
    the caller can fall back to the outbox or drop a refresh nobody depends on.
    """

    def __init__(self, inner: Executor, capacity: int) -> None:
        self.inner = inner
        self.capacity = capacity
        self._slots = threading.BoundedSemaphore(capacity)
        self._in_flight: set[Future[Any]] = set()
        self._in_flight_lock = threading.Lock()
        self._draining = False

    def try_submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Future[Any] | None:
        """Start `fn(*args, **kwargs)` in the background, or return None if there is no room
        (or the process is stopping: see drain)."""
        if self._draining or not self._slots.acquire(blocking=False):
            return None

        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as error:
                # In the request's context (its id, its kind), as a listener failure would be;
                # where it failed, never what with (no arguments, no exception message).
                observability.listener_failed()
                logger.error("background work failed: %s", describe_failure(error))
                raise
            finally:  # before the Future completes: whoever sees it done finds the slot free
                self._slots.release()

        try:
            # In a copy of the submitter's context: the request's id and kind go along.
            future = self.inner.submit(contextvars.copy_context().run, run)
        except RuntimeError:  # shut down since the check above: stopping, no room
            self._slots.release()
            return None
        except BaseException:
            self._slots.release()
            raise
        with self._in_flight_lock:
            self._in_flight.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._in_flight_lock:
            self._in_flight.discard(future)

    def drain(self, timeout: float) -> int:
        """Take no more work and wait up to `timeout` seconds for the work in hand (a delivery
        sleeping out a Retry-After, say); return how many items are unfinished."""
        self._draining = True
        self.inner.shutdown(wait=False)
        with self._in_flight_lock:
            in_flight = list(self._in_flight)
        _, unfinished = wait(in_flight, timeout=max(0.0, timeout))
        return len(unfinished)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Like try_submit, but when there is no room the work is dropped with a warning and
        the Future returned holds BackgroundFull (it never raises in the caller)."""
        future = self.try_submit(fn, *args, **kwargs)
        if future is None:
            logger.warning("background is full: dropped %s", getattr(fn, "__name__", "work"))
            future = Future()
            future.set_exception(BackgroundFull())
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


class TtlCache:
    """Remembers values for `ttl` seconds (thread-safe, in this process only)."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[Hashable, tuple[Any, float]] = {}
        self._lock = threading.Lock()

    def get(self, *key: Hashable) -> Any:
        """The remembered value, or None when unknown or expired."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[1] <= self.clock():
            return None
        return entry[0]

    def forget(self, *key: Hashable) -> None:
        """Forget the value under `key`, if any (it changed)."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything (what it remembered changed)."""
        with self._lock:
            self._entries.clear()

    def put(self, *key_and_value: Any) -> None:
        """put(*key, value): remember `value` under `key` for `ttl` seconds."""
        *key, value = key_and_value
        with self._lock:
            if len(self._entries) > 100_000:  # bound memory: forget everything at once
                self._entries.clear()
            self._entries[tuple(key)] = (value, self.clock() + self.ttl)


# Whether Slack says someone is a workspace admin or owner, (team, user) -> bool, so an App
# Home open need not call users.info; a lost role is noticed within this many seconds.
ADMIN_CACHE_TTL_S = 300.0
# Whether someone is a programme admin as the database answered it for an App Home render,
# (team, user, Slack's answer) -> bool, and whether slack_roles says they are not a Slack
# admin: one query fewer each per open. Saving the settings (which
# lists the added admins) or deleting one's data forgets it in this process at once; other
# processes see the change within this many seconds.
ADMIN_ANSWER_TTL_S = 30.0
# The digest of the App Home this process last published for (team, user): opening the tab
# again within this many seconds publishes nothing when the view is identical (Slack keeps
# showing the one it has). Actions always publish: another replica may have published since.
HOME_CACHE_TTL_S = 60.0


def _background_executor() -> BoundedExecutor:
    return BoundedExecutor(
        ThreadPoolExecutor(BACKGROUND_WORKERS, thread_name_prefix="peercoach-background"),
        capacity=BACKGROUND_WORKERS + BACKGROUND_QUEUE,
    )


@dataclass
class Deps:
    """Settings, the session factory, the clock (tests pass a fake one), the notice renderer
    (the views' `render`, so jobs need not import views), the background executor that
    runs Slack work after a listener's ack, apart from the threads acks need, and in OAuth
    mode the installation store."""

    settings: Settings
    sessions: sessionmaker[Session]
    render: Callable[[Notice | DigestReport], Rendered]
    clock: Callable[[], datetime] = field(default=utc_now)
    # How long-running work (rate-limit waits) sleeps; the sandbox moves its manual clock.
    sleep: Callable[[float], None] = field(default=time.sleep)
    background: BoundedExecutor = field(default_factory=_background_executor)
    # OAuth mode: where each workspace's installation (its bot token) is kept; None in
    # single-workspace mode, where SLACK_BOT_TOKEN speaks for the one workspace.
    installation_store: SQLAlchemyInstallationStore | None = None
    request_db_budget: float = REQUEST_DB_BUDGET_S
    admin_cache: TtlCache = field(default_factory=lambda: TtlCache(ADMIN_CACHE_TTL_S))
    home_cache: TtlCache = field(default_factory=lambda: TtlCache(HOME_CACHE_TTL_S))
    admin_answers: TtlCache = field(default_factory=lambda: TtlCache(ADMIN_ANSWER_TTL_S))

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One session per unit of work: committed on success, rolled back on error."""
        with unit_of_work(self.sessions) as session:
            yield session

    @contextmanager
    def request_unit_of_work(self) -> Iterator[Session]:
        """A unit of work done before an ack: its lock waits end within the request's database
        budget, raising errors.Busy (nothing stored) when they run out."""
        try:
            with bounded_unit_of_work(self.sessions, self.request_db_budget) as session:
                yield session
        except DatabaseBusy:
            raise Busy() from None

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A unit of work that only reads (background work: waits as long as it must): a
        plain connection, no ORM session; rolled back at the end."""
        with self._engine().connect() as connection:
            try:
                yield connection
            finally:
                connection.rollback()

    def _engine(self) -> Engine:
        engine = self.sessions.kw["bind"]
        assert isinstance(engine, Engine)
        return engine

    @contextmanager
    def request_read(self) -> Iterator[Connection]:
        """Like request_unit_of_work for work that only reads: a plain connection, no ORM
        session; rolled back at the end. Raises errors.Busy when a wait runs out."""
        try:
            with bounded_read(self._engine(), self.request_db_budget) as connection:
                yield connection
        except DatabaseBusy:
            raise Busy() from None
