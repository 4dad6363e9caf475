"""Opting in and out: join, edit, pause, resume, leave and status, without Slack."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Text, bindparam, cast, select, update
from sqlalchemy.orm import Session, joinedload

from bot.domain.enums import JoinOutcome, OutboxKind, OutboxStatus, RoundKind, Unpairable
from bot.domain.messages import AgreementNotice, NotPairableNotice
from bot.domain.people import MemberStatusView, Pairable, Profile
from bot.domain.programme import (
    DEFAULT_AGREEMENT,
    DEFAULTS,
    FIRST_PROGRAMME_NAME,
    ProgrammeRef,
    ProgramSettings,
    programme_name,
)
from bot.errors import ChooseProgramme, StaleAction, UsageError
from bot.schedule import Schedule, next_slot, round_times_after
from bot.services.meetings import store_working_hours, working_hours_of
from bot.services.outbox import enqueue
from db.models import (
    Exclusion,
    Member,
    MemberStatus,
    OutboxMessage,
    Programme,
    Pulse,
    Reflection,
    Round,
    Workspace,
)
from db.session import connection_of
from db.upsert import insert_or_ignore

MAX_PAUSE = timedelta(weeks=52)
# No round starts within this of the previous start unless an admin insists (a double press,
# two `round run` processes, an admin's round just before a scheduled slot).
ROUND_COOLDOWN = timedelta(minutes=15)


def workspace_for(session: Session, team_id: str, *, now: datetime) -> Workspace:
    """Return the workspace row for a Slack team, creating it (and its first programme, with
    the default settings) on first use.

    Two first requests of a new workspace may arrive together: the unique team id (and the
    unique programme name) decides which one inserts, and both then read the same rows.
    """
    workspace = session.scalar(select(Workspace).where(Workspace.team_id == team_id))
    if workspace is None:
        insert_or_ignore(
            session,
            Workspace.__table__,  # type: ignore[arg-type]
            {"team_id": team_id, "created_at": now},
            conflict_columns=("team_id",),
        )
        workspace = session.scalars(select(Workspace).where(Workspace.team_id == team_id)).one()
    if session.scalar(select(Programme.id).where(Programme.workspace_id == workspace.id)) is None:
        add_programme(session, workspace, name=FIRST_PROGRAMME_NAME, now=now)
    return workspace


def add_programme(
    session: Session,
    workspace: Workspace,
    *,
    name: str,
    now: datetime,
    description: str = "",
    settings: ProgramSettings = DEFAULTS,
) -> Programme:
    """Create a programme (or find the one of that name): insert-or-ignore on the unique
    (workspace, name) key. Raises UsageError for an empty or over-long name."""
    name = programme_name(name)
    if not name or len(name) > MAX_PROGRAMME_NAME:
        raise UsageError(f"Give the programme a name of 1 to {MAX_PROGRAMME_NAME} characters.")
    insert_or_ignore(
        session,
        Programme.__table__,  # type: ignore[arg-type]
        {
            "workspace_id": workspace.id,
            "name": name,
            "description": description[:300],
            "settings": settings.to_stored(),
            "is_open": True,
            "created_at": now,
            "agreement_version": 1,
        },
        conflict_columns=("workspace_id", "name"),
    )
    return session.scalars(
        select(Programme).where(Programme.workspace_id == workspace.id, Programme.name == name)
    ).one()


MAX_PROGRAMME_NAME = 80


def create_programme(
    session: Session, workspace: Workspace, *, name: str, now: datetime
) -> Programme:
    """Create a new programme (default settings) called `name`. Names are unique in any case:
    the workspace's row lock is held from the check to the insert, so two admins creating
    `Sales` and `sales` at once get one programme. Raises UsageError when one of that name
    exists already, or for an empty or over-long name (see add_programme)."""
    session.execute(  # a no-op UPDATE: the row lock (PostgreSQL), the write lock (SQLite)
        update(Workspace)
        .where(Workspace.id == workspace.id)
        .values(team_id=Workspace.team_id)
        .execution_options(synchronize_session=False)
    )
    wanted = programme_name(name).casefold()
    existing = session.scalars(select(Programme.name).where(Programme.workspace_id == workspace.id))
    if any(found.casefold() == wanted for found in existing):
        raise UsageError(f"There's already a programme called `{name[:MAX_PROGRAMME_NAME]}`.")
    return add_programme(session, workspace, name=name, now=now)


def programmes_of(session: Session, workspace_id: int) -> list[Programme]:
    """A workspace's programmes, oldest first."""
    return list(
        session.scalars(
            select(Programme).where(Programme.workspace_id == workspace_id).order_by(Programme.id)
        )
    )


def ref_of(programme: Programme) -> ProgrammeRef:
    """The programme as people pick it."""
    return ProgrammeRef(programme.id, programme.name, programme.description, programme.is_open)


def programme_for(
    session: Session, *, team_id: str, programme: int | str | None, now: datetime
) -> Programme:
    """The workspace's programme a request names: by row id (a button's value), by name
    (`--programme <name>`, any case), or None for the first (oldest) programme.

    Raises StaleAction for an id of another workspace (or none), UsageError for an unknown
    name (naming the programmes there are).
    """
    workspace = workspace_for(session, team_id, now=now)
    found = programmes_of(session, workspace.id)
    if programme is None:
        return found[0]
    if isinstance(programme, int):
        match = next((p for p in found if p.id == programme), None)
        if match is None:
            raise StaleAction()
        return match
    wanted = programme_name(programme).casefold()
    match = next((p for p in found if p.name.casefold() == wanted), None)
    if match is None:
        raise UsageError(
            f"There's no programme called `{programme[:MAX_PROGRAMME_NAME]}`. "
            f"The programmes here: {', '.join(p.name for p in found)}."
        )
    return match


def join_choice(
    session: Session, *, team_id: str, user_id: str, now: datetime
) -> int | list[ProgrammeRef]:
    """What `/peercoach join` without a name opens: the programme's id when there is one
    programme (or one open to newcomers), else the open programmes to pick from (empty: none
    is open). `user_id` is the person asking (their own programmes stay open to them)."""
    workspace = workspace_for(session, team_id, now=now)
    every = programmes_of(session, workspace.id)
    if len(every) == 1:
        return every[0].id
    mine = set(
        session.scalars(
            select(Member.programme_id).where(
                Member.workspace_id == workspace.id,
                Member.slack_user_id == user_id,
                Member.status != MemberStatus.LEFT.value,
            )
        )
    )
    choices = [p for p in every if p.is_open or p.id in mine]
    if len(choices) == 1:
        return choices[0].id
    return [ref_of(p) for p in choices]


def closed_text(programme: Programme) -> str:
    """What someone asking to join a programme closed to newcomers is told."""
    return f"{programme.name} isn't taking new members at the moment."


def settings_of_programme(programme: Programme) -> ProgramSettings:
    """A programme's stored settings (without its owners: bot.services.admin.settings_of)."""
    return ProgramSettings.from_stored(programme.settings)


@lru_cache(maxsize=512)
def _settings_from_text(stored: str | None) -> ProgramSettings:
    """Stored settings read from their JSON text, parsed once per distinct text (a pure
    function of it: requests reading the same programme share the result)."""
    return ProgramSettings.from_stored(json.loads(stored) if stored else None)


def last_scheduled_slot(session: Session, programme_id: int) -> datetime | None:
    """The slot of the programme's latest scheduled round (its period key), if any."""
    key = session.scalar(
        select(Round.period_key)
        .where(Round.programme_id == programme_id, Round.kind == RoundKind.SCHEDULED)
        .order_by(Round.started_at.desc(), Round.id.desc())
        .limit(1)
    )
    return datetime.fromisoformat(key) if key else None


def next_round_at(session: Session, programme: Programme, now: datetime) -> datetime:
    """When the programme's next scheduled round will start, as the due rule will decide it
    (a slot in the current round's cycle or before a schedule change is not named)."""
    return _next_round(
        settings_of_programme(programme),
        now,
        schedule_changed_at=programme.schedule_changed_at,
        last_scheduled_at=last_scheduled_slot(session, programme.id),
        last_started_at=programme.last_round_started_at,
    )


def _next_round(
    settings: ProgramSettings,
    now: datetime,
    *,
    schedule_changed_at: datetime | None,
    last_scheduled_at: datetime | None,
    last_started_at: datetime | None,
) -> datetime:
    return next_slot(
        _schedule(settings),
        now,
        schedule_changed_at=schedule_changed_at,
        last_scheduled_at=last_scheduled_at,
        last_started_at=last_started_at,
        cooldown=ROUND_COOLDOWN,
    )


def schedule_of(programme: Programme) -> Schedule:
    """Return the round schedule of a programme."""
    return _schedule(settings_of_programme(programme))


def _schedule(settings: ProgramSettings) -> Schedule:
    return Schedule(
        cadence_weeks=settings.cadence_weeks,
        day_of_week=settings.day_of_week,
        hour=settings.hour,
        timezone=settings.timezone,
    )


def memberships_of(session: Session, *, team_id: str, user_id: str) -> list[Member]:
    """Every membership row of a person in a workspace (left ones too), oldest programme
    first; each with its programme and never-pair list loaded."""
    return list(
        session.scalars(
            select(Member)
            .join(Workspace, Workspace.id == Member.workspace_id)
            .where(Workspace.team_id == team_id, Member.slack_user_id == user_id)
            .options(
                joinedload(Member.workspace),
                joinedload(Member.programme),
                joinedload(Member.exclusions),
            )
            .order_by(Member.programme_id)
            .execution_options(populate_existing=True)
        ).unique()
    )


def find_member(
    session: Session, *, team_id: str, user_id: str, programme: int | str | None = None
) -> Member | None:
    """Return the person's membership row, if they ever joined.

    `programme` (an id or a name) picks the programme; without it, the one programme the
    person is in (or, if they are in none now, their latest row). Raises ChooseProgramme when
    they are in several and did not say which, UsageError for a name (typed with
    `--programme`) of no programme or of one they never joined, StaleAction for an id (a
    button's) of no programme of this workspace. One query: the workspace,
    the programme and the never-pair list come with it (no lazy loads later).
    """
    rows = memberships_of(session, team_id=team_id, user_id=user_id)
    return _choose(session, team_id, rows, programme, lambda r: r.programme.name)


_Row = TypeVar("_Row", Member, "Membership")


def _choose(
    session: Session | Connection,
    team_id: str,
    rows: Sequence[_Row],
    programme: int | str | None,
    name_of: Callable[[_Row], str],
) -> _Row | None:
    """find_member's choice among a person's membership rows (ORM rows or plain ones)."""
    if programme is not None:
        if isinstance(programme, str):
            # An unknown name is named as such; so is a known one the person never joined
            # (not "You're not in PeerCoach" to someone who is, in another programme).
            programme_id, name = _programme_named(session, team_id, programme)
            found = next((r for r in rows if r.programme_id == programme_id), None)
            if found is None:
                raise UsageError(f"You're not in {name}: `/peercoach join {name}` to opt in.")
            return found
        found = next((r for r in rows if r.programme_id == programme), None)
        if found is None and not _programme_here(session, team_id, programme):
            raise StaleAction()  # another workspace's programme is one that never existed
        return found
    current = [r for r in rows if r.status != MemberStatus.LEFT]
    if len(current) > 1:
        raise ChooseProgramme([name_of(r) for r in current])
    if current:
        return current[0]
    return max(rows, key=lambda r: r.updated_at) if rows else None


def _programme_here(session: Session | Connection, team_id: str, programme_id: int) -> bool:
    """Whether `programme_id` is a programme of the workspace `team_id`."""
    return (
        session.scalar(
            select(Programme.id)
            .join(Workspace, Workspace.id == Programme.workspace_id)
            .where(Programme.id == programme_id, Workspace.team_id == team_id)
        )
        is not None
    )


def _programme_named(session: Session | Connection, team_id: str, name: str) -> tuple[int, str]:
    """The id and name of the workspace's programme called `name` (any case); UsageError if
    none."""
    found = session.execute(
        select(Programme.id, Programme.name)
        .join(Workspace, Workspace.id == Programme.workspace_id)
        .where(Workspace.team_id == team_id)
        .order_by(Programme.id)
    ).all()
    wanted = programme_name(name).casefold()
    for programme_id, found_name in found:
        if found_name.casefold() == wanted:
            return int(programme_id), str(found_name)
    raise UsageError(
        f"There's no programme called `{name[:MAX_PROGRAMME_NAME]}`. "
        f"The programmes here: {', '.join(n for _, n in found)}."
    )


def lock_member(session: Session, *, programme_id: int, user_id: str) -> Member | None:
    """Load a membership for changing it, holding it against concurrent changes until commit.

    PostgreSQL: SELECT ... FOR UPDATE on the row. SQLite has no row locks: a (no-op) UPDATE
    of the row first takes the database's write lock, so the read that follows sees the
    latest committed state and no one else writes until this unit of work ends.
    """
    where = (Member.programme_id == programme_id, Member.slack_user_id == user_id)
    query = select(Member).where(*where).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(Member)
            .where(*where)
            .values(slack_user_id=Member.slack_user_id)
            .execution_options(synchronize_session=False)
        )
    else:
        query = query.with_for_update(of=Member)
    return session.scalar(query)


def _locked(
    session: Session, team_id: str, user_id: str, programme: int | str | None = None
) -> Member | None:
    found = find_member(session, team_id=team_id, user_id=user_id, programme=programme)
    if found is None:
        return None
    return lock_member(session, programme_id=found.programme_id, user_id=user_id)


def profile_of(member: Member) -> Profile | None:
    """Return a member's current profile, or None once they left."""
    return _profile(member, tuple(e.excluded_user_id for e in member.exclusions))


def _profile(member: Any, never_pair: tuple[str, ...]) -> Profile | None:
    """The profile in a membership's columns (an ORM row or a plain one), None once left."""
    if member.level is None:
        return None
    return Profile(
        level=member.level,
        team=member.team or "",
        goals=tuple(member.goals),
        never_pair=never_pair,
        goal=member.goal,
        working_hours=working_hours_of(member),
    )


def why_not_pairable(
    user: Mapping[str, Any], *, team_id: str, app_user_id: str | None, include_guests: bool
) -> Unpairable | None:
    """Why a Slack account (a users.info / users.list record) may not be invited or paired,
    or None if it may: the app itself, other bots (Slackbot included), deactivated accounts,
    people from another organisation (is_stranger, or another team_id: shared channels), and
    single- or multi-channel guests (is_restricted / is_ultra_restricted) unless the
    programme includes guests."""
    if app_user_id is not None and user.get("id") == app_user_id:
        return Unpairable.APP
    if user.get("is_bot") or user.get("id") == "USLACKBOT":
        return Unpairable.BOT
    if user.get("deleted"):
        return Unpairable.DEACTIVATED
    if user.get("is_stranger") or user.get("team_id", team_id) != team_id:
        return Unpairable.EXTERNAL
    if (user.get("is_restricted") or user.get("is_ultra_restricted")) and not include_guests:
        return Unpairable.GUEST
    return None


def save_profile(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    profile: Profile,
    tz_name: str | None,
    tz_offset_minutes: int | None,
    now: datetime,
    slack_user: Mapping[str, Any] | None = None,
    programme: int | str | None = None,
) -> JoinOutcome:
    """Make the person an active member with this profile; say whether they joined, rejoined,
    updated their profile, came back from an open-ended pause, or stay paused until the date
    they chose (joining never leaves someone paused without saying so).

    `slack_user` is their Slack record when it could be read (users.info); raises UsageError
    with a polite answer when the account may not take part (a guest while guests are off,
    someone from another organisation, a bot), or when the programme is closed to newcomers.
    `programme`: its id or name (None: the workspace's first programme).
    """
    chosen = programme_for(session, team_id=team_id, programme=programme, now=now)
    settings = settings_of_programme(chosen)
    if slack_user is not None:
        reason = why_not_pairable(
            slack_user,
            team_id=team_id,
            app_user_id=None,
            include_guests=settings.include_guests,
        )
        if reason is not None:
            raise UsageError(NOT_OPEN_TO[reason])
    if not chosen.is_open and lock_member(session, programme_id=chosen.id, user_id=user_id) is None:
        raise UsageError(closed_text(chosen))
    # The unique (programme, person) key decides who creates the row; then the row is held
    # so that a concurrent leave, pause or second submission waits its turn.
    created = insert_or_ignore(
        session,
        Member.__table__,  # type: ignore[arg-type]
        {
            "workspace_id": chosen.workspace_id,
            "programme_id": chosen.id,
            "slack_user_id": user_id,
            "status": MemberStatus.ACTIVE.value,
            "joined_at": now,
            "updated_at": now,
            "goals": [],
        },
        conflict_columns=("programme_id", "slack_user_id"),
    )
    member = lock_member(session, programme_id=chosen.id, user_id=user_id)
    assert member is not None
    if created is not None:
        outcome = JoinOutcome.JOINED
    elif member.status in (MemberStatus.LEFT, MemberStatus.INACTIVE):
        outcome = JoinOutcome.REJOINED
        member.joined_at, member.left_at = now, None
    elif member.status == MemberStatus.PAUSED and (
        member.paused_until is None or member.paused_until <= now
    ):
        outcome = JoinOutcome.RESUMED  # auto-paused (or a pause that ended): joining is coming back
    elif member.status == MemberStatus.PAUSED:
        outcome = JoinOutcome.STILL_PAUSED
    else:
        outcome = JoinOutcome.UPDATED
    if outcome in (JoinOutcome.JOINED, JoinOutcome.REJOINED, JoinOutcome.RESUMED):
        member.status, member.paused_until = MemberStatus.ACTIVE.value, None
        member.missed_streak = 0
    member.level, member.team, member.goals = profile.level, profile.team, list(profile.goals)
    member.goal = profile.goal
    store_working_hours(member, profile.working_hours)
    if profile.agreement_version is not None:
        _accept(member, chosen, profile.agreement_version, now)
    if tz_name is not None:
        member.tz_name, member.tz_offset_minutes = tz_name, tz_offset_minutes
    elif member.tz_name is None:
        # A second programme starts from what the person's other memberships know.
        other = session.execute(
            select(Member.tz_name, Member.tz_offset_minutes).where(
                Member.workspace_id == chosen.workspace_id,
                Member.slack_user_id == user_id,
                Member.tz_name.is_not(None),
            )
        ).first()
        if other is not None:
            member.tz_name, member.tz_offset_minutes = other.tz_name, other.tz_offset_minutes
    member.updated_at = now
    wanted = [u for u in dict.fromkeys(profile.never_pair) if u != user_id]
    member.exclusions = [e for e in member.exclusions if e.excluded_user_id in wanted]
    kept = {e.excluded_user_id for e in member.exclusions}
    member.exclusions.extend(
        Exclusion(workspace_id=chosen.workspace_id, excluded_user_id=u)
        for u in wanted
        if u not in kept
    )
    session.flush()
    return outcome


def agreement_of(programme: Programme) -> str:
    """The agreement text the programme's members accept."""
    return _agreement_text(settings_of_programme(programme))


def _agreement_text(settings: ProgramSettings) -> str:
    return settings.agreement_text or DEFAULT_AGREEMENT


def needs_agreement(member: Pairable | None, programme: Programme) -> bool:
    """Whether this person must (re)accept the programme's agreement before they are paired."""
    accepted = member.agreement_version if member is not None else None
    return accepted is None or accepted < programme.agreement_version


def _accept(member: Member, programme: Programme, version: int, now: datetime) -> None:
    if version != programme.agreement_version:
        raise StaleAction("The agreement changed since you opened it: please review it again.")
    member.agreement_version, member.agreement_accepted_at = version, now


def agreement_key(programme: Programme, user_id: str) -> str:
    """The outbox key of a programme's agreement request to a person (once per version).
    The first programme keeps the key it had before programmes existed."""
    scope = "" if programme.name == FIRST_PROGRAMME_NAME else f"p{programme.id}:"
    return f"agreement:{scope}v{programme.agreement_version}:{user_id}"


def ask_to_accept(session: Session, programme: Programme, user_id: str, now: datetime) -> None:
    """DM a member the programme's current agreement to accept, once per version (asking
    again each round would nag)."""
    enqueue(
        session,
        workspace_id=programme.workspace_id,
        dedupe_key=agreement_key(programme, user_id),
        recipients=[user_id],
        notice=AgreementNotice(version=programme.agreement_version, programme_id=programme.id),
        now=now,
    )


def accept_agreement(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    version: int,
    now: datetime,
    programme: int | str | None = None,
) -> Member:
    """Record that a member accepted agreement `version` (it must be the current one).

    Raises UsageError for a non-member, StaleAction when the text changed meanwhile.
    """
    member = _require_member(session, team_id, user_id, programme)
    _accept(member, member.programme, version, now)
    member.updated_at = now
    return member


def set_goal(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    goal: str | None,
    now: datetime,
    programme: int | str | None = None,
) -> Member:
    """Set (or clear) a member's private development goal. Raises UsageError for a
    non-member."""
    member = _require_member(session, team_id, user_id, programme)
    member.goal, member.updated_at = goal, now
    return member


# Why an account may not take part, as the person is told when they try to join.
NOT_OPEN_TO = {
    Unpairable.GUEST: "Thanks for your interest! PeerCoach here is open to full members of "
    "the workspace; guest accounts aren't included at the moment. A programme admin can "
    "change that.",
    Unpairable.EXTERNAL: "Thanks for your interest! PeerCoach pairs people within this "
    "organisation, so it isn't open to accounts from other organisations.",
    Unpairable.BOT: "PeerCoach pairs people, not apps.",
    Unpairable.APP: "PeerCoach pairs people, not apps.",
    Unpairable.DEACTIVATED: "This account is deactivated, so it can't join PeerCoach.",
}


def back_for(schedule: Schedule, end: datetime) -> datetime:
    """The first scheduled round starting at or after `end`: the one a pause ending then
    brings someone back for."""
    return round_times_after(schedule, end - timedelta(microseconds=1))


def parse_pause(
    args: list[str], *, now: datetime, schedule: Schedule, first_round: datetime | None = None
) -> datetime:
    """Turn `pause` arguments into the start of the first round the member is back for
    (the pause ends at that moment, so that round pairs them).

    No argument sits out the next round (as `skip` does); `N weeks` / `Nw` / `N` sits out
    every round starting in the next N weeks of the programme's local calendar, whatever the
    clocks do in between; `until YYYY-MM-DD` every round before the start of that day in the
    programme's time zone. Raises UsageError for anything else, a past date or over a year.
    `first_round`: the next round that will run (`next_round_at`; by default the next slot).
    """
    first = first_round or round_times_after(schedule, now)
    words = [w.lower() for w in args]
    if not words:
        return skip_until(now=now, schedule=schedule, first_round=first)
    if words[0] == "until" and len(words) == 2:
        try:
            day = date.fromisoformat(words[1])
        except ValueError:
            raise UsageError(f"I couldn't read `{args[1]}` as a date: use YYYY-MM-DD.") from None
        try:
            local = datetime.combine(day, time(0), tzinfo=ZoneInfo(schedule.timezone))
            until = local.astimezone(UTC)
        except OverflowError:  # year 1 or 9999 east or west of UTC
            raise UsageError("Pick a day within the next year.") from None
        if until <= now:
            raise UsageError("That date has already passed: pick a day in the future.")
    else:
        match = re.fullmatch(r"(\d{1,2})\s*(w|wk|wks|week|weeks)?", " ".join(words))
        if match is None:
            raise UsageError(
                "Try `/peercoach pause`, `/peercoach pause 3 weeks` "
                "or `/peercoach pause until 2026-12-31`."
            )
        weeks = int(match.group(1))
        if weeks < 1:
            raise UsageError("Pause for at least one week.")
        # N weeks on the local wall clock (a week across a clock change is 167 or 169 hours).
        local = now.astimezone(schedule.zone).replace(tzinfo=None) + timedelta(weeks=weeks)
        until = local.replace(tzinfo=schedule.zone).astimezone(UTC)
    if until - now > MAX_PAUSE:
        raise UsageError("You can pause for up to a year; use `/peercoach leave` to stop for good.")
    return max(first, back_for(schedule, until))


def skip_until(
    *, now: datetime, schedule: Schedule, first_round: datetime | None = None
) -> datetime:
    """The start of the round after the next one (`first_round`, by default the next slot):
    a pause ending then skips exactly the next round."""
    return round_times_after(schedule, first_round or round_times_after(schedule, now))


def pause_for_rounds(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    args: list[str] | None,
    now: datetime,
    programme: int | str | None = None,
) -> datetime:
    """Pause a membership as `/peercoach pause <args>` asks (None: `skip`, the next round
    only), counting the programme's rounds that will actually run; return the start of the
    first round they are back for. Raises UsageError as parse_pause does, or for someone who
    is not a member; ChooseProgramme when they are in several programmes and did not say."""
    member = _require_member(session, team_id, user_id, programme)
    back = parse_pause(
        args or [],
        now=now,
        schedule=schedule_of(member.programme),
        first_round=next_round_at(session, member.programme, now),
    )
    member.status, member.paused_until, member.updated_at = MemberStatus.PAUSED.value, back, now
    return back


def set_time_zone(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    tz_name: str | None,
    tz_offset_minutes: int | None,
) -> bool:
    """Store a current member's Slack time zone (one conditional UPDATE: someone who left
    meanwhile keeps none); return whether a row changed."""
    if tz_name is None:
        return False
    workspace_id = select(Workspace.id).where(Workspace.team_id == team_id).scalar_subquery()
    result = session.execute(
        update(Member)
        .where(
            Member.workspace_id == workspace_id,
            Member.slack_user_id == user_id,
            Member.status != MemberStatus.LEFT.value,
        )
        .values(tz_name=tz_name, tz_offset_minutes=tz_offset_minutes)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _require_member(
    session: Session, team_id: str, user_id: str, programme: int | str | None = None
) -> Member:
    member = _locked(session, team_id, user_id, programme)
    if member is None or member.status == MemberStatus.LEFT:
        raise UsageError("You're not in PeerCoach yet: `/peercoach join` to opt in.")
    return member


def resume_member(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    programme: int | str | None = None,
) -> Member:
    """Make a paused member active again."""
    member = _require_member(session, team_id, user_id, programme)
    if member.status == MemberStatus.ACTIVE:
        raise UsageError("You're already active: you'll be paired in the next round.")
    member.status, member.paused_until, member.updated_at = MemberStatus.ACTIVE.value, None, now
    return member


def leave_member(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    programme: int | str | None = None,
) -> Member | None:
    """Stop for good: forget the profile and never-pair list; keep only that they took part.

    Returns None, changing nothing, for someone who is not (or no longer) a member. The row
    is held while it changes, so a profile edit at the same moment happens wholly before
    (and is then forgotten) or wholly after (a rejoin), never half.
    """
    member = _locked(session, team_id, user_id, programme)
    if member is None or member.status == MemberStatus.LEFT:
        return None
    member.status, member.left_at, member.updated_at = MemberStatus.LEFT.value, now, now
    member.paused_until = None
    member.level, member.team, member.goals, member.goal = None, None, [], None
    member.tz_name = member.tz_offset_minutes = None
    member.exclusions.clear()
    _cancel_pulse_asks(session, member)
    return member


def _cancel_pulse_asks(session: Session, member: Member) -> None:
    """Cancel the programme's feedback-pulse DMs still waiting for someone who left (they
    go out an hour after their round starts): only members are asked."""
    pulses = session.scalars(
        select(Pulse.id)
        .join(Round, Round.id == Pulse.round_id)
        .where(Round.programme_id == member.programme_id, Round.closed_at.is_(None))
    ).all()
    if not pulses:
        return
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.workspace_id == member.workspace_id,
            OutboxMessage.kind == OutboxKind.PULSE,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.dedupe_key.in_([f"pulse:{p}:{member.slack_user_id}" for p in pulses]),
        )
        .values(status=OutboxStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )


def resume_due_members(session: Session, *, programme_id: int, now: datetime) -> list[str]:
    """Resume everyone in the programme whose pause has ended; return their Slack user ids.

    One conditional UPDATE, not a read and then writes: a member who paused again meanwhile
    (a `pause` that committed while this ran) no longer matches when the row is written
    (PostgreSQL re-checks the condition on the row's newest version once its lock is free;
    SQLite writes under its one write lock) and keeps the new pause.
    """
    return list(
        session.scalars(
            update(Member)
            .where(
                Member.programme_id == programme_id,
                Member.status == MemberStatus.PAUSED.value,
                Member.paused_until.is_not(None),
                Member.paused_until <= now,
            )
            .values(status=MemberStatus.ACTIVE.value, paused_until=None, updated_at=now)
            .returning(Member.slack_user_id)
        ).all()
    )


def leave_out_unpairable(
    session: Session, *, programme: Programme, reasons: Mapping[str, Unpairable], now: datetime
) -> None:
    """Record what a round-time check found (Slack user id -> reason they were not paired):
    deactivated members become inactive (as when Slack refuses to reach them); people left
    out for their account type are told, never silently skipped: once per reason while their
    membership lasts (a guest is not told again every round; joining again starts afresh)."""
    workspace_id = programme.workspace_id
    members = session.scalars(
        select(Member).where(
            Member.programme_id == programme.id, Member.slack_user_id.in_(list(reasons))
        )
    )
    for member in members:
        reason = reasons[member.slack_user_id]
        if reason == Unpairable.DEACTIVATED:
            member.status, member.updated_at = MemberStatus.INACTIVE.value, now
        elif reason in (Unpairable.GUEST, Unpairable.EXTERNAL):
            enqueue(
                session,
                workspace_id=workspace_id,
                dedupe_key=(
                    f"not_pairable:{member.slack_user_id}:{reason}:{member.joined_at:%Y%m%d%H%M%S}"
                    + ("" if programme.name == FIRST_PROGRAMME_NAME else f":p{programme.id}")
                ),
                recipients=[member.slack_user_id],
                notice=NotPairableNotice(reason=reason),
                now=now,
            )


def member_status(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    programme: int | str | None = None,
) -> MemberStatusView:
    """Describe a person's own membership, resuming them first if their pause has ended.

    One query of plain rows (read_memberships); the programme is chosen as find_member
    chooses it (raising ChooseProgramme / UsageError alike)."""
    rows = read_memberships(session, team_id=team_id, user_id=user_id)
    chosen = _choose(session, team_id, rows, programme, lambda r: r.programme)
    shown = [chosen] if chosen is not None else []
    rows = resume_if_due(session, rows, shown, team_id=team_id, user_id=user_id, now=now)
    return membership_status(
        next((r for r in rows if chosen is not None and r.id == chosen.id), None), now
    )


def read_status(
    connection: Connection,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    programme: int | str | None = None,
) -> MemberStatusView | None:
    """member_status when it writes nothing, read on a plain connection: None when the
    membership it would show has a pause that ended (resuming it is a write: ask
    member_status). Raises as member_status does."""
    rows = read_memberships(connection, team_id=team_id, user_id=user_id)
    chosen = _choose(connection, team_id, rows, programme, lambda r: r.programme)
    if chosen is not None and resume_due(chosen, now):
        return None
    return membership_status(chosen, now)


def resume_due(member: Membership, now: datetime) -> bool:
    """Whether a membership's pause has ended (it is resumed at the next look)."""
    return (
        member.status == MemberStatus.PAUSED
        and member.paused_until is not None
        and member.paused_until <= now
    )


# -- status and the App Home read as plain rows ----------------------------------------------


@dataclass(frozen=True)
class Membership:
    """One membership as status and the App Home read it: plain values in one query (no
    ORM objects, nothing loaded later). Times are aware UTC."""

    id: int
    programme_id: int
    programme: str  # its name
    status: str
    paused_until: datetime | None
    joined_at: datetime
    updated_at: datetime
    tz_name: str | None
    profile: Profile | None
    agreement_pending: bool
    settings: ProgramSettings
    schedule_changed_at: datetime | None
    last_round_started_at: datetime | None
    last_scheduled_at: datetime | None
    # Read only for the App Home (read_memberships(with_reflections=True)): the newest
    # commitment without an outcome yet, and the newest goal progress.
    open_commitment: str | None = None
    last_goal_progress: int | None = None

    @property
    def agreement_text(self) -> str:
        """The agreement text of the membership's programme."""
        return _agreement_text(self.settings)


def _membership_query(*, with_reflections: bool) -> Any:
    """The statement behind read_memberships (built once: its SQL is compiled once too).

    One row per membership and never-pair entry (outer join); the programme's settings come
    as their JSON text (parsed once per distinct text), its last scheduled slot as a
    correlated subquery.
    """
    last_slot = (
        select(Round.period_key)
        .where(Round.programme_id == Member.programme_id, Round.kind == RoundKind.SCHEDULED)
        .order_by(Round.started_at.desc(), Round.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    columns: list[Any] = [
        Member.id,
        Member.programme_id,
        Member.status,
        Member.paused_until,
        Member.joined_at,
        Member.updated_at,
        Member.level,
        Member.team,
        Member.goals,
        Member.goal,
        Member.tz_name,
        Member.work_start_minute,
        Member.work_end_minute,
        Member.work_days,
        Member.no_meeting_days,
        Member.agreement_version,
        Programme.name.label("programme_name"),
        cast(Programme.settings, Text).label("settings_text"),
        Programme.agreement_version.label("current_agreement"),
        Programme.schedule_changed_at,
        Programme.last_round_started_at,
        last_slot.label("last_slot"),
        Exclusion.excluded_user_id,
    ]
    if with_reflections:
        # Blank commitments are stored as NULL, and outcomes are set or NULL.
        newest = Reflection.id.desc()
        columns += [
            select(Reflection.commitment)
            .where(
                Reflection.member_id == Member.id,
                Reflection.commitment.is_not(None),
                Reflection.commitment_outcome.is_(None),
            )
            .order_by(newest)
            .limit(1)
            .scalar_subquery()
            .label("open_commitment"),
            select(Reflection.goal_progress)
            .where(Reflection.member_id == Member.id, Reflection.goal_progress.is_not(None))
            .order_by(newest)
            .limit(1)
            .scalar_subquery()
            .label("last_goal_progress"),
        ]
    return (
        select(*columns)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .join(Programme, Programme.id == Member.programme_id)
        .outerjoin(Exclusion, Exclusion.member_id == Member.id)
        .where(
            Workspace.team_id == bindparam("team_id"),
            Member.slack_user_id == bindparam("user_id"),
        )
        .order_by(Member.programme_id, Exclusion.id)
    )


_MEMBERSHIPS = _membership_query(with_reflections=False)
_MEMBERSHIPS_WITH_REFLECTIONS = _membership_query(with_reflections=True)


def read_memberships(
    session: Session | Connection,
    *,
    team_id: str,
    user_id: str,
    with_reflections: bool = False,
) -> list[Membership]:
    """Every membership of a person in a workspace (left ones too), oldest programme first,
    as plain values in one query; `with_reflections` adds the open commitment and the latest
    goal progress (what the App Home shows)."""
    statement = _MEMBERSHIPS_WITH_REFLECTIONS if with_reflections else _MEMBERSHIPS
    # On the connection: plain rows need none of the session's ORM handling.
    connection = connection_of(session)
    rows = connection.execute(statement, {"team_id": team_id, "user_id": user_id}).all()
    never_pair: dict[int, list[str]] = {}
    first: dict[int, Any] = {}
    for row in rows:
        first.setdefault(row.id, row)
        excluded = never_pair.setdefault(row.id, [])
        if row.excluded_user_id is not None:
            excluded.append(row.excluded_user_id)
    return [
        Membership(
            id=row.id,
            programme_id=row.programme_id,
            programme=row.programme_name,
            status=row.status,
            paused_until=row.paused_until,
            joined_at=row.joined_at,
            updated_at=row.updated_at,
            tz_name=row.tz_name,
            profile=_profile(row, tuple(never_pair[row.id])),
            agreement_pending=(
                row.agreement_version is None or row.agreement_version < row.current_agreement
            ),
            settings=_settings_from_text(row.settings_text),
            schedule_changed_at=row.schedule_changed_at,
            last_round_started_at=row.last_round_started_at,
            last_scheduled_at=datetime.fromisoformat(row.last_slot) if row.last_slot else None,
            open_commitment=row.open_commitment if with_reflections else None,
            last_goal_progress=row.last_goal_progress if with_reflections else None,
        )
        for row in first.values()
    ]


def resume_if_due(
    session: Session,
    rows: list[Membership],
    shown: Sequence[Membership],
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    with_reflections: bool = False,
) -> list[Membership]:
    """`rows` as they are once the pauses that ended among `shown` are over: their
    programmes' due members are resumed (as the tick would) and the rows read again."""
    due = {m.programme_id for m in shown if resume_due(m, now)}
    if not due:
        return rows
    for programme_id in sorted(due):
        resume_due_members(session, programme_id=programme_id, now=now)
    session.flush()
    return read_memberships(
        session, team_id=team_id, user_id=user_id, with_reflections=with_reflections
    )


def membership_status(member: Membership | None, now: datetime) -> MemberStatusView:
    """What status shows about a membership read by read_memberships (after resume_if_due)."""
    if member is None or member.status == MemberStatus.LEFT:
        return MemberStatusView(status="none")
    next_round = _next_round(
        member.settings,
        now,
        schedule_changed_at=member.schedule_changed_at,
        last_scheduled_at=member.last_scheduled_at,
        last_started_at=member.last_round_started_at,
    )
    return MemberStatusView(
        status=member.status,
        since=member.updated_at if member.status == MemberStatus.PAUSED else member.joined_at,
        paused_until=member.paused_until,
        next_round_at=next_round,
        profile=member.profile,
        tz_name=member.tz_name,
        programme=member.programme,
        programme_id=member.programme_id,
    )
