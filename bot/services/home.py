"""What a member's own App Home shows: their chat, commitment, goal, history, agreement."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.people import CurrentChat, MemberStatusView
from bot.services.membership import (
    agreement_of,
    find_member,
    join_choice,
    memberships_of,
    needs_agreement,
    status_of,
)
from bot.services.pairing import history_of
from db.models import GroupSeat, Member, MemberStatus, PairGroup, Reflection, Round

RECENT_CHATS = 3


def member_home(session: Session, *, team_id: str, user_id: str, now: datetime) -> MemberStatusView:
    """The person's own view of their programmes; nothing about anyone else's private data.

    Per programme: current chat (partners, whether it happened), open commitment, goal and
    its latest progress, their last RECENT_CHATS chats with their own reflections, and the
    agreement. Someone in several programmes gets the first one's view with the others in
    `others`.
    """
    rows = memberships_of(session, team_id=team_id, user_id=user_id)
    current = [m for m in rows if m.status != MemberStatus.LEFT]
    if len(current) > 1:
        views = [_membership_home(session, m, now) for m in current]
        return dataclasses.replace(views[0], others=tuple(views[1:]))
    member = current[0] if current else find_member(session, team_id=team_id, user_id=user_id)
    view = _membership_home(session, member, now)
    if view.status == "none":
        choice = join_choice(session, team_id=team_id, user_id=user_id, now=now)
        if isinstance(choice, list):
            view = dataclasses.replace(view, joinable=tuple(choice))
    return view


def _membership_home(session: Session, member: Member | None, now: datetime) -> MemberStatusView:
    status = status_of(session, member, now=now)
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
        recent=tuple(
            history_of(
                session,
                team_id=member.workspace.team_id,
                user_id=member.slack_user_id,
                programme=member.programme_id,
            )[:RECENT_CHATS]
        ),
        agreement_text=agreement_of(member.programme),
        agreement_pending=needs_agreement(member, member.programme),
    )
