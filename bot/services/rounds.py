"""Rounds: who is eligible, pairing them with the matcher, recording groups and intros."""

from __future__ import annotations

import functools
import itertools
import json
import operator
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any, TypeVarTuple, cast

from sqlalchemy import Row, Select, Table, Text, func, literal_column, or_, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, selectinload

from bot import observability
from bot.batch import collector_paused
from bot.domain.enums import OutboxKind, OutboxStatus, ProgrammeFormat, RoundKind
from bot.domain.messages import (
    AutoPausedNotice,
    CheckinNotice,
    CommitmentNotice,
    IntroNotice,
    IntroUpdateNotice,
    NudgeNotice,
    UnpairedNotice,
    notice_to_payload,
)
from bot.domain.people import Pairable
from bot.domain.programme import FIRST_PROGRAMME_NAME, ProgramSettings
from bot.errors import RoundRaced, UsageError
from bot.matching import (
    NO_COMPATIBLE_GROUP,
    MatchedGroup,
    MatchMember,
    MatchResult,
    MatchRules,
    PastGroup,
    Unmatched,
    match_members,
    may_group,
)
from bot.matching.model import Reason
from bot.matching.worktime import WorkingWindow, default_window, working_intervals
from bot.prompts import (
    Prompt,
    PromptChooser,
    coach_questions,
    load_deck,
    load_toolkit,
    prompts_by_id,
)
from bot.schedule import Schedule, due_slot
from bot.services import circles, keep_meeting
from bot.services.admin import match_rules_of, settings_of
from bot.services.digest import queue_digests
from bot.services.meetings import (
    GroupSlots,
    group_slots,
    meeting_fields,
    new_meeting_fields,
    plan_group_slots,
    working_hours_of,
)
from bot.services.membership import (
    ROUND_COOLDOWN,
    ask_to_accept,
    last_scheduled_slot,
    needs_agreement,
    programme_for,
    resume_due_members,
    schedule_of,
    settings_of_programme,
)
from bot.services.orgchart import reporting_exclusions
from bot.services.outbox import Outgoing, add_all_to_outbox, commitment_key, enqueue
from bot.services.pulse import open_pulse_if_due
from db.models import (
    Exclusion,
    GroupSeat,
    Member,
    MemberStatus,
    OutboxMessage,
    PairGroup,
    Programme,
    PromptShown,
    Reflection,
    Round,
    Workspace,
)
from db.upsert import affected_rows, in_chunks, insert_rows, insert_rows_returning_ids

_Ts = TypeVarTuple("_Ts")
HISTORY_ROUNDS = 104  # two years of weekly rounds is plenty to keep pairs fresh
MISSED_ROUNDS_BEFORE_PAUSE = 3
# A scheduled round missed while the process was down still runs if it comes back within this.
ROUND_GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class RoundPlan:
    """What a round would do: the members considered and the matcher's answer."""

    members: Mapping[str, Pairable]
    result: MatchResult
    # Eligible but left out until they accept the programme's current agreement.
    awaiting_agreement: tuple[Pairable, ...] = ()
    # Groups kept together by their members' wish: members -> the group they chose it in.
    kept: dict[tuple[str, ...], int] = field(default_factory=dict)
    # Circles format: each group's circle (members -> circle id), and the round's season.
    circles: dict[tuple[str, ...], int] = field(default_factory=dict)
    season: int | None = None
    session: int | None = None


def seed_for(team_id: str, period_key: str) -> int:
    """A reproducible seed per workspace (or programme scope) and period (recorded with the
    round)."""
    return zlib.crc32(f"{team_id}|{period_key}".encode()) & 0x7FFFFFFF


def seed_scope(programme: Programme) -> str:
    """What a programme's round seeds are keyed by besides the period: its team id (the
    first programme, as before programmes existed), or the team id and programme name."""
    team_id = programme.workspace.team_id
    return team_id if programme.name == FIRST_PROGRAMME_NAME else f"{team_id}|{programme.name}"


def next_round_seed(session: Session, programme: Programme) -> int:
    """The seed of the programme's next round, whatever starts it (the schedule, an admin's
    "Run a round now", `round run`), and of every preview of it (the admin preview,
    `round run --dry-run`): the programme's seed scope (seed_scope) and the period key of the
    round before it ("start" for the first). A manual round's own key holds the moment it
    starts, which no preview can know; the previous round's key is the same for the preview
    and the round that follows, so both pair the same people the same way when nothing
    changed in between.
    """
    previous = session.scalar(
        select(Round.period_key)
        .where(Round.programme_id == programme.id)
        .order_by(Round.started_at.desc(), Round.id.desc())
        .limit(1)
    )
    return seed_for(seed_scope(programme), f"after:{previous or 'start'}")


def follow_up_times(schedule: Schedule, started_at: datetime) -> tuple[datetime, datetime]:
    """Nudge on the Thursday-equivalent of the last week, check in the day after, same hour."""
    cycle_days = schedule.cadence_weeks * 7
    return started_at + timedelta(days=cycle_days - 4), started_at + timedelta(days=cycle_days - 3)


@dataclass(frozen=True, slots=True, eq=False)
class Eligible:
    """A member as a round sees them (bot.domain.people.Pairable), as plain values: a round
    reads every member of the programme, and ORM objects cost ten times more to build."""

    id: int
    slack_user_id: str
    level: int | None
    team: str | None
    goals: tuple[str, ...]
    tz_name: str | None
    tz_offset_minutes: int | None
    agreement_version: int | None
    work_start_minute: int
    work_end_minute: int
    work_days: tuple[int, ...]
    no_meeting_days: tuple[int, ...]


def eligible_members(
    session: Session, programme_id: int, now: datetime, left_out: Collection[str] = ()
) -> list[Eligible]:
    """The programme's active members, plus paused ones whose pause has ended by `now`, less
    `left_out` (Slack user ids found at round time not to be pairable: see bot.jobs.rounds),
    in join order. One query of plain rows."""
    rows = _rows(
        session,
        select(
            Member.status,
            Member.paused_until,
            Member.id,
            Member.slack_user_id,
            Member.level,
            Member.team,
            # The JSON lists as their text, decoded once per distinct text (_json_tuple):
            # thousands of members share a handful of goal pairs and working weeks.
            sql_cast(Member.goals, Text),
            Member.tz_name,
            Member.tz_offset_minutes,
            Member.agreement_version,
            Member.work_start_minute,
            Member.work_end_minute,
            sql_cast(Member.work_days, Text),
            sql_cast(Member.no_meeting_days, Text),
        )
        .where(
            Member.programme_id == programme_id,
            Member.status.in_([MemberStatus.ACTIVE.value, MemberStatus.PAUSED.value]),
        )
        .order_by(Member.id),
    )
    return [
        Eligible(
            id,
            user_id,
            level,
            team,
            _json_tuple(goals),
            tz_name,
            offset,
            accepted,
            start,
            end,
            _json_tuple(days),
            _json_tuple(free),
        )
        for (
            status,
            paused_until,
            id,
            user_id,
            level,
            team,
            goals,
            tz_name,
            offset,
            accepted,
            start,
            end,
            days,
            free,
        ) in rows
        if (status == MemberStatus.ACTIVE or (paused_until is not None and paused_until <= now))
        and user_id not in left_out
    ]


@functools.lru_cache(maxsize=4096)
def _json_tuple(text: str | None) -> tuple[Any, ...]:
    """A stored JSON list as a tuple (empty for NULL)."""
    return tuple(json.loads(text)) if text else ()


def past_groups(session: Session, programme_id: int) -> list[PastGroup]:
    """The recent groups of a programme (its last HISTORY_ROUNDS rounds), newest round
    first, as the matcher wants them."""
    recent = session.scalars(
        select(Round.id)
        .where(Round.programme_id == programme_id)
        .order_by(Round.started_at.desc(), Round.id.desc())
        .limit(HISTORY_ROUNDS)
    ).all()
    age = {round_id: position for position, round_id in enumerate(recent, start=1)}
    # One row per group of two or more, its seated people joined by the database (Slack user
    # ids hold no comma): a 5,000-member programme has 72,500 groups and 145,000 seats in 29
    # rounds, and fetching the groups alone halved the client's time on PostgreSQL (0.18 s
    # to 0.09 s) and cut a quarter on SQLite. The order of people within a group is not
    # kept; the matcher treats a past group as a set.
    rows = _driver_rows(
        session,
        select(
            PairGroup.round_id,
            PairGroup.met_at.is_not(None),
            PairGroup.first_user_id,
            func.aggregate_strings(GroupSeat.slack_user_id, ","),
        )
        .join(GroupSeat, GroupSeat.group_id == PairGroup.id)
        .where(PairGroup.round_id.in_(recent or [-1]), GroupSeat.removed_at.is_(None))
        # By round, then group: the order the round_id index yields them in, so SQLite
        # groups and orders without a temporary B-tree (1.47 s to 1.25 s for 750,000 groups).
        .group_by(PairGroup.round_id, PairGroup.id)
        .having(func.count() >= 2)
        .order_by(PairGroup.round_id, PairGroup.id),
    )
    history = [
        PastGroup(tuple(seated.split(",")), age[round_id], bool(met), False, first)
        for round_id, met, first, seated in rows
    ]
    history.sort(key=operator.itemgetter(1))  # newest round first (stable: groups in id order)
    return history


@dataclass(frozen=True)
class MatchInputs:
    """What the matching engine is given: the candidates, the programme's recent history,
    every hard exclusion and the programme's rules."""

    candidates: list[MatchMember]
    history: list[PastGroup]
    exclusions: list[tuple[str, str]]
    rules: MatchRules


def match_inputs(
    session: Session,
    programme: Programme,
    members: Mapping[str, Pairable],
    *,
    now: datetime,
    group_size: int | None = None,
) -> MatchInputs:
    """Read everything the matching engine needs to group `members` (Slack id -> Member) at
    `now`: their profiles (and working hours when the programme limits shared hours), the
    programme's history, every hard exclusion (never-pair lists, reporting lines) and its
    rules (`group_size` overrides the rules' size). Reads only; writes nothing."""
    settings = settings_of(session, programme)
    hours = settings.min_shared_hours > 0
    rules = match_rules_of(programme)
    if group_size is not None:
        rules = replace(rules, group_size=group_size)
    return MatchInputs(
        candidates=[match_member(m, now=now, hours=hours) for m in members.values()],
        history=past_groups(session, programme.id),
        exclusions=hard_exclusions(session, programme, settings),
        rules=rules,
    )


def match_these(
    session: Session,
    programme: Programme,
    members: Mapping[str, Pairable],
    *,
    seed: int,
    now: datetime,
    group_size: int | None = None,
) -> MatchResult:
    """Run the matching engine over `members` (Slack id -> Member) with everything a round
    uses (match_inputs). Used by rounds, circles and rescues alike, so every hard rule
    applies to all three."""
    inputs = match_inputs(session, programme, members, now=now, group_size=group_size)
    return match_members(
        inputs.candidates,
        history=inputs.history,
        exclusions=inputs.exclusions,
        rules=inputs.rules,
        seed=seed,
    )


def plan_round(
    session: Session,
    programme: Programme,
    *,
    now: datetime,
    seed: int,
    left_out: Collection[str] = (),
) -> RoundPlan:
    """Pair the programme's eligible members without writing anything (also the dry run).
    Only the programme's own members are ever considered: nobody is paired across
    programmes.

    Pairs format: groups whose members all chose to keep meeting stay together (pinned,
    outside the matcher). Circles format: the matcher forms circles as a new season would.
    """
    pausing = pausing_at_close(session, programme)  # none once the open round is closed
    eligible = [
        m for m in eligible_members(session, programme.id, now, left_out) if m.id not in pausing
    ]
    waiting = tuple(m for m in eligible if needs_agreement(m, programme))
    members = {m.slack_user_id: m for m in eligible if not needs_agreement(m, programme)}
    kept: dict[tuple[str, ...], int] = {}
    if settings_of_programme(programme).format == ProgrammeFormat.PAIRS:
        kept = keep_meeting.kept_groups(session, programme, set(members))
    pinned = {u for group in kept for u in group}
    result = match_these(
        session,
        programme,
        {u: m for u, m in members.items() if u not in pinned},
        seed=seed,
        now=now,
    )
    if kept:
        result = replace(
            result,
            groups=result.groups
            + tuple(
                MatchedGroup(members=group, reasons=(Reason.KEPT_TOGETHER.value,)) for group in kept
            ),
        )
    return RoundPlan(members=members, result=result, awaiting_agreement=waiting, kept=kept)


def hard_exclusions(
    session: Session, programme: Programme, settings: ProgramSettings
) -> list[tuple[str, str]]:
    """Every pair that may never share a group: members' private never-pair lists and, when
    the programme's settings say so, the reporting lines of the workspace's imported org
    chart."""
    private = session.execute(
        select(Member.slack_user_id, Exclusion.excluded_user_id)
        .join(Exclusion, Exclusion.member_id == Member.id)
        .where(Member.programme_id == programme.id)
    ).all()
    lines: set[tuple[str, str]] = set()
    if settings.never_pair_reporting_line:
        lines = reporting_exclusions(
            session, programme.workspace_id, skip_level=settings.never_pair_skip_level
        )
    return [(a, b) for a, b in private] + sorted(lines)


def working_window(member: Pairable) -> WorkingWindow | None:
    """The member's working window: their own working hours (bot.services.meetings; the
    meeting days, no-meeting days left out) in their Slack time zone (None: zone unknown)."""
    if default_window(member.tz_name) is None or member.tz_name is None:
        return None
    hours = working_hours_of(member)
    return WorkingWindow(
        member.tz_name,
        start=time(hours.start_minute // 60, hours.start_minute % 60),
        # 24:00 is written as midnight: an end at or before the start runs to the next day.
        end=time((hours.end_minute // 60) % 24, hours.end_minute % 60),
        weekdays=hours.meeting_days,
    )


def match_member(member: Pairable, *, now: datetime, hours: bool) -> MatchMember:
    """The member as the matcher sees them; with `hours`, their working stretches in the
    week from `now` (for the shared-hours limit). Teams compare ignoring case and spacing."""
    window = working_window(member) if hours else None
    team = " ".join((member.team or "").split()).casefold() or None
    return MatchMember(
        id=member.slack_user_id,
        level=member.level,
        team=team,
        goals=frozenset(member.goals or ()),
        tz_offset_minutes=member.tz_offset_minutes,
        work_intervals=_intervals(window, now) if window else (),
    )


@functools.lru_cache(maxsize=4096)
def _intervals(window: WorkingWindow, now: datetime) -> tuple[tuple[int, int], ...]:
    # Most people share a handful of windows: one computation per window and round.
    return working_intervals(window, now)


@collector_paused()
def preview_round(session: Session, programme: Programme, *, now: datetime) -> RoundPlan:
    """What the programme's next round would do if it started at `now`, written nowhere: the
    same seed (next_round_seed) and the same people (auto-pauses the closing would make left
    out) as the round that follows, so both show the same groups when nothing changed."""
    return plan_round(session, programme, now=now, seed=next_round_seed(session, programme))


@observability.timed_round_start
@collector_paused()
def start_round(
    session: Session,
    programme: Programme,
    *,
    now: datetime,
    period_key: str,
    kind: RoundKind,
    left_out: Collection[str] = (),
) -> Round | None:
    """Close the open round, pair everyone eligible, record groups and their messages.

    Returns None when a round for this period exists already (scheduled rounds are
    idempotent per period, whatever restarts or double starts happen). Callers that may race
    take the programme's lock first (`run_due_round`, `start_manual_round`). `left_out`:
    Slack user ids not to pair this round (found unpairable at round time).
    """
    if session.scalar(
        select(Round.id).where(Round.programme_id == programme.id, Round.period_key == period_key)
    ):
        return None
    seed = next_round_seed(session, programme)
    programme.last_round_started_at = now
    close_open_rounds(session, programme, now=now)
    resume_due_members(session, programme_id=programme.id, now=now)
    if settings_of_programme(programme).format == ProgrammeFormat.CIRCLES:
        plan = _plan_circle_session(session, programme, now=now, seed=seed, left_out=left_out)
    else:
        plan = plan_round(session, programme, now=now, seed=seed, left_out=left_out)
    nudge_at, checkin_at = follow_up_times(schedule_of(programme), now)
    new_round = Round(
        workspace_id=programme.workspace_id,
        programme_id=programme.id,
        period_key=period_key,
        kind=kind,
        seed=seed,
        started_at=now,
        nudge_at=nudge_at,
        checkin_at=checkin_at,
        unmatched=[u.id for u in plan.result.unmatched],
        season=plan.season,
        session=plan.session,
    )
    session.add(new_round)
    session.flush()
    themes = set(settings_of_programme(programme).prompt_themes)
    deck = tuple(p for p in load_deck() if not themes or p.theme in themes)
    _record_groups(session, programme, new_round, plan, deck, now)
    open_pulse_if_due(session, programme, new_round, now=now)
    for waiting in plan.awaiting_agreement:
        ask_to_accept(session, programme, waiting.slack_user_id, now)
    for unmatched in plan.result.unmatched:
        enqueue(
            session,
            workspace_id=programme.workspace_id,
            dedupe_key=f"unpaired:round:{new_round.id}:{unmatched.id}",
            recipients=[unmatched.id],
            notice=UnpairedNotice(),
            now=now,
        )
    _hold_the_planned(session, programme.id, plan)
    return new_round


def _hold_the_planned(session: Session, programme_id: int, plan: RoundPlan) -> None:
    """Lock the membership of everyone the round names (FOR SHARE on PostgreSQL; on SQLite
    the round's write lock holds everyone off already) and check each is still the active
    member the plan read.

    Members are read without a lock while the round is planned, and a leave or an erasure
    may commit meanwhile; from here until the round commits, one waits instead (briefly: the
    round is written by now). Raises RoundRaced when someone changed, so the caller's unit
    of work rolls back and nobody who left is seated or messaged.
    """
    planned = {m.id: m.slack_user_id for m in plan.members.values()}
    planned.update((m.id, m.slack_user_id) for m in plan.awaiting_agreement)
    # The programme's active memberships, by programme rather than by a list of thousands of
    # ids (cheaper to send and to plan). Only the active: everyone planned was active, and a
    # paused or left membership (someone erasing their data, editing a profile) is nothing
    # to wait for. Someone planned whose change committed meanwhile no longer matches (the
    # row is read again after the wait) and is missing below.
    still: dict[int, tuple[str, str]] = {
        member_id: (user_id, status)
        for member_id, user_id, status in session.execute(
            select(Member.id, Member.slack_user_id, Member.status)
            .where(
                Member.programme_id == programme_id,
                Member.status == MemberStatus.ACTIVE.value,
            )
            .with_for_update(read=True)
        )
    }
    for member_id, user_id in planned.items():
        if still.get(member_id) != (user_id, MemberStatus.ACTIVE.value):
            raise RoundRaced()


def _plan_circle_session(
    session: Session,
    programme: Programme,
    *,
    now: datetime,
    seed: int,
    left_out: Collection[str] = (),
) -> RoundPlan:
    """The next session of the programme's coaching circles (bot.services.circles),
    recorded: circles formed or kept whole, newcomers placed, everyone told where they sit."""
    eligible = eligible_members(session, programme.id, now, left_out)
    waiting = tuple(m for m in eligible if needs_agreement(m, programme))
    members = {m.slack_user_id: m for m in eligible if not needs_agreement(m, programme)}
    planned = circles.plan_session(
        session,
        programme,
        members=members,
        exclusions=hard_exclusions(session, programme, settings_of(session, programme)),
        match=lambda these: match_these(session, programme, these, seed=seed, now=now),
        now=now,
    )
    result = MatchResult(
        groups=planned.groups,
        unmatched=tuple(Unmatched(id=u, reason=NO_COMPATIBLE_GROUP) for u in planned.unmatched),
        seed=seed,
    )
    return RoundPlan(
        members=members,
        result=result,
        awaiting_agreement=waiting,
        circles=planned.circle_of,
        season=planned.season,
        session=planned.session,
    )


def _record_groups(
    session: Session,
    programme: Programme,
    new_round: Round,
    plan: RoundPlan,
    deck: tuple[Prompt, ...],
    now: datetime,
) -> None:
    """Record every group with its seats, suggested meeting times and prompts, then queue the
    round's messages.

    A round of thousands of people is a handful of statements: prompt and slot history are
    read once, and groups, seats, prompts shown and outbox rows go in as multi-row inserts
    (Core, not one ORM object each), in the order one-by-one recording gave them ids.
    """
    workspace_id, programme_id = programme.workspace_id, programme.id
    members_of = [[plan.members[u] for u in matched.members] for matched in plan.result.groups]
    seen = _prompts_seen(session, programme_id)
    open_commitments = _open_commitments(session, programme_id)
    chooser = PromptChooser(deck, seed=new_round.seed)
    prompts_of = [
        chooser.choose(
            shared_goals=sorted(set.intersection(*(set(m.goals or ()) for m in members))),
            member_goals=[m.goals or [] for m in members],
            seen_by_member=[seen.get(m.id, ()) for m in members],
            count=2,
        )
        for members in members_of
    ]
    # Meeting times inside everyone's working hours, from now until the round's check-in.
    slots_of = group_slots(
        session, members_of, programme_id=programme_id, start=now, end=new_round.checkin_at
    )
    group_ids = _insert_groups(session, workspace_id, new_round, plan, prompts_of, slots_of)
    insert_rows(
        session,
        cast(Table, GroupSeat.__table__),
        [
            {
                "workspace_id": workspace_id,
                "group_id": group_id,
                "member_id": m.id,
                "slack_user_id": m.slack_user_id,
                "position": position,
                "slot_cost": slots.paying.get(m.slack_user_id),
            }
            for group_id, members, slots in zip(group_ids, members_of, slots_of, strict=True)
            for position, m in enumerate(members)
        ],
    )
    insert_rows(
        session,
        cast(Table, PromptShown.__table__),
        [
            {
                "workspace_id": workspace_id,
                "member_id": m.id,
                "prompt_id": p.id,
                "round_id": new_round.id,
            }
            for members, prompts in zip(members_of, prompts_of, strict=True)
            for m in members
            for p in prompts
        ],
    )
    # The groups went in past the ORM: a caller reading the round's groups loads them.
    session.expire(new_round, ["groups"])
    in_round = {m.id: m.slack_user_id for m in plan.members.values()}
    keys = [commitment_key(r.id) for r in open_commitments.values()]
    already_asked = _recorded_keys(session, workspace_id, OutboxKind.COMMITMENT, keys)
    asked_now: set[int] = set()
    messages: list[Outgoing] = []
    for member_id, reflection in open_commitments.items():
        key = commitment_key(reflection.id)
        if member_id not in in_round or key in already_asked:
            continue  # not in this round, or asked once already: we don't nag
        asked_now.add(member_id)
        assert reflection.commitment is not None
        messages.append(
            Outgoing(
                dedupe_key=key,
                recipients=[in_round[member_id]],
                notice=CommitmentNotice(
                    reflection_id=reflection.id, commitment=reflection.commitment
                ),
            )
        )
    settings = settings_of_programme(programme)
    for group_id, matched, members, prompts, slots in zip(
        group_ids, plan.result.groups, members_of, prompts_of, slots_of, strict=True
    ):
        seated = [(m.id, m.slack_user_id) for m in members]
        circle_id = plan.circles.get(matched.members)
        messages.append(
            Outgoing(
                dedupe_key=f"intro:group:{group_id}",
                recipients=[user_id for _, user_id in seated],
                group_id=group_id,
                notice=_intro(
                    group_id,
                    seated=seated,
                    first_user_id=matched.members[0],
                    reasons=matched.reasons,
                    prompts=prompts,
                    asked=asked_now,
                    settings=settings,
                    seed=_people_seed(new_round.seed, [user_id for _, user_id in seated]),
                    meeting=new_meeting_fields(slots.slots),
                    rescue=False,
                    circle_session=new_round.session if circle_id else None,
                ),
            )
        )
    add_all_to_outbox(session, workspace_id=workspace_id, messages=messages, now=now)


def _insert_groups(
    session: Session,
    workspace_id: int,
    new_round: Round,
    plan: RoundPlan,
    prompts_of: Sequence[Sequence[Prompt]],
    slots_of: Sequence[GroupSlots],
) -> list[int]:
    """Insert the round's groups in one batch; return their ids in plan order."""
    return insert_rows_returning_ids(
        session,
        cast(Table, PairGroup.__table__),
        [
            {
                "workspace_id": workspace_id,
                "round_id": new_round.id,
                "first_user_id": matched.members[0],
                "reasons": list(matched.reasons),
                "circle_id": plan.circles.get(matched.members),
                "kept_from_id": plan.kept.get(matched.members),
                "prompt_ids": [p.id for p in prompts],
                "slots": [s.model_dump(mode="json") for s in slots.slots],
            }
            for matched, prompts, slots in zip(
                plan.result.groups, prompts_of, slots_of, strict=True
            )
        ],
    )


def _recorded_keys(
    session: Session, workspace_id: int, kind: OutboxKind, keys: list[str]
) -> set[str]:
    """Which of these outbox keys are recorded already (looked up by the unique key)."""
    found: set[str] = set()
    for chunk in in_chunks(keys):
        found.update(
            session.scalars(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.workspace_id == workspace_id,
                    OutboxMessage.kind == kind,
                    OutboxMessage.dedupe_key.in_(chunk),
                )
            )
        )
    return found


def _rows(session: Session, statement: Select[*_Ts]) -> Sequence[Row[*_Ts]]:
    """Run a column query on the session's connection after flushing what is pending: plain
    rows without the ORM's per-row loading, for reads that see every member or every past
    seat of a programme."""
    session.flush()
    return session.connection().execute(statement).all()


def _driver_rows(session: Session, statement: Select[*_Ts]) -> list[tuple[*_Ts]]:
    """Like _rows, for the two reads of a round that return tens or hundreds of thousands
    of rows (past groups, prompts shown): the driver's own tuples, without SQLAlchemy's Row objects,
    which cost as much again as the read itself.

    Only for statements whose parameters are integer ids (they are rendered inline) and whose
    columns are integers, strings or booleans (no SQLAlchemy type processing is applied).
    """
    session.flush()
    connection = session.connection()
    sql = statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(sql))
        return cast(list[tuple[*_Ts]], cursor.fetchall())
    finally:
        cursor.close()


def _prompts_seen(session: Session, programme_id: int) -> dict[int, list[str]]:
    """Each of the programme's members' prompt history, oldest first (one query of plain
    rows, read in member and id order from ix_prompts_shown_history).

    PostgreSQL joins each member's history into one string in the database (string_agg in id
    order; prompt ids hold no comma, bot.prompts.PROMPT_ID), so the client converts 50,000
    rows rather than 2.9 million at 50,000 members with 30 rounds. SQLite cannot order an
    aggregate before 3.44, and reads the rows in order.
    """
    if session.get_bind().dialect.name == "postgresql":
        joined = _driver_rows(
            session,
            select(
                PromptShown.member_id,
                # string_agg(prompt_id, ',' ORDER BY id): the ORDER BY follows the last argument.
                func.string_agg(
                    PromptShown.prompt_id, aggregate_order_by(literal_column("','"), PromptShown.id)
                ),
            )
            .join(Member, Member.id == PromptShown.member_id)
            .where(Member.programme_id == programme_id)
            .group_by(PromptShown.member_id),
        )
        return {member_id: shown.split(",") for member_id, shown in joined}
    rows = _driver_rows(
        session,
        select(PromptShown.member_id, PromptShown.prompt_id)
        .join(Member, Member.id == PromptShown.member_id)
        .where(Member.programme_id == programme_id)
        # Ordered by the members' id (equal to member_id here), the order SQLite's join
        # yields the rows in: it sorted 3 million rows in a temporary B-tree when asked for
        # member_id (1.53 s to 1.0 s at 50,000 members with 30 rounds).
        .order_by(Member.id, PromptShown.id),
    )
    return {
        member_id: [prompt_id for _, prompt_id in shown]
        for member_id, shown in itertools.groupby(rows, key=operator.itemgetter(0))
    }


def _open_commitments(
    session: Session, programme_id: int, member_ids: Collection[int] | None = None
) -> dict[int, Reflection]:
    """The members whose latest reflection holds a commitment not yet followed up, with that
    reflection (all the programme's members, or these), in reflection order."""
    newest = (
        select(func.max(Reflection.id))
        .join(Member, Member.id == Reflection.member_id)
        .where(Member.programme_id == programme_id)
        .group_by(Reflection.member_id)
    )
    if member_ids is not None:
        newest = newest.where(Reflection.member_id.in_(list(member_ids) or [-1]))
    return {
        r.member_id: r
        for r in session.scalars(
            select(Reflection)
            .where(
                Reflection.id.in_(newest),
                Reflection.commitment.is_not(None),
                Reflection.commitment_outcome.is_(None),
            )
            .order_by(Reflection.id)
        )
        if r.commitment
    }


def _intro(
    group_id: int,
    *,
    seated: Sequence[tuple[int, str]],
    first_user_id: str,
    reasons: Sequence[str],
    prompts: Sequence[Prompt],
    asked: Collection[int],
    settings: ProgramSettings,
    seed: int,
    meeting: dict[str, Any],
    rescue: bool,
    circle_session: int | None,
) -> IntroNotice:
    """An intro from plain facts: `seated` is (member id, Slack id) in seat order, the first
    speaker goes first; `asked` holds the member ids asked about their last commitment this
    round; `seed` picks the coaching questions; `meeting` is meeting_fields' shape."""
    users = [user_id for _, user_id in seated]
    if first_user_id in users:
        users.remove(first_user_id)
        users.insert(0, first_user_id)
    return IntroNotice(
        group_id=group_id,
        user_ids=tuple(users),
        reasons=tuple(reasons),
        prompts=tuple(p.text for p in prompts),
        asked_about_commitments=any(member_id in asked for member_id, _ in seated),
        cadence_weeks=settings.cadence_weeks,
        coach_questions=coach_questions(load_toolkit(), prompts, seed=seed),
        **meeting,
        rescue=rescue,
        circle_session=circle_session,
        season_sessions=settings.season_sessions if circle_session is not None else None,
    )


def intro_notice(session: Session, group: PairGroup, asked: set[int] | None = None) -> IntroNotice:
    """The intro notice for a group as it stands (members still seated, first speaker first).

    `asked` holds the members asked privately this round about their last commitment; when
    re-rendering later it is worked out again from who still has one open.
    """
    seated = [(s.member_id, s.slack_user_id) for s in group.seats if s.removed_at is None]
    if asked is None:
        asked = set(
            _open_commitments(
                session, group.round.programme_id, [member_id for member_id, _ in seated]
            )
        )
    by_id = prompts_by_id()
    return _intro(
        group.id,
        seated=seated,
        first_user_id=group.first_user_id,
        reasons=group.reasons,
        prompts=[by_id[p] for p in group.prompt_ids if p in by_id],
        asked=asked,
        settings=settings_of_programme(group.round.programme),
        seed=_people_seed(group.round.seed, [s.slack_user_id for s in group.seats]),
        meeting=meeting_fields(group),
        rescue=group.rescue,
        circle_session=group.round.session if group.circle_id else None,
    )


def _people_seed(round_seed: int, everyone_seated: Sequence[str]) -> int:
    """A seed for a group's coaching questions from what the group is (its round's seed and
    everyone ever seated), not from a row id: ids come from sequences, which a database
    does not reuse, so the same round would otherwise read differently on another run."""
    people = ",".join(sorted(everyone_seated))
    return round_seed ^ zlib.crc32(people.encode())


def close_open_rounds(session: Session, programme: Programme, *, now: datetime) -> None:
    """Close the programme's open rounds: count who went silent, pause the long-silent,
    drop the rounds' unsent follow-ups and retire their intros' buttons.

    A few statements per round, whatever its size: seats and every member's standing are
    read once as plain rows, and only members whose standing changed are written.
    """
    open_rounds = _open_rounds(session, programme)
    if not open_rounds:
        return
    standing = _standing(session, programme.id)
    streaks_before = {member_id: s.missed_streak for member_id, s in standing.items()}
    pausing: list[tuple[int, int, int]] = []  # (round id, member id, silences) in seat order
    for old in open_rounds:
        old.closed_at = now
        queue_digests(session, programme, old.id, now=now)
        # Unsent follow-ups of a closed round are stale: drop them rather than send late. So
        # are intros still held (a token Slack refused for the whole cycle): that group never
        # met, and counts against no one (below).
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.kind.in_(
                    [
                        OutboxKind.NUDGE,
                        OutboxKind.CHECKIN,
                        OutboxKind.INTRO,
                        OutboxKind.MEETING_REMINDER,
                    ]
                ),
                OutboxMessage.group_id.in_(
                    select(PairGroup.id).where(PairGroup.round_id == old.id)
                ),
            )
            .values(status=OutboxStatus.DROPPED)
            .execution_options(synchronize_session=False)
        )
        retired: list[Outgoing] = []
        for asked in _asked_groups(session, old.id):
            if asked.channel_id is not None:  # its intro went out: retire its buttons
                retired.append(_retired_intro(asked, now=now))
            for seat in asked.seats:
                member = standing.get(seat.member_id)
                if seat.removed or not _count_response(member, seat.responded):
                    continue
                assert member is not None
                pausing.append((old.id, seat.member_id, member.missed_streak))
                member.missed_streak = 0
        add_all_to_outbox(session, workspace_id=programme.workspace_id, messages=retired, now=now)
    paused = _store_standing(session, standing, streaks_before, now=now)
    # Told only when the pause was written: someone who left (or erased their data) while
    # the round closed stays left and hears nothing.
    for round_id, member_id, missed in pausing:
        if member_id in paused:
            user_id = standing[member_id].user_id
            enqueue(
                session,
                workspace_id=programme.workspace_id,
                dedupe_key=f"auto_paused:round:{round_id}:{user_id}",
                recipients=[user_id],
                notice=AutoPausedNotice(missed=missed),
                now=now,
            )


def _open_rounds(session: Session, programme: Programme) -> Sequence[Round]:
    """The programme's open rounds, oldest first."""
    return session.scalars(
        select(Round)
        .where(Round.programme_id == programme.id, Round.closed_at.is_(None))
        .order_by(Round.started_at, Round.id)
    ).all()


@dataclass
class _Standing:
    """A member's standing while rounds close: counted in memory, written once at the end."""

    user_id: str
    status: str
    missed_streak: int
    paused: bool = False  # auto-paused by this close


def _standing(session: Session, programme_id: int) -> dict[int, _Standing]:
    """Every member's standing in the programme (member id -> standing), read once."""
    return {
        member_id: _Standing(user_id, status, streak)
        for member_id, user_id, status, streak in _rows(
            session,
            select(Member.id, Member.slack_user_id, Member.status, Member.missed_streak).where(
                Member.programme_id == programme_id
            ),
        )
    }


def _count_response(member: _Standing | None, responded: bool) -> bool:
    """Count one asked seat into an active member's standing (MISSED_ROUNDS_BEFORE_PAUSE
    silences in a row pause them); return whether this pauses them."""
    if member is None or member.status != MemberStatus.ACTIVE:
        return False
    member.missed_streak = 0 if responded else member.missed_streak + 1
    if member.missed_streak < MISSED_ROUNDS_BEFORE_PAUSE:
        return False
    member.status, member.paused = MemberStatus.PAUSED.value, True
    return True


def _store_standing(
    session: Session,
    standing: dict[int, _Standing],
    streaks_before: dict[int, int],
    *,
    now: datetime,
) -> set[int]:
    """Write the standings that changed: one UPDATE per new streak value and one for the
    auto-paused, each over a list of ids (evaluated in the session too, so Member objects
    already loaded see the new values). Returns the ids of the members paused.

    The standings were read without a lock: a member may have left (or erased their data)
    since. The pause is conditional on the member still being active, so it never turns
    a departure back into a pause.
    """
    paused = [member_id for member_id, s in standing.items() if s.paused]
    by_streak: dict[int, list[int]] = {}
    for member_id, s in standing.items():
        if not s.paused and s.missed_streak != streaks_before[member_id]:
            by_streak.setdefault(s.missed_streak, []).append(member_id)
    for streak, ids in sorted(by_streak.items()):
        for chunk in in_chunks(ids):
            session.execute(update(Member).where(Member.id.in_(chunk)).values(missed_streak=streak))
    written: set[int] = set()
    for chunk in in_chunks(paused):
        written.update(
            session.scalars(
                update(Member)
                .where(
                    Member.id.in_(chunk),
                    Member.status == MemberStatus.ACTIVE.value,
                )
                .values(
                    status=MemberStatus.PAUSED.value,
                    paused_until=None,
                    updated_at=now,
                    missed_streak=0,
                )
                .returning(Member.id)
            )
        )
    return written


@dataclass(frozen=True, slots=True)
class _AskedSeat:
    member_id: int
    user_id: str
    met_at: datetime | None
    removed: bool
    responded: bool  # met, said they can't make it, rescued, or reflected


@dataclass(frozen=True)
class _AskedGroup:
    group_id: int
    channel_id: str | None
    seats: list[_AskedSeat]  # everyone ever seated, in seat order


def _asked_groups(session: Session, round_id: int) -> list[_AskedGroup]:
    """A round's groups that were asked anything (their intro reached Slack, not called
    off), each with its seats and whether each responded. Three queries of plain rows."""
    groups_of_round = select(PairGroup.id).where(PairGroup.round_id == round_id)
    reflected = set(
        session.scalars(
            select(Reflection.member_id).where(Reflection.group_id.in_(groups_of_round))
        )
    )
    # A group whose intro never reached Slack (refused, or still waiting behind a broken
    # token) was never asked anything: it counts against no one. Filtered on the round's
    # groups only: with a condition on status as well, PostgreSQL's estimate for status =
    # 'sent' led it to scan every sent message of the programme's history.
    delivered = {
        group_id
        for group_id, kind, status in _rows(
            session,
            select(OutboxMessage.group_id, OutboxMessage.kind, OutboxMessage.status).where(
                OutboxMessage.group_id.in_(groups_of_round)
            ),
        )
        if kind == OutboxKind.INTRO and status == OutboxStatus.SENT
    }
    seats = _rows(
        session,
        select(
            PairGroup.id,
            PairGroup.channel_id,
            PairGroup.met_at,
            GroupSeat.member_id,
            GroupSeat.slack_user_id,
            GroupSeat.met_at,
            GroupSeat.cant_make_it_at,
            GroupSeat.rescued_at,
            GroupSeat.removed_at,
        )
        .join(GroupSeat, GroupSeat.group_id == PairGroup.id)
        .where(PairGroup.round_id == round_id, PairGroup.cancelled_at.is_(None))
        .order_by(PairGroup.id, GroupSeat.position),
    )
    asked = []
    for group_id, rows in itertools.groupby(seats, key=lambda row: row[0]):
        if group_id not in delivered:
            continue
        seated = list(rows)
        asked.append(
            _AskedGroup(
                group_id,
                seated[0][1],
                [
                    # A group that met counts for everyone in it: one press speaks for the chat.
                    _AskedSeat(
                        member_id,
                        user_id,
                        met_at,
                        removed_at is not None,
                        bool(group_met or cant or rescued or member_id in reflected),
                    )
                    for _, _, group_met, member_id, user_id, met_at, cant, rescued, removed_at in (
                        seated
                    )
                ],
            )
        )
    return asked


def pausing_at_close(session: Session, programme: Programme) -> set[int]:
    """The members (ids) closing the open round would auto-pause: active, silent in it, and
    silent the rounds before (MISSED_ROUNDS_BEFORE_PAUSE in a row). A preview leaves them out,
    as the round that follows will."""
    open_rounds = _open_rounds(session, programme)
    if not open_rounds:
        return set()
    standing = _standing(session, programme.id)
    pausing: set[int] = set()
    for old in open_rounds:
        for asked in _asked_groups(session, old.id):
            for seat in asked.seats:
                if not seat.removed and _count_response(
                    standing.get(seat.member_id), seat.responded
                ):
                    pausing.add(seat.member_id)
    return pausing


# Retiring a closed round's intro buttons waits until the new round's intros are out: both
# compete for Slack's rate limits, and the new intros matter more.
RETIRE_AFTER = timedelta(hours=1)


def _retired_intro(asked: _AskedGroup, *, now: datetime) -> Outgoing:
    """The update that marks a closed round's intro closed and retires its buttons."""
    met = sorted((s.met_at, s.user_id) for s in asked.seats if s.met_at is not None)
    return Outgoing(
        dedupe_key=f"intro_update:group:{asked.group_id}:closed",
        recipients=[s.user_id for s in asked.seats if not s.removed],
        notice=IntroUpdateNotice(
            group_id=asked.group_id, closed=True, met_by=met[0][1] if met else None
        ),
        group_id=asked.group_id,
        channel_id=asked.channel_id,
        not_before=now + RETIRE_AFTER,
    )


def enqueue_follow_ups(session: Session, programme: Programme, *, now: datetime) -> int:
    """Queue the nudge and the check-in of the programme's open round once their time has
    come."""
    current = session.scalar(
        select(Round)
        .where(Round.programme_id == programme.id, Round.closed_at.is_(None))
        .order_by(Round.started_at.desc())
        .limit(1)
        .options(selectinload(Round.groups).selectinload(PairGroup.seats))
    )
    if current is None:
        return 0
    queued = 0
    follow_ups: tuple[tuple[OutboxKind, datetime, type[NudgeNotice | CheckinNotice]], ...] = (
        (OutboxKind.NUDGE, current.nudge_at, NudgeNotice),
        (OutboxKind.CHECKIN, current.checkin_at, CheckinNotice),
    )
    for kind, due, notice in follow_ups:
        if now < due:
            continue
        for group in current.groups:
            if group.met_at or group.cancelled_at or group.channel_id is None:
                continue
            seated = [s for s in group.seats if s.removed_at is None]
            if kind == OutboxKind.NUDGE and any(s.cant_make_it_at for s in seated):
                continue
            # A group that already said it won't meet is not asked whether it met.
            if sum(1 for s in seated if s.cant_make_it_at is None and not s.rescued_at) < 2:
                continue
            if enqueue(
                session,
                workspace_id=programme.workspace_id,
                dedupe_key=f"{kind}:group:{group.id}",
                recipients=[s.slack_user_id for s in seated],
                notice=notice(group_id=group.id),
                now=now,
                group_id=group.id,
                channel_id=group.channel_id,
            ):
                queued += 1
    return queued


def due_scheduled_period(session: Session, programme: Programme, now: datetime) -> datetime | None:
    """The programme's scheduled round time that should start at `now`, if any
    (bot.schedule.due_slot:
    within grace, after the programme started, after the last schedule change, after the
    current round's cycle, and not just after an admin's round)."""
    first_joined = session.scalar(
        select(func.min(Member.joined_at)).where(Member.programme_id == programme.id)
    )
    return due_slot(
        schedule_of(programme),
        now,
        grace=ROUND_GRACE,
        programme_started_at=first_joined,
        schedule_changed_at=programme.schedule_changed_at,
        # A scheduled round's key is its slot: a catch-up started late still owns its slot.
        last_scheduled_at=last_scheduled_slot(session, programme.id),
        last_started_at=programme.last_round_started_at,
        cooldown=ROUND_COOLDOWN,
    )


def lock_programme(session: Session, programme_id: int) -> Programme | None:
    """Take the programme's row lock for the rest of the transaction and read it afresh.

    A no-op UPDATE: on PostgreSQL it holds the row lock (another transaction's UPDATE or
    SELECT ... FOR UPDATE of the row waits for our commit); on SQLite it takes the database's
    write lock. Everything read after it sees what the previous holder committed.
    """
    session.execute(
        update(Programme)
        .where(Programme.id == programme_id)
        .values(last_round_started_at=Programme.last_round_started_at)
        .execution_options(synchronize_session=False)
    )
    return session.get(Programme, programme_id, populate_existing=True)


def run_due_round(
    session: Session, programme_id: int, *, now: datetime, left_out: Collection[str] = ()
) -> Round | None:
    """Start the programme's scheduled round if one is due at `now` (under its lock)."""
    programme = lock_programme(session, programme_id)
    if programme is None:
        return None
    due = due_scheduled_period(session, programme, now)
    if due is None:
        return None
    return start_round(
        session,
        programme,
        now=now,
        period_key=due.isoformat(),
        kind=RoundKind.SCHEDULED,
        left_out=left_out,
    )


def regroup_lone_member(
    session: Session, group: PairGroup, user_id: str, *, now: datetime
) -> PairGroup | None:
    """Seat someone whose peer fell away in another pair of the same round, as a trio.

    Only pairs whose intro has not gone out yet qualify (their DM is opened with all three),
    and only a trio every hard rule allows (never-pair lists, reporting lines, same team,
    shared working hours). Returns the new group, or None.
    """
    lone = next(s for s in group.seats if s.slack_user_id == user_id and s.removed_at is None)
    programme = session.get(Programme, group.round.programme_id)
    assert programme is not None
    rules = match_rules_of(programme)
    settings = settings_of(session, programme)
    hours = settings.min_shared_hours > 0
    exclusions = [p for p in hard_exclusions(session, programme, settings) if user_id in p]
    lone_member = session.get(Member, lone.member_id)
    assert lone_member is not None
    waiting = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.workspace_id == group.workspace_id,
            OutboxMessage.kind == OutboxKind.INTRO,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.channel_id.is_(None),
            OutboxMessage.group_id.in_(
                select(PairGroup.id).where(
                    PairGroup.round_id == group.round_id,
                    PairGroup.id != group.id,
                    PairGroup.cancelled_at.is_(None),
                )
            ),
        )
        .order_by(OutboxMessage.id)
    )
    for intro in waiting:
        candidate = session.get(PairGroup, intro.group_id)
        assert candidate is not None
        seated = [s for s in candidate.seats if s.removed_at is None]
        if len(seated) != 2:
            continue
        trio = [lone_member, *(session.get(Member, s.member_id) for s in seated)]
        if not may_group(
            [match_member(m, now=now, hours=hours) for m in trio if m is not None],
            exclusions=exclusions,
            rules=rules,
        ):
            continue
        lone.removed_at = now
        candidate.seats.append(
            GroupSeat(
                workspace_id=group.workspace_id,
                member_id=lone.member_id,
                slack_user_id=user_id,
                position=len(candidate.seats),
            )
        )
        session.add_all(
            PromptShown(
                workspace_id=group.workspace_id,
                member_id=lone.member_id,
                prompt_id=p,
                round_id=group.round_id,
            )
            for p in candidate.prompt_ids
        )
        session.flush()
        # The pair's times were found for two: find them again inside all three's hours.
        plan_group_slots(
            session,
            [(candidate, [m for m in trio if m is not None])],
            start=now,
            end=candidate.round.checkin_at,
        )
        intro.recipients = [*intro.recipients, user_id]
        intro.payload = notice_to_payload(intro_notice(session, candidate))
        return candidate
    return None


@dataclass(frozen=True)
class ManualRound:
    """What asking for a round now did: `started`, or None because a round started at
    `last_started_at`, moments ago (the caller offers an explicit override)."""

    started: Round | None
    last_started_at: datetime | None = None


def start_manual_round(
    session: Session,
    *,
    team_id: str,
    now: datetime,
    force: bool = False,
    replacing: datetime | None = None,
    programme: int | str | None = None,
) -> ManualRound:
    """An admin's explicit round: close the current one and pair now; schedule unchanged.

    One round at a time, decided in the database: a conditional UPDATE of the workspace row
    claims the start (a row lock on PostgreSQL, the write lock on SQLite), so of two requests
    or processes racing, one starts the round and the other finds it. Without `force` no round
    starts within ROUND_COOLDOWN of the last start. `replacing` (an admin's "start another
    anyway", carrying the start they saw) starts one only if that is still the last start, so
    pressing it twice starts one; `force` with no `replacing` (`round run --force`) always
    starts one.
    `programme`: its id or name (None: the workspace's first programme).
    Raises UsageError when nobody in the workspace has joined yet.
    """
    if session.scalar(select(Workspace.id).where(Workspace.team_id == team_id)) is None:
        raise UsageError("Nobody has joined PeerCoach here yet, so there is no one to pair.")
    programme_id = programme_for(session, team_id=team_id, programme=programme, now=now).id
    claim = update(Programme).where(Programme.id == programme_id)
    if replacing is not None:
        claim = claim.where(Programme.last_round_started_at == replacing)
    elif not force:
        claim = claim.where(
            or_(
                Programme.last_round_started_at.is_(None),
                Programme.last_round_started_at <= now - ROUND_COOLDOWN,
            )
        )
    claimed = affected_rows(
        session.execute(
            claim.values(last_round_started_at=now).execution_options(synchronize_session=False)
        )
    )
    chosen = session.get(Programme, programme_id, populate_existing=True)
    assert chosen is not None
    if claimed != 1:
        return ManualRound(started=None, last_started_at=chosen.last_round_started_at)
    started = start_round(
        session, chosen, now=now, period_key=f"manual:{now.isoformat()}", kind=RoundKind.MANUAL
    )
    if started is None:  # the same microsecond as a forced start: that one is the round
        return ManualRound(started=None, last_started_at=now)
    return ManualRound(started=started)
