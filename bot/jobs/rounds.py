"""The minute tick: start due rounds, queue follow-ups, send the outbox (digests included).

All of it takes `now`, so tests drive a year of cycles by calling `tick` directly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.deps import Deps
from bot.domain.enums import RoundKind
from bot.installations import SlackClients
from bot.jobs.delivery import Delivery, DeliveryReport
from bot.services import rounds
from db.models import Workspace

logger = logging.getLogger(__name__)


@dataclass
class TickReport:
    """What one tick did: round ids started, follow-ups queued, what delivery sent."""

    rounds_started: list[int] = field(default_factory=list)
    follow_ups_queued: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


def make_delivery(deps: Deps, client: WebClient | None = None) -> Delivery:
    """The outbox sender for a process: each workspace's own Slack client (`client`, if
    given, for every workspace), leaving 429s to the sender (which honours Retry-After on the
    deps' clock), and the deps' renderer."""
    clients = SlackClients(deps.settings, deps.sessions, deps.installation_store)
    return Delivery(
        deps.sessions,
        (lambda _workspace_id: client) if client is not None else clients.for_workspace,
        render=deps.render,
        clock=deps.clock,
        sleep=deps.sleep,
    )


def tick(deps: Deps, delivery: Delivery, now: datetime) -> TickReport:
    """Do everything that is due at `now` (aware), for every workspace."""
    report = TickReport()
    with deps.unit_of_work() as session:
        # An uninstalled workspace does no work while it waits for deletion (or a reinstall).
        workspace_ids = list(
            session.scalars(
                select(Workspace.id)
                .where(Workspace.uninstalled_at.is_(None))
                .order_by(Workspace.id)
            )
        )
    for workspace_id in workspace_ids:
        try:
            with deps.unit_of_work() as session:
                workspace = session.get(Workspace, workspace_id)
                assert workspace is not None
                due = rounds.due_scheduled_period(workspace, now)
                if due is not None:
                    started = rounds.start_round(
                        session,
                        workspace,
                        now=now,
                        period_key=due.isoformat(),
                        kind=RoundKind.SCHEDULED,
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
    return report


def deliver_workspace(deps: Deps, workspace_id: int) -> DeliveryReport:
    """Send one workspace's due messages now (an admin's round or invitations), in the
    background work that follows a listener's ack; the tick would send them within a minute
    anyway, and outbox claims keep the two from sending anything twice."""
    return make_delivery(deps).run(workspace_id=workspace_id)
