"""Meeting times: pick a suggested slot, "doesn't work for me", a calendar invite, and the
working hours modal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.deps import Deps
from bot.errors import UsageError
from bot.listeners.actions import programme_of
from bot.listeners.common import open_view_later, refresh_home, respond_later, send_outbox_soon
from bot.services import meetings, membership
from bot.views import meetings as views
from bot.views.blocks import record_pair
from bot.views.pairing import meeting_time, mention


def register(app: App, deps: Deps) -> None:
    """Attach the meeting-time listeners."""

    def pick(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        group_id, number = record_pair(body["actions"][0].get("value"))
        team_id, user_id, now = context.team_id or "", context.user_id or "", deps.clock()
        with deps.request_unit_of_work() as session:
            outcome = meetings.pick_slot(
                session,
                team_id=team_id,
                group_id=group_id,
                user_id=user_id,
                index=number - 1,
                now=now,
            )
            # The group's workspace: the service refused a group of any other.
            workspace_id = membership.workspace_for(session, team_id, now=now).id
        ack()
        send_outbox_soon(deps, workspace_id)
        if outcome.picked:
            text = f"Picked {meeting_time(outcome.start)} for everyone. I'll remind you all."
        else:
            who = mention(outcome.by) if outcome.by else "PeerCoach"
            text = f"{who} picked {meeting_time(outcome.start)} already: see the intro."
        respond_later(deps, respond, response_type="ephemeral", replace_original=False, text=text)

    def group_action(
        act: Callable[..., bool], done: str, already: str
    ) -> Callable[[Ack, dict[str, Any], Respond, BoltContext], None]:
        """A button on a picked time (value "group:version"): `act` records it for the
        presser, and they are told `done`, or `already` when it had been recorded before."""

        def listener(
            ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
        ) -> None:
            group_id, version = record_pair(body["actions"][0].get("value"))
            team_id, user_id, now = context.team_id or "", context.user_id or "", deps.clock()
            with deps.request_unit_of_work() as session:
                recorded = act(
                    session,
                    team_id=team_id,
                    group_id=group_id,
                    user_id=user_id,
                    version=version,
                    now=now,
                )
                # The group's workspace: the service refused a group of any other.
                workspace_id = membership.workspace_for(session, team_id, now=now).id
            ack()
            send_outbox_soon(deps, workspace_id)
            text = done if recorded else already
            respond_later(
                deps, respond, response_type="ephemeral", replace_original=False, text=text
            )

        return listener

    doesnt_work = group_action(
        meetings.reopen_pick,
        "Noted: the time is open again, and the intro shows the choices.",
        "That time was already changed: the intro shows where things stand.",
    )
    add_to_calendar = group_action(
        meetings.request_invite,
        "I'm sending the calendar invite to your DM with me (only you see it).",
        "I've sent you this invite already: it's in your DM with me.",
    )

    def open_hours(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        team_id, user_id = context.team_id or "", context.user_id or ""
        with deps.request_unit_of_work() as session:
            member = membership.find_member(
                session, team_id=team_id, user_id=user_id, programme=programme_of(body)
            )
            profile = membership.profile_of(member) if member else None
            if profile is None:
                raise UsageError("Join first (`/peercoach join`), then set your working hours.")
        open_view_later(
            deps,
            client,
            respond,
            trigger_id=body["trigger_id"],
            view=views.working_hours_modal(profile.working_hours),
            team_id=team_id,
            user_id=user_id,
        )
        ack()

    def hours_submitted(
        ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        hours, errors = views.parse_working_hours(view["state"]["values"])
        if hours is None:
            ack(response_action="errors", errors=errors)
            return
        team_id, user_id = context.team_id or "", context.user_id or ""
        with deps.request_unit_of_work() as session:
            meetings.set_working_hours(
                session, team_id=team_id, user_id=user_id, hours=hours, now=deps.clock()
            )
        ack()
        refresh_home(deps, client, team_id=team_id, user_id=user_id)

    app.action(ids.PICK_SLOT)(pick)
    app.action(ids.TIME_DOESNT_WORK)(doesnt_work)
    app.action(ids.ADD_TO_CALENDAR)(add_to_calendar)
    app.action(ids.HOME_WORKING_HOURS)(open_hours)
    app.view(ids.WORKING_HOURS_MODAL)(hours_submitted)
