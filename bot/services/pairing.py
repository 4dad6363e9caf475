"""What members do with a pairing: we met, can't make it, reflect, answer a commitment."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, selectinload

from bot.domain.enums import CommitmentOutcome
from bot.domain.messages import (
    IntroUpdateNotice,
    PartnerCantMakeItNotice,
    SharedTakeawayNotice,
)
from bot.domain.people import HistoryEntry, ReflectionInput, SeatContext
from bot.errors import StaleAction, UsageError
from bot.services import keep_meeting
from bot.services.membership import find_member
from bot.services.outbox import enqueue
from bot.services.seats import own_seat
from db.models import GroupSeat, Member, PairGroup, Reflection, Round, Workspace
from db.upsert import affected_rows, upsert

HISTORY_LIMIT = 12


ROUND_OVER_TEXT = (
    "That round is over, so there is nothing to change: your next pairing comes with the "
    "next round."
)


def _seat(
    session: Session, team_id: str, group_id: int, user_id: str
) -> tuple[PairGroup, GroupSeat]:
    """The person's seat in a group of their workspace; StaleAction otherwise (a group of
    another workspace gets the same answer as one that never existed)."""
    found = own_seat(session, team_id=team_id, group_id=group_id, user_id=user_id)
    if found is None:
        raise StaleAction("That pairing isn't yours (or no longer exists), so I can't record that.")
    return found


def _context(group: PairGroup, user_id: str) -> SeatContext:
    partners = tuple(
        s.slack_user_id for s in group.seats if s.slack_user_id != user_id and s.removed_at is None
    )
    return SeatContext(group.id, group.channel_id, partners)


def _mark_met(
    session: Session, group: PairGroup, seat: GroupSeat, user_id: str, now: datetime
) -> bool:
    """Record that `user_id` (in `seat`) met; return whether this seat had not said so yet.

    Conditional updates, not read-then-write: of two presses at once, exactly one is the
    first, whatever each read before. The group's first "we met" updates the intro for all.
    """
    first_time = _set_if_unset(session, GroupSeat, seat.id, met_at=now, cant_make_it_at=None)
    group_first = _set_if_unset(session, PairGroup, group.id, met_at=now)
    session.refresh(seat)
    session.refresh(group)
    if group_first and group.channel_id:
        # Everyone sees it on the intro, and its meeting buttons give way to Reflect.
        enqueue(
            session,
            workspace_id=group.workspace_id,
            dedupe_key=f"intro_update:group:{group.id}:met",
            recipients=[s.slack_user_id for s in group.seats if s.removed_at is None],
            notice=IntroUpdateNotice(group_id=group.id, met_by=user_id),
            now=now,
            group_id=group.id,
            channel_id=group.channel_id,
        )
    if group_first:
        keep_meeting.offer(session, group, now=now)
    return first_time


def record_met(
    session: Session, *, team_id: str, group_id: int, user_id: str, now: datetime
) -> bool:
    """Record that the group met; return False if this person had said so already.

    Conditional updates (`... WHERE met_at IS NULL`): of two presses at once, exactly one
    is the first, whatever each read before.
    """
    group, seat = _seat(session, team_id, group_id, user_id)
    return _mark_met(session, group, seat, user_id, now)


def _set_if_unset(
    session: Session, model: type[GroupSeat] | type[PairGroup], row_id: int, **values: object
) -> bool:
    """Set `met_at` (and other values) on a row whose met_at is still empty; say if it was."""
    changed = session.execute(
        update(model).where(model.id == row_id, model.met_at.is_(None)).values(**values)
    )
    return affected_rows(changed) > 0


def record_not_meeting(
    session: Session,
    *,
    team_id: str,
    group_id: int,
    user_id: str,
    now: datetime,
    tell_partners: bool,
) -> bool:
    """Record that this person can't make it (or didn't meet); the pair does not count as met.
    Return False if this person had said so already.

    Conditional updates decide which of two presses at once is the first; with
    `tell_partners`, the group DM is told once (an outbox notice keyed per person and group).
    """
    group, seat = _seat(session, team_id, group_id, user_id)
    if group.round.closed_at is not None:
        # A closed round's figures and standings are counted: a late press (an older copy
        # of the intro) neither un-meets the group nor tells anyone.
        raise UsageError(ROUND_OVER_TEXT)
    first_time = (
        affected_rows(
            session.execute(
                update(GroupSeat)
                .where(GroupSeat.id == seat.id, GroupSeat.cant_make_it_at.is_(None))
                .values(cant_make_it_at=now, met_at=None)
            )
        )
        > 0
    )
    if not first_time:
        session.execute(update(GroupSeat).where(GroupSeat.id == seat.id).values(met_at=None))
    someone_met = exists().where(GroupSeat.group_id == group.id, GroupSeat.met_at.is_not(None))
    session.execute(
        update(PairGroup)
        .where(PairGroup.id == group.id, ~someone_met)
        .values(met_at=None)
        .execution_options(synchronize_session=False)
    )
    session.refresh(group)
    if tell_partners and group.channel_id:
        seated = [s for s in group.seats if s.removed_at is None]
        for s in seated:
            session.refresh(s)
        going = [s for s in seated if s.cant_make_it_at is None]
        enqueue(
            session,
            workspace_id=group.workspace_id,
            dedupe_key=f"cant_make_it:group:{group.id}:{user_id}",
            recipients=[s.slack_user_id for s in seated],
            # One left and no chat yet: bot.services.rescue looks for someone free.
            notice=PartnerCantMakeItNotice(
                user_id=user_id, looking=len(going) == 1 and group.met_at is None
            ),
            now=now,
            group_id=group.id,
            channel_id=group.channel_id,
        )
    return first_time


def seat_context(session: Session, *, team_id: str, group_id: int, user_id: str) -> SeatContext:
    """The person's seat in a group: its DM, the others in it, and their own goal.

    Raises StaleAction when the group is not (or no longer) theirs.
    """
    group, seat = _seat(session, team_id, group_id, user_id)
    member = session.get(Member, seat.member_id)
    context = _context(group, user_id)
    return SeatContext(
        context.group_id, context.channel_id, context.partners, member.goal if member else None
    )


def latest_group_of(
    session: Session, *, team_id: str, user_id: str, programme: int | str | None = None
) -> int:
    """The id of the person's most recent pairing (in `programme` when given), for
    `/peercoach reflect`."""
    query = (
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
    )
    if programme is not None:
        member = find_member(session, team_id=team_id, user_id=user_id, programme=programme)
        query = query.where(GroupSeat.member_id == (member.id if member else -1))
    group_id = session.scalar(query.order_by(Round.started_at.desc(), PairGroup.id.desc()).limit(1))
    if group_id is None:
        raise UsageError("You haven't been paired yet: reflections open after your first chat.")
    return group_id


def own_reflection(
    session: Session, *, team_id: str, group_id: int, user_id: str
) -> ReflectionInput | None:
    """The person's own reflection on a group, to prefill the modal."""
    _, seat = _seat(session, team_id, group_id, user_id)
    mine = session.scalar(
        select(Reflection).where(
            Reflection.group_id == group_id, Reflection.member_id == seat.member_id
        )
    )
    if mine is None:
        return None
    return ReflectionInput(
        mine.usefulness, mine.takeaway, mine.commitment, mine.share_takeaway, mine.goal_progress
    )


def save_reflection(
    session: Session,
    *,
    team_id: str,
    group_id: int,
    user_id: str,
    entry: ReflectionInput,
    now: datetime,
) -> None:
    """Store (or update) the person's private reflection; reflecting counts as having met.

    A takeaway its author chose to share is posted to the group DM once per text (an outbox
    notice keyed by group, author and a digest of the text).
    """
    group, seat = _seat(session, team_id, group_id, user_id)
    before = session.execute(
        select(Reflection.share_takeaway, Reflection.takeaway).where(
            Reflection.group_id == group_id, Reflection.member_id == seat.member_id
        )
    ).first()
    newly_shared = entry.share_takeaway and bool(entry.takeaway)
    if before is not None:
        newly_shared = newly_shared and (
            not before.share_takeaway or before.takeaway != entry.takeaway
        )
    # One statement keyed on (group, member): a double submission updates, never fails.
    upsert(
        session,
        Reflection.__table__,  # type: ignore[arg-type]
        {
            "workspace_id": group.workspace_id,
            "group_id": group_id,
            "member_id": seat.member_id,
            "usefulness": entry.usefulness,
            "takeaway": entry.takeaway,
            "commitment": entry.commitment,
            "commitment_made": bool(entry.commitment),
            "share_takeaway": entry.share_takeaway,
            "goal_progress": entry.goal_progress,
            "created_at": now,
            "updated_at": now,
        },
        conflict_columns=("group_id", "member_id"),
        update_columns=(
            "usefulness",
            "takeaway",
            "commitment",
            "commitment_made",
            "share_takeaway",
            "goal_progress",
            "updated_at",
        ),
    )
    _mark_met(session, group, seat, user_id, now)
    if newly_shared and entry.takeaway and group.channel_id:
        digest = hashlib.sha256(entry.takeaway.encode()).hexdigest()[:16]
        enqueue(
            session,
            workspace_id=group.workspace_id,
            dedupe_key=f"shared_takeaway:group:{group.id}:{user_id}:{digest}",
            recipients=[s.slack_user_id for s in group.seats if s.removed_at is None],
            notice=SharedTakeawayNotice(user_id=user_id, takeaway=entry.takeaway),
            now=now,
            group_id=group.id,
            channel_id=group.channel_id,
        )


def record_commitment_outcome(
    session: Session,
    *,
    team_id: str,
    reflection_id: int,
    user_id: str,
    outcome: CommitmentOutcome,
    now: datetime,
) -> str:
    """Record how the person's own commitment went; return the commitment's text.

    Raises StaleAction if the reflection is gone or is not the person's own in their
    workspace (`team_id`): one of another workspace is answered as one that never existed.
    """
    row = session.execute(
        select(Reflection, Member)
        .join(Member, Member.id == Reflection.member_id)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .where(
            Reflection.id == reflection_id,
            Workspace.team_id == team_id,
            Member.slack_user_id == user_id,
        )
    ).first()
    if row is None:
        raise StaleAction("That commitment isn't yours (or no longer exists).")
    reflection, member = row
    reflection.commitment_outcome, reflection.commitment_outcome_at = outcome, now
    member.missed_streak = 0
    return reflection.commitment or ""


def history_of(
    session: Session, *, team_id: str, user_id: str, programme: int | str | None = None
) -> list[HistoryEntry]:
    """The person's own recent pairings in a programme with their own reflections (nobody
    else's). Raises ChooseProgramme when they are in several and `programme` is None."""
    member = find_member(session, team_id=team_id, user_id=user_id, programme=programme)
    if member is None:
        return []
    return member_history(session, member)


SeatRow = tuple[GroupSeat, PairGroup, Round]


def recent_seats(session: Session, member: Member, *, limit: int = HISTORY_LIMIT) -> list[SeatRow]:
    """A loaded member's `limit` most recent seats in groups not cancelled, newest first, with
    their group (its seats loaded) and round: two queries, one when there are none."""
    rows = session.execute(
        select(GroupSeat, PairGroup, Round)
        .join(PairGroup, PairGroup.id == GroupSeat.group_id)
        .join(Round, Round.id == PairGroup.round_id)
        .where(GroupSeat.member_id == member.id, PairGroup.cancelled_at.is_(None))
        .order_by(Round.started_at.desc(), PairGroup.id.desc())
        .limit(limit)
        .options(selectinload(PairGroup.seats))
    )
    return [(seat, group, pairing_round) for seat, group, pairing_round in rows]


def member_history(
    session: Session,
    member: Member,
    *,
    seats: Sequence[SeatRow] | None = None,
    reflections: Sequence[Reflection] | None = None,
) -> list[HistoryEntry]:
    """A loaded member's most recent pairings (`seats` from recent_seats, else the last
    HISTORY_LIMIT), newest first, with their own reflections: `reflections` when the caller
    loaded all of the member's already, else one query for them."""
    if seats is None:
        seats = recent_seats(session, member)
    if not seats:
        return []
    if reflections is None:
        reflections = session.scalars(
            select(Reflection).where(
                Reflection.member_id == member.id,
                Reflection.group_id.in_([g.id for _, g, _ in seats]),
            )
        ).all()
    mine = {r.group_id: r for r in reflections}
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
