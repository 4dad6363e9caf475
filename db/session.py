"""Engine, session factory and the helpers that scope a unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

# How long background work (the scheduler, delivery) may wait for a SQLite lock.
BACKGROUND_BUSY_TIMEOUT_S = 30.0
# PostgreSQL SQLSTATEs meaning "a lock or statement ran out of its time": lock_not_available
# (lock_timeout) and query_canceled (statement_timeout).
_PG_TIMEOUT_STATES = frozenset({"55P03", "57014"})
_PG_TIMEOUTS = text(
    "SELECT set_config('lock_timeout', :millis, true),"
    " set_config('statement_timeout', :millis, true)"
)


class DatabaseBusy(Exception):
    """The database could not do the work within the time allowed (a lock held elsewhere)."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys and a busy timeout on every connection.

    SQL parameters never appear in logs or in error messages (`hide_parameters`): they carry
    people's reflections, commitments and profiles.
    """
    if url.startswith("sqlite"):
        kwargs.setdefault(
            "connect_args", {"check_same_thread": False, "timeout": BACKGROUND_BUSY_TIMEOUT_S}
        )
    kwargs.setdefault("hide_parameters", True)
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"), **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """One factory for the whole app; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def connection_of(unit: Session | Connection) -> Connection:
    """The connection a read runs on: the session's own (in its transaction), or the plain
    connection given. For reads of plain rows that serve both a unit of work and a
    read-only connection (status, the App Home)."""
    return unit.connection() if isinstance(unit, Session) else unit


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit if the block succeeds, roll back if it raises, always close."""
    with factory.begin() as session:
        yield session


# PostgreSQL SQLSTATEs meaning "this transaction lost to a concurrent one and was rolled
# back; the same work may simply run again": deadlock_detected and serialization_failure.
_PG_CONFLICT_STATES = frozenset({"40P01", "40001"})


def lost_to_a_concurrent_transaction(error: BaseException) -> bool:
    """Answer whether `error` is PostgreSQL ending this transaction to break a deadlock (or a
    serialization failure): nothing of it was stored, and running the unit of work again is
    safe and usually succeeds (the other transaction has committed by then)."""
    orig = getattr(error, "orig", None)
    return isinstance(error, DBAPIError) and getattr(orig, "sqlstate", None) in _PG_CONFLICT_STATES


def _is_timeout(error: DBAPIError) -> bool:
    state = getattr(error.orig, "sqlstate", None)
    if state in _PG_TIMEOUT_STATES:
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


@contextmanager
def _waits_bounded(connection: Connection, seconds: float) -> Iterator[None]:
    """Limit the connection's waits to `seconds` for the block: SQLite's busy timeout,
    restored afterwards; PostgreSQL's lock_timeout and statement_timeout, set for the
    transaction only (set_config's `true`, as SET LOCAL; both in one round trip)."""
    millis = max(1, int(seconds * 1000))
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.driver_connection
    assert raw is not None  # a checked-out connection always has its driver's
    if sqlite:
        raw.execute(f"PRAGMA busy_timeout = {millis}")
    else:
        connection.execute(_PG_TIMEOUTS, {"millis": str(millis)})
    try:
        yield
    finally:
        if sqlite:
            # On the driver's connection: it works even when the transaction failed.
            raw.execute(f"PRAGMA busy_timeout = {int(BACKGROUND_BUSY_TIMEOUT_S * 1000)}")


@contextmanager
def _timeouts_as_busy() -> Iterator[None]:
    """Turn a wait that ran out (a lock or statement timeout) into DatabaseBusy."""
    try:
        yield
    except DBAPIError as error:
        if _is_timeout(error):
            raise DatabaseBusy(str(type(error.orig).__name__)) from None
        raise


@contextmanager
def bounded_unit_of_work(factory: sessionmaker[Session], seconds: float) -> Iterator[Session]:
    """A unit of work whose waits for locks (and, on PostgreSQL, its statements) end after
    `seconds`, for work a request must finish before its acknowledgement.

    SQLite: the connection's busy timeout is set to `seconds` for this unit of work and
    restored afterwards. PostgreSQL: `lock_timeout` and `statement_timeout` set locally (as
    SET LOCAL does), which end with the transaction. Raises DatabaseBusy when a wait ran
    out; the work is then rolled back, so nothing of it is stored.
    """
    with (
        _timeouts_as_busy(),
        factory.begin() as session,
        _waits_bounded(session.connection(), seconds),
    ):
        yield session


@contextmanager
def bounded_read(engine: Engine, seconds: float) -> Iterator[Connection]:
    """A read-only unit of work on a plain connection (no ORM session: less to set up and
    tear down on a request's path), with bounded_unit_of_work's limits on its waits; rolled
    back at the end, so anything written through it is discarded.

    Raises DatabaseBusy when a wait ran out.
    """
    with _timeouts_as_busy(), engine.connect() as connection:
        try:
            with _waits_bounded(connection, seconds):
                yield connection
        finally:
            connection.rollback()


def database_is_reachable(engine: Engine) -> bool:
    """Answer whether a trivial query succeeds, for the health check."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
