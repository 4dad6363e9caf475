"""The minute tick: start due rounds, queue follow-ups, send the outbox (digests included).

All of it takes `now`, so tests drive a year of cycles by calling `tick` directly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.deps import Deps
from bot.domain.enums import Unpairable
from bot.errors import RoundRaced
from bot.installations import SlackClients
from bot.jobs.delivery import Delivery, DeliveryReport
from bot.jobs.people import app_user_id, slack_users
from bot.services import meetings, membership, rounds
from db.models import Programme, Workspace
from db.session import lost_to_a_concurrent_transaction

logger = logging.getLogger(__name__)
# Starts of one due round per tick when leaves keep racing it (each race stores nothing);
# the next tick tries again.
ROUND_ATTEMPTS = 3


@dataclass
class TickReport:
    """What one tick did: round ids started, follow-ups queued, what delivery sent."""

    rounds_started: list[int] = field(default_factory=list)
    follow_ups_queued: int = 0
    auto_picked: int = 0
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
    """Do everything that is due at `now` (aware), for every programme of every workspace:
    each programme runs on its own schedule, side by side with the others."""
    report = TickReport()
    with deps.unit_of_work() as session:
        # An uninstalled workspace does no work while it waits for deletion (or a reinstall).
        programmes = list(
            session.execute(
                select(Programme.id, Programme.workspace_id)
                .join(Workspace, Workspace.id == Programme.workspace_id)
                .where(Workspace.uninstalled_at.is_(None))
                .order_by(Programme.workspace_id, Programme.id)
            ).all()
        )
    for programme_id, workspace_id in programmes:
        try:
            left_out = _unpairable_at_round_time(
                deps, delivery.clients(workspace_id), programme_id, now
            )
            if left_out is not None:  # a round looks due: decide again under the lock
                for attempt in range(1, ROUND_ATTEMPTS + 1):
                    try:
                        with deps.unit_of_work() as session:
                            started = rounds.run_due_round(
                                session, programme_id, now=now, left_out=left_out
                            )
                            if started is not None:
                                report.rounds_started.append(started.id)
                                membership.leave_out_unpairable(
                                    session,
                                    programme=started.programme,
                                    reasons=left_out,
                                    now=now,
                                )
                        break
                    except RoundRaced:
                        # Someone left while it was made; nothing was stored. Again, at once:
                        # the next plan reads them as gone.
                        logger.info(
                            "round for programme %s raced a leave (attempt %s)",
                            programme_id,
                            attempt,
                        )
                    except DBAPIError as error:
                        # PostgreSQL broke a deadlock with a racing erasure by ending the
                        # round start: nothing was stored, and the erasure has committed.
                        if not lost_to_a_concurrent_transaction(error):
                            raise
                        logger.info(
                            "round for programme %s lost a deadlock (attempt %s)",
                            programme_id,
                            attempt,
                        )
        except IntegrityError:
            # Another scheduler created this period's round first: that is the point of the key.
            logger.info("round for programme %s was started elsewhere", programme_id)
        with deps.unit_of_work() as session:
            programme = session.get(Programme, programme_id)
            assert programme is not None
            report.follow_ups_queued += rounds.enqueue_follow_ups(session, programme, now=now)
            report.auto_picked += meetings.auto_schedule(session, programme, now=now)
    report.delivery = delivery.run()
    return report


def _unpairable_at_round_time(
    deps: Deps, client: WebClient, programme_id: int, now: datetime
) -> dict[str, Unpairable] | None:
    """If the programme's round is due, ask Slack about everyone it would pair (their account
    may have changed since they joined: deactivated, made a guest) and say who to leave out
    and why; None when no round is due."""
    with deps.unit_of_work() as session:
        programme = session.get(Programme, programme_id)
        assert programme is not None
        if rounds.due_scheduled_period(session, programme, now) is None:
            return None
        team_id = programme.workspace.team_id
        include_guests = membership.settings_of_programme(programme).include_guests
        candidates = [m.slack_user_id for m in rounds.eligible_members(session, programme_id, now)]
    users = slack_users(client, candidates, deps.sleep)
    own_id = app_user_id(client, deps.sleep)
    reasons: dict[str, Unpairable] = {}
    for user_id, user in users.items():
        reason = membership.why_not_pairable(
            user, team_id=team_id, app_user_id=own_id, include_guests=include_guests
        )
        if reason is not None:
            reasons[user_id] = reason
    return reasons


def deliver_workspace(deps: Deps, workspace_id: int) -> DeliveryReport:
    """Send one workspace's due messages now (an admin's round or invitations), in the
    background work that follows a listener's ack; the tick would send them within a minute
    anyway, and outbox claims keep the two from sending anything twice."""
    return make_delivery(deps).run(workspace_id=workspace_id)
