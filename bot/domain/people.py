"""What a member tells us and what they see about themselves and their chats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.domain.meetings import WorkingHours
from bot.domain.programme import ProgrammeRef


@dataclass(frozen=True)
class Profile:
    """What a member tells us in the join modal: level band, team, topics, never-pair list."""

    level: int
    team: str
    goals: tuple[str, ...]
    never_pair: tuple[str, ...] = ()
    # Their private development goal (only they see it), if they set one.
    goal: str | None = None
    # The agreement version accepted with this submission (None: nothing accepted now).
    agreement_version: int | None = None
    # When they work, in their own time zone (None: leave as stored).
    working_hours: WorkingHours | None = None


@dataclass(frozen=True)
class MemberStatusView:
    """What `status` and the App Home show a person about themselves (all times aware UTC)."""

    status: str  # a MemberStatus value, or "none" for people who never joined
    since: datetime | None = None
    paused_until: datetime | None = None
    next_round_at: datetime | None = None
    profile: Profile | None = None
    # The member's own view of their programme (their App Home).
    current: CurrentChat | None = None
    open_commitment: str | None = None
    last_goal_progress: int | None = None
    recent: tuple[HistoryEntry, ...] = ()
    agreement_text: str | None = None
    agreement_pending: bool = False
    # Their Slack time zone (their working hours are in it).
    tz_name: str | None = None
    # The programme this membership belongs to, and the person's other memberships' views.
    programme: str | None = None
    programme_id: int | None = None
    others: tuple[MemberStatusView, ...] = ()
    # For someone in no programme while several are open: the ones they may join.
    joinable: tuple[ProgrammeRef, ...] = ()


@dataclass(frozen=True)
class CurrentChat:
    """The member's chat in the open round: who with, and whether it happened."""

    group_id: int
    partners: tuple[str, ...]
    met: bool
    # The meeting time the group picked, if any (aware UTC).
    picked_start: datetime | None = None


@dataclass(frozen=True)
class ReflectionInput:
    """A member's reflection on one chat: usefulness 1-5 and their private notes."""

    usefulness: int
    takeaway: str | None
    commitment: str | None
    share_takeaway: bool
    # Progress on their own goal since the last chat, 0 (none) to 3 (achieved), if asked.
    goal_progress: int | None = None


@dataclass(frozen=True)
class PulseInput:
    """An answer to the feedback pulse: how useful the programme is (1..5), an optional
    suggestion, and whether to share it with the organisers (without a name)."""

    score: int
    suggestion: str = ""
    share: bool = False


@dataclass(frozen=True)
class HistoryEntry:
    """One past pairing as its member sees it: their own notes only."""

    started_at: datetime
    partners: tuple[str, ...]
    met: bool
    usefulness: int | None
    takeaway: str | None
    commitment: str | None
    commitment_outcome: str | None


@dataclass(frozen=True)
class SeatContext:
    """A member's seat in a group, with the group's DM and the others in it."""

    group_id: int
    channel_id: str | None
    partners: tuple[str, ...]
    # The member's own private goal (for the reflection's progress question).
    own_goal: str | None = None


class Pairable(Protocol):
    """A member as matching and round recording read them: a Member row, or a round's plain
    view of one (bot.services.rounds.Eligible). Read-only."""

    @property
    def id(self) -> int: ...
    @property
    def slack_user_id(self) -> str: ...
    @property
    def level(self) -> int | None: ...
    @property
    def team(self) -> str | None: ...
    @property
    def goals(self) -> Sequence[str]: ...
    @property
    def tz_name(self) -> str | None: ...
    @property
    def tz_offset_minutes(self) -> int | None: ...
    @property
    def agreement_version(self) -> int | None: ...
    @property
    def work_start_minute(self) -> int: ...
    @property
    def work_end_minute(self) -> int: ...
    @property
    def work_days(self) -> Sequence[int]: ...
    @property
    def no_meeting_days(self) -> Sequence[int]: ...
