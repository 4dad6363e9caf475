"""The synthetic programme both round benchmarks use: members joined through the service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.profile_options import GOALS
from bot.services import membership


def join_members(
    session: Session, *, team_id: str, count: int, now: datetime, goal_stride: int
) -> list[str]:
    """Join `count` members with spread levels, teams, goal pairs and time zones."""
    goals = list(GOALS)
    users = [f"U{n:06d}" for n in range(count)]
    for n, user in enumerate(users):
        membership.save_profile(
            session,
            team_id=team_id,
            user_id=user,
            profile=membership.Profile(
                level=1 + n % 5,
                team=f"T{n % 17}",
                goals=(goals[n % 12], goals[(n * goal_stride) % 12]),
                agreement_version=1,  # joined through the modal, agreement accepted
            ),
            tz_name="UTC",
            tz_offset_minutes=60 * (n % 9 - 4),
            now=now,
        )
    return users
