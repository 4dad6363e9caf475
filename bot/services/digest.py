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
from db.models import Round, Workspace

CHART_CYCLES = 12


def digest_report(session: Session, workspace_id: int, round_id: int) -> DigestReport:
    """The digest of a round: its figures and the cycles up to it (at most CHART_CYCLES).

    Raises LookupError if the round or workspace is gone.
    """
    digested = session.get(Round, round_id)
    workspace = session.get(Workspace, workspace_id)
    if digested is None or workspace is None:
        raise LookupError(f"no round {round_id} in workspace {workspace_id}")
    # The chart ends at the digested cycle: a round started after it has no figures yet.
    upto = [
        c
        for c in cycle_figures(session, workspace_id, last=CHART_CYCLES + 1)
        if c.started_at <= digested.started_at
    ][-CHART_CYCLES:]
    return DigestReport(
        cycles=tuple(upto),
        membership=membership_figures(session, workspace_id),
    )


def queue_digests(
    session: Session,
    workspace: Workspace,
    round_id: int,
    *,
    now: datetime,
    resend_suffix: str = "",
) -> int:
    """Record a digest of a round for every admin, once per round (an operator's re-send
    passes a new `resend_suffix`). Returns how many were recorded now."""
    queued = 0
    for admin in admin_ids(session, workspace.id):
        key = f"digest:round:{round_id}:{admin}" + (f":{resend_suffix}" if resend_suffix else "")
        if enqueue(
            session,
            workspace_id=workspace.id,
            dedupe_key=key,
            recipients=[admin],
            notice=DigestNotice(round_id=round_id),
            now=now,
        ):
            queued += 1
    return queued


def latest_closed_round(session: Session, team_id: str) -> tuple[Workspace, int] | None:
    """The workspace and id of the most recently closed round of a team, if any."""
    row = session.execute(
        select(Workspace, Round.id)
        .join(Round, Round.workspace_id == Workspace.id)
        .where(Workspace.team_id == team_id, Round.closed_at.is_not(None))
        .order_by(Round.started_at.desc(), Round.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None
