"""What listeners and jobs need from the outside world, passed in rather than imported."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.domain.messages import DigestReport, Notice, Rendered
from db.session import unit_of_work

BACKGROUND_WORKERS = 4


def utc_now() -> datetime:
    """The current moment, timezone-aware UTC."""
    return datetime.now(UTC)


def _background_executor() -> Executor:
    return ThreadPoolExecutor(BACKGROUND_WORKERS, thread_name_prefix="peercoach-background")


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
    background: Executor = field(default_factory=_background_executor)
    # OAuth mode: where each workspace's installation (its bot token) is kept; None in
    # single-workspace mode, where SLACK_BOT_TOKEN speaks for the one workspace.
    installation_store: SQLAlchemyInstallationStore | None = None

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One session per unit of work: committed on success, rolled back on error."""
        with unit_of_work(self.sessions) as session:
            yield session
