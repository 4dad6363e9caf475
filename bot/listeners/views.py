"""Modal submissions."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.deps import Deps
from bot.listeners.common import publish_home
from bot.services import membership
from bot.views import membership as views

logger = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    """Attach the view_submission listeners."""

    def join_submitted(
        ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id = context.team_id or "", context.user_id or ""
        profile, errors = views.parse_join_submission(
            view["state"]["values"], user_id=user_id, view_metadata=view.get("private_metadata", "")
        )
        if profile is None:
            ack(response_action="errors", errors=errors)
            return
        ack()
        user = _slack_user(client, user_id)
        offset = user.get("tz_offset") if user else None
        with deps.unit_of_work() as session:
            outcome = membership.save_profile(
                session,
                team_id=team_id,
                user_id=user_id,
                profile=profile,
                tz_name=user.get("tz") if user else None,
                tz_offset_minutes=int(offset) // 60 if offset is not None else None,
                now=deps.clock(),
                slack_user=user,
            )
            member = membership.find_member(session, team_id=team_id, user_id=user_id)
            paused_until = member.paused_until if member else None
        client.chat_postMessage(channel=user_id, text=views.joined_text(outcome, paused_until))
        publish_home(deps, client, team_id=team_id, user_id=user_id)

    def goal_submitted(
        ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id = context.team_id or "", context.user_id or ""
        goal, errors = views.parse_goal(view["state"]["values"])
        if errors:
            ack(response_action="errors", errors=errors)
            return
        with deps.unit_of_work() as session:
            membership.set_goal(
                session, team_id=team_id, user_id=user_id, goal=goal, now=deps.clock()
            )
        ack()
        publish_home(deps, client, team_id=team_id, user_id=user_id)

    def agreement_submitted(
        ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id = context.team_id or "", context.user_id or ""
        version, errors = views.parse_agreement(
            view["state"]["values"], view.get("private_metadata", "")
        )
        if version is None:
            ack(response_action="errors", errors=errors)
            return
        with deps.unit_of_work() as session:
            membership.accept_agreement(
                session, team_id=team_id, user_id=user_id, version=version, now=deps.clock()
            )
        ack()
        client.chat_postMessage(
            channel=user_id, text="Thanks: you're back in the rounds from the next one."
        )
        publish_home(deps, client, team_id=team_id, user_id=user_id)

    app.view(ids.JOIN_MODAL)(join_submitted)
    app.view(ids.GOAL_MODAL)(goal_submitted)
    app.view(ids.AGREEMENT_MODAL)(agreement_submitted)


def _slack_user(client: WebClient, user_id: str) -> dict[str, Any] | None:
    """Ask Slack about the person (time zone; guest or not); joining still works without it."""
    try:
        return dict(client.users_info(user=user_id)["user"])
    except SlackApiError as error:
        logger.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
        return None
