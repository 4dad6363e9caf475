"""Round digests: when a round closes, each admin gets its figures (aggregates only) by DM.

The digest is an outbox notice like every other message; `bot.jobs.delivery` renders its
text and chart and uploads it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.messages import DigestNotice, DigestReport
from bot.services.admin import admin_ids
from bot.services.metrics import cycle_figures, membership_figures
from bot.services.outbox import enqueue
from db.models import Programme, Round, Workspace

CHART_CYCLES = 12


def digest_report(session: Session, workspace_id: int, round_id: int) -> DigestReport:
    """The digest of a round: its programme's figures and the cycles up to it (at most
    CHART_CYCLES). Only that programme's rounds and members count.

    Raises LookupError if the round is gone (or is another workspace's).
    """
    digested = session.get(Round, round_id)
    if digested is None or digested.workspace_id != workspace_id:
        raise LookupError(f"no round {round_id} in workspace {workspace_id}")
    # The chart ends at the digested cycle: a round started after it has no figures yet.
    upto = [
        c
        for c in cycle_figures(session, digested.programme_id, last=CHART_CYCLES + 1)
        if c.started_at <= digested.started_at
    ][-CHART_CYCLES:]
    return DigestReport(
        cycles=tuple(upto),
        membership=membership_figures(session, digested.programme_id),
        programme=digested.programme.name,
    )


def queue_digests(
    session: Session,
    programme: Programme,
    round_id: int,
    *,
    now: datetime,
    resend_suffix: str = "",
) -> int:
    """Record a digest of a round for every admin of its programme (its owners and the Slack
    admins), once per round (an operator's re-send passes a new `resend_suffix`). Returns how
    many were recorded now."""
    queued = 0
    for admin in admin_ids(session, programme.workspace_id, programme.id):
        key = f"digest:round:{round_id}:{admin}" + (f":{resend_suffix}" if resend_suffix else "")
        if enqueue(
            session,
            workspace_id=programme.workspace_id,
            dedupe_key=key,
            recipients=[admin],
            notice=DigestNotice(round_id=round_id),
            now=now,
        ):
            queued += 1
    return queued


def latest_closed_round(
    session: Session, team_id: str, programme_id: int | None = None
) -> tuple[Programme, int] | None:
    """The programme and id of the most recently closed round of a team (of one programme
    when `programme_id` is given), if any."""
    query = (
        select(Programme, Round.id)
        .join(Round, Round.programme_id == Programme.id)
        .join(Workspace, Workspace.id == Programme.workspace_id)
        .where(Workspace.team_id == team_id, Round.closed_at.is_not(None))
    )
    if programme_id is not None:
        query = query.where(Programme.id == programme_id)
    row = session.execute(query.order_by(Round.started_at.desc(), Round.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None
