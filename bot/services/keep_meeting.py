"""Keep meeting (pairs format): a group stays together only while every member wants it.

Each person chooses privately, once per group, to keep meeting the others for a few more
rounds (a `keep_meetings` row, unique per group and member). The group is kept (pinned
outside the matcher) only when every member of it chose so and nobody ended it; the number
of rounds is the smallest anyone chose. Anyone can end it at any time; the others are told
only that next round brings a new partner.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.domain.enums import ProgrammeFormat
from bot.domain.messages import (
    KeepMeetingAgreedNotice,
    KeepMeetingEndedNotice,
    KeepMeetingOfferNotice,
)
from bot.errors import StaleAction, UsageError
from bot.services.membership import settings_of_programme
from bot.services.outbox import enqueue
from bot.services.seats import own_seat
from db.models import GroupSeat, KeepMeeting, PairGroup, Programme, Round
from db.upsert import affected_rows, insert_or_ignore, lock_row

NOT_YOURS_TEXT = "That pairing isn't yours (or no longer exists)."


@dataclass(frozen=True)
class KeepChoice:
    """What a press of "keep meeting" did: `first` (not chosen before), and whether every
    member has now chosen (`agreed`, for `rounds` rounds)."""

    first: bool
    agreed: bool
    rounds: int


def _seated(group: PairGroup) -> list[GroupSeat]:
    return [s for s in group.seats if s.removed_at is None]


def _own_seat_locked(
    session: Session, team_id: str, group_id: int, user_id: str
) -> tuple[PairGroup, GroupSeat]:
    """The person's seat in a group of their workspace, the group's row locked (so members
    pressing at once take turns), both read afresh after the lock. StaleAction for a group
    that is not theirs there, before any lock: another workspace's group is never touched
    and is answered as one that never existed."""
    if own_seat(session, team_id=team_id, group_id=group_id, user_id=user_id) is None:
        raise StaleAction(NOT_YOURS_TEXT)
    lock_row(session, PairGroup.__table__, group_id)  # type: ignore[arg-type]
    found = own_seat(session, team_id=team_id, group_id=group_id, user_id=user_id, fresh=True)
    if found is None:  # the seat went while we waited for the lock
        raise StaleAction(NOT_YOURS_TEXT)
    return found


def offer(session: Session, group: PairGroup, *, now: datetime) -> None:
    """Ask each member privately, once, whether to keep meeting (pairs format, when offered)."""
    settings = settings_of_programme(group.round.programme)
    if settings.format != ProgrammeFormat.PAIRS or settings.keep_meeting_max < 1 or group.rescue:
        return
    seated = [s.slack_user_id for s in _seated(group)]
    for user_id in seated:
        enqueue(
            session,
            workspace_id=group.workspace_id,
            dedupe_key=f"keep_offer:group:{group.id}:{user_id}",
            recipients=[user_id],
            notice=KeepMeetingOfferNotice(
                group_id=group.id,
                partners=tuple(u for u in seated if u != user_id),
                max_rounds=settings.keep_meeting_max,
            ),
            now=now,
        )


def _active_wishes(session: Session, group: PairGroup) -> dict[int, KeepMeeting]:
    return {
        k.member_id: k
        for k in session.scalars(
            select(KeepMeeting).where(
                KeepMeeting.group_id == group.id, KeepMeeting.ended_at.is_(None)
            )
        )
    }


def _agreed_rounds(session: Session, group: PairGroup) -> int:
    """The rounds every member of the group agreed to (0 unless everyone chose)."""
    wishes = _active_wishes(session, group)
    seated = _seated(group)
    if len(seated) < 2 or any(s.member_id not in wishes for s in seated):
        return 0
    return min(wishes[s.member_id].rounds for s in seated)


def choose(
    session: Session, *, team_id: str, group_id: int, user_id: str, rounds: int, now: datetime
) -> KeepChoice:
    """Record the person's wish to keep meeting their group for `rounds` more rounds.

    Once per person and group (the unique key decides; a second press changes nothing). The
    group's row lock serializes members pressing at once, so the last of them sees everyone's
    wish and the "you'll keep meeting" notice is queued exactly once per member.
    Raises StaleAction when the group is not theirs or `rounds` was never offered, and
    UsageError when the wish was ended already.
    """
    group, seat = _own_seat_locked(session, team_id, group_id, user_id)
    settings = settings_of_programme(group.round.programme)
    if settings.format != ProgrammeFormat.PAIRS or not 1 <= rounds <= settings.keep_meeting_max:
        raise StaleAction()
    inserted = insert_or_ignore(
        session,
        KeepMeeting.__table__,  # type: ignore[arg-type]
        {
            "workspace_id": group.workspace_id,
            "group_id": group.id,
            "member_id": seat.member_id,
            "rounds": rounds,
            "chosen_at": now,
        },
        conflict_columns=("group_id", "member_id"),
    )
    mine = session.scalars(
        select(KeepMeeting).where(
            KeepMeeting.group_id == group.id, KeepMeeting.member_id == seat.member_id
        )
    ).one()
    if mine.ended_at is not None:
        raise UsageError("You ended keep-meeting for this pairing, so next round is a new peer.")
    agreed = _agreed_rounds(session, group)
    if agreed:
        seated = [s.slack_user_id for s in _seated(group)]
        for member in seated:
            enqueue(
                session,
                workspace_id=group.workspace_id,
                dedupe_key=f"keep_agreed:group:{group.id}:{member}",
                recipients=[member],
                notice=KeepMeetingAgreedNotice(
                    group_id=group.id,
                    partners=tuple(u for u in seated if u != member),
                    rounds=agreed,
                ),
                now=now,
            )
    return KeepChoice(first=inserted is not None, agreed=bool(agreed), rounds=agreed or rounds)


def end(session: Session, *, team_id: str, group_id: int, user_id: str, now: datetime) -> bool:
    """End keep-meeting for a group (the person's own wish, and so the group's agreement).

    Conditional updates: of two presses at once one ends it. When everyone had agreed, the
    others are told privately, once, that next round brings a new partner (never why).
    Returns whether this press ended anything. Raises StaleAction if the group is not theirs.
    """
    group, _ = _own_seat_locked(session, team_id, group_id, user_id)
    was_agreed = bool(_agreed_rounds(session, group))
    ended = affected_rows(
        session.execute(
            update(KeepMeeting)
            .where(KeepMeeting.group_id == group.id, KeepMeeting.ended_at.is_(None))
            .values(ended_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if ended and was_agreed:
        for other in _seated(group):
            if other.slack_user_id == user_id:
                continue
            enqueue(
                session,
                workspace_id=group.workspace_id,
                dedupe_key=f"keep_ended:group:{group.id}:{other.slack_user_id}",
                recipients=[other.slack_user_id],
                notice=KeepMeetingEndedNotice(),
                now=now,
            )
    return ended > 0


def kept_groups(
    session: Session, programme: Programme, eligible: Collection[str]
) -> dict[tuple[str, ...], int]:
    """The groups of the programme's latest round to keep together in the next one.

    A group is kept when every member of it (or of the group it was itself kept from) chose
    to keep meeting, nobody ended it, the agreed rounds are not used up, and every member is
    eligible for the round. Returns members (seat order) -> the group the wish was made in.
    """
    latest = session.scalar(
        select(Round.id)
        .where(Round.programme_id == programme.id)
        .order_by(Round.started_at.desc(), Round.id.desc())
        .limit(1)
    )
    if latest is None:
        return {}
    groups = session.scalars(
        select(PairGroup).where(PairGroup.round_id == latest, PairGroup.cancelled_at.is_(None))
    ).all()
    origins = {g.id for g in groups} | {g.kept_from_id for g in groups if g.kept_from_id}
    wished = set(
        session.scalars(
            select(KeepMeeting.group_id).where(
                KeepMeeting.group_id.in_(origins or [-1]), KeepMeeting.ended_at.is_(None)
            )
        )
    )
    if not wished:
        return {}
    kept: dict[tuple[str, ...], int] = {}
    for group in groups:
        for origin_id in (group.id, group.kept_from_id):
            if origin_id not in wished:
                continue
            origin = session.get(PairGroup, origin_id)
            assert origin is not None
            agreed = _agreed_rounds(session, origin)
            used = session.scalar(
                select(func.count())
                .select_from(PairGroup)
                .where(PairGroup.kept_from_id == origin_id)
            )
            members = tuple(s.slack_user_id for s in _seated(origin))
            taken = any(u in seen for seen in kept for u in members)
            if agreed > (used or 0) and all(u in eligible for u in members) and not taken:
                kept[members] = origin_id
                break
    return kept
