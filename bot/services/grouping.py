"""What rounds, circles and rescues share: who is eligible, the history and never-pair lists
the matcher reads, and the matcher run over a set of members."""

from __future__ import annotations

import sys
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.matching import MatchMember, MatchResult, PastGroup, match_members
from bot.services.admin import match_rules_of
from db.models import Exclusion, GroupSeat, Member, MemberStatus, PairGroup, Round, Workspace

HISTORY_ROUNDS = 104  # two years of weekly rounds is plenty to keep pairs fresh


@dataclass(frozen=True)
class RoundPlan:
    """What a round would do: the members considered and the matcher's answer."""

    members: dict[str, Member]
    result: MatchResult
    # Eligible but left out until they accept the programme's current agreement.
    awaiting_agreement: tuple[Member, ...] = ()
    # Groups kept together by their members' wish: members -> the group they chose it in.
    kept: dict[tuple[str, ...], int] = field(default_factory=dict)
    # Circles format: each group's circle (members -> circle id), and the round's season.
    circles: dict[tuple[str, ...], int] = field(default_factory=dict)
    season: int | None = None
    session: int | None = None


def eligible_members(
    session: Session, workspace_id: int, now: datetime, left_out: Collection[str] = ()
) -> list[Member]:
    """Active members, plus paused ones whose pause has ended by `now`, less `left_out`
    (Slack user ids found at round time not to be pairable: see bot.jobs.rounds)."""
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
        if (
            m.status == MemberStatus.ACTIVE
            or (m.paused_until is not None and m.paused_until <= now)
        )
        and m.slack_user_id not in left_out
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
    rows = session.execute(
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
        .order_by(recent.c.age, PairGroup.id, GroupSeat.position)
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


def exclusion_pairs(session: Session, workspace_id: int) -> list[tuple[str, str]]:
    """Every never-pair entry of a workspace as (member's Slack id, excluded Slack id)."""
    return [
        (a, b)
        for a, b in session.execute(
            select(Member.slack_user_id, Exclusion.excluded_user_id)
            .join(Exclusion, Exclusion.member_id == Member.id)
            .where(Exclusion.workspace_id == workspace_id)
        )
    ]


def match_these(
    session: Session,
    workspace: Workspace,
    members: dict[str, Member],
    *,
    seed: int,
    group_size: int | None = None,
) -> MatchResult:
    """Run the matching engine over `members` (Slack id -> Member) with everything a round
    uses: their profiles, the workspace's history, every never-pair list and its rules
    (`group_size` overrides the rules' size). Used by rounds, circles and rescues alike."""
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
    rules = match_rules_of(workspace)
    if group_size is not None:
        rules = replace(rules, group_size=group_size)
    return match_members(
        candidates,
        history=past_groups(session, workspace.id),
        exclusions=exclusion_pairs(session, workspace.id),
        rules=rules,
        seed=seed,
    )
