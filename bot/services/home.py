"""What a member's own App Home shows: their chat, commitment, goal, history, agreement."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.domain.people import CurrentChat, MemberStatusView
from bot.services.membership import agreement_of, needs_agreement, status_of
from bot.services.pairing import SeatRow, member_history, recent_seats
from db.models import GroupSeat, Member, PairGroup, Reflection, Round

RECENT_CHATS = 3


def member_home(
    session: Session, member: Member | None, *, last_scheduled: datetime | None, now: datetime
) -> MemberStatusView:
    """The person's own view of the programme; nothing about anyone else's private data.

    `member` and `last_scheduled` as membership.find_member_and_slot loaded them (None: never
    joined). Current chat (partners, whether it happened), open commitment, goal and its
    latest progress, their last RECENT_CHATS chats with their own reflections, and the
    agreement.
    """
    status = status_of(session, member, now=now, last_scheduled=last_scheduled)
    if member is None or status.status == "none":
        return status
    seats = recent_seats(session, member, limit=RECENT_CHATS)
    chat = _current_chat(session, member, seats)
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
        recent=tuple(member_history(session, member, seats=seats, reflections=reflections)),
        agreement_text=agreement_of(member.workspace),
        agreement_pending=needs_agreement(member, member.workspace),
    )


def _current_chat(session: Session, member: Member, seats: Sequence[SeatRow]) -> CurrentChat | None:
    """The member's seat in the newest open round (not removed, group not cancelled), if any.

    `seats` (recent_seats) usually answers it: when the newest seat qualifies it is the one.
    Otherwise (never seated, or the newest seat is closed or removed) one query decides,
    unless the member was never seated in a group that stands.
    """
    if not seats:
        return None
    seat, group, newest = seats[0]
    if seat.removed_at is not None or newest.closed_at is not None:
        found = session.execute(
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
            .options(selectinload(PairGroup.seats))
        ).first()
        if found is None:
            return None
        group, seat = found
    partners = tuple(
        s.slack_user_id for s in group.seats if s.id != seat.id and s.removed_at is None
    )
    return CurrentChat(group.id, partners, met=group.met_at is not None)
