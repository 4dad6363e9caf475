"""Programme figures, aggregates only, with small numbers suppressed (k-anonymity, k = 5).

Definitions are in docs/metrics.md; each figure carries how many people it is computed from,
and `Figure.shown` hides it when that is fewer than K_ANONYMITY.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from db.models import Member, MemberStatus, PairGroup, Reflection, Round

K_ANONYMITY = 5
SUPPRESSED = "fewer than 5"


@dataclass(frozen=True)
class Figure:
    """A number and the count of people it is computed from."""

    value: float | None
    people: int
    kind: str = "count"  # count, rate (0..1) or average

    @property
    def visible(self) -> bool:
        return self.value is not None and self.people >= K_ANONYMITY

    def shown(self) -> str:
        """The figure as any admin surface shows it."""
        if not self.visible:
            return SUPPRESSED
        assert self.value is not None
        if self.kind == "rate":
            return f"{self.value:.0%}"
        if self.kind == "average":
            return f"{self.value:.1f}"
        return str(int(self.value))

    def export(self) -> str | float | int:
        """The figure in CSV/JSON: a number, or the suppression marker."""
        if not self.visible:
            return SUPPRESSED
        assert self.value is not None
        return round(self.value, 4) if self.kind != "count" else int(self.value)


def count(n: int) -> Figure:
    return Figure(n, n)


def rate(part: int, whole: int) -> Figure:
    """part/whole, computed from `part` people out of `whole`: both must be large enough."""
    return Figure(part / whole if whole else None, min(part, whole), "rate")


@dataclass(frozen=True)
class CycleFigures:
    """One round's figures."""

    round_id: int
    started_at: datetime
    kind: str
    eligible: Figure
    paired: Figure
    not_paired: Figure
    joined: Figure
    groups: int  # groups are not people; shown only as context next to the met rate
    met_rate: Figure
    reflection_rate: Figure
    avg_usefulness: Figure
    commitments_made: Figure
    commitments_done: Figure
    commitments_partly: Figure
    commitments_not_yet: Figure
    repeat_pairs: Figure

    def as_row(self) -> dict[str, object]:
        """A flat row for CSV/JSON export (same figures, same suppression)."""
        row: dict[str, object] = {
            "round_started_at": self.started_at.isoformat(),
            "kind": self.kind,
        }
        for name in FIGURE_COLUMNS:
            row[name] = getattr(self, name).export()
        return row


FIGURE_COLUMNS = (
    "eligible",
    "paired",
    "not_paired",
    "joined",
    "met_rate",
    "reflection_rate",
    "avg_usefulness",
    "commitments_made",
    "commitments_done",
    "commitments_partly",
    "commitments_not_yet",
    "repeat_pairs",
)


@dataclass(frozen=True)
class MembershipFigures:
    active: Figure
    paused: Figure
    left: Figure


def membership_figures(session: Session, workspace_id: int) -> MembershipFigures:
    """How many people are active, paused and gone, now."""
    statuses = Counter(
        session.scalars(select(Member.status).where(Member.workspace_id == workspace_id))
    )
    gone = statuses[MemberStatus.LEFT.value] + statuses[MemberStatus.INACTIVE.value]
    return MembershipFigures(
        count(statuses[MemberStatus.ACTIVE.value]),
        count(statuses[MemberStatus.PAUSED.value]),
        count(gone),
    )


def cycle_figures(session: Session, workspace_id: int, *, last: int = 8) -> list[CycleFigures]:
    """Figures for the workspace's last `last` rounds, oldest first."""
    rounds = list(
        session.scalars(
            select(Round)
            .where(Round.workspace_id == workspace_id)
            .order_by(Round.started_at.desc(), Round.id.desc())
            .limit(last)
            .options(selectinload(Round.groups).selectinload(PairGroup.seats))
        )
    )[::-1]
    earlier = _pairs_before(session, workspace_id, rounds[0].started_at) if rounds else set()
    figures = []
    for index, current in enumerate(rounds):
        following = rounds[index + 1].started_at if index + 1 < len(rounds) else None
        figures.append(_one_cycle(session, workspace_id, current, following, earlier))
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


def _pairs_before(session: Session, workspace_id: int, moment: datetime) -> set[frozenset[str]]:
    older = session.scalars(
        select(Round)
        .where(Round.workspace_id == workspace_id, Round.started_at < moment)
        .options(selectinload(Round.groups).selectinload(PairGroup.seats))
    )
    return set().union(*(_pairs_of(r) for r in older))


def _commitment_breakdown(outcomes: Mapping[str, int]) -> list[Figure]:
    """Done / partly / not yet; one hidden cell could be worked out from the rest: hide all."""
    breakdown = [count(outcomes.get(k, 0)) for k in ("done", "partly", "not_yet")]
    return breakdown if all(f.visible for f in breakdown) else [Figure(None, 0)] * 3


def _one_cycle(
    session: Session,
    workspace_id: int,
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
        Member.workspace_id == workspace_id, Member.joined_at >= current.started_at
    )
    if following is not None:
        joined_query = joined_query.where(Member.joined_at < following)
    joined = len(session.scalars(joined_query).all())
    repeats = len(_pairs_of(current) & earlier)
    usefulness = [r.usefulness for r in reflections]
    breakdown = _commitment_breakdown(outcomes)
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
    )
