"""Programme figures, aggregates only, with small numbers suppressed (k-anonymity, k = 5).

Definitions are in docs/metrics.md; each figure carries how many people it is computed from,
and `Figure.shown` hides it when that is fewer than K_ANONYMITY.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.domain.figures import CycleFigures, Figure, MembershipFigures, count, rate
from bot.domain.programme import ProgrammeRef
from bot.services.membership import programmes_of, ref_of, workspace_for
from bot.services.pulse import round_pulse_score
from db.models import Member, MemberStatus, PairGroup, Reflection, Round


def membership_figures(session: Session, programme_id: int) -> MembershipFigures:
    """How many people of a programme are active, paused and gone, now."""
    statuses = Counter(
        session.scalars(select(Member.status).where(Member.programme_id == programme_id))
    )
    gone = statuses[MemberStatus.LEFT.value] + statuses[MemberStatus.INACTIVE.value]
    return MembershipFigures(
        count(statuses[MemberStatus.ACTIVE.value]),
        count(statuses[MemberStatus.PAUSED.value]),
        count(gone),
    )


def cycle_figures(session: Session, programme_id: int, *, last: int = 8) -> list[CycleFigures]:
    """Figures for the programme's last `last` rounds, oldest first."""
    rounds = list(
        session.scalars(
            select(Round)
            .where(Round.programme_id == programme_id)
            .order_by(Round.started_at.desc(), Round.id.desc())
            .limit(last)
            .options(selectinload(Round.groups).selectinload(PairGroup.seats))
        )
    )[::-1]
    earlier = _pairs_before(session, programme_id, rounds[0].started_at) if rounds else set()
    figures = []
    for index, current in enumerate(rounds):
        following = rounds[index + 1].started_at if index + 1 < len(rounds) else None
        figures.append(_one_cycle(session, programme_id, current, following, earlier))
        earlier |= _pairs_of(current)
    return figures


def _pairs_of(pairing_round: Round) -> set[frozenset[str]]:
    pairs = set()
    for group in pairing_round.groups:
        if group.cancelled_at is not None:
            continue
        seated = [s.slack_user_id for s in group.seats if s.removed_at is None]
        pairs |= {frozenset((a, b)) for a in seated for b in seated if a < b}
    return pairs


def _pairs_before(session: Session, programme_id: int, moment: datetime) -> set[frozenset[str]]:
    older = session.scalars(
        select(Round)
        .where(Round.programme_id == programme_id, Round.started_at < moment)
        .options(selectinload(Round.groups).selectinload(PairGroup.seats))
    )
    return set().union(*(_pairs_of(r) for r in older))


def _commitment_breakdown(outcomes: Mapping[str, int]) -> list[Figure]:
    """Done / partly / not yet; one hidden cell could be worked out from the rest: hide all."""
    breakdown = [count(outcomes.get(k, 0)) for k in ("done", "partly", "not_yet")]
    return breakdown if all(f.visible for f in breakdown) else [Figure(None, 0)] * 3


def _one_cycle(
    session: Session,
    programme_id: int,
    current: Round,
    following: datetime | None,
    earlier: set[frozenset[str]],
) -> CycleFigures:
    groups = [g for g in current.groups if g.cancelled_at is None]
    seats = [s for g in groups for s in g.seats if s.removed_at is None]
    paired = len(seats)
    met_people = sum(1 for g in groups if g.met_at for s in g.seats if s.removed_at is None)
    reflections = list(
        session.scalars(
            select(Reflection).where(Reflection.group_id.in_([g.id for g in groups] or [-1]))
        )
    )
    reflectors = len({r.member_id for r in reflections})
    committed = [r for r in reflections if r.commitment_made]
    outcomes = Counter(r.commitment_outcome for r in committed if r.commitment_outcome)
    joined_query = select(Member.id).where(
        Member.programme_id == programme_id, Member.joined_at >= current.started_at
    )
    if following is not None:
        joined_query = joined_query.where(Member.joined_at < following)
    joined = len(session.scalars(joined_query).all())
    repeats = len(_pairs_of(current) & earlier)
    usefulness = [r.usefulness for r in reflections]
    breakdown = _commitment_breakdown(outcomes)
    # Goal progress: of those who answered, how many moved toward their goal (some progress
    # or more). Only the share is kept, from at least K_ANONYMITY people; never the goals.
    progress = [r.goal_progress for r in reflections if r.goal_progress is not None]
    moved = sum(1 for p in progress if p >= 1)
    # Meeting times: groups that picked one (by a person or the auto-schedule), and of those
    # the groups that met; each rate counts the people in the groups it is computed from.
    picked = [g for g in groups if g.picked_start is not None]
    picked_met = [g for g in picked if g.met_at is not None]
    picked_people = sum(1 for g in picked for s in g.seats if s.removed_at is None)
    picked_met_people = sum(1 for g in picked_met for s in g.seats if s.removed_at is None)
    pulse = round_pulse_score(session, current.id)
    return CycleFigures(
        round_id=current.id,
        started_at=current.started_at,
        kind=current.kind,
        eligible=count(paired + len(current.unmatched or [])),
        paired=count(paired),
        not_paired=count(len(current.unmatched or [])),
        joined=count(joined),
        groups=len(groups),
        met_rate=Figure(
            sum(1 for g in groups if g.met_at) / len(groups) if groups else None,
            min(met_people, paired),
            "rate",
        ),
        reflection_rate=rate(reflectors, paired),
        avg_usefulness=Figure(
            sum(usefulness) / len(usefulness) if usefulness else None, reflectors, "average"
        ),
        commitments_made=count(len(committed)),
        commitments_done=breakdown[0],
        commitments_partly=breakdown[1],
        commitments_not_yet=breakdown[2],
        repeat_pairs=Figure(repeats, 2 * repeats),
        goal_progress=Figure(moved / len(progress) if progress else None, len(progress), "rate"),
        time_picked_rate=Figure(
            len(picked) / len(groups) if groups else None, min(picked_people, paired), "rate"
        ),
        met_after_pick_rate=Figure(
            len(picked_met) / len(picked) if picked else None, picked_met_people, "rate"
        ),
        pulse_score=pulse or Figure(None, 0, "average"),
        had_pulse=pulse is not None,
    )


def programme_summary(
    session: Session, *, team_id: str, now: datetime
) -> list[tuple[ProgrammeRef, MembershipFigures]]:
    """Every programme of a workspace with its member counts (k-anonymous), oldest first:
    the workspace-wide summary Slack admins see."""
    workspace = workspace_for(session, team_id, now=now)
    return [
        (ref_of(p), membership_figures(session, p.id)) for p in programmes_of(session, workspace.id)
    ]
