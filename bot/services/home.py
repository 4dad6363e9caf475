"""What a member's own App Home shows: their chat, commitment, goal, history, agreement."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.people import CurrentChat, MemberStatusView
from bot.services.membership import agreement_of, find_member, member_status, needs_agreement
from bot.services.pairing import history_of
from db.models import GroupSeat, PairGroup, Reflection, Round

RECENT_CHATS = 3


def member_home(session: Session, *, team_id: str, user_id: str, now: datetime) -> MemberStatusView:
    """The person's own view of the programme; nothing about anyone else's private data.

    Current chat (partners, whether it happened), open commitment, goal and its latest
    progress, their last RECENT_CHATS chats with their own reflections, and the agreement.
    """
    status = member_status(session, team_id=team_id, user_id=user_id, now=now)
    member = find_member(session, team_id=team_id, user_id=user_id)
    if member is None or status.status == "none":
        return status
    current = session.execute(
        select(PairGroup, GroupSeat)
        .join(GroupSeat, GroupSeat.group_id == PairGroup.id)
        .join(Round, Round.id == PairGroup.round_id)
        .where(
            GroupSeat.member_id == member.id,
            GroupSeat.removed_at.is_(None),
            PairGroup.cancelled_at.is_(None),
            Round.closed_at.is_(None),
        )
        .order_by(Round.started_at.desc())
        .limit(1)
    ).first()
    chat = None
    if current is not None:
        group, seat = current
        partners = tuple(
            s.slack_user_id for s in group.seats if s.id != seat.id and s.removed_at is None
        )
        chat = CurrentChat(
            group.id, partners, met=group.met_at is not None, picked_start=group.picked_start
        )
    reflections = session.scalars(
        select(Reflection).where(Reflection.member_id == member.id).order_by(Reflection.id.desc())
    ).all()
    open_commitment = next(
        (r.commitment for r in reflections if r.commitment and not r.commitment_outcome), None
    )
    progress = next((r.goal_progress for r in reflections if r.goal_progress is not None), None)
    return dataclasses.replace(
        status,
        current=chat,
        open_commitment=open_commitment,
        last_goal_progress=progress,
        recent=tuple(history_of(session, team_id=team_id, user_id=user_id)[:RECENT_CHATS]),
        agreement_text=agreement_of(member.workspace),
        agreement_pending=needs_agreement(member, member.workspace),
    )
