"""What deleting, exporting and expiring a person's data did, as counts (never the data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeletionReport:
    """What `delete-my-data` removed or anonymised, as counts (never the data itself)."""

    # They had a member row (now the placeholder's): false for someone who never joined.
    membership: bool = False
    profile: bool = False
    goals: int = 0
    never_pair: int = 0
    reflections: int = 0
    commitments: int = 0
    pairings: int = 0
    messages_cancelled: int = 0
    admin_role: bool = False
    # Records that they answered feedback pulses (the answers carry no name: they stay).
    pulses_answered: int = 0

    @property
    def anything(self) -> bool:
        return any(
            (
                self.membership,
                self.profile,
                self.goals,
                self.never_pair,
                self.reflections,
                self.commitments,
                self.pairings,
                self.messages_cancelled,
                self.admin_role,
                self.pulses_answered,
            )
        )


@dataclass(frozen=True)
class RetentionReport:
    """What one retention run deleted, as counts."""

    reflections: int = 0
    messages: int = 0
    # Shared feedback-pulse suggestions whose cycle started before the cut-off.
    suggestions: int = 0
