"""Meeting times for a group: suggested slots, pick-a-time, its reminder, a calendar invite,
and PeerCoach picking a time when nobody did (the programme's auto-schedule).

`suggest_slots` is pure (people and a time range in, slots out). The rest works on a session
and never commits; every once-only effect is decided in the database (conditional UPDATEs on
the group's row, outbox dedupe keys that include the pick's version).
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.domain.enums import OutboxKind, OutboxStatus
from bot.domain.meetings import (
    CHAT_MINUTES,
    DEFAULT_WORKING_HOURS,
    REMINDER_LEAD,
    Cost,
    MeetingSlot,
    SlotPerson,
    WorkingHours,
    zone,
)
from bot.domain.messages import (
    AutoPickedNotice,
    CalendarInviteNotice,
    IntroUpdateNotice,
    MeetingReminderNotice,
    notice_from_payload,
)
from bot.domain.people import Pairable
from bot.domain.programme import ProgramSettings
from bot.errors import StaleAction, UsageError
from bot.services.outbox import add_to_outbox, enqueue
from bot.services.seats import own_seat
from db.models import GroupSeat, Member, OutboxMessage, PairGroup, Programme, Round, Workspace
from db.upsert import affected_rows

SLOT_COUNT = 3
STEP = timedelta(minutes=30)
# Slots start at least this long after the intro goes out, so nobody is asked for "now".
SLOT_LEAD = timedelta(hours=1)
# Slots are spread over the first days (a working week) that have any.
SPREAD_DAYS = 5
# With no overlap, the least-bad slot is looked for in the first week of the cycle.
NO_OVERLAP_SEARCH = timedelta(days=7)
# A person with no meeting days at all counts as this far away from any slot (minutes).
UNREACHABLE_SHIFT = 24 * 60


# -- suggesting slots (pure) -----------------------------------------------------------------


def suggest_slots(
    people: Sequence[SlotPerson],
    *,
    start: datetime,
    end: datetime,
    minutes: int = CHAT_MINUTES,
    count: int = SLOT_COUNT,
) -> tuple[MeetingSlot, ...]:
    """Up to `count` slots of `minutes` in [start, end) (aware), on different days for
    everyone, oldest first, starting on the half hour (or, for a short shared window off
    that grid, at its opening).

    Inside everyone's working hours when their hours overlap at all (each slot sits in the
    middle of that day's shared hours). With no overlap, the least-bad slots: the fewest
    minutes outside anyone's hours, weighted so the cost falls on whoever paid it in fewer
    earlier rounds (`SlotPerson.past_costs`); each such slot names whose morning or evening
    it costs. Empty when the range holds no half hour for it.

    Raises ValueError for naive datetimes or an empty group.
    """
    if not people:
        raise ValueError("a group has people")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    start, end = _ceil_step(start.astimezone(UTC)), end.astimezone(UTC)
    length = timedelta(minutes=minutes)
    windows = [_windows(p.hours, p.tz_name, start, end) for p in people]
    shared = _intersect_all(windows)
    by_day: dict[tuple[date, ...], datetime] = {}
    for low, high in shared:
        earliest, latest = _ceil_step(low), high - length
        if earliest > latest:
            if high - low < length:
                continue
            earliest = latest = low  # a short window off the half-hour grid (a :45 zone)
        middle = min(max(_floor_step(low + (high - low - length) / 2), earliest), latest)
        key = _days_of(people, middle)
        if key not in by_day:
            by_day[key] = middle
        if len(by_day) >= SPREAD_DAYS:
            break
    if by_day:
        return tuple(MeetingSlot(start=s, minutes=minutes) for s in _spread(by_day, count))
    return _least_bad(people, start=start, end=min(end, start + NO_OVERLAP_SEARCH), length=length)


def _least_bad(
    people: Sequence[SlotPerson], *, start: datetime, end: datetime, length: timedelta
) -> tuple[MeetingSlot, ...]:
    """The least-bad slots when no half hour suits everyone (see suggest_slots). Works in
    whole minutes since the epoch: a round of thousands of groups scans many candidates."""
    margin = timedelta(days=2)  # windows beyond the range tell how far outside a slot is
    windows = [
        [
            (_minute(a), _minute(b))
            for a, b in p.hours.windows(p.tz_name, start - margin, end + margin)
        ]
        for p in people
    ]
    opens = [[w[0] for w in ws] for ws in windows]
    span, step = int(length.total_seconds()) // 60, int(STEP.total_seconds()) // 60
    weights = [1 + p.past_costs for p in people]
    best: list[tuple[int, int, int, tuple[int, ...]]] = []
    first, last = _minute(start), _minute(end) - span
    # The cost is piecewise linear in the slot's start, bending only where the slot's start
    # meets a window's opening or its end meets a window's close: its minima lie there (on
    # the half-hour grid), so only those starts are tried.
    edges = {first, last}
    for ws in windows:
        for w_start, w_end in ws:
            edges.update((w_start, w_end - span))
    candidates = sorted(
        {
            aligned
            for edge in edges
            for aligned in (edge - edge % step, edge - edge % step + step)
            if first <= aligned <= last
        }
    )
    for low in candidates:
        shifts = tuple(
            _shift(ws, os, low, low + span) for ws, os in zip(windows, opens, strict=True)
        )
        cost = sum(s * w for s, w in zip(shifts, weights, strict=True))
        # Of equal costs, the slot where the fewest, least-burdened people pay.
        burden = max(p.past_costs + (s > 0) for s, p in zip(shifts, people, strict=True))
        best.append((cost, burden, low, shifts))
    if not best:
        return ()
    lowest = min((cost, burden) for cost, burden, _, _ in best)
    by_day: dict[tuple[date, ...], tuple[datetime, tuple[int, ...]]] = {}
    for cost, burden, minute, shifts in best:
        if (cost, burden) != lowest:
            continue
        moment = datetime.fromtimestamp(minute * 60, tz=UTC)
        by_day.setdefault(_days_of(people, moment), (moment, shifts))
    chosen = _spread({k: v[0] for k, v in list(by_day.items())[:SPREAD_DAYS]}, SLOT_COUNT)
    slots = []
    for moment in chosen:
        shifts = next(v[1] for v in by_day.values() if v[0] == moment)
        costs = tuple(
            (p.user_id, _cost_kind(p, moment)) for p, s in zip(people, shifts, strict=True) if s
        )
        slots.append(MeetingSlot(start=moment, minutes=span, costs=costs))
    return tuple(slots)


def _minute(moment: datetime) -> int:
    """Whole minutes since the epoch."""
    return int(moment.timestamp()) // 60


def _shift(windows: list[tuple[int, int]], opens: list[int], low: int, high: int) -> int:
    """How many minutes [low, high) must move to fit in one of the windows (0: it fits)."""
    if not windows:
        return UNREACHABLE_SHIFT
    at = bisect.bisect_right(opens, low)
    return min(
        max(0, high - w_end) + max(0, w_start - low)
        for w_start, w_end in windows[max(0, at - 1) : at + 1]
    )


def _cost_kind(person: SlotPerson, moment: datetime) -> Cost:
    """Whether a slot outside the person's hours falls in their morning or their evening."""
    local = moment.astimezone(zone(person.tz_name))
    return "morning" if local.hour * 60 + local.minute < person.hours.start_minute else "evening"


@functools.lru_cache(maxsize=1024)
def _windows(
    hours: WorkingHours, tz_name: str | None, start: datetime, end: datetime
) -> tuple[tuple[datetime, datetime], ...]:
    # A round suggests slots for thousands of groups over one range, and most people share a
    # handful of (hours, zone) pairs: each person's windows are worked out once per pair.
    return tuple(hours.windows(tz_name, start, end))


def _intersect_all(
    windows: Sequence[Sequence[tuple[datetime, datetime]]],
) -> Sequence[tuple[datetime, datetime]]:
    """The intervals inside every person's windows (each list sorted, non-overlapping)."""
    shared = windows[0]
    for other in windows[1:]:
        merged: list[tuple[datetime, datetime]] = []
        i = j = 0
        while i < len(shared) and j < len(other):
            low, high = max(shared[i][0], other[j][0]), min(shared[i][1], other[j][1])
            if low < high:
                merged.append((low, high))
            if shared[i][1] < other[j][1]:
                i += 1
            else:
                j += 1
        shared = merged
    return shared


def _days_of(people: Sequence[SlotPerson], moment: datetime) -> tuple[date, ...]:
    """The local date of `moment` for each person: slots must differ on all of them."""
    return tuple(moment.astimezone(zone(p.tz_name)).date() for p in people)


def _spread(by_day: dict[tuple[date, ...], datetime], count: int) -> list[datetime]:
    """At most `count` of the days' slots, spread over them (first and last kept), on days
    that differ for everyone, oldest first."""
    days = sorted(by_day.items(), key=lambda item: item[1])
    if len(days) > count:
        picks = sorted({round(i * (len(days) - 1) / (count - 1)) for i in range(count)})
        days = [days[i] for i in picks]
    chosen: list[datetime] = []
    seen: list[set[date]] = [set() for _ in days[0][0]] if days else []
    for key, moment in days:
        if any(d in seen[i] for i, d in enumerate(key)):
            continue
        for i, d in enumerate(key):
            seen[i].add(d)
        chosen.append(moment)
    return chosen


def _ceil_step(moment: datetime) -> datetime:
    floored = _floor_step(moment)
    return floored if floored == moment else floored + STEP


def _floor_step(moment: datetime) -> datetime:
    step = int(STEP.total_seconds())
    return datetime.fromtimestamp(int(moment.timestamp()) // step * step, tz=UTC)


# -- working hours of members ----------------------------------------------------------------


def working_hours_of(member: Pairable) -> WorkingHours:
    """A member's working hours as stored (the default when a stored value is unusable)."""
    try:
        return WorkingHours(
            start_minute=member.work_start_minute,
            end_minute=member.work_end_minute,
            days=frozenset(member.work_days or ()),
            no_meeting_days=frozenset(member.no_meeting_days or ()),
        )
    except (TypeError, ValueError):
        return DEFAULT_WORKING_HOURS


def set_working_hours(
    session: Session, *, team_id: str, user_id: str, hours: WorkingHours, now: datetime
) -> None:
    """Store a person's working hours on each of their memberships (the hours are theirs,
    whatever the programme), used from the next round's slots.

    Raises UsageError for someone who has not joined.
    """
    members = session.scalars(
        select(Member)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .where(
            Workspace.team_id == team_id,
            Member.slack_user_id == user_id,
            Member.level.is_not(None),
        )
    ).all()
    if not members:
        raise UsageError("Join first (`/peercoach join`), then set your working hours.")
    for member in members:
        _store_hours(member, hours)
        member.updated_at = now


def _store_hours(member: Member, hours: WorkingHours) -> None:
    member.work_start_minute, member.work_end_minute = hours.start_minute, hours.end_minute
    member.work_days = sorted(hours.days)
    member.no_meeting_days = sorted(hours.no_meeting_days)


def store_working_hours(member: Member, hours: WorkingHours | None) -> None:
    """Keep the hours a profile submission carried (None: leave them as they are)."""
    if hours is not None:
        _store_hours(member, hours)


# -- slots at round time -----------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSlots:
    """A new group's suggested meeting times, best first, and who pays for the first one
    when it is a least-bad slot (Slack user id -> cost kind: early, late or off-day)."""

    slots: tuple[MeetingSlot, ...]
    paying: Mapping[str, str]


def group_slots(
    session: Session,
    groups: Sequence[Sequence[Pairable]],
    *,
    programme_id: int,
    start: datetime,
    end: datetime,
) -> list[GroupSlots]:
    """Suggest each new group's slots between `start` (plus SLOT_LEAD) and `end`, in the
    order given; who paid for a least-bad slot before (their seats' slot_cost) pays less
    often now. The groups are of one programme, `programme_id`: one query for the history of
    its members (the few seats that paid, by ix_group_seats_slot_cost), however many groups;
    writes nothing."""
    past: dict[int, int] = dict(
        session.execute(
            select(GroupSeat.member_id, func.count())
            .join(Member, Member.id == GroupSeat.member_id)
            .where(Member.programme_id == programme_id, GroupSeat.slot_cost.is_not(None))
            .group_by(GroupSeat.member_id)
        ).all()
    )
    # Most groups of a round are alike (the same hours, zones and past costs, seat by seat),
    # and suggest_slots gives alike groups the same slots, naming only different people in
    # their costs: each shape is worked out once and its costs renamed for the others.
    by_shape: dict[tuple[object, ...], tuple[list[str], tuple[MeetingSlot, ...]]] = {}
    suggested = []
    for members in groups:
        people = [
            SlotPerson(m.slack_user_id, working_hours_of(m), m.tz_name, past.get(m.id, 0))
            for m in members
        ]
        shape = tuple((p.hours, p.tz_name, p.past_costs) for p in people)
        users = [p.user_id for p in people]
        if shape in by_shape:
            their_users, their_slots = by_shape[shape]
            rename = dict(zip(their_users, users, strict=True))
            slots = tuple(
                slot.model_copy(update={"costs": tuple((rename[u], k) for u, k in slot.costs)})
                if slot.costs
                else slot
                for slot in their_slots
            )
        else:
            slots = suggest_slots(people, start=start + SLOT_LEAD, end=end)
            by_shape[shape] = (users, slots)
        paying = {user_id: kind for s in slots[:1] for user_id, kind in s.costs}
        suggested.append(GroupSlots(slots, paying))
    return suggested


def plan_group_slots(
    session: Session,
    groups: Sequence[tuple[PairGroup, Sequence[Member]]],
    *,
    start: datetime,
    end: datetime,
) -> None:
    """Suggest slots for groups already recorded as ORM rows (a rescue's new pair): stored
    on the group, and who pays for a least-bad slot on their seat (group_slots)."""
    if not groups:
        return
    suggestions = group_slots(
        session,
        [m for _, m in groups],
        programme_id=groups[0][1][0].programme_id,
        start=start,
        end=end,
    )
    for (group, _), suggested in zip(groups, suggestions, strict=True):
        group.slots = [s.model_dump(mode="json") for s in suggested.slots]
        for seat in group.seats:
            seat.slot_cost = suggested.paying.get(seat.slack_user_id)


def slots_of(group: PairGroup) -> tuple[MeetingSlot, ...]:
    """The group's suggested slots as stored."""
    return tuple(MeetingSlot.model_validate(s) for s in group.slots or ())


def meeting_fields(group: PairGroup) -> dict[str, Any]:
    """The intro's meeting fields as the group stands (its slots and the current pick)."""
    return new_meeting_fields(
        slots_of(group),
        picked_start=group.picked_start,
        picked_by=group.picked_by,
        pick_version=group.pick_version or 0,
    )


def new_meeting_fields(
    slots: tuple[MeetingSlot, ...],
    *,
    picked_start: datetime | None = None,
    picked_by: str | None = None,
    pick_version: int = 0,
) -> dict[str, Any]:
    """An intro's meeting fields (IntroNotice's slots, picked_start, picked_by and
    pick_version): a new group's have its slots and no pick yet."""
    return {
        "slots": slots,
        "picked_start": picked_start,
        "picked_by": picked_by,
        "pick_version": pick_version,
    }


# -- pick a time, reopen it ----------------------------------------------------------------------


@dataclass(frozen=True)
class PickOutcome:
    """What pressing a slot did: `picked` True if this press chose the time; else the time
    someone chose first (`start`, by `by`: None for PeerCoach)."""

    picked: bool
    start: datetime
    by: str | None


def _seated_group(session: Session, team_id: str, group_id: int, user_id: str) -> PairGroup:
    """The person's group in their workspace, still open; StaleAction for a group that is
    not theirs there (another workspace's is answered as one that never existed)."""
    found = own_seat(session, team_id=team_id, group_id=group_id, user_id=user_id)
    if found is None:
        raise StaleAction("That pairing isn't yours (or no longer exists).")
    group = found[0]
    if group.cancelled_at is not None or group.round.closed_at is not None:
        raise UsageError("This round has closed, so there's no time to pick any more.")
    return group


def pick_slot(
    session: Session, *, team_id: str, group_id: int, user_id: str, index: int, now: datetime
) -> PickOutcome:
    """Choose one of the group's suggested slots for everyone.

    One conditional UPDATE (`... WHERE picked_start IS NULL`) decides: of presses at once,
    exactly one picks; the others get the time it picked. The intro is updated for all and
    the reminder queued (keyed by the pick's version). Raises StaleAction for a slot the
    group was not offered or a group that is not the person's; UsageError for a time past.
    """
    group = _seated_group(session, team_id, group_id, user_id)
    slots = slots_of(group)
    if not 0 <= index < len(slots):
        raise StaleAction("That time isn't one I suggested (or it changed).")
    slot = slots[index]
    if slot.start <= now:
        raise UsageError("That time has passed: pick another, or agree one in your DM.")
    picked = affected_rows(
        session.execute(
            update(PairGroup)
            .where(PairGroup.id == group.id, PairGroup.picked_start.is_(None))
            .values(
                picked_start=slot.start,
                picked_by=user_id,
                picked_at=now,
                pick_version=PairGroup.pick_version + 1,
            )
            .execution_options(synchronize_session=False)
        )
    )
    session.refresh(group)
    assert group.picked_start is not None
    if picked:
        _after_change(session, group, now=now)
    return PickOutcome(bool(picked), group.picked_start, group.picked_by)


def reopen_pick(
    session: Session, *, team_id: str, group_id: int, user_id: str, version: int, now: datetime
) -> bool:
    """ "Doesn't work for me": drop the group's picked time so they choose again; return
    False if that pick was already dropped or replaced (a stale button, a double press).

    Conditional on the pick's version, so only the pick the person saw is reopened; its
    reminder is cancelled and the intro shows the slots again.
    """
    group = _seated_group(session, team_id, group_id, user_id)
    reopened = affected_rows(
        session.execute(
            update(PairGroup)
            .where(
                PairGroup.id == group.id,
                PairGroup.pick_version == version,
                PairGroup.picked_start.is_not(None),
            )
            .values(
                picked_start=None,
                picked_by=None,
                picked_at=None,
                pick_version=PairGroup.pick_version + 1,
            )
            .execution_options(synchronize_session=False)
        )
    )
    session.refresh(group)
    if reopened:
        _after_change(session, group, now=now, reopened_by=user_id)
    return bool(reopened)


def _after_change(
    session: Session, group: PairGroup, *, now: datetime, reopened_by: str | None = None
) -> None:
    """After the pick changed: cancel the old reminder, queue the new one, update the intro."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.group_id == group.id,
            OutboxMessage.kind == OutboxKind.MEETING_REMINDER,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED, last_error="time_changed")
        .execution_options(synchronize_session=False)
    )
    seated = [s.slack_user_id for s in group.seats if s.removed_at is None]
    if group.picked_start is not None:
        add_to_outbox(
            session,
            workspace_id=group.workspace_id,
            dedupe_key=reminder_key(group.id, group.pick_version),
            recipients=seated,
            notice=MeetingReminderNotice(
                group_id=group.id, start=group.picked_start, version=group.pick_version
            ),
            now=now,
            group_id=group.id,
            channel_id=group.channel_id,
            not_before=max(now, group.picked_start - REMINDER_LEAD),
        )
    if group.channel_id:
        enqueue(
            session,
            workspace_id=group.workspace_id,
            dedupe_key=f"intro_update:group:{group.id}:pick:{group.pick_version}",
            recipients=seated,
            notice=IntroUpdateNotice(group_id=group.id, reopened_by=reopened_by),
            now=now,
            group_id=group.id,
            channel_id=group.channel_id,
        )
    session.flush()


def reminder_key(group_id: int, version: int) -> str:
    """The dedupe key of a group's reminder for one version of its pick."""
    return f"meeting_reminder:group:{group_id}:v{version}"


def reminder_still_due(session: Session, message: OutboxMessage, now: datetime) -> bool:
    """Whether a claimed reminder is for the group's current pick, that time is still ahead
    at `now`, and the group may still meet (not met, not called off, round open): a
    reminder of a changed or past time never goes."""
    notice = notice_from_payload(message.payload)
    group = session.get(PairGroup, message.group_id) if message.group_id else None
    return (
        isinstance(notice, MeetingReminderNotice)
        and group is not None
        and group.pick_version == notice.version
        and group.picked_start == notice.start
        and notice.start > now
        and group.met_at is None
        and group.cancelled_at is None
        and group.round.closed_at is None
    )


# -- the calendar invite ----------------------------------------------------------------------


def request_invite(
    session: Session, *, team_id: str, group_id: int, user_id: str, version: int, now: datetime
) -> bool:
    """Queue a calendar invite (.ics) of the group's picked time for the person's own DM;
    return False if it was queued for this pick already. Raises StaleAction when the pick it
    was asked for changed, or the group is not theirs."""
    group = _seated_group(session, team_id, group_id, user_id)
    if group.picked_start is None or group.pick_version != version:
        raise StaleAction("That time changed: the intro shows the current one.")
    seat = next(s for s in group.seats if s.slack_user_id == user_id)
    member = session.get(Member, seat.member_id)
    queued = enqueue(
        session,
        workspace_id=group.workspace_id,
        dedupe_key=f"calendar:group:{group.id}:{user_id}:v{version}",
        recipients=[user_id],
        notice=CalendarInviteNotice(
            group_id=group.id,
            start=group.picked_start,
            minutes=CHAT_MINUTES,
            tz_name=member.tz_name if member else None,
            people=len([s for s in group.seats if s.removed_at is None]),
            created=now,
        ),
        now=now,
        group_id=group.id,
    )
    return queued is not None


# -- auto-schedule -----------------------------------------------------------------------------


def auto_schedule(session: Session, programme: Programme, *, now: datetime) -> int:
    """With the programme's auto-schedule on (N days), pick the first slot still ahead for
    each group of the open round that has not picked a time N days after its intro went
    out, and tell the group. Once per group, decided by a conditional UPDATE; returns how
    many groups it picked for."""
    days = ProgramSettings.from_stored(programme.settings).auto_schedule_days
    if not days:
        return 0
    intros = session.execute(
        select(PairGroup, OutboxMessage.sent_at)
        .join(Round, Round.id == PairGroup.round_id)
        .join(OutboxMessage, OutboxMessage.group_id == PairGroup.id)
        .where(
            Round.programme_id == programme.id,
            Round.closed_at.is_(None),
            PairGroup.picked_start.is_(None),
            PairGroup.auto_picked_at.is_(None),
            PairGroup.met_at.is_(None),
            PairGroup.cancelled_at.is_(None),
            OutboxMessage.kind == OutboxKind.INTRO,
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at <= now - timedelta(days=days),
        )
    ).all()
    picked = 0
    for group, _sent in intros:
        ahead = [s for s in slots_of(group) if s.start - REMINDER_LEAD > now]
        if not ahead:
            continue
        changed = affected_rows(
            session.execute(
                update(PairGroup)
                .where(
                    PairGroup.id == group.id,
                    PairGroup.picked_start.is_(None),
                    PairGroup.auto_picked_at.is_(None),
                )
                .values(
                    picked_start=ahead[0].start,
                    picked_by=None,
                    picked_at=now,
                    auto_picked_at=now,
                    pick_version=PairGroup.pick_version + 1,
                )
                .execution_options(synchronize_session=False)
            )
        )
        session.refresh(group)
        if not changed:
            continue
        picked += 1
        _after_change(session, group, now=now)
        enqueue(
            session,
            workspace_id=group.workspace_id,
            dedupe_key=f"auto_pick:group:{group.id}",
            recipients=[s.slack_user_id for s in group.seats if s.removed_at is None],
            notice=AutoPickedNotice(group_id=group.id, start=ahead[0].start, days=days),
            now=now,
            group_id=group.id,
            channel_id=group.channel_id,
        )
    return picked
