"""Programme figures as admins see them: aggregates only, small numbers suppressed.

k-anonymity with k = 5 (docs/metrics.md): each figure carries how many people it is computed
from, and `Figure.shown` hides it when that is fewer than K_ANONYMITY.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
    # Share of those answering who report progress on their own goal (0..1).
    goal_progress: Figure = Figure(None, 0, "rate")
    # Share of groups that picked a meeting time, and of those the share that met.
    time_picked_rate: Figure = Figure(None, 0, "rate")
    met_after_pick_rate: Figure = Figure(None, 0, "rate")
    # The anonymous feedback pulse of this cycle (1..5 average), once its cycle has closed.
    pulse_score: Figure = Figure(None, 0, "average")
    had_pulse: bool = False

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
    "goal_progress",
    "time_picked_rate",
    "met_after_pick_rate",
    "pulse_score",
)


@dataclass(frozen=True)
class PulseResults:
    """A closed feedback pulse as admins see it: the cycle it belongs to (its start date, no
    finer), the average answer from `score.people` answers, and the suggestions people chose
    to share, sorted by their text (never in the order given, never with a name). Both stay
    hidden below K_ANONYMITY answers."""

    cycle_started_at: datetime
    score: Figure
    shared_suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class MembershipFigures:
    active: Figure
    paused: Figure
    left: Figure


@dataclass(frozen=True)
class DeliveryHealth:
    """Whether the app's messages reach people: Slack refusing the token (since when, with
    which error) and the latest round's groups whose intro Slack refused for good."""

    blocked_since: datetime | None = None
    blocked_error: str | None = None
    undelivered_groups: int = 0
