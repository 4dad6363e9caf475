"""Round digests: after a round closes, each admin gets its figures and a chart by DM."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.admin import admin_ids
from bot.services.metrics import cycle_figures, membership_figures
from bot.services.report import participation_chart
from bot.slack_client import upload_to_dm
from bot.views.admin import digest_text
from db.models import DigestDelivery, Round, Workspace
from db.session import unit_of_work

logger = logging.getLogger(__name__)
CHART_CYCLES = 12
MAX_ATTEMPTS = 5


def queue_digests(
    session: Session, workspace_id: int, round_id: int, *, now: datetime, resend_suffix: str = ""
) -> int:
    """Record a digest for every admin (once per round, unless an operator re-sends)."""
    queued = 0
    for admin in admin_ids(session, workspace_id):
        exists = session.scalar(
            select(DigestDelivery.id).where(
                DigestDelivery.round_id == round_id,
                DigestDelivery.admin_user_id == admin,
                DigestDelivery.dedupe_suffix == resend_suffix,
            )
        )
        if exists is None:
            session.add(
                DigestDelivery(
                    workspace_id=workspace_id,
                    round_id=round_id,
                    admin_user_id=admin,
                    dedupe_suffix=resend_suffix,
                    status="pending",
                    created_at=now,
                    attempts=0,
                )
            )
            queued += 1
    return queued


def latest_closed_round(session: Session, team_id: str) -> tuple[int, int] | None:
    """(workspace id, round id) of the most recently closed round of a team."""
    row = session.execute(
        select(Round.workspace_id, Round.id)
        .join(Workspace, Workspace.id == Round.workspace_id)
        .where(Workspace.team_id == team_id, Round.closed_at.is_not(None))
        .order_by(Round.started_at.desc(), Round.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def send_pending_digests(
    sessions: sessionmaker[Session],
    client: WebClient,
    clock: Callable[[], datetime],
    *,
    only_suffix: str | None = None,
) -> int:
    """Send recorded digests; each is marked sent right after Slack accepts the upload."""
    with unit_of_work(sessions) as session:
        query = select(DigestDelivery.id).where(DigestDelivery.status == "pending")
        if only_suffix is not None:
            # An operator's re-send touches only its own rows, never the scheduler's.
            query = query.where(DigestDelivery.dedupe_suffix == only_suffix)
        pending = list(session.scalars(query.order_by(DigestDelivery.id)))
    sent = 0
    # Every admin gets the same digest of a round: render its figures and chart once.
    rendered: dict[int, tuple[str, bytes, str]] = {}
    for digest_id in pending:
        with unit_of_work(sessions) as session:
            digest = session.get(DigestDelivery, digest_id)
            assert digest is not None
            admin, round_id = digest.admin_user_id, digest.round_id
            if round_id not in rendered:
                rendered[round_id] = _render_digest(session, digest.workspace_id, round_id)
        text, png, alt = rendered[round_id]
        try:
            upload_to_dm(
                client,
                admin,
                file=png,
                filename="peercoach-digest.png",
                title="PeerCoach participation",
                alt_txt=alt,
                initial_comment=text,
            )
        except SlackApiError as error:
            with unit_of_work(sessions) as session:
                digest = session.get(DigestDelivery, digest_id)
                assert digest is not None
                digest.attempts += 1
                digest.last_error = str(error.response.get("error"))[:200]
                if digest.attempts >= MAX_ATTEMPTS:
                    digest.status = "failed"
            logger.warning("digest %s not sent: %s", digest_id, error.response.get("error"))
            continue
        with unit_of_work(sessions) as session:
            digest = session.get(DigestDelivery, digest_id)
            assert digest is not None
            digest.status, digest.sent_at = "sent", clock()
            digest.attempts += 1
        sent += 1
    return sent


def _render_digest(session: Session, workspace_id: int, round_id: int) -> tuple[str, bytes, str]:
    """A round's digest text, and its chart as PNG bytes with alt text."""
    workspace = session.get(Workspace, workspace_id)
    digested = session.get(Round, round_id)
    assert workspace is not None and digested is not None
    # The chart ends at the digested cycle: the round just started has no figures yet.
    upto = [
        c
        for c in cycle_figures(session, workspace_id, last=CHART_CYCLES + 1)
        if c.started_at <= digested.started_at
    ][-CHART_CYCLES:]
    text = digest_text(workspace.team_id, upto[-1], membership_figures(session, workspace_id))
    png, alt = participation_chart(upto)
    return text, png, alt
