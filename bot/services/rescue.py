"""When a chat falls through: "can't make it", and a new partner for the one left alone.

The person left alone in a pair is offered someone else from the same round whose partner
also dropped out, or someone the round could not pair, chosen by the matching engine with
everything a round uses (never-pair lists both ways, history, preferences). If nobody is
free they are told kindly, and stay free for a later drop in the same round.

Exactly once: every rescue in a round runs under the round's row lock (taken before the
"can't make it" is recorded), and the seats it uses are marked by conditional updates, so
two presses at once make one rescue and nobody is given two new partners.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.domain.enums import MemberStatus
from bot.domain.messages import NoNewPartnerNotice
from bot.services.meetings import plan_group_slots
from bot.services.membership import needs_agreement
from bot.services.outbox import add_to_outbox, enqueue
from bot.services.pairing import record_not_meeting
from bot.services.rounds import intro_notice, match_these
from bot.services.seats import own_seat
from db.models import GroupSeat, Member, PairGroup, PromptShown, Round
from db.upsert import affected_rows, lock_row


def cant_make_it(
    session: Session, *, team_id: str, group_id: int, user_id: str, now: datetime
) -> bool:
    """Record that the person can't make it, tell their group, and find whoever is left
    alone a new partner in the same round (or tell them kindly that nobody is free).

    Returns False if the person had said so already (nothing more happens then).
    Raises StaleAction when the group is not theirs in their workspace (`team_id`).
    """
    found = own_seat(session, team_id=team_id, group_id=group_id, user_id=user_id)
    if found is not None:  # else record_not_meeting says it is not theirs, locking nothing
        lock_row(session, Round.__table__, found[0].round_id)  # type: ignore[arg-type]
        for row in found:  # read afresh below: earlier holders of the lock committed
            session.expire(row)
    first = record_not_meeting(
        session, team_id=team_id, group_id=group_id, user_id=user_id, now=now, tell_partners=True
    )
    if first:
        session.expire_all()  # read every seat afresh: earlier holders of the lock committed
        group = session.get(PairGroup, group_id)
        assert group is not None
        left = alone_in(group)
        if left is not None:
            rescue(session, group, left, now=now)
    return first


def alone_in(group: PairGroup) -> GroupSeat | None:
    """The one seat still going in a group whose others all dropped out, if there is one."""
    if group.met_at is not None or group.cancelled_at is not None:
        return None
    seated = [s for s in group.seats if s.removed_at is None]
    going = [s for s in seated if s.cant_make_it_at is None]
    if len(seated) < 2 or len(going) != 1 or going[0].rescued_at is not None:
        return None
    return going[0]


def _free_in_round(session: Session, round_: Round, lone: GroupSeat) -> dict[str, Member]:
    """Who in the round is free for a new partner: others left alone, and the unpaired who
    are still eligible. Slack id -> Member."""
    free: dict[str, Member] = {}
    for group in session.scalars(
        select(PairGroup)
        .where(PairGroup.round_id == round_.id, PairGroup.id != lone.group_id)
        .order_by(PairGroup.id)
    ):
        seat = alone_in(group)
        if seat is not None:
            member = session.get(Member, seat.member_id)
            if member is not None and member.status == MemberStatus.ACTIVE:
                free[seat.slack_user_id] = member
    seated = set(
        session.scalars(
            select(GroupSeat.slack_user_id)
            .join(PairGroup, PairGroup.id == GroupSeat.group_id)
            .where(PairGroup.round_id == round_.id)
        )
    )
    programme = round_.programme
    for member in session.scalars(
        select(Member).where(
            Member.programme_id == round_.programme_id,
            Member.slack_user_id.in_(list(round_.unmatched or []) or [""]),
            Member.status == MemberStatus.ACTIVE,
        )
    ):
        if member.slack_user_id not in seated and not needs_agreement(member, programme):
            free[member.slack_user_id] = member
    return free


def rescue(session: Session, group: PairGroup, lone: GroupSeat, *, now: datetime) -> None:
    """Give the one left alone in `group` a new partner from the round, or tell them kindly.

    The caller holds the round's row lock. The partner is the one the matching engine puts
    with them among everyone free (hard rules kept; never anyone they may not meet).
    """
    round_ = group.round
    if round_.closed_at is not None:
        return
    me = session.get(Member, lone.member_id)
    assert me is not None
    if me.status != MemberStatus.ACTIVE:
        # Left, erased their data or paused since the round began: like everyone free in the
        # round, only an active member is offered (or told of) a new partner.
        return
    free = _free_in_round(session, round_, lone)
    partner: str | None = None
    if free:
        result = match_these(
            session,
            round_.programme,
            {lone.slack_user_id: me, **free},
            seed=round_.seed,
            now=now,
            group_size=2,
        )
        mine = next((g for g in result.groups if lone.slack_user_id in g.members), None)
        if mine is not None:
            partner = next(u for u in mine.members if u != lone.slack_user_id)
    if partner is None:
        enqueue(
            session,
            workspace_id=group.workspace_id,
            dedupe_key=f"no_new_partner:group:{group.id}:{lone.slack_user_id}",
            recipients=[lone.slack_user_id],
            notice=NoNewPartnerNotice(),
            now=now,
        )
        return
    _pair(session, group, lone, free[partner], now=now)


def _mark_rescued(session: Session, seat_id: int, now: datetime) -> None:
    marked = affected_rows(
        session.execute(
            update(GroupSeat)
            .where(GroupSeat.id == seat_id, GroupSeat.rescued_at.is_(None))
            .values(rescued_at=now)
        )
    )
    assert marked == 1, "rescues run under the round's lock"


def _pair(
    session: Session, group: PairGroup, lone: GroupSeat, other: Member, *, now: datetime
) -> None:
    """Record the new pair (a rescue group of the same round) and queue its intro."""
    _mark_rescued(session, lone.id, now)
    # The seat they were left alone in (none for someone unpaired this round). Someone
    # rescued before and left alone again has an earlier seat marked rescued: not that one.
    other_seat = session.scalar(
        select(GroupSeat)
        .join(PairGroup, PairGroup.id == GroupSeat.group_id)
        .where(
            PairGroup.round_id == group.round_id,
            GroupSeat.member_id == other.id,
            GroupSeat.removed_at.is_(None),
            GroupSeat.cant_make_it_at.is_(None),
            GroupSeat.rescued_at.is_(None),
        )
        .order_by(GroupSeat.id.desc())
        .limit(1)
    )
    if other_seat is not None:
        _mark_rescued(session, other_seat.id, now)
    pair = PairGroup(
        workspace_id=group.workspace_id,
        round_id=group.round_id,
        first_user_id=lone.slack_user_id,
        reasons=[],
        prompt_ids=list(group.prompt_ids),
        rescue=True,
        seats=[
            GroupSeat(
                workspace_id=group.workspace_id,
                member_id=member_id,
                slack_user_id=user_id,
                position=position,
            )
            for position, (member_id, user_id) in enumerate(
                [(lone.member_id, lone.slack_user_id), (other.id, other.slack_user_id)]
            )
        ],
    )
    session.add(pair)
    session.flush()
    # Meeting times for the new pair, as every intro has: inside both people's working hours,
    # from now until the round's check-in.
    lone_member = session.get(Member, lone.member_id)
    assert lone_member is not None  # seated in this round: their membership exists
    plan_group_slots(session, [(pair, [lone_member, other])], start=now, end=pair.round.checkin_at)
    session.add_all(
        PromptShown(
            workspace_id=group.workspace_id,
            member_id=other.id,
            prompt_id=p,
            round_id=group.round_id,
        )
        for p in pair.prompt_ids
    )
    add_to_outbox(
        session,
        workspace_id=group.workspace_id,
        dedupe_key=f"intro:group:{pair.id}",
        recipients=[lone.slack_user_id, other.slack_user_id],
        now=now,
        group_id=pair.id,
        notice=intro_notice(session, pair),
    )
