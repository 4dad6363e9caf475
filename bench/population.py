"""The synthetic programme the round benchmarks use: members joined through the service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.profile_options import GOALS
from bot.services import membership
from db.models import Member, MemberStatus


def _profile(n: int, goal_stride: int) -> tuple[membership.Profile, int]:
    """Member n's profile and time-zone offset (minutes): spread levels, teams, goals."""
    goals = list(GOALS)
    profile = membership.Profile(
        level=1 + n % 5,
        team=f"T{n % 17}",
        goals=(goals[n % 12], goals[(n * goal_stride) % 12]),
        agreement_version=1,  # joined through the modal, agreement accepted
    )
    return profile, 60 * (n % 9 - 4)


def join_members(
    session: Session,
    *,
    team_id: str,
    count: int,
    now: datetime,
    goal_stride: int,
    bulk: bool = False,
) -> list[str]:
    """Join `count` members with spread levels, teams, goal pairs and time zones.

    With `bulk`, the rows `membership.save_profile` would write for a first join go in as one
    multi-row insert (a 50,000-member programme joins in seconds, not minutes).
    """
    users = [f"U{n:06d}" for n in range(count)]
    if bulk:
        programme = membership.programme_for(session, team_id=team_id, programme=None, now=now)
        rows = []
        for n, user in enumerate(users):
            profile, offset = _profile(n, goal_stride)
            rows.append(
                {
                    "workspace_id": programme.workspace_id,
                    "programme_id": programme.id,
                    "slack_user_id": user,
                    "status": MemberStatus.ACTIVE.value,
                    "joined_at": now,
                    "updated_at": now,
                    "level": profile.level,
                    "team": profile.team,
                    "goals": list(profile.goals),
                    "tz_name": "UTC",
                    "tz_offset_minutes": offset,
                    "missed_streak": 0,
                    "agreement_version": profile.agreement_version,
                    "agreement_accepted_at": now,
                }
            )
        session.execute(insert(Member.__table__), rows)  # type: ignore[arg-type]
        return users
    for n, user in enumerate(users):
        profile, offset = _profile(n, goal_stride)
        membership.save_profile(
            session,
            team_id=team_id,
            user_id=user,
            profile=profile,
            tz_name="UTC",
            tz_offset_minutes=offset,
            now=now,
        )
    return users
