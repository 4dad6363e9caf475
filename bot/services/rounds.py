"""Rounds: who is eligible, pairing them with the matcher, recording groups and intros."""

from __future__ import annotations

import sys
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.matching import MatchMember, MatchResult, PastGroup, match_members
from bot.prompts import choose_prompts, load_deck
from bot.schedule import Schedule, latest_round_time
from bot.services.admin import match_rules_of
from bot.services.digest import queue_digests
from bot.services.membership import resume_due_members, schedule_of
from bot.services.outbox import enqueue
from bot.views import pairing as messages
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

HISTORY_ROUNDS = 104  # two years of weekly rounds is plenty to keep pairs fresh
MISSED_ROUNDS_BEFORE_PAUSE = 3
# A scheduled round missed while the process was down still runs if it comes back within this.
ROUND_GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class RoundPlan:
    """What a round would do: the members considered and the matcher's answer."""

    members: dict[str, Member]
    result: MatchResult


def seed_for(team_id: str, period_key: str) -> int:
    """A reproducible seed per workspace and period (recorded with the round)."""
    return zlib.crc32(f"{team_id}|{period_key}".encode()) & 0x7FFFFFFF


def follow_up_times(schedule: Schedule, started_at: datetime) -> tuple[datetime, datetime]:
    """Nudge on the Thursday-equivalent of the last week, check in the day after, same hour."""
    cycle_days = schedule.cadence_weeks * 7
    return started_at + timedelta(days=cycle_days - 4), started_at + timedelta(days=cycle_days - 3)


def eligible_members(session: Session, workspace_id: int, now: datetime) -> list[Member]:
    """Active members, plus paused ones whose pause has ended by `now`."""
    members = session.scalars(
        select(Member)
        .where(
            Member.workspace_id == workspace_id,
            Member.status.in_([MemberStatus.ACTIVE.value, MemberStatus.PAUSED.value]),
        )
        .order_by(Member.id)
    ).all()
    return [
        m
        for m in members
        if m.status == MemberStatus.ACTIVE or (m.paused_until is not None and m.paused_until <= now)
    ]


def past_groups(session: Session, workspace_id: int) -> list[PastGroup]:
    """The recent groups of a workspace, newest round first, as the matcher wants them."""
    recent_rounds = session.scalars(
        select(Round)
        .where(Round.workspace_id == workspace_id)
        .order_by(Round.started_at.desc(), Round.id.desc())
        .limit(HISTORY_ROUNDS)
        .options(selectinload(Round.groups).selectinload(PairGroup.seats))
    ).all()
    history: list[PastGroup] = []
    for age, past_round in enumerate(recent_rounds, start=1):
        for group in past_round.groups:
            # Interned: one string object per person however many rounds they appear in.
            seated = tuple(sys.intern(s.slack_user_id) for s in group.seats if s.removed_at is None)
            if len(seated) < 2:
                continue
            history.append(
                PastGroup(
                    members=seated,
                    cycles_ago=age,
                    met=group.met_at is not None,
                    first=group.first_user_id,
                )
            )
    return history


def plan_round(session: Session, workspace: Workspace, *, now: datetime, seed: int) -> RoundPlan:
    """Pair the eligible members without writing anything (also the dry run)."""
    members = {m.slack_user_id: m for m in eligible_members(session, workspace.id, now)}
    exclusions = session.execute(
        select(Member.slack_user_id, Exclusion.excluded_user_id)
        .join(Exclusion, Exclusion.member_id == Member.id)
        .where(Exclusion.workspace_id == workspace.id)
    ).all()
    candidates = [
        MatchMember(
            id=user_id,
            level=m.level,
            team=m.team,
            goals=frozenset(m.goals or ()),
            tz_offset_minutes=m.tz_offset_minutes,
        )
        for user_id, m in members.items()
    ]
    result = match_members(
        candidates,
        history=past_groups(session, workspace.id),
        exclusions=[(a, b) for a, b in exclusions],
        rules=match_rules_of(workspace),
        seed=seed,
    )
    return RoundPlan(members=members, result=result)


def start_round(
    session: Session, workspace: Workspace, *, now: datetime, period_key: str, kind: str
) -> Round | None:
    """Close the open round, pair everyone eligible, record groups and their messages.

    Returns None when a round for this period exists already (scheduled rounds are
    idempotent per period, whatever restarts or double starts happen).
    """
    if session.scalar(
        select(Round.id).where(Round.workspace_id == workspace.id, Round.period_key == period_key)
    ):
        return None
    close_open_rounds(session, workspace, now=now)
    resume_due_members(session, workspace_id=workspace.id, now=now)
    seed = seed_for(workspace.team_id, period_key)
    plan = plan_round(session, workspace, now=now, seed=seed)
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
    for matched in plan.result.groups:
        _record_group(
            session, workspace, new_round, plan, matched.members, matched.reasons, deck, now
        )
    for left_out in plan.result.unmatched:
        enqueue(
            session,
            workspace_id=workspace.id,
            kind="unpaired",
            dedupe_key=f"unpaired:round:{new_round.id}:{left_out.id}",
            recipients=[left_out.id],
            message=messages.unpaired_message(),
            now=now,
        )
    return new_round


def _record_group(
    session: Session,
    workspace: Workspace,
    new_round: Round,
    plan: RoundPlan,
    user_ids: tuple[str, ...],
    reasons: tuple[str, ...],
    deck: tuple,
    now: datetime,
) -> None:
    members = [plan.members[u] for u in user_ids]
    seen = [
        list(
            session.scalars(
                select(PromptShown.prompt_id)
                .where(PromptShown.member_id == m.id)
                .order_by(PromptShown.id)
            )
        )
        for m in members
    ]
    shared = sorted(set.intersection(*(set(m.goals or ()) for m in members)))
    prompts = choose_prompts(
        deck,
        shared_goals=shared,
        member_goals=[m.goals or [] for m in members],
        seen_by_member=seen,
        count=2,
        seed=new_round.seed,
    )
    group = PairGroup(
        workspace_id=workspace.id,
        round_id=new_round.id,
        first_user_id=user_ids[0],
        reasons=list(reasons),
        prompt_ids=[p.id for p in prompts],
    )
    session.add(group)
    session.flush()
    for position, member in enumerate(members):
        session.add(
            GroupSeat(
                workspace_id=workspace.id,
                group_id=group.id,
                member_id=member.id,
                slack_user_id=member.slack_user_id,
                position=position,
            )
        )
        for prompt in prompts:
            session.add(
                PromptShown(
                    workspace_id=workspace.id,
                    member_id=member.id,
                    prompt_id=prompt.id,
                    round_id=new_round.id,
                )
            )
    _ask_about_commitments(session, workspace, members, now)
    session.flush()
    enqueue(
        session,
        workspace_id=workspace.id,
        kind="intro",
        dedupe_key=f"intro:group:{group.id}",
        recipients=user_ids,
        message=render_intro(session, group),
        now=now,
        group_id=group.id,
    )


def render_intro(session: Session, group: PairGroup) -> messages.Rendered:
    """The intro for a group as it stands (members still seated, first speaker kept if there)."""
    seated = [s.slack_user_id for s in group.seats if s.removed_at is None]
    if group.first_user_id in seated:
        seated.remove(group.first_user_id)
        seated.insert(0, group.first_user_id)
    by_id = {p.id: p.text for p in load_deck()}
    # Each of them with an unanswered commitment got a private DM asking about it.
    asked = any(
        _has_open_commitment(session, s.member_id) for s in group.seats if s.removed_at is None
    )
    return messages.intro_message(
        group_id=group.id,
        user_ids=seated,
        reasons=group.reasons,
        prompts=[by_id[p] for p in group.prompt_ids if p in by_id],
        asked_about_commitments=asked,
    )


def _has_open_commitment(session: Session, member_id: int) -> bool:
    latest = _latest_reflection(session, member_id)
    return latest is not None and bool(latest.commitment) and not latest.commitment_outcome


def _latest_reflection(session: Session, member_id: int) -> Reflection | None:
    return session.scalar(
        select(Reflection)
        .where(Reflection.member_id == member_id)
        .order_by(Reflection.created_at.desc(), Reflection.id.desc())
        .limit(1)
    )


def _ask_about_commitments(
    session: Session, workspace: Workspace, members: list[Member], now: datetime
) -> None:
    """Queue a private DM for each member whose latest commitment has no answer yet."""
    for member in members:
        latest = _latest_reflection(session, member.id)
        if latest is None or not latest.commitment or latest.commitment_outcome:
            continue
        enqueue(
            session,
            workspace_id=workspace.id,
            kind="commitment",
            dedupe_key=f"commitment:reflection:{latest.id}",
            recipients=[member.slack_user_id],
            message=messages.commitment_followup_message(latest.id, latest.commitment),
            now=now,
        )


def close_open_rounds(session: Session, workspace: Workspace, *, now: datetime) -> None:
    """Close the workspace's open rounds: count who went silent, pause the long-silent."""
    open_rounds = session.scalars(
        select(Round)
        .where(Round.workspace_id == workspace.id, Round.closed_at.is_(None))
        .options(selectinload(Round.groups).selectinload(PairGroup.seats))
    ).all()
    for old in open_rounds:
        old.closed_at = now
        queue_digests(session, workspace.id, old.id, now=now)
        # Unsent follow-ups of a closed round are stale: drop them rather than send late.
        for stale in session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.status == "pending",
                OutboxMessage.kind.in_(["nudge", "checkin"]),
                OutboxMessage.group_id.in_([g.id for g in old.groups] or [-1]),
            )
        ):
            stale.status = "dropped"
        reflected = set(
            session.scalars(
                select(Reflection.member_id).where(
                    Reflection.group_id.in_([g.id for g in old.groups] or [-1])
                )
            )
        )
        for group in old.groups:
            if group.cancelled_at is not None:
                continue
            for seat in group.seats:
                if seat.removed_at is not None:
                    continue
                # A group that met counts for everyone in it: one press speaks for the chat.
                responded = group.met_at or seat.cant_make_it_at or seat.member_id in reflected
                _count_response(session, workspace, seat.member_id, bool(responded), old, now)


def _count_response(
    session: Session,
    workspace: Workspace,
    member_id: int,
    responded: bool,
    closed: Round,
    now: datetime,
) -> None:
    member = session.get(Member, member_id)
    if member is None or member.status != MemberStatus.ACTIVE:
        return
    member.missed_streak = 0 if responded else member.missed_streak + 1
    if member.missed_streak >= MISSED_ROUNDS_BEFORE_PAUSE:
        member.status, member.paused_until, member.updated_at = MemberStatus.PAUSED.value, None, now
        enqueue(
            session,
            workspace_id=workspace.id,
            kind="auto_paused",
            dedupe_key=f"auto_paused:round:{closed.id}:{member.slack_user_id}",
            recipients=[member.slack_user_id],
            message=messages.auto_paused_message(member.missed_streak),
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
    for kind, due, render in (
        ("nudge", current.nudge_at, messages.nudge_message),
        ("checkin", current.checkin_at, messages.checkin_message),
    ):
        if now < due:
            continue
        for group in current.groups:
            if group.met_at or group.cancelled_at or group.channel_id is None:
                continue
            seated = [s for s in group.seats if s.removed_at is None]
            if kind == "nudge" and any(s.cant_make_it_at for s in seated):
                continue
            if enqueue(
                session,
                workspace_id=workspace.id,
                kind=kind,
                dedupe_key=f"{kind}:group:{group.id}",
                recipients=[s.slack_user_id for s in seated],
                message=render(group.id),
                now=now,
                group_id=group.id,
                channel_id=group.channel_id,
            ):
                queued += 1
    return queued


def due_scheduled_period(workspace: Workspace, now: datetime) -> datetime | None:
    """The scheduled round time that should have started by now, if still within grace."""
    latest = latest_round_time(schedule_of(workspace), now)
    return latest if now - latest <= ROUND_GRACE else None
