"""The APScheduler wrapper and its lease: one active scheduler per deployment.

Every tick the process holding the lease runs `bot.jobs.rounds.tick`; once a day it runs
`bot.jobs.maintenance.daily`. The work itself is idempotent (unique keys per round period and
per message); the lease only saves effort.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot import observability
from bot.deps import Deps
from bot.jobs.maintenance import MaintenanceReport, daily
from bot.jobs.rounds import TickReport, make_delivery, tick
from bot.logs import describe_failure
from db.models import SchedulerLease

logger = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
# The default lease; a process reads its own from SCHEDULER_LEASE_SECONDS.
LEASE_TTL = timedelta(minutes=3)
TICK_SECONDS = 60


def acquire_lease(deps: Deps, holder: str, now: datetime, *, ttl: timedelta = LEASE_TTL) -> bool:
    """Take or renew the scheduler lease until `now + ttl`; False while another holds it."""
    try:
        with deps.unit_of_work() as session:
            lease = session.get(SchedulerLease, LEASE_NAME, with_for_update=True)
            if lease is None:
                session.add(SchedulerLease(name=LEASE_NAME, holder=holder, expires_at=now + ttl))
                return True
            if lease.holder != holder and lease.expires_at > now:
                return False
            lease.holder, lease.expires_at = holder, now + ttl
            return True
    except IntegrityError:
        return False  # another process inserted the lease at the same moment


def release_lease(deps: Deps, holder: str) -> bool:
    """Give the lease up if `holder` has it, so a standby takes over at its next check.

    Returns whether this holder had it.
    """
    with deps.unit_of_work() as session:
        lease = session.get(SchedulerLease, LEASE_NAME, with_for_update=True)
        if lease is not None and lease.holder == holder:
            session.delete(lease)
            return True
    return False


@dataclass(frozen=True)
class StopReport:
    """How a scheduler stopped: whether its running tick finished, whether it held the lease."""

    tick_finished: bool
    released_lease: bool


class RoundScheduler:
    """APScheduler running `tick` every minute, only while this process holds the lease.

    The lease lasts SCHEDULER_LEASE_SECONDS. Every process checks it every third of that (at
    most every minute): a standby takes over within one lease time of the holder's death, and
    at its next check after the holder released it. While a long tick runs (a round's
    delivery can take minutes) a renewal thread keeps the lease, so it never lapses under a
    live holder.
    """

    def __init__(self, deps: Deps, client: WebClient | None = None) -> None:
        self.deps = deps
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.delivery = make_delivery(deps, client)
        self.lease_ttl = timedelta(seconds=deps.settings.scheduler_lease_seconds)
        self.check_seconds = min(float(TICK_SECONDS), max(1.0, self.lease_ttl.total_seconds() / 3))
        self.holding = False
        self._stopping = False
        self._ticks_running = 0
        self._idle = threading.Condition()
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.scheduler.add_job(
            self.run_once,
            IntervalTrigger(seconds=self.check_seconds),
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
        # A plain thread, not a second APScheduler job: it stays out of APScheduler's logs.
        self._stopped = threading.Event()
        self._renewer = threading.Thread(
            target=self._renew_while_ticking, name="lease-renewal", daemon=True
        )

    def run_once(self) -> TickReport | None:
        """Take or renew the lease and, holding it, do what is due now."""
        with self._idle:
            if self._stopping:
                return None
            self._ticks_running += 1
        try:
            if not self._check_lease():
                logger.debug("another scheduler holds the lease; staying idle")
                return None
            return tick(self.deps, self.delivery, self.deps.clock())
        finally:
            with self._idle:
                self._ticks_running -= 1
                self._idle.notify_all()

    def run_daily(self) -> MaintenanceReport | None:
        """The daily deletions, by whichever process holds the lease."""
        if not self._check_lease():
            return None
        return daily(self.deps, self.deps.clock())

    def _check_lease(self) -> bool:
        held = acquire_lease(self.deps, self.holder, self.deps.clock(), ttl=self.lease_ttl)
        observability.lease_held(held)
        if held != self.holding:
            # Transitions only: INFO stays quiet in steady state.
            if held:
                logger.info("scheduler %s took the lease: it runs rounds now", self.holder)
            else:
                logger.warning("scheduler %s lost the lease to another process", self.holder)
        self.holding = held
        return held

    def _renew_while_ticking(self) -> None:
        """Keep the lease while a long tick runs (between ticks, the tick job renews it)."""
        while not self._stopped.wait(self.check_seconds):
            with self._idle:
                busy = self._ticks_running > 0 and self.holding and not self._stopping
            if busy:
                try:
                    self._check_lease()
                except Exception as error:  # the database may blip; the next check tries again
                    logger.warning(
                        "could not renew the scheduler lease: %s", describe_failure(error)
                    )

    def start(self) -> None:
        """Start checking the lease and ticking, on background threads."""
        logger.info(
            "scheduler %s starting (lease %ss, checked every %ss)",
            self.holder,
            int(self.lease_ttl.total_seconds()),
            f"{self.check_seconds:g}",
        )
        self.scheduler.start()
        self._renewer.start()

    def stop(self, timeout: float | None) -> StopReport:
        """Start no more ticks, wait up to `timeout` s for the running one, release the lease.

        The lease is released whether or not the tick finished in time: work cut short is
        safe to redo (outbox claims, unique round keys).
        """
        with self._idle:
            self._stopping = True
        self._stopped.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        with self._idle:
            finished = self._idle.wait_for(lambda: self._ticks_running == 0, timeout)
        released = release_lease(self.deps, self.holder)
        self.holding = False
        observability.lease_held(False)
        return StopReport(tick_finished=finished, released_lease=released)

    def shutdown(self) -> None:
        """Stop, waiting for the running tick however long it takes, and release the lease."""
        self.stop(timeout=None)
