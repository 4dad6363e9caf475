"""Steps several listeners share: opening the join modal and refreshing the App Home."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.deps import Deps
from bot.services import membership
from bot.views import membership as views


def open_join_modal(
    deps: Deps, client: WebClient, *, trigger_id: str, team_id: str, user_id: str
) -> None:
    """Open the join modal, prefilled when the person already has a profile."""
    with deps.unit_of_work() as session:
        member = membership.find_member(session, team_id=team_id, user_id=user_id)
        current = membership.profile_of(member) if member and member.status != "left" else None
    client.views_open(trigger_id=trigger_id, view=views.join_modal(current))


def publish_home(deps: Deps, client: WebClient, *, team_id: str, user_id: str) -> None:
    """Render the person's App Home from the database."""
    with deps.unit_of_work() as session:
        status = membership.member_status(
            session, team_id=team_id, user_id=user_id, now=deps.clock()
        )
    client.views_publish(user_id=user_id, view=views.home_view(status))
