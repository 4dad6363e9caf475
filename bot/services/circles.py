"""Coaching circles: small groups formed at the start of a season and kept for its sessions.

A season is `season_sessions` rounds. Its first round forms circles of the programme's
circle size with the matching engine (history included, so people meet new peers); each
later round is a session of the same circles. Between sessions the circles are kept whole:
a member who left is taken out, a circle left with fewer than three is merged into others,
and people who joined meanwhile fill gaps in circles under five or wait for the next season.
Every placement is told privately. Circles and seats carry unique keys (programme, season,
number) and (programme, season, member), so forming a season twice fails instead of
doubling it; callers hold the programme's lock (bot.services.rounds.start_round).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.enums import MemberStatus
from bot.domain.messages import CircleMergedNotice, CirclePlacedNotice, CircleWaitingNotice
from bot.domain.people import Pairable
from bot.domain.programme import MAX_CIRCLE, MIN_CIRCLE
from bot.matching import MatchedGroup, MatchResult
from bot.services.membership import settings_of_programme
from bot.services.outbox import enqueue
from db.models import Circle, CircleSeat, Member, Programme, Round


@dataclass(frozen=True)
class SeasonSlot:
    """Which season and session a circles round is."""

    season: int
    session: int
    new_season: bool


@dataclass(frozen=True)
class CircleSession:
    """The groups of one circles round: each circle's members present (the challenge
    bringer first), its id, and who could not be grouped."""

    season: int
    session: int
    groups: tuple[MatchedGroup, ...]
    circle_of: dict[tuple[str, ...], int]
    unmatched: tuple[str, ...]


def next_session(session: Session, programme: Programme) -> SeasonSlot:
    """The season and session the programme's next circles round is: a new season after the
    last one's `season_sessions` rounds, after a round in another format, or when nobody
    sits in a circle any more."""
    last = session.execute(
        select(Round.season, Round.session)
        .where(Round.programme_id == programme.id)
        .order_by(Round.started_at.desc(), Round.id.desc())
        .limit(1)
    ).first()
    if last is None or last[0] is None or last[1] is None:  # first circles round (again)
        latest = session.scalar(
            select(func.max(Circle.season)).where(Circle.programme_id == programme.id)
        )
        return SeasonSlot((latest or 0) + 1, 1, True)
    season, number = int(last[0]), int(last[1])
    seated = session.scalar(
        select(CircleSeat.id).where(
            CircleSeat.programme_id == programme.id,
            CircleSeat.season == season,
            CircleSeat.left_at.is_(None),
        )
    )
    if number >= settings_of_programme(programme).season_sessions or seated is None:
        return SeasonSlot(season + 1, 1, True)
    return SeasonSlot(season, number + 1, False)


def _fits(user_id: str, others: Collection[str], blocked: set[frozenset[str]]) -> bool:
    return all(frozenset((user_id, o)) not in blocked for o in others)


def plan_session(
    session: Session,
    programme: Programme,
    *,
    members: Mapping[str, Pairable],
    exclusions: Collection[tuple[str, str]],
    match: Callable[[Mapping[str, Pairable]], MatchResult],
    now: datetime,
) -> CircleSession:
    """Form (new season) or keep (mid-season) the circles for the next round, recording
    circles and seats and queuing the placement notices. `members`: who is eligible now;
    `exclusions`: every never-pair entry (both directions count); `match`: the round's
    matcher over some members (bot.services.rounds.match_these, with the circle size)."""
    which = next_session(session, programme)
    blocked = {frozenset(p) for p in exclusions if p[0] != p[1]}
    if which.new_season:
        _form(session, programme, which.season, members, blocked, match, now=now)
    else:
        _keep_whole(session, programme, which, members, blocked, now=now)
    return _session_groups(session, programme, which, members)


def _form(
    session: Session,
    programme: Programme,
    season: int,
    members: Mapping[str, Pairable],
    blocked: set[frozenset[str]],
    match: Callable[[Mapping[str, Pairable]], MatchResult],
    *,
    now: datetime,
) -> None:
    """Form a season's circles with the matching engine; groups under three join others."""
    result = match(members)
    circles = [list(g.members) for g in result.groups]
    small = [c for c in circles if len(c) < MIN_CIRCLE]
    circles = [c for c in circles if len(c) >= MIN_CIRCLE]
    for group in small:
        rest = list(group)
        for user_id in group:
            target = min(
                (c for c in circles if len(c) < MAX_CIRCLE and _fits(user_id, c, blocked)),
                key=len,
                default=None,
            )
            if target is not None:
                target.append(user_id)
                rest.remove(user_id)
        if len(rest) >= 2:
            circles.append(rest)  # nowhere to go: a small circle beats none
    for number, circle_members in enumerate(circles, start=1):
        circle = Circle(
            workspace_id=programme.workspace_id,
            programme_id=programme.id,
            season=season,
            number=number,
            formed_at=now,
        )
        session.add(circle)
        session.flush()
        session.add_all(
            CircleSeat(
                workspace_id=programme.workspace_id,
                programme_id=programme.id,
                circle_id=circle.id,
                member_id=members[u].id,
                season=season,
                joined_at=now,
            )
            for u in circle_members
        )
    session.flush()


def _seats(session: Session, programme_id: int, season: int) -> dict[int, list[CircleSeat]]:
    """The season's circles still going (not merged away) -> their current seats, in order."""
    live = session.scalars(
        select(Circle.id)
        .where(
            Circle.programme_id == programme_id,
            Circle.season == season,
            Circle.merged_at.is_(None),
        )
        .order_by(Circle.number)
    ).all()
    out: dict[int, list[CircleSeat]] = {circle_id: [] for circle_id in live}
    for seat in session.scalars(
        select(CircleSeat)
        .where(CircleSeat.circle_id.in_(live or [-1]), CircleSeat.left_at.is_(None))
        .order_by(CircleSeat.id)
    ):
        out[seat.circle_id].append(seat)
    return out


def _user_ids(session: Session, seats: list[CircleSeat]) -> dict[int, str]:
    ids = [s.member_id for s in seats]
    rows = session.execute(
        select(Member.id, Member.slack_user_id).where(Member.id.in_(ids or [-1]))
    )
    return {member_id: user_id for member_id, user_id in rows}


def _keep_whole(
    session: Session,
    programme: Programme,
    which: SeasonSlot,
    members: Mapping[str, Pairable],
    blocked: set[frozenset[str]],
    *,
    now: datetime,
) -> None:
    """Between sessions: take out leavers, merge circles under three, seat newcomers."""
    season_sessions = settings_of_programme(programme).season_sessions
    circles = _seats(session, programme.id, which.season)
    everyone = [s for seats in circles.values() for s in seats]
    who = _user_ids(session, everyone)
    gone_status = {MemberStatus.LEFT.value, MemberStatus.INACTIVE.value}
    statuses = {
        member_id: status
        for member_id, status in session.execute(
            select(Member.id, Member.status).where(Member.id.in_(list(who) or [-1]))
        )
    }
    for seats in circles.values():
        for seat in list(seats):
            if statuses.get(seat.member_id) in gone_status:
                seat.left_at = now
                seats.remove(seat)
    # A circle under three merges: its members move to the circles with most room.
    for circle_id in list(circles):
        seats = circles[circle_id]
        if len(seats) >= MIN_CIRCLE or not seats:
            if not seats:
                _retire(session, circle_id, now)
                del circles[circle_id]
            continue
        others = {c: s for c, s in circles.items() if c != circle_id}
        moved: list[tuple[CircleSeat, int]] = []
        for seat in seats:
            user_id = who[seat.member_id]
            target = min(
                (
                    c
                    for c, s in others.items()
                    if len(s) < MAX_CIRCLE
                    and _fits(user_id, [who[x.member_id] for x in s], blocked)
                ),
                key=lambda c: len(others[c]),
                default=None,
            )
            if target is not None:
                moved.append((seat, target))
                others[target].append(seat)
        if len(moved) < len(seats):
            for seat, target in moved:  # all or nothing: a half-moved circle helps nobody
                others[target].remove(seat)
            continue
        _retire(session, circle_id, now)
        del circles[circle_id]
        for seat, target in moved:
            seat.circle_id = target
            user_id = who[seat.member_id]
            enqueue(
                session,
                workspace_id=programme.workspace_id,
                dedupe_key=f"circle_merged:season:{which.season}:{user_id}:{target}",
                recipients=[user_id],
                notice=CircleMergedNotice(
                    members=tuple(who[x.member_id] for x in circles[target] if x is not seat)
                ),
                now=now,
            )
    # Newcomers (eligible, in no circle this season) fill gaps or wait for the next season.
    seated_ids = {s.member_id for seats in circles.values() for s in seats}
    earlier = {
        s.member_id: s
        for s in session.scalars(
            select(CircleSeat).where(
                CircleSeat.programme_id == programme.id,
                CircleSeat.season == which.season,
                CircleSeat.left_at.is_not(None),
            )
        )
    }
    for user_id, member in members.items():
        if member.id in seated_ids:
            continue
        target = min(
            (
                c
                for c, s in circles.items()
                if len(s) < MAX_CIRCLE and _fits(user_id, [who[x.member_id] for x in s], blocked)
            ),
            key=lambda c: len(circles[c]),
            default=None,
        )
        if target is None:
            enqueue(
                session,
                workspace_id=programme.workspace_id,
                dedupe_key=f"circle_waiting:season:{which.season}:{user_id}",
                recipients=[user_id],
                notice=CircleWaitingNotice(sessions_left=season_sessions - which.session + 1),
                now=now,
            )
            continue
        # Someone who left this season and came back takes their seat row up again (one
        # row per member and season: the unique key).
        seat = earlier.get(member.id) or CircleSeat(
            workspace_id=programme.workspace_id,
            programme_id=programme.id,
            member_id=member.id,
            season=which.season,
        )
        seat.circle_id, seat.joined_at, seat.left_at = target, now, None
        session.add(seat)
        circle_users = [who[x.member_id] for x in circles[target]]
        circles[target].append(seat)
        who[member.id] = user_id
        enqueue(
            session,
            workspace_id=programme.workspace_id,
            dedupe_key=f"circle_placed:season:{which.season}:{user_id}",
            recipients=[user_id],
            notice=CirclePlacedNotice(
                members=tuple(circle_users),
                session=which.session,
                season_sessions=season_sessions,
            ),
            now=now,
        )
    session.flush()


def _retire(session: Session, circle_id: int, now: datetime) -> None:
    circle = session.get(Circle, circle_id)
    assert circle is not None
    circle.merged_at = now


def _session_groups(
    session: Session, programme: Programme, which: SeasonSlot, members: Mapping[str, Pairable]
) -> CircleSession:
    """Each circle's members present this round, the challenge bringer first.

    The bringer rotates by session over the circle's seats in the order they were taken;
    someone away this round passes the turn to the next one present.
    """
    circles = _seats(session, programme.id, which.season)
    who = _user_ids(session, [s for seats in circles.values() for s in seats])
    groups: list[MatchedGroup] = []
    circle_of: dict[tuple[str, ...], int] = {}
    alone: list[str] = []
    for circle_id, seats in circles.items():
        order = [who[s.member_id] for s in seats]
        present = [u for u in order if u in members]
        if len(present) < 2:
            alone.extend(present)
            continue
        start = (which.session - 1) % len(order)
        rotated = order[start:] + order[:start]
        ordered = tuple(u for u in rotated if u in members)
        groups.append(MatchedGroup(members=ordered, reasons=()))
        circle_of[ordered] = circle_id
    seated = {u for u in who.values()}
    if which.new_season:  # those the engine could not seat hear it, as in any round
        alone.extend(u for u in members if u not in seated)
    return CircleSession(
        season=which.season,
        session=which.session,
        groups=tuple(groups),
        circle_of=circle_of,
        unmatched=tuple(alone),
    )
