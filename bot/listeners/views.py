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
    send_outbox_soon,
)
from bot.services import membership
from bot.views import membership as views


def register(app: App, deps: Deps) -> None:
    """Attach the view_submission listeners."""

    def join_submitted(
        ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id = context.team_id or "", context.user_id or ""
        profile, errors = views.parse_join_submission(view["state"]["values"], user_id=user_id)
        if profile is None:
            ack(response_action="errors", errors=errors)
            return
        # The join (and its welcome DM, in the outbox) is stored before the ack, so a join the
        # modal closed on is never lost; if the database is too busy, errors.Busy keeps the
        # modal open with a "try again" and nothing is stored.
        with deps.request_unit_of_work() as session:
            outcome = membership.save_profile(
                session,
                team_id=team_id,
                user_id=user_id,
                profile=profile,
                tz_name=None,
                tz_offset_minutes=None,
                now=deps.clock(),
            )
            workspace_id = dm_through_outbox(
                deps,
                session,
                team_id=team_id,
                user_id=user_id,
                text=views.joined_text(outcome),
                key=f"joined:{view.get('id')}:{view.get('hash')}",
            )
        ack()
        # After the ack, all optional: the time zone (asked again at the next App Home
        # render if Slack won't say now), the welcome DM's delivery, the App Home refresh.
        send_outbox_soon(deps, workspace_id)
        later(deps, _after_join, deps, client, team_id=team_id, user_id=user_id)

    app.view(ids.JOIN_MODAL)(join_submitted)


def _after_join(deps: Deps, client: WebClient, *, team_id: str, user_id: str) -> None:
    fill_time_zone(deps, client, team_id=team_id, user_id=user_id)
    publish_home(deps, client, team_id=team_id, user_id=user_id)
