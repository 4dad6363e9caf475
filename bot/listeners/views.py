"""Modal submissions."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids
from bot.deps import Deps
from bot.listeners.common import (
    dm_through_outbox,
    fill_time_zone,
    later,
    publish_home,
    quick,
    refresh_home,
    send_outbox_soon,
    slack_user,
)
from bot.services import admin, membership
from bot.views import membership as views
from bot.views.blocks import programme_in_metadata

AGREED_TEXT = "Thanks: you're back in the rounds from the next one."


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
        # Who may take part (guests, outsiders): users.info with a short timeout and no
        # retries, so the ack still fits Slack's 3 s. If Slack won't say now, the join goes
        # ahead and the round-time check (rounds' why_not_pairable) decides instead.
        user = slack_user(quick(client), user_id)
        if user is not None:
            deps.admin_cache.put(team_id, user_id, user.is_admin)
        # The join (and its welcome DM, in the outbox) is stored before the ack, so a join the
        # modal closed on is never lost; if the database is too busy, errors.Busy keeps the
        # modal open with a "try again" and nothing is stored.
        programme = programme_in_metadata(view.get("private_metadata", ""))
        with deps.request_unit_of_work() as session:
            if programme is None:  # a modal of the workspace's only (first) programme
                programme = membership.programme_for(
                    session, team_id=team_id, programme=None, now=deps.clock()
                ).id
            outcome = membership.save_profile(
                session,
                team_id=team_id,
                user_id=user_id,
                profile=profile,
                tz_name=user.tz_name if user else None,
                tz_offset_minutes=user.tz_offset_minutes if user else None,
                now=deps.clock(),
                slack_user=user.record if user else None,
                programme=programme,
            )
            if user is not None:  # Slack's word on their role, for their App Home
                admin.record_slack_role(
                    session,
                    team_id=team_id,
                    user_id=user_id,
                    is_admin=user.is_admin,
                    now=deps.clock(),
                )
            member = membership.find_member(
                session, team_id=team_id, user_id=user_id, programme=programme
            )
            paused_until = member.paused_until if member else None
            workspace_id = dm_through_outbox(
                deps,
                session,
                team_id=team_id,
                user_id=user_id,
                text=views.joined_text(outcome, paused_until),
                key=f"joined:{view.get('id')}:{view.get('hash')}",
            )
        ack()
        # After the ack, all optional: the welcome DM's delivery, the time zone if Slack did
        # not say it in time (asked again at the next App Home render), the App Home refresh.
        send_outbox_soon(deps, workspace_id)
        if user is None or user.tz_name is None:
            later(deps, _after_join, deps, client, team_id=team_id, user_id=user_id)
        else:
            refresh_home(deps, client, team_id=team_id, user_id=user_id)

    def goal_submitted(
        ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id = context.team_id or "", context.user_id or ""
        goal, errors = views.parse_goal(view["state"]["values"])
        if errors:
            ack(response_action="errors", errors=errors)
            return
        with deps.request_unit_of_work() as session:
            membership.set_goal(
                session,
                team_id=team_id,
                user_id=user_id,
                goal=goal,
                now=deps.clock(),
                programme=programme_in_metadata(view.get("private_metadata", "")),
            )
        ack()
        refresh_home(deps, client, team_id=team_id, user_id=user_id)

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
        with deps.request_unit_of_work() as session:
            membership.accept_agreement(
                session,
                team_id=team_id,
                user_id=user_id,
                version=version,
                now=deps.clock(),
                programme=programme_in_metadata(view.get("private_metadata", "")),
            )
            workspace_id = dm_through_outbox(
                deps,
                session,
                team_id=team_id,
                user_id=user_id,
                text=AGREED_TEXT,
                key=f"agreed:{view.get('id')}:{view.get('hash')}",
            )
        ack()
        send_outbox_soon(deps, workspace_id)
        refresh_home(deps, client, team_id=team_id, user_id=user_id)

    app.view(ids.JOIN_MODAL)(join_submitted)
    app.view(ids.GOAL_MODAL)(goal_submitted)
    app.view(ids.AGREEMENT_MODAL)(agreement_submitted)


def _after_join(deps: Deps, client: WebClient, *, team_id: str, user_id: str) -> None:
    fill_time_zone(deps, client, team_id=team_id, user_id=user_id)
    publish_home(deps, client, team_id=team_id, user_id=user_id)
