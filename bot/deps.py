"""What listeners and jobs need from the outside world, passed in rather than imported."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from db.session import unit_of_work


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    """Settings, the session factory and the clock (tests pass a fake one)."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = field(default=utc_now)
    # How long-running work (rate-limit waits) sleeps; the sandbox moves its manual clock.
    sleep: Callable[[float], None] = field(default=time.sleep)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One session per unit of work: committed on success, rolled back on error."""
        with unit_of_work(self.sessions) as session:
            yield session
