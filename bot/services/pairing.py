"""What members do with a pairing: we met, can't make it, reflect, answer a commitment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.membership import UsageError, find_member
from bot.views.reflection import HistoryEntry, ReflectionInput
from db.models import GroupSeat, Member, PairGroup, Reflection, Round, Workspace

COMMITMENT_OUTCOMES = ("done", "partly", "not_yet")
HISTORY_LIMIT = 12


@dataclass(frozen=True)
class SeatContext:
    """A member's seat in a group, with the group's DM and the others in it."""

    group_id: int
    channel_id: str | None
    partners: tuple[str, ...]


def _seat(session: Session, group_id: int, user_id: str) -> tuple[PairGroup, GroupSeat]:
    group = session.get(PairGroup, group_id)
    seat = next((s for s in group.seats if s.slack_user_id == user_id), None) if group else None
    if group is None or seat is None or seat.removed_at is not None:
        raise UsageError("That pairing isn't yours, so I can't record that.")
    return group, seat


def _context(group: PairGroup, user_id: str) -> SeatContext:
    partners = tuple(
        s.slack_user_id for s in group.seats if s.slack_user_id != user_id and s.removed_at is None
    )
    return SeatContext(group.id, group.channel_id, partners)


def record_met(session: Session, *, group_id: int, user_id: str, now: datetime) -> bool:
    """Record that the group met; return False if this person had said so already."""
    group, seat = _seat(session, group_id, user_id)
    first_time = seat.met_at is None
    seat.met_at = seat.met_at or now
    seat.cant_make_it_at = None
    group.met_at = group.met_at or now
    return first_time


def record_not_meeting(
    session: Session, *, group_id: int, user_id: str, now: datetime
) -> tuple[bool, SeatContext]:
    """Record that this person can't make it (or didn't meet); the pair does not count as met.

    Returns whether it is new (so partners are told once) and the seat's context.
    """
    group, seat = _seat(session, group_id, user_id)
    first_time = seat.cant_make_it_at is None
    seat.cant_make_it_at = seat.cant_make_it_at or now
    seat.met_at = None
    if not any(s.met_at for s in group.seats):
        group.met_at = None
    return first_time, _context(group, user_id)


def seat_context(session: Session, *, group_id: int, user_id: str) -> SeatContext:
    group, _ = _seat(session, group_id, user_id)
    return _context(group, user_id)


def latest_group_of(session: Session, *, team_id: str, user_id: str) -> int:
    """The id of the person's most recent pairing, for `/peercoach reflect`."""
    group_id = session.scalar(
        select(PairGroup.id)
        .join(GroupSeat, GroupSeat.group_id == PairGroup.id)
        .join(Workspace, Workspace.id == PairGroup.workspace_id)
        .join(Round, Round.id == PairGroup.round_id)
        .where(
            Workspace.team_id == team_id,
            GroupSeat.slack_user_id == user_id,
            GroupSeat.removed_at.is_(None),
            PairGroup.cancelled_at.is_(None),
        )
        .order_by(Round.started_at.desc(), PairGroup.id.desc())
        .limit(1)
    )
    if group_id is None:
        raise UsageError("You haven't been paired yet: reflections open after your first chat.")
    return group_id


def own_reflection(session: Session, *, group_id: int, user_id: str) -> ReflectionInput | None:
    """The person's own reflection on a group, to prefill the modal."""
    _, seat = _seat(session, group_id, user_id)
    mine = session.scalar(
        select(Reflection).where(
            Reflection.group_id == group_id, Reflection.member_id == seat.member_id
        )
    )
    if mine is None:
        return None
    return ReflectionInput(mine.usefulness, mine.takeaway, mine.commitment, mine.share_takeaway)


def save_reflection(
    session: Session, *, group_id: int, user_id: str, entry: ReflectionInput, now: datetime
) -> tuple[bool, SeatContext]:
    """Store (or update) the person's private reflection; reflecting counts as having met.

    Returns whether the takeaway is newly shared (so it is posted once) and the seat context.
    """
    group, seat = _seat(session, group_id, user_id)
    mine = session.scalar(
        select(Reflection).where(
            Reflection.group_id == group_id, Reflection.member_id == seat.member_id
        )
    )
    newly_shared = entry.share_takeaway and bool(entry.takeaway)
    if mine is None:
        mine = Reflection(
            workspace_id=group.workspace_id,
            group_id=group_id,
            member_id=seat.member_id,
            created_at=now,
        )
        session.add(mine)
    else:
        newly_shared = newly_shared and (not mine.share_takeaway or mine.takeaway != entry.takeaway)
    mine.usefulness, mine.takeaway, mine.commitment = (
        entry.usefulness,
        entry.takeaway,
        entry.commitment,
    )
    mine.commitment_made = bool(entry.commitment)
    mine.share_takeaway, mine.updated_at = entry.share_takeaway, now
    record_met(session, group_id=group_id, user_id=user_id, now=now)
    return newly_shared, _context(group, user_id)


def record_commitment_outcome(
    session: Session, *, reflection_id: int, user_id: str, outcome: str, now: datetime
) -> str:
    """Record how the person's own commitment went; return the commitment's text."""
    if outcome not in COMMITMENT_OUTCOMES:
        raise UsageError("I didn't understand that answer.")
    reflection = session.get(Reflection, reflection_id)
    member = session.get(Member, reflection.member_id) if reflection else None
    if reflection is None or member is None or member.slack_user_id != user_id:
        raise UsageError("That commitment isn't yours.")
    reflection.commitment_outcome, reflection.commitment_outcome_at = outcome, now
    member.missed_streak = 0
    return reflection.commitment or ""


def history_of(session: Session, *, team_id: str, user_id: str) -> list[HistoryEntry]:
    """The person's own recent pairings with their own reflections (nobody else's)."""
    member = find_member(session, team_id=team_id, user_id=user_id)
    if member is None:
        return []
    seats = session.execute(
        select(GroupSeat, PairGroup, Round)
        .join(PairGroup, PairGroup.id == GroupSeat.group_id)
        .join(Round, Round.id == PairGroup.round_id)
        .where(GroupSeat.member_id == member.id, PairGroup.cancelled_at.is_(None))
        .order_by(Round.started_at.desc(), PairGroup.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    mine = {
        r.group_id: r
        for r in session.scalars(
            select(Reflection).where(
                Reflection.member_id == member.id,
                Reflection.group_id.in_([g.id for _, g, _ in seats] or [-1]),
            )
        )
    }
    entries = []
    for seat, group, pairing_round in seats:
        reflection = mine.get(group.id)
        entries.append(
            HistoryEntry(
                started_at=pairing_round.started_at,
                partners=tuple(s.slack_user_id for s in group.seats if s.member_id != member.id),
                met=seat.met_at is not None or group.met_at is not None,
                usefulness=reflection.usefulness if reflection else None,
                takeaway=reflection.takeaway if reflection else None,
                commitment=reflection.commitment if reflection else None,
                commitment_outcome=reflection.commitment_outcome if reflection else None,
            )
        )
    return entries
