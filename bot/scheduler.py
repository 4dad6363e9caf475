"""The scheduler: one per deployment (a database lease), a tick a minute, idempotent work.

Every tick, for each workspace: start the scheduled round if its time has come (once per
period, thanks to a unique key), queue nudges and check-ins that are due, then send the
outbox. All of it takes `now`, so tests drive a year of cycles by calling `tick` directly.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot import observability
from bot.deps import Deps
from bot.services import rounds
from bot.services.delivery import Delivery, DeliveryReport
from bot.services.digest import send_pending_digests
from bot.slack_client import make_web_client
from db.models import SchedulerLease, Workspace

logger = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(minutes=3)
TICK_SECONDS = 60


@dataclass
class TickReport:
    rounds_started: list[int] = field(default_factory=list)
    follow_ups_queued: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    digests_sent: int = 0


def make_delivery(deps: Deps, client: WebClient | None = None) -> Delivery:
    """The outbox sender for a process: Slack client without sdk 429 retries, deps' clock."""
    return Delivery(
        deps.sessions,
        client or make_web_client(deps.settings, retry_rate_limits=False),
        clock=deps.clock,
        sleep=deps.sleep,
    )


def tick(deps: Deps, delivery: Delivery, now: datetime) -> TickReport:
    """Do everything that is due at `now`, for every workspace."""
    report = TickReport()
    with deps.unit_of_work() as session:
        workspace_ids = list(session.scalars(select(Workspace.id).order_by(Workspace.id)))
    for workspace_id in workspace_ids:
        try:
            with deps.unit_of_work() as session:
                workspace = session.get(Workspace, workspace_id)
                assert workspace is not None
                due = rounds.due_scheduled_period(workspace, now)
                if due is not None:
                    started = rounds.start_round(
                        session, workspace, now=now, period_key=due.isoformat(), kind="scheduled"
                    )
                    if started is not None:
                        report.rounds_started.append(started.id)
        except IntegrityError:
            # Another scheduler created this period's round first: that is the point of the key.
            logger.info("round for workspace %s was started elsewhere", workspace_id)
        with deps.unit_of_work() as session:
            workspace = session.get(Workspace, workspace_id)
            assert workspace is not None
            report.follow_ups_queued += rounds.enqueue_follow_ups(session, workspace, now=now)
    report.delivery = delivery.run()
    report.digests_sent = send_pending_digests(deps.sessions, delivery.client, deps.clock)
    return report


def run_round_now(deps: Deps, delivery: Delivery, *, team_id: str, now: datetime) -> int:
    """An admin's explicit round: close the current one and pair now; schedule unchanged."""
    with deps.unit_of_work() as session:
        workspace = session.scalar(select(Workspace).where(Workspace.team_id == team_id))
        if workspace is None:
            raise LookupError(f"no workspace {team_id}: nobody there has joined PeerCoach yet")
        started = rounds.start_round(
            session, workspace, now=now, period_key=f"manual:{now.isoformat()}", kind="manual"
        )
        assert started is not None, "a manual key is unique to its moment"
        round_id = started.id
    delivery.run()
    return round_id


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
