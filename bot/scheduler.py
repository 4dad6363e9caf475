"""The APScheduler wrapper and its lease: one active scheduler per deployment.

Every minute the process holding the lease runs `bot.jobs.rounds.tick`; the work itself is
idempotent (unique keys per round period and per message), the lease only saves effort.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot import observability
from bot.deps import Deps
from bot.jobs.maintenance import MaintenanceReport, daily
from bot.jobs.rounds import TickReport, make_delivery, tick
from db.models import SchedulerLease

logger = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(minutes=3)
TICK_SECONDS = 60


def acquire_lease(deps: Deps, holder: str, now: datetime) -> bool:
    """Take or renew the scheduler lease; False while another live process holds it."""
    try:
        with deps.unit_of_work() as session:
            lease = session.get(SchedulerLease, LEASE_NAME, with_for_update=True)
            if lease is None:
                session.add(
                    SchedulerLease(name=LEASE_NAME, holder=holder, expires_at=now + LEASE_TTL)
                )
                return True
            if lease.holder != holder and lease.expires_at > now:
                return False
            lease.holder, lease.expires_at = holder, now + LEASE_TTL
            return True
    except IntegrityError:
        return False  # another process inserted the lease at the same moment


def release_lease(deps: Deps, holder: str) -> None:
    with deps.unit_of_work() as session:
        lease = session.get(SchedulerLease, LEASE_NAME, with_for_update=True)
        if lease is not None and lease.holder == holder:
            session.delete(lease)


class RoundScheduler:
    """APScheduler running `tick` every minute, only while this process holds the lease."""

    def __init__(
        self, deps: Deps, client: WebClient | None = None, *, blocking: bool = False
    ) -> None:
        self.deps = deps
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.delivery = make_delivery(deps, client)
        self.scheduler: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(
            timezone="UTC"
        )
        self.scheduler.add_job(
            self.run_once,
            IntervalTrigger(seconds=TICK_SECONDS),
            id="peercoach-tick",
            next_run_time=deps.clock(),
            # Weekly work must not be skipped because a tick was late: coalesce and run it.
            misfire_grace_time=10 * TICK_SECONDS,
            coalesce=True,
            max_instances=1,
        )
        # Retention and deletion once a day, at a quiet hour for most of the world.
        self.scheduler.add_job(
            self.run_daily,
            CronTrigger(hour=3, minute=17, timezone="UTC"),
            id="peercoach-daily",
            misfire_grace_time=6 * 3600,
            coalesce=True,
            max_instances=1,
        )

    def run_daily(self) -> MaintenanceReport | None:
        """The daily deletions, by whichever process holds the lease."""
        now = self.deps.clock()
        if not acquire_lease(self.deps, self.holder, now):
            return None
        return daily(self.deps, now)

    def run_once(self) -> TickReport | None:
        now = self.deps.clock()
        held = acquire_lease(self.deps, self.holder, now)
        observability.lease_held(held)
        if not held:
            logger.debug("another scheduler holds the lease; staying idle")
            return None
        return tick(self.deps, self.delivery, now)

    def start(self) -> None:
        logger.info("scheduler %s starting", self.holder)
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        release_lease(self.deps, self.holder)
        observability.lease_held(False)
