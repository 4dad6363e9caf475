"""What a member's own App Home shows: their chat, commitment, goal, history, agreement."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from bot.domain.people import CurrentChat, HistoryEntry, MemberStatusView
from bot.services.membership import (
    Membership,
    join_choice,
    membership_status,
    read_memberships,
    resume_due,
    resume_if_due,
)
from db.models import GroupSeat, Member, MemberStatus, PairGroup, Reflection, Round, Workspace
from db.session import connection_of

RECENT_CHATS = 3


def reads_only(memberships: Sequence[Membership], now: datetime) -> bool:
    """Whether member_home writes nothing for these rows (read_memberships'), so that a
    plain connection will do: the person has a current membership and none of their
    current memberships has a pause that ended (resuming it is a write)."""
    current = [m for m in memberships if m.status != MemberStatus.LEFT]
    return bool(current) and not any(resume_due(m, now) for m in current)


def member_home(
    session: Session | Connection,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    memberships: list[Membership] | None = None,
) -> MemberStatusView:
    """The person's own view of their programmes; nothing about anyone else's private data.

    Per programme: current chat (partners, whether it happened), open commitment, goal and
    its latest progress, their last RECENT_CHATS chats with their own reflections, and the
    agreement. Someone in several programmes gets the first one's view with the others in
    `others`. `memberships`: the person's rows from read_memberships(with_reflections=True)
    when the caller has read them already. Two queries for a member (their memberships,
    their chats); someone in no programme also gets the programmes they may join.
    `session` may be a plain connection when reads_only(memberships, now).
    """
    if memberships is None:
        memberships = read_memberships(
            session, team_id=team_id, user_id=user_id, with_reflections=True
        )
    current = [m for m in memberships if m.status != MemberStatus.LEFT]
    if isinstance(session, Connection):
        assert reads_only(memberships, now), "a plain connection only for reads"
        rows = memberships
    elif not current:
        view = MemberStatusView(status="none")
        choice = join_choice(session, team_id=team_id, user_id=user_id, now=now)
        return (
            dataclasses.replace(view, joinable=tuple(choice)) if isinstance(choice, list) else view
        )
    else:
        rows = resume_if_due(
            session,
            memberships,
            current,
            team_id=team_id,
            user_id=user_id,
            now=now,
            with_reflections=True,
        )
    shown = [m for m in rows if m.status != MemberStatus.LEFT]
    chats = _chats(session, team_id=team_id, user_id=user_id)
    views = [_membership_home(m, chats.get(m.id, []), now) for m in shown]
    return dataclasses.replace(views[0], others=tuple(views[1:])) if len(views) > 1 else views[0]


def _membership_home(member: Membership, chats: Sequence[Any], now: datetime) -> MemberStatusView:
    status = membership_status(member, now)
    if status.status == "none":
        return status
    return dataclasses.replace(
        status,
        current=_current_chat(chats),
        open_commitment=member.open_commitment,
        last_goal_progress=member.last_goal_progress,
        recent=_recent(chats, member.id),
        agreement_text=member.agreement_text,
        agreement_pending=member.agreement_pending,
    )


def _chats_query() -> Any:
    """The statement behind _chats (built once). The seats of the person's current
    memberships in groups not called off, ranked newest first per membership; a seat is
    read when it is among the RECENT_CHATS newest or its round is still open, once per seat
    of its group (its partners), with the member's own reflection on it."""
    ranked = (
        select(
            GroupSeat.member_id,
            GroupSeat.group_id,
            GroupSeat.id.label("seat_id"),
            GroupSeat.met_at.label("seat_met_at"),
            GroupSeat.removed_at.label("seat_removed_at"),
            PairGroup.met_at.label("group_met_at"),
            PairGroup.picked_start,
            Round.started_at,
            Round.closed_at,
            func.row_number()
            .over(
                partition_by=GroupSeat.member_id,
                order_by=(Round.started_at.desc(), PairGroup.id.desc()),
            )
            .label("rank"),
        )
        .join(Member, Member.id == GroupSeat.member_id)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .join(PairGroup, PairGroup.id == GroupSeat.group_id)
        .join(Round, Round.id == PairGroup.round_id)
        .where(
            Workspace.team_id == bindparam("team_id"),
            Member.slack_user_id == bindparam("user_id"),
            Member.status != MemberStatus.LEFT.value,
            PairGroup.cancelled_at.is_(None),
        )
        .subquery()
    )
    seat = aliased(GroupSeat)
    return (
        select(
            ranked,
            seat.id.label("other_seat_id"),
            seat.member_id.label("other_member_id"),
            seat.slack_user_id.label("other_user_id"),
            seat.removed_at.label("other_removed_at"),
            Reflection.usefulness,
            Reflection.takeaway,
            Reflection.commitment,
            Reflection.commitment_outcome,
        )
        .join(seat, seat.group_id == ranked.c.group_id)
        .outerjoin(
            Reflection,
            and_(
                Reflection.group_id == ranked.c.group_id,
                Reflection.member_id == ranked.c.member_id,
            ),
        )
        .where(
            or_(
                ranked.c.rank <= RECENT_CHATS,
                and_(ranked.c.closed_at.is_(None), ranked.c.seat_removed_at.is_(None)),
            )
        )
        .order_by(ranked.c.member_id, ranked.c.rank, seat.position)
    )


_CHATS = _chats_query()


def _chats(
    session: Session | Connection, *, team_id: str, user_id: str
) -> dict[int, list[list[Any]]]:
    """Per current membership id: its chats from _CHATS, newest first, each the rows of its
    seats (one per seat of the group)."""
    found: dict[int, list[list[Any]]] = {}
    parameters = {"team_id": team_id, "user_id": user_id}
    connection = connection_of(session)
    for row in connection.execute(_CHATS, parameters):
        chats = found.setdefault(row.member_id, [])
        if not chats or chats[-1][0].group_id != row.group_id:
            chats.append([])
        chats[-1].append(row)
    return found


def _current_chat(chats: Sequence[list[Any]]) -> CurrentChat | None:
    """The member's chat in an open round, from which they were not removed."""
    for seats in chats:
        mine = seats[0]
        if mine.closed_at is None and mine.seat_removed_at is None:
            partners = tuple(
                s.other_user_id
                for s in seats
                if s.other_seat_id != mine.seat_id and s.other_removed_at is None
            )
            return CurrentChat(
                mine.group_id,
                partners,
                met=mine.group_met_at is not None,
                picked_start=mine.picked_start,
            )
    return None


def _recent(chats: Sequence[list[Any]], member_id: int) -> tuple[HistoryEntry, ...]:
    """The member's RECENT_CHATS newest chats with their own reflections, newest first."""
    return tuple(
        HistoryEntry(
            started_at=mine.started_at,
            partners=tuple(s.other_user_id for s in seats if s.other_member_id != member_id),
            met=mine.seat_met_at is not None or mine.group_met_at is not None,
            usefulness=mine.usefulness,
            takeaway=mine.takeaway,
            commitment=mine.commitment,
            commitment_outcome=mine.commitment_outcome,
        )
        for seats in chats
        for mine in seats[:1]
        if mine.rank <= RECENT_CHATS
    )
