"""Shared fixtures: a migrated database (SQLite, or PEERCOACH_TEST_DATABASE_URL), the Slack
emulator, a manual clock and the real app wired to them."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot import crypto
from bot.sandbox.clock import ManualClock
from bot.sandbox.slack_emulator import SlackEmulator
from db.migrate import is_at_head, upgrade_to_head
from db.models import Base
from db.session import make_engine, make_session_factory
from tests.surface_helpers import Attacker

if TYPE_CHECKING:
    from bot.sandbox.harness import Sandbox

# CI explores the same examples every run (a red CI must mean a regression, not a new draw);
# developers' runs keep drawing new ones.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

# One generated key for the whole run, in the environment so that in-process CLI calls and
# subprocesses (serve, worker) read the rows the sandbox wrote.
os.environ.setdefault("PEERCOACH_ENCRYPTION_KEYS", crypto.generate_key())
TEST_KEYS = crypto.parse_keys(os.environ["PEERCOACH_ENCRYPTION_KEYS"])
crypto.configure(TEST_KEYS)

# A Monday morning; tests move it forward as they need.
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Undo what `configure_logging` did (tests run CLI commands in-process): levels, handlers."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    named = {
        n: logging.getLogger(n).level for n in ("apscheduler", "sqlalchemy.engine", "slack_sdk")
    }
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name, named_level in named.items():
        logging.getLogger(name).setLevel(named_level)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("PEERCOACH_TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'peercoach-test.db'}"
    )
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: Engine, database_url: str) -> Engine:
    """The test database, emptied before the test (the schema stays at head)."""
    if not is_at_head(engine):  # a migration test may have left it elsewhere
        upgrade_to_head(database_url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return engine


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    """A session for service-level tests; committed work is visible to the next one."""
    with make_session_factory(db)() as session:
        yield session


@pytest.fixture(autouse=True)
def _test_key_ring() -> Iterator[None]:
    """Every test starts with the run's key ring, whatever an earlier test configured."""
    crypto.configure(TEST_KEYS)
    yield
    crypto.configure(TEST_KEYS)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def slack(clock: ManualClock) -> Iterator[SlackEmulator]:
    """The Slack emulator; a test fails if the app made any call real Slack would refuse."""
    with SlackEmulator(clock=clock.monotonic) as emulator:
        for n in range(1, 41):
            emulator.add_user(f"U{n:03d}", name=f"leader{n}")
        yield emulator
    assert emulator.violations == [], "calls real Slack would refuse"


@pytest.fixture
def sandbox(db: Engine, slack: SlackEmulator, clock: ManualClock) -> Iterator[Sandbox]:
    # Imported here, not above: the whole app loads in a second, which tests/unit need not wait.
    from bot.sandbox.harness import Sandbox

    box = Sandbox(emulator=slack, engine=db, clock=clock)
    yield box
    box.settle()
    box.close()


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    """A URL on 127.0.0.1 that an attacker controls; `attacker.hits` records every request."""
    server = Attacker()
    yield server
    server.close()
