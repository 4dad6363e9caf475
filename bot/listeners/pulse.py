"""The anonymous feedback pulse: its DM's button opens the modal; the modal's answer."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.deps import Deps
from bot.listeners.common import open_view_later
from bot.services import pulse
from bot.views import pulse as views
from bot.views.blocks import record_id


def register(app: App, deps: Deps) -> None:
    """Attach the pulse listeners."""

    def open_pulse(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        pulse_id = record_id(body["actions"][0].get("value"))  # a forged value: out of date
        team_id, user_id = context.team_id or "", context.user_id or ""
        with deps.request_unit_of_work() as session:
            pulse.check_can_answer(session, team_id=team_id, user_id=user_id, pulse_id=pulse_id)
        open_view_later(
            deps,
            client,
            respond,
            trigger_id=body["trigger_id"],
            view=views.pulse_modal(pulse_id),
            team_id=team_id,
            user_id=user_id,
        )
        ack()

    def pulse_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        answer, errors = views.parse_pulse(view["state"]["values"])
        if answer is None:
            ack(response_action="errors", errors=errors)
            return
        with deps.request_unit_of_work() as session:
            stored = pulse.record_answer(
                session,
                team_id=context.team_id or "",
                user_id=context.user_id or "",
                pulse_id=views.pulse_id_of(view),
                answer=answer,
            )
        ack(response_action="update", view=views.pulse_thanks_view(stored))

    app.action(ids.PULSE_OPEN)(open_pulse)
    app.view(ids.PULSE_MODAL)(pulse_submitted)
