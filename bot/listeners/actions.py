"""Buttons on the App Home and in messages."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.deps import Deps
from bot.listeners.common import open_join_modal, refresh_home, respond_later
from bot.services import membership
from bot.views import membership as views


def register(app: App, deps: Deps) -> None:
    """Attach the button listeners."""

    def open_profile(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        open_join_modal(
            deps,
            client,
            respond,
            trigger_id=body["trigger_id"],
            team_id=context.team_id or "",
            user_id=context.user_id or "",
        )
        ack()

    def pause_one_cycle(ack: Ack, client: WebClient, context: BoltContext) -> None:
        ack()
        team_id, user_id, now = context.team_id or "", context.user_id or "", deps.clock()
        with deps.request_unit_of_work() as session:
            workspace = membership.workspace_for(session, team_id, now=now)
            until = membership.parse_pause([], now=now, schedule=membership.schedule_of(workspace))
            membership.pause_member(session, team_id=team_id, user_id=user_id, until=until, now=now)
        refresh_home(deps, client, team_id=team_id, user_id=user_id)

    def resume(ack: Ack, client: WebClient, context: BoltContext) -> None:
        ack()
        team_id, user_id = context.team_id or "", context.user_id or ""
        with deps.request_unit_of_work() as session:
            membership.resume_member(session, team_id=team_id, user_id=user_id, now=deps.clock())
        refresh_home(deps, client, team_id=team_id, user_id=user_id)

    def leave_from_home(ack: Ack, client: WebClient, context: BoltContext) -> None:
        ack()
        team_id, user_id = context.team_id or "", context.user_id or ""
        _leave(deps, team_id, user_id)
        refresh_home(deps, client, team_id=team_id, user_id=user_id)

    def leave_confirmed(
        ack: Ack, respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        ack()
        team_id, user_id = context.team_id or "", context.user_id or ""
        _leave(deps, team_id, user_id)
        respond_later(deps, respond, replace_original=True, text=views.LEFT_TEXT)
        refresh_home(deps, client, team_id=team_id, user_id=user_id)

    def leave_cancelled(ack: Ack, respond: Respond) -> None:
        ack()
        respond_later(deps, respond, replace_original=True, text=views.LEAVE_CANCELLED_TEXT)

    app.action(ids.HOME_JOIN)(open_profile)
    app.action(ids.HOME_EDIT)(open_profile)
    app.action(ids.HOME_PAUSE)(pause_one_cycle)
    app.action(ids.HOME_RESUME)(resume)
    app.action(ids.HOME_LEAVE)(leave_from_home)
    app.action(ids.LEAVE_CONFIRM)(leave_confirmed)
    app.action(ids.LEAVE_CANCEL)(leave_cancelled)


def _leave(deps: Deps, team_id: str, user_id: str) -> None:
    with deps.request_unit_of_work() as session:
        # Already gone is fine: pressing the button twice is not an error.
        membership.leave_member(session, team_id=team_id, user_id=user_id, now=deps.clock())
