"""Rounds: who is eligible, pairing them with the matcher, recording groups and intros."""

from __future__ import annotations

import itertools
import sys
import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVarTuple, cast

from sqlalchemy import Row, Select, Table, func, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from bot import observability
from bot.domain.enums import OutboxKind, OutboxStatus, RoundKind
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
from bot.domain.programme import DEFAULTS
from bot.errors import UsageError
from bot.matching import MatchMember, MatchResult, MatchRules, PastGroup, match_members
from bot.prompts import (
    Prompt,
    PromptChooser,
    coach_questions,
    load_deck,
    load_toolkit,
    prompts_by_id,
)
from bot.schedule import Schedule, due_slot
from bot.services.admin import match_rules_of
from bot.services.digest import queue_digests
from bot.services.membership import (
    ROUND_COOLDOWN,
    ask_to_accept,
    last_scheduled_slot,
    needs_agreement,
    resume_due_members,
    schedule_of,
)
from bot.services.outbox import Outgoing, add_all_to_outbox, commitment_key, enqueue
from bot.services.pulse import open_pulse_if_due
from db.models import (
    Exclusion,
    GroupSeat,
    Member,
    MemberStatus,
    OutboxMessage,
    PairGroup,
    PromptShown,
    Reflection,
    Round,
    Workspace,
)
from db.upsert import affected_rows

_Ts = TypeVarTuple("_Ts")
# Ids per IN (...) list: well under SQLite's limit on bound parameters.
_IN_CHUNK = 5000
HISTORY_ROUNDS = 104  # two years of weekly rounds is plenty to keep pairs fresh
MISSED_ROUNDS_BEFORE_PAUSE = 3
# A scheduled round missed while the process was down still runs if it comes back within this.
ROUND_GRACE = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Eligible:
    """A member as a round sees them: ids, the profile the matcher weighs, and the agreement
    version they accepted (plain values: a round reads every member of the programme)."""

    id: int
    slack_user_id: str
    level: int | None
    team: str | None
    goals: list[str]
    tz_offset_minutes: int | None
    agreement_version: int | None


@dataclass(frozen=True)
class RoundPlan:
    """What a round would do: the members considered and the matcher's answer."""

    members: dict[str, Eligible]
    result: MatchResult
    # Eligible but left out until they accept the programme's current agreement.
    awaiting_agreement: tuple[Eligible, ...] = ()


def _rows(session: Session, statement: Select[*_Ts]) -> Sequence[Row[*_Ts]]:
    """Run a column query on the session's connection after flushing what is pending: plain
    rows without the ORM's per-row loading, for the reads that see every member or every
    past seat of a programme."""
    session.flush()
    return session.connection().execute(statement).all()  # one fetch, not one per row


def seed_for(team_id: str, period_key: str) -> int:
    """A reproducible seed (0 .. 2**31-1) per workspace and period key."""
    return zlib.crc32(f"{team_id}|{period_key}".encode()) & 0x7FFFFFFF


def next_round_seed(session: Session, workspace: Workspace) -> int:
    """The seed of the workspace's next round, whatever starts it (the schedule, an admin's
    "Run a round now", `round run`), and of every preview of it (the admin preview,
    `round run --dry-run`): the programme's team id and the period key of the round before
    it ("start" for the first). A manual round's own key holds the moment it starts, which no
    preview can know; the previous round's key is the same for the preview and the round that
    follows, so both pair the same people the same way when nothing changed in between.
    """
    previous = session.scalar(
        select(Round.period_key)
        .where(Round.workspace_id == workspace.id)
        .order_by(Round.started_at.desc(), Round.id.desc())
        .limit(1)
    )
    return seed_for(workspace.team_id, f"after:{previous or 'start'}")


def follow_up_times(schedule: Schedule, started_at: datetime) -> tuple[datetime, datetime]:
    """Nudge on the Thursday-equivalent of the last week, check in the day after, same hour."""
    cycle_days = schedule.cadence_weeks * 7
    return started_at + timedelta(days=cycle_days - 4), started_at + timedelta(days=cycle_days - 3)


def eligible_members(
    session: Session, workspace_id: int, now: datetime, left_out: Collection[str] = ()
) -> list[Eligible]:
    """Active members, plus paused ones whose pause has ended by `now`, less `left_out`
    (Slack user ids found at round time not to be pairable: see bot.jobs.rounds), in join
    order. One query of plain rows, not ORM objects."""
    rows = _rows(
        session,
        select(
            Member.id,
            Member.slack_user_id,
            Member.status,
            Member.paused_until,
            Member.level,
            Member.team,
            Member.goals,
            Member.tz_offset_minutes,
            Member.agreement_version,
        )
        .where(
            Member.workspace_id == workspace_id,
            Member.status.in_([MemberStatus.ACTIVE.value, MemberStatus.PAUSED.value]),
        )
        .order_by(Member.id),
    )
    return [
        Eligible(
            id=member_id,
            slack_user_id=user_id,
            level=level,
            team=team,
            goals=goals or [],
            tz_offset_minutes=offset,
            agreement_version=accepted,
        )
        for member_id, user_id, status, paused_until, level, team, goals, offset, accepted in rows
        if (status == MemberStatus.ACTIVE or (paused_until is not None and paused_until <= now))
        and user_id not in left_out
    ]


def past_groups(session: Session, workspace_id: int) -> list[PastGroup]:
    """The recent groups of a workspace, newest round first, as the matcher wants them."""
    recent = (
        select(
            Round.id,
            func.row_number()
            .over(order_by=(Round.started_at.desc(), Round.id.desc()))
            .label("age"),
        )
        .where(Round.workspace_id == workspace_id)
        .order_by(Round.started_at.desc(), Round.id.desc())
        .limit(HISTORY_ROUNDS)
        .subquery()
    )
    # One flat query (not ORM objects): a 5,000-member programme has 250,000 seats in history.
    rows = _rows(
        session,
        select(
            recent.c.age,
            PairGroup.id,
            PairGroup.met_at.is_not(None),
            PairGroup.first_user_id,
            GroupSeat.slack_user_id,
        )
        .join(PairGroup, PairGroup.round_id == recent.c.id)
        .join(GroupSeat, GroupSeat.group_id == PairGroup.id)
        .where(GroupSeat.removed_at.is_(None))
        .order_by(recent.c.age, PairGroup.id, GroupSeat.position),
    )
    groups: dict[int, tuple[int, bool, str, list[str]]] = {}
    for age, group_id, met, first, user_id in rows:
        # Interned: one string object per person however many rounds they appear in.
        groups.setdefault(group_id, (age, bool(met), first, []))[3].append(sys.intern(user_id))
    return [
        PastGroup(members=tuple(seated), cycles_ago=age, met=met, first=first)
        for age, met, first, seated in groups.values()
        if len(seated) >= 2
    ]


@dataclass(frozen=True)
class MatchInputs:
    """What the matcher is given for a round: the members to pair (by Slack id) and their
    profiles, those waiting to accept the agreement, the recent history, the never-pair
    wishes and the workspace's rules."""

    members: dict[str, Eligible]
    awaiting_agreement: tuple[Eligible, ...]
    candidates: list[MatchMember]
    history: list[PastGroup]
    exclusions: list[tuple[str, str]]
    rules: MatchRules


def match_inputs(
    session: Session, workspace: Workspace, *, now: datetime, left_out: Collection[str] = ()
) -> MatchInputs:
    """Read everything the matcher needs for a round at `now` (a few queries, no writes);
    members closing the open round would auto-pause are left out (none once it is closed)."""
    pausing = pausing_at_close(session, workspace)
    eligible = [
        m for m in eligible_members(session, workspace.id, now, left_out) if m.id not in pausing
    ]
    waiting = tuple(m for m in eligible if needs_agreement(m, workspace))
    waiting_ids = {m.id for m in waiting}
    members = {m.slack_user_id: m for m in eligible if m.id not in waiting_ids}
    exclusions = session.execute(
        select(Member.slack_user_id, Exclusion.excluded_user_id)
        .join(Exclusion, Exclusion.member_id == Member.id)
        .where(Exclusion.workspace_id == workspace.id)
    ).all()
    return MatchInputs(
        members=members,
        awaiting_agreement=waiting,
        candidates=[
            MatchMember(
                id=user_id,
                level=m.level,
                team=m.team,
                goals=frozenset(m.goals),
                tz_offset_minutes=m.tz_offset_minutes,
            )
            for user_id, m in members.items()
        ],
        history=past_groups(session, workspace.id),
        exclusions=[(a, b) for a, b in exclusions],
        rules=match_rules_of(workspace),
    )


def plan_round(
    session: Session,
    workspace: Workspace,
    *,
    now: datetime,
    seed: int,
    left_out: Collection[str] = (),
) -> RoundPlan:
    """Pair the eligible members without writing anything (also the dry run)."""
    inputs = match_inputs(session, workspace, now=now, left_out=left_out)
    result = match_members(
        inputs.candidates,
        history=inputs.history,
        exclusions=inputs.exclusions,
        rules=inputs.rules,
        seed=seed,
    )
    return RoundPlan(
        members=inputs.members, result=result, awaiting_agreement=inputs.awaiting_agreement
    )


def preview_round(session: Session, workspace: Workspace, *, now: datetime) -> RoundPlan:
    """What the workspace's next round would do if it started at `now`, written nowhere: the
    same seed (next_round_seed) and the same people (auto-pauses the closing would make left
    out) as the round that follows, so both show the same groups when nothing changed."""
    return plan_round(session, workspace, now=now, seed=next_round_seed(session, workspace))


@observability.timed_round_start
def start_round(
    session: Session,
    workspace: Workspace,
    *,
    now: datetime,
    period_key: str,
    kind: RoundKind,
    left_out: Collection[str] = (),
) -> Round | None:
    """Close the open round, pair everyone eligible, record groups and their messages.

    Returns None when a round for this period exists already (scheduled rounds are
    idempotent per period, whatever restarts or double starts happen). Callers that may race
    take the workspace's lock first (`run_due_round`, `start_manual_round`). `left_out`:
    Slack user ids not to pair this round (found unpairable at round time).
    """
    if session.scalar(
        select(Round.id).where(Round.workspace_id == workspace.id, Round.period_key == period_key)
    ):
        return None
    seed = next_round_seed(session, workspace)
    workspace.last_round_started_at = now
    close_open_rounds(session, workspace, now=now)
    resume_due_members(session, workspace_id=workspace.id, now=now)
    plan = plan_round(session, workspace, now=now, seed=seed, left_out=left_out)
    nudge_at, checkin_at = follow_up_times(schedule_of(workspace), now)
    new_round = Round(
        workspace_id=workspace.id,
        period_key=period_key,
        kind=kind,
        seed=seed,
        started_at=now,
        nudge_at=nudge_at,
        checkin_at=checkin_at,
        unmatched=[u.id for u in plan.result.unmatched],
    )
    session.add(new_round)
    session.flush()
    themes = set(workspace.prompt_themes or ())
    deck = tuple(p for p in load_deck() if not themes or p.theme in themes)
    _record_groups(session, workspace, new_round, plan, deck, now)
    open_pulse_if_due(session, workspace, new_round, now=now)
    for waiting in plan.awaiting_agreement:
        ask_to_accept(session, workspace, waiting.slack_user_id, now)
    for unmatched in plan.result.unmatched:
        enqueue(
            session,
            workspace_id=workspace.id,
            dedupe_key=f"unpaired:round:{new_round.id}:{unmatched.id}",
            recipients=[unmatched.id],
            notice=UnpairedNotice(),
            now=now,
        )
    return new_round


def _record_groups(
    session: Session,
    workspace: Workspace,
    new_round: Round,
    plan: RoundPlan,
    deck: tuple[Prompt, ...],
    now: datetime,
) -> None:
    """Record every group with its seats and prompts, then queue the round's messages.

    A round of thousands of people is a handful of statements: prompt history is read once,
    and groups, seats, prompts shown and outbox rows go in as multi-row inserts (Core, not
    one ORM object each), in the order one-by-one recording gave them ids.
    """
    by_member_id = {m.id: m for m in plan.members.values()}
    seen = _prompts_seen(session, workspace.id)
    open_commitments = {
        member_id: reflection
        for member_id, reflection in _latest_reflections(session, workspace.id).items()
        if member_id in by_member_id and reflection.commitment and not reflection.commitment_outcome
    }
    chooser = PromptChooser(deck, seed=new_round.seed)
    chosen: list[tuple[list[Eligible], list[Prompt]]] = []
    for matched in plan.result.groups:
        members = [plan.members[u] for u in matched.members]
        shared = sorted(set.intersection(*(set(m.goals) for m in members)))
        prompts = chooser.choose(
            shared_goals=shared,
            member_goals=[m.goals for m in members],
            seen_by_member=[seen.get(m.id, ()) for m in members],
            count=2,
        )
        chosen.append((members, prompts))
    group_ids: list[int] = []
    groups_table = PairGroup.__table__
    if chosen:
        # RETURNING in any order (batched on every dialect): a group's first speaker is in no
        # other group of the round, so it names the group's new id.
        id_by_first = {
            first: group_id
            for group_id, first in session.execute(
                insert(groups_table).returning(  # type: ignore[arg-type]
                    groups_table.c.id, groups_table.c.first_user_id
                ),
                [
                    {
                        "workspace_id": workspace.id,
                        "round_id": new_round.id,
                        "first_user_id": matched.members[0],
                        "reasons": list(matched.reasons),
                        "prompt_ids": [p.id for p in prompts],
                    }
                    for matched, (_, prompts) in zip(plan.result.groups, chosen, strict=True)
                ],
            )
        }
        group_ids = [id_by_first[matched.members[0]] for matched in plan.result.groups]
        # With RETURNING, SQLAlchemy sends a batch as multi-row INSERTs (insertmanyvalues):
        # without it the PostgreSQL driver sends one INSERT per row.
        seats_table = cast(Table, GroupSeat.__table__)
        shown_table = cast(Table, PromptShown.__table__)
        session.execute(
            insert(seats_table).returning(seats_table.c.id),
            [
                {
                    "workspace_id": workspace.id,
                    "group_id": group_id,
                    "member_id": m.id,
                    "slack_user_id": m.slack_user_id,
                    "position": position,
                }
                for group_id, (members, _) in zip(group_ids, chosen, strict=True)
                for position, m in enumerate(members)
            ],
        )
        session.execute(
            insert(shown_table).returning(shown_table.c.id),
            [
                {
                    "workspace_id": workspace.id,
                    "member_id": m.id,
                    "prompt_id": p.id,
                    "round_id": new_round.id,
                }
                for members, prompts in chosen
                for m in members
                for p in prompts
            ],
        )
    # The groups went in past the ORM: a caller reading the round's groups loads them.
    session.expire(new_round, ["groups"])
    keys = {commitment_key(r.id): member_id for member_id, r in open_commitments.items()}
    already_asked = _recorded_keys(session, workspace.id, OutboxKind.COMMITMENT, list(keys))
    asked_now: set[int] = set()
    messages: list[Outgoing] = []
    for member_id, reflection in open_commitments.items():
        key = commitment_key(reflection.id)
        if key in already_asked:
            continue  # asked once already; we don't nag
        asked_now.add(member_id)
        assert reflection.commitment is not None
        messages.append(
            Outgoing(
                dedupe_key=key,
                recipients=[by_member_id[member_id].slack_user_id],
                notice=CommitmentNotice(
                    reflection_id=reflection.id, commitment=reflection.commitment
                ),
            )
        )
    for group_id, matched, (members, prompts) in zip(
        group_ids, plan.result.groups, chosen, strict=True
    ):
        seated = [(m.id, m.slack_user_id) for m in members]
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
                    cadence_weeks=workspace.cadence_weeks,
                    seed=_people_seed(new_round.seed, [user_id for _, user_id in seated]),
                ),
            )
        )
    add_all_to_outbox(session, workspace_id=workspace.id, messages=messages, now=now)


def _recorded_keys(
    session: Session, workspace_id: int, kind: OutboxKind, keys: list[str]
) -> set[str]:
    """Which of these outbox keys are recorded already (looked up by the unique key)."""
    found: set[str] = set()
    for start in range(0, len(keys), _IN_CHUNK):
        found.update(
            session.scalars(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.workspace_id == workspace_id,
                    OutboxMessage.kind == kind,
                    OutboxMessage.dedupe_key.in_(keys[start : start + _IN_CHUNK]),
                )
            )
        )
    return found


def _prompts_seen(session: Session, workspace_id: int) -> dict[int, list[str]]:
    """Each member's prompt history in the workspace, oldest first (one query, plain rows,
    read in one ordered scan of ix_prompts_shown_history)."""
    seen: dict[int, list[str]] = {}
    for member_id, prompt_id in _rows(
        session,
        select(PromptShown.member_id, PromptShown.prompt_id)
        .where(PromptShown.workspace_id == workspace_id)
        .order_by(PromptShown.member_id, PromptShown.id),
    ):
        seen.setdefault(member_id, []).append(sys.intern(prompt_id))
    return seen


def _latest_reflections(
    session: Session, workspace_id: int, member_ids: list[int] | None = None
) -> dict[int, Reflection]:
    """Each member's most recent reflection, if any (all the workspace's, or these members'),
    in reflection order."""
    newest = select(func.max(Reflection.id)).where(Reflection.workspace_id == workspace_id)
    if member_ids is not None:
        newest = newest.where(Reflection.member_id.in_(member_ids or [-1]))
    return {
        r.member_id: r
        for r in session.scalars(
            select(Reflection)
            .where(Reflection.id.in_(newest.group_by(Reflection.member_id)))
            .order_by(Reflection.id)
        )
    }


def _intro(
    group_id: int,
    *,
    seated: list[tuple[int, str]],
    first_user_id: str,
    reasons: Sequence[str],
    prompts: Sequence[Prompt],
    asked: set[int],
    cadence_weeks: int,
    seed: int,
) -> IntroNotice:
    """An intro from plain facts: `seated` is (member id, Slack id) in seat order, `seed`
    picks the coaching questions."""
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
        cadence_weeks=cadence_weeks,
        coach_questions=coach_questions(load_toolkit(), prompts, seed=seed),
    )


def intro_notice(session: Session, group: PairGroup, asked: set[int] | None = None) -> IntroNotice:
    """The intro notice for a group as it stands (members still seated, first speaker first).

    `asked` holds the members asked privately this round about their last commitment; when
    re-rendering later it is worked out again from who still has one open.
    """
    seated = [(s.member_id, s.slack_user_id) for s in group.seats if s.removed_at is None]
    by_id = prompts_by_id()
    workspace = session.get(Workspace, group.workspace_id)
    if asked is None:
        asked = {
            member_id
            for member_id, r in _latest_reflections(
                session, group.workspace_id, [member_id for member_id, _ in seated]
            ).items()
            if r.commitment and not r.commitment_outcome
        }
    return _intro(
        group.id,
        seated=seated,
        first_user_id=group.first_user_id,
        reasons=group.reasons,
        prompts=[by_id[p] for p in group.prompt_ids if p in by_id],
        asked=asked,
        cadence_weeks=workspace.cadence_weeks if workspace else DEFAULTS.cadence_weeks,
        seed=_people_seed(group.round.seed, [s.slack_user_id for s in group.seats]),
    )


def _people_seed(round_seed: int, everyone_seated: Sequence[str]) -> int:
    """A seed for a group's coaching questions from what the group is (its round's seed and
    everyone ever seated), not from a row id: ids come from sequences, which a database
    does not reuse, so the same round would otherwise read differently on another run."""
    people = ",".join(sorted(everyone_seated))
    return round_seed ^ zlib.crc32(people.encode())


def close_open_rounds(session: Session, workspace: Workspace, *, now: datetime) -> None:
    """Close the workspace's open rounds: count who went silent, pause the long-silent.

    A few statements per round, whatever its size: seats and every member's standing are
    read once as plain rows, only members whose standing changes are written, and the closed
    intros' updates go in as one multi-row insert.
    """
    open_rounds = session.scalars(
        select(Round)
        .where(Round.workspace_id == workspace.id, Round.closed_at.is_(None))
        .order_by(Round.id)
    ).all()
    if not open_rounds:
        return
    # Every member's standing once, rather than one look-up per seat.
    standing = {
        member_id: _Standing(user_id, status, streak)
        for member_id, user_id, status, streak in _rows(
            session,
            select(Member.id, Member.slack_user_id, Member.status, Member.missed_streak).where(
                Member.workspace_id == workspace.id
            ),
        )
    }
    streaks_before = {member_id: s.missed_streak for member_id, s in standing.items()}
    for old in open_rounds:
        old.closed_at = now
        queue_digests(session, workspace, old.id, now=now)
        groups_of_round = select(PairGroup.id).where(PairGroup.round_id == old.id)
        # Unsent follow-ups of a closed round are stale: drop them rather than send late. So
        # are intros still held (a token Slack refused for the whole cycle): that group never
        # met, and counts against no one (below).
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.kind.in_([OutboxKind.NUDGE, OutboxKind.CHECKIN, OutboxKind.INTRO]),
                OutboxMessage.group_id.in_(groups_of_round),
            )
            .values(status=OutboxStatus.DROPPED)
            .execution_options(synchronize_session=False)
        )
        reflected = set(
            session.scalars(
                select(Reflection.member_id).where(Reflection.group_id.in_(groups_of_round))
            )
        )
        # A group whose intro never reached Slack (refused, or still waiting behind a broken
        # token) was never asked anything: it counts against no one.
        # Filtered on the round's groups only (by outbox.group_id): with a condition on status
        # as well, PostgreSQL's estimates for status = 'sent' led it to scan every sent
        # message of the programme's history, a minute at 30 rounds.
        delivered = {
            group_id
            for group_id, kind, status in session.execute(
                select(OutboxMessage.group_id, OutboxMessage.kind, OutboxMessage.status).where(
                    OutboxMessage.group_id.in_(groups_of_round)
                )
            )
            if kind == OutboxKind.INTRO and status == OutboxStatus.SENT
        }
        seats = session.execute(
            select(
                PairGroup.id,
                PairGroup.channel_id,
                PairGroup.met_at.label("group_met_at"),
                GroupSeat.member_id,
                GroupSeat.slack_user_id,
                GroupSeat.met_at,
                GroupSeat.cant_make_it_at,
                GroupSeat.removed_at,
            )
            .join(GroupSeat, GroupSeat.group_id == PairGroup.id)
            .where(PairGroup.round_id == old.id, PairGroup.cancelled_at.is_(None))
            .order_by(PairGroup.id, GroupSeat.position)
        ).all()
        retired: list[Outgoing] = []
        for group_id, group_seats in itertools.groupby(seats, key=lambda row: row[0]):
            if group_id not in delivered:
                continue
            seated = list(group_seats)
            channel_id, group_met_at = seated[0][1], seated[0][2]
            if channel_id is not None:  # its intro went out: retire its buttons
                retired.append(_retired_intro(group_id, channel_id, seated, now=now))
            for *_, member_id, _user_id, _met_at, cant_make_it_at, removed_at in seated:
                if removed_at is not None:
                    continue
                # A group that met counts for everyone in it: one press speaks for the chat.
                responded = group_met_at or cant_make_it_at or member_id in reflected
                _count_response(
                    session, workspace, standing.get(member_id), bool(responded), old, now
                )
        add_all_to_outbox(session, workspace_id=workspace.id, messages=retired, now=now)
    changed = {
        member_id: s
        for member_id, s in standing.items()
        if s.paused or s.missed_streak != streaks_before[member_id]
    }
    ids = list(changed)
    for start in range(0, len(ids), _IN_CHUNK):
        for member in session.scalars(
            select(Member).where(Member.id.in_(ids[start : start + _IN_CHUNK]))
        ):
            now_standing = changed[member.id]
            member.missed_streak = now_standing.missed_streak
            if now_standing.paused:
                member.status, member.paused_until = MemberStatus.PAUSED.value, None
                member.updated_at = now


def _asked_groups(session: Session, old: Round) -> list[tuple[PairGroup, list[tuple[int, bool]]]]:
    """A round's groups that were asked anything (their intro reached Slack, not called
    off), each with its seated members' ids and whether each responded."""
    reflected = set(
        session.scalars(
            select(Reflection.member_id).where(
                Reflection.group_id.in_([g.id for g in old.groups] or [-1])
            )
        )
    )
    delivered = _introduced_groups(session, [g.id for g in old.groups])
    asked = []
    for group in old.groups:
        # A group whose intro never reached Slack (refused, or still waiting behind a
        # broken token) was never asked anything: it counts against no one.
        if group.cancelled_at is not None or group.id not in delivered:
            continue
        # A group that met counts for everyone in it: one press speaks for the chat.
        seats = [
            (
                seat.member_id,
                bool(group.met_at or seat.cant_make_it_at or seat.member_id in reflected),
            )
            for seat in group.seats
            if seat.removed_at is None
        ]
        asked.append((group, seats))
    return asked


def _introduced_groups(session: Session, group_ids: list[int]) -> set[int]:
    """The groups among these whose intro Slack accepted."""
    return set(
        session.scalars(
            select(OutboxMessage.group_id).where(
                OutboxMessage.kind == OutboxKind.INTRO,
                OutboxMessage.status == OutboxStatus.SENT,
                OutboxMessage.group_id.in_(group_ids or [-1]),
            )
        )
    )


def pausing_at_close(session: Session, workspace: Workspace) -> set[int]:
    """The members (ids) closing the open round would auto-pause: active, silent in it, and
    silent the rounds before (MISSED_ROUNDS_BEFORE_PAUSE in a row). A preview leaves them out,
    as the round that follows will."""
    open_rounds = session.scalars(
        select(Round)
        .where(Round.workspace_id == workspace.id, Round.closed_at.is_(None))
        .order_by(Round.started_at, Round.id)
        .options(selectinload(Round.groups).selectinload(PairGroup.seats))
    ).all()
    streaks: dict[int, int] = {}
    pausing: set[int] = set()
    for old in open_rounds:
        for _, seats in _asked_groups(session, old):
            for member_id, responded in seats:
                member = session.get(Member, member_id)
                if member is None or member.status != MemberStatus.ACTIVE or member_id in pausing:
                    continue
                streak = 0 if responded else streaks.get(member_id, member.missed_streak) + 1
                streaks[member_id] = streak
                if streak >= MISSED_ROUNDS_BEFORE_PAUSE:
                    pausing.add(member_id)
    return pausing


# Retiring a closed round's intro buttons waits until the new round's intros are out: both
# compete for Slack's rate limits, and the new intros matter more.
RETIRE_AFTER = timedelta(hours=1)


def _retired_intro(
    group_id: int, channel_id: str, seats: Sequence[Any], *, now: datetime
) -> Outgoing:
    """The update that marks a closed round's intro closed and retires its buttons, from the
    group's seat rows (... slack user id, met at, can't make it at, removed at)."""
    met = sorted((s.met_at, s.slack_user_id) for s in seats if s.met_at is not None)
    return Outgoing(
        dedupe_key=f"intro_update:group:{group_id}:closed",
        recipients=[s.slack_user_id for s in seats if s.removed_at is None],
        notice=IntroUpdateNotice(group_id=group_id, closed=True, met_by=met[0][1] if met else None),
        group_id=group_id,
        channel_id=channel_id,
        not_before=now + RETIRE_AFTER,
    )


@dataclass
class _Standing:
    """A member's standing while rounds close: counted in memory, written once at the end."""

    user_id: str
    status: str
    missed_streak: int
    paused: bool = False  # auto-paused by this close


def _count_response(
    session: Session,
    workspace: Workspace,
    member: _Standing | None,
    responded: bool,
    closed: Round,
    now: datetime,
) -> None:
    if member is None or member.status != MemberStatus.ACTIVE:
        return
    member.missed_streak = 0 if responded else member.missed_streak + 1
    if member.missed_streak >= MISSED_ROUNDS_BEFORE_PAUSE:
        member.status, member.paused = MemberStatus.PAUSED.value, True
        enqueue(
            session,
            workspace_id=workspace.id,
            dedupe_key=f"auto_paused:round:{closed.id}:{member.user_id}",
            recipients=[member.user_id],
            notice=AutoPausedNotice(missed=member.missed_streak),
            now=now,
        )
        member.missed_streak = 0


def enqueue_follow_ups(session: Session, workspace: Workspace, *, now: datetime) -> int:
    """Queue the nudge and the check-in of the open round once their time has come."""
    current = session.scalar(
        select(Round)
        .where(Round.workspace_id == workspace.id, Round.closed_at.is_(None))
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
            if enqueue(
                session,
                workspace_id=workspace.id,
                dedupe_key=f"{kind}:group:{group.id}",
                recipients=[s.slack_user_id for s in seated],
                notice=notice(group_id=group.id),
                now=now,
                group_id=group.id,
                channel_id=group.channel_id,
            ):
                queued += 1
    return queued


def due_scheduled_period(session: Session, workspace: Workspace, now: datetime) -> datetime | None:
    """The scheduled round time that should start at `now`, if any (bot.schedule.due_slot:
    within grace, after the programme started, after the last schedule change, after the
    current round's cycle, and not just after an admin's round)."""
    first_joined = session.scalar(
        select(func.min(Member.joined_at)).where(Member.workspace_id == workspace.id)
    )
    return due_slot(
        schedule_of(workspace),
        now,
        grace=ROUND_GRACE,
        programme_started_at=first_joined,
        schedule_changed_at=workspace.schedule_changed_at,
        # A scheduled round's key is its slot: a catch-up started late still owns its slot.
        last_scheduled_at=last_scheduled_slot(session, workspace.id),
        last_started_at=workspace.last_round_started_at,
        cooldown=ROUND_COOLDOWN,
    )


def lock_workspace(session: Session, workspace_id: int) -> Workspace | None:
    """Take the workspace's row lock for the rest of the transaction and read it afresh.

    A no-op UPDATE: on PostgreSQL it holds the row lock (another transaction's UPDATE or
    SELECT ... FOR UPDATE of the row waits for our commit); on SQLite it takes the database's
    write lock. Everything read after it sees what the previous holder committed.
    """
    session.execute(
        update(Workspace)
        .where(Workspace.id == workspace_id)
        .values(last_round_started_at=Workspace.last_round_started_at)
        .execution_options(synchronize_session=False)
    )
    return session.get(Workspace, workspace_id, populate_existing=True)


def run_due_round(
    session: Session, workspace_id: int, *, now: datetime, left_out: Collection[str] = ()
) -> Round | None:
    """Start the workspace's scheduled round if one is due at `now` (under its lock)."""
    workspace = lock_workspace(session, workspace_id)
    if workspace is None:
        return None
    due = due_scheduled_period(session, workspace, now)
    if due is None:
        return None
    return start_round(
        session,
        workspace,
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
    and never a pair with someone either side excluded. Returns the new group, or None.
    """
    lone = next(s for s in group.seats if s.slack_user_id == user_id and s.removed_at is None)
    excluded = set(
        session.scalars(
            select(Exclusion.excluded_user_id).where(Exclusion.member_id == lone.member_id)
        )
    )
    excluded |= set(
        session.scalars(
            select(Member.slack_user_id)
            .join(Exclusion, Exclusion.member_id == Member.id)
            .where(
                Exclusion.workspace_id == group.workspace_id, Exclusion.excluded_user_id == user_id
            )
        )
    )
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
        if len(seated) != 2 or any(s.slack_user_id in excluded for s in seated):
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
) -> ManualRound:
    """An admin's explicit round: close the current one and pair now; schedule unchanged.

    One round at a time, decided in the database: a conditional UPDATE of the workspace row
    claims the start (a row lock on PostgreSQL, the write lock on SQLite), so of two requests
    or processes racing, one starts the round and the other finds it. Without `force` no round
    starts within ROUND_COOLDOWN of the last start. `replacing` (an admin's "start another
    anyway", carrying the start they saw) starts one only if that is still the last start, so
    pressing it twice starts one; `force` with no `replacing` (`round run --force`) always
    starts one.
    Raises UsageError when nobody in the workspace has joined yet.
    """
    workspace_id = session.scalar(select(Workspace.id).where(Workspace.team_id == team_id))
    if workspace_id is None:
        raise UsageError("Nobody has joined PeerCoach here yet, so there is no one to pair.")
    claim = update(Workspace).where(Workspace.id == workspace_id)
    if replacing is not None:
        claim = claim.where(Workspace.last_round_started_at == replacing)
    elif not force:
        claim = claim.where(
            or_(
                Workspace.last_round_started_at.is_(None),
                Workspace.last_round_started_at <= now - ROUND_COOLDOWN,
            )
        )
    claimed = affected_rows(
        session.execute(
            claim.values(last_round_started_at=now).execution_options(synchronize_session=False)
        )
    )
    workspace = session.get(Workspace, workspace_id, populate_existing=True)
    assert workspace is not None
    if claimed != 1:
        return ManualRound(started=None, last_started_at=workspace.last_round_started_at)
    started = start_round(
        session, workspace, now=now, period_key=f"manual:{now.isoformat()}", kind=RoundKind.MANUAL
    )
    if started is None:  # the same microsecond as a forced start: that one is the round
        return ManualRound(started=None, last_started_at=now)
    return ManualRound(started=started)
