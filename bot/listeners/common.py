"""Steps several listeners share: the join modal, the App Home, the admin check."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.domain.enums import MemberStatus
from bot.errors import UsageError
from bot.services import admin, home, membership
from bot.services.metrics import cycle_figures, membership_figures
from bot.views import admin as admin_views
from bot.views import membership as views

logger = logging.getLogger(__name__)


def open_join_modal(
    deps: Deps, client: WebClient, *, trigger_id: str, team_id: str, user_id: str
) -> None:
    """Open the join modal, prefilled when the person already has a profile."""
    with deps.unit_of_work() as session:
        workspace = membership.workspace_for(session, team_id, now=deps.clock())
        member = membership.find_member(session, team_id=team_id, user_id=user_id)
        current = (
            membership.profile_of(member) if member and member.status != MemberStatus.LEFT else None
        )
        # Joining means accepting the agreement; a member who accepted this version isn't asked.
        agreement = (
            membership.agreement_of(workspace)
            if membership.needs_agreement(member, workspace)
            else None
        )
        version = workspace.agreement_version
    client.views_open(
        trigger_id=trigger_id,
        view=views.join_modal(current, agreement=agreement, agreement_version=version),
    )


def open_goal_modal(
    deps: Deps, client: WebClient, *, trigger_id: str, team_id: str, user_id: str
) -> None:
    """Open the person's private goal modal, prefilled with their goal.

    Raises UsageError for someone who has not joined.
    """
    client.views_open(
        trigger_id=trigger_id,
        view=views.goal_modal(own_goal(deps, team_id=team_id, user_id=user_id)),
    )


def own_goal(deps: Deps, *, team_id: str, user_id: str) -> str | None:
    """The person's goal, to prefill the goal modal. Raises UsageError for a non-member."""
    with deps.unit_of_work() as session:
        member = membership.find_member(session, team_id=team_id, user_id=user_id)
        if member is None or member.status == MemberStatus.LEFT:
            raise UsageError("Join first (`/peercoach join`), then set your goal.")
        return member.goal


def require_admin(deps: Deps, client: WebClient, *, team_id: str, user_id: str) -> bool:
    """Answer whether the person may run the programme (asking Slack about admin roles)."""
    with deps.unit_of_work() as session:
        if admin.is_added_admin(session, team_id=team_id, user_id=user_id):
            return True
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        logger.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
        return False
    slack_admin = bool(user.get("is_admin") or user.get("is_owner"))
    with deps.unit_of_work() as session:
        return admin.is_admin(
            session, team_id=team_id, user_id=user_id, is_slack_admin=slack_admin, now=deps.clock()
        )


def publish_home(deps: Deps, client: WebClient, *, team_id: str, user_id: str) -> None:
    """Render the person's App Home; admins also see the programme section (aggregates)."""
    now = deps.clock()
    with deps.unit_of_work() as session:
        status = home.member_home(session, team_id=team_id, user_id=user_id, now=now)
    view = views.home_view(status)
    if require_admin(deps, client, team_id=team_id, user_id=user_id):
        with deps.unit_of_work() as session:
            workspace = membership.workspace_for(session, team_id, now=now)
            section = admin_views.admin_home_section(
                membership_figures(session, workspace.id),
                cycle_figures(session, workspace.id, last=8),
                membership.next_round_at(session, workspace, now),
                admin.delivery_health(session, workspace.id),
            )
        view["blocks"] = view["blocks"] + section
    client.views_publish(user_id=user_id, view=view)
