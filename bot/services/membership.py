"""Opting in and out: join, edit, pause, resume, leave and status, without Slack."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, contains_eager, joinedload

from bot.domain.enums import JoinOutcome
from bot.domain.people import MemberStatusView, Profile
from bot.domain.programme import DEFAULTS
from bot.errors import UsageError
from bot.schedule import Schedule, round_times_after
from db.models import Exclusion, Member, MemberStatus, Workspace
from db.upsert import insert_or_ignore

MAX_PAUSE = timedelta(weeks=52)


def workspace_for(session: Session, team_id: str, *, now: datetime) -> Workspace:
    """Return the workspace row for a Slack team, creating it with the default settings.

    Two first requests of a new workspace may arrive together: the unique team id decides
    which one inserts, and both then read the same row.
    """
    workspace = session.scalar(select(Workspace).where(Workspace.team_id == team_id))
    if workspace is not None:
        return workspace
    insert_or_ignore(
        session,
        Workspace.__table__,  # type: ignore[arg-type]
        {
            "team_id": team_id,
            "created_at": now,
            "cadence_weeks": DEFAULTS.cadence_weeks,
            "day_of_week": DEFAULTS.day_of_week,
            "hour": DEFAULTS.hour,
            "timezone": DEFAULTS.timezone,
            "group_size": DEFAULTS.group_size,
            "prompt_themes": list(DEFAULTS.prompt_themes),
        },
        conflict_columns=("team_id",),
    )
    return session.scalars(select(Workspace).where(Workspace.team_id == team_id)).one()


def schedule_of(workspace: Workspace) -> Schedule:
    """Return the round schedule stored on a workspace."""
    return Schedule(
        cadence_weeks=workspace.cadence_weeks,
        day_of_week=workspace.day_of_week,
        hour=workspace.hour,
        timezone=workspace.timezone,
    )


def find_member(session: Session, *, team_id: str, user_id: str) -> Member | None:
    """Return the member row for a person in a workspace, if they ever joined.

    One query: the workspace and the never-pair list come with it (no lazy loads later).
    """
    return (
        session.scalars(
            select(Member)
            .join(Workspace)
            .where(Workspace.team_id == team_id, Member.slack_user_id == user_id)
            .options(contains_eager(Member.workspace), joinedload(Member.exclusions))
            .execution_options(populate_existing=True)
        )
        .unique()
        .one_or_none()
    )


def lock_member(session: Session, *, workspace_id: int, user_id: str) -> Member | None:
    """Load a member for changing it, holding it against concurrent changes until commit.

    PostgreSQL: SELECT ... FOR UPDATE on the row. SQLite has no row locks: a (no-op) UPDATE
    of the row first takes the database's write lock, so the read that follows sees the
    latest committed state and no one else writes until this unit of work ends.
    """
    where = (Member.workspace_id == workspace_id, Member.slack_user_id == user_id)
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


def _locked(session: Session, team_id: str, user_id: str) -> Member | None:
    workspace_id = session.scalar(select(Workspace.id).where(Workspace.team_id == team_id))
    if workspace_id is None:
        return None
    return lock_member(session, workspace_id=workspace_id, user_id=user_id)


def profile_of(member: Member) -> Profile | None:
    """Return a member's current profile, or None once they left."""
    if member.level is None:
        return None
    return Profile(
        level=member.level,
        team=member.team or "",
        goals=tuple(member.goals),
        never_pair=tuple(e.excluded_user_id for e in member.exclusions),
    )


def save_profile(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    profile: Profile,
    tz_name: str | None,
    tz_offset_minutes: int | None,
    now: datetime,
) -> JoinOutcome:
    """Make the person an active member with this profile; say whether they joined, rejoined
    or updated their profile."""
    workspace = workspace_for(session, team_id, now=now)
    # The unique (workspace, person) key decides who creates the row; then the row is held
    # so that a concurrent leave, pause or second submission waits its turn.
    created = insert_or_ignore(
        session,
        Member.__table__,  # type: ignore[arg-type]
        {
            "workspace_id": workspace.id,
            "slack_user_id": user_id,
            "status": MemberStatus.ACTIVE.value,
            "joined_at": now,
            "updated_at": now,
            "goals": [],
        },
        conflict_columns=("workspace_id", "slack_user_id"),
    )
    member = lock_member(session, workspace_id=workspace.id, user_id=user_id)
    assert member is not None
    if created is not None:
        outcome = JoinOutcome.JOINED
    elif member.status in (MemberStatus.LEFT, MemberStatus.INACTIVE):
        outcome = JoinOutcome.REJOINED
        member.joined_at, member.left_at = now, None
    else:
        outcome = JoinOutcome.UPDATED
    if outcome != JoinOutcome.UPDATED:
        member.status, member.paused_until = MemberStatus.ACTIVE.value, None
    member.level, member.team, member.goals = profile.level, profile.team, list(profile.goals)
    if tz_name is not None:
        member.tz_name, member.tz_offset_minutes = tz_name, tz_offset_minutes
    member.updated_at = now
    wanted = [u for u in dict.fromkeys(profile.never_pair) if u != user_id]
    member.exclusions = [e for e in member.exclusions if e.excluded_user_id in wanted]
    kept = {e.excluded_user_id for e in member.exclusions}
    member.exclusions.extend(
        Exclusion(workspace_id=workspace.id, excluded_user_id=u) for u in wanted if u not in kept
    )
    session.flush()
    return outcome


def parse_pause(args: list[str], *, now: datetime, schedule: Schedule) -> datetime:
    """Turn `pause` arguments into the moment the pause ends.

    No argument pauses for one cycle; `N weeks` / `Nw` / `N` pauses that many weeks;
    `until YYYY-MM-DD` pauses until the start of that day in the programme's time zone.
    """
    words = [w.lower() for w in args]
    if not words:
        until = now + timedelta(weeks=schedule.cadence_weeks)
    elif words[0] == "until" and len(words) == 2:
        try:
            day = date.fromisoformat(words[1])
        except ValueError:
            raise UsageError(f"I couldn't read `{args[1]}` as a date: use YYYY-MM-DD.") from None
        until = datetime.combine(day, time(0), tzinfo=ZoneInfo(schedule.timezone)).astimezone(UTC)
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
        until = now + timedelta(weeks=weeks)
    if until - now > MAX_PAUSE:
        raise UsageError("You can pause for up to a year; use `/peercoach leave` to stop for good.")
    return until


def skip_until(*, now: datetime, schedule: Schedule) -> datetime:
    """The end of a pause that skips exactly the next round."""
    return round_times_after(schedule, now) + timedelta(hours=1)


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


def _require_member(session: Session, team_id: str, user_id: str) -> Member:
    member = _locked(session, team_id, user_id)
    if member is None or member.status == MemberStatus.LEFT:
        raise UsageError("You're not in PeerCoach yet: `/peercoach join` to opt in.")
    return member


def pause_member(
    session: Session, *, team_id: str, user_id: str, until: datetime, now: datetime
) -> Member:
    """Pause a member until a moment; they resume on their own then."""
    member = _require_member(session, team_id, user_id)
    member.status, member.paused_until, member.updated_at = MemberStatus.PAUSED.value, until, now
    return member


def resume_member(session: Session, *, team_id: str, user_id: str, now: datetime) -> Member:
    """Make a paused member active again."""
    member = _require_member(session, team_id, user_id)
    if member.status == MemberStatus.ACTIVE:
        raise UsageError("You're already active: you'll be paired in the next round.")
    member.status, member.paused_until, member.updated_at = MemberStatus.ACTIVE.value, None, now
    return member


def leave_member(session: Session, *, team_id: str, user_id: str, now: datetime) -> Member | None:
    """Stop for good: forget the profile and never-pair list; keep only that they took part.

    Returns None, changing nothing, for someone who is not (or no longer) a member. The row
    is held while it changes, so a profile edit at the same moment happens wholly before
    (and is then forgotten) or wholly after (a rejoin), never half.
    """
    member = _locked(session, team_id, user_id)
    if member is None or member.status == MemberStatus.LEFT:
        return None
    member.status, member.left_at, member.updated_at = MemberStatus.LEFT.value, now, now
    member.paused_until = None
    member.level, member.team, member.goals = None, None, []
    member.tz_name = member.tz_offset_minutes = None
    member.exclusions.clear()
    return member


def resume_due_members(session: Session, *, workspace_id: int, now: datetime) -> list[str]:
    """Resume everyone whose pause has ended; return their Slack user ids."""
    due = session.scalars(
        select(Member).where(
            Member.workspace_id == workspace_id,
            Member.status == MemberStatus.PAUSED.value,
            Member.paused_until.is_not(None),
            Member.paused_until <= now,
        )
    ).all()
    for member in due:
        member.status, member.paused_until, member.updated_at = MemberStatus.ACTIVE.value, None, now
    return [m.slack_user_id for m in due]


def member_status(
    session: Session, *, team_id: str, user_id: str, now: datetime
) -> MemberStatusView:
    """Describe a person's own membership, resuming them first if their pause has ended."""
    return status_of(session, find_member(session, team_id=team_id, user_id=user_id), now=now)


def status_of(session: Session, member: Member | None, *, now: datetime) -> MemberStatusView:
    """Describe a loaded member (from find_member, which brings the workspace and the
    never-pair list along: no further query unless a pause has ended)."""
    if member is None or member.status == MemberStatus.LEFT:
        return MemberStatusView(status="none")
    if member.status == MemberStatus.PAUSED and member.paused_until and member.paused_until <= now:
        resume_due_members(session, workspace_id=member.workspace_id, now=now)
    next_round = round_times_after(schedule_of(member.workspace), now)
    return MemberStatusView(
        status=member.status,
        since=member.updated_at if member.status == MemberStatus.PAUSED else member.joined_at,
        paused_until=member.paused_until,
        next_round_at=next_round,
        profile=profile_of(member),
    )
