"""Buttons in the pairing DMs and the reflection modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.deps import Deps
from bot.jobs.rounds import deliver_workspace
from bot.prompts import load_toolkit
from bot.services import membership, pairing
from bot.views import coaching
from bot.views import membership as membership_views
from bot.views import pairing as messages
from bot.views import reflection as views
from bot.views.blocks import record_id


def open_reflection(
    deps: Deps, client: WebClient, *, trigger_id: str, group_id: int, user_id: str
) -> None:
    """Open the reflection modal for one of the person's pairings."""
    with deps.unit_of_work() as session:
        seat = pairing.seat_context(session, group_id=group_id, user_id=user_id)
        current = pairing.own_reflection(session, group_id=group_id, user_id=user_id)
    client.views_open(
        trigger_id=trigger_id,
        view=views.reflection_modal(group_id, seat.partners, current, goal=seat.own_goal),
    )


def group_of(body: dict[str, Any]) -> int:
    """The group id a pairing button carries; StaleAction if it is not one."""
    return record_id(body["actions"][0].get("value"))


def register(app: App, deps: Deps) -> None:
    """Attach the pairing listeners."""

    def send_notices(team_id: str) -> None:
        """Send what the action queued (a note to partners) now, after the ack."""
        with deps.unit_of_work() as session:
            workspace_id = membership.workspace_for(session, team_id, now=deps.clock()).id
        deps.background.submit(deliver_workspace, deps, workspace_id)

    def we_met(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        group_id = group_of(body)  # before the ack: a forged value is answered in the ack
        ack()
        with deps.unit_of_work() as session:
            first = pairing.record_met(
                session, group_id=group_id, user_id=context.user_id or "", now=deps.clock()
            )
        text = (
            "Noted: you met. :tada: When you have two minutes, press *Reflect*."
            if first
            else "Already noted that you met. Thanks!"
        )
        respond(response_type="ephemeral", replace_original=False, text=text)

    def not_meeting(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        group_id = group_of(body)
        ack()
        with deps.unit_of_work() as session:
            pairing.record_not_meeting(
                session,
                group_id=group_id,
                user_id=context.user_id or "",
                now=deps.clock(),
                tell_partners=body["actions"][0]["action_id"] == ids.CANT_MAKE_IT,
            )
        send_notices(context.team_id or "")
        respond(
            response_type="ephemeral",
            replace_original=False,
            text="Noted. This round won't count as a meeting, so you can be paired again.",
        )

    def reflect(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        group_id = group_of(body)
        ack()
        open_reflection(
            deps,
            client,
            trigger_id=body["trigger_id"],
            group_id=group_id,
            user_id=context.user_id or "",
        )

    def how_to_coach(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(
            trigger_id=body["trigger_id"],
            view=coaching.coaching_guide_modal(load_toolkit().guide),
        )

    def commitment_answered(
        ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        action = body["actions"][0]
        outcome, label = messages.COMMITMENT_OUTCOMES[action["action_id"]]
        reflection_id = record_id(action.get("value"))
        ack()
        with deps.unit_of_work() as session:
            commitment = pairing.record_commitment_outcome(
                session,
                reflection_id=reflection_id,
                user_id=context.user_id or "",
                outcome=outcome,
                now=deps.clock(),
            )
        respond(replace_original=True, text=messages.commitment_answer_text(label, commitment))

    def resume_from_dm(ack: Ack, respond: Respond, context: BoltContext) -> None:
        ack()
        with deps.unit_of_work() as session:
            membership.resume_member(
                session,
                team_id=context.team_id or "",
                user_id=context.user_id or "",
                now=deps.clock(),
            )
        respond(replace_original=True, text=membership_views.RESUMED_TEXT)

    def reflection_submitted(
        ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        entry, errors = views.parse_reflection(view["state"]["values"])
        if entry is None:
            ack(response_action="errors", errors=errors)
            return
        user_id = context.user_id or ""
        with deps.unit_of_work() as session:
            pairing.save_reflection(
                session,
                group_id=views.group_id_of(view),
                user_id=user_id,
                entry=entry,
                now=deps.clock(),
            )
        ack()
        send_notices(context.team_id or "")
        client.chat_postMessage(
            channel=user_id, text="Reflection saved. Only you can see it (`/peercoach history`)."
        )

    app.action(ids.WE_MET)(we_met)
    app.action(ids.CANT_MAKE_IT)(not_meeting)
    app.action(ids.DIDNT_MEET)(not_meeting)
    app.action(ids.OPEN_REFLECTION)(reflect)
    app.action(ids.HOW_TO_COACH)(how_to_coach)
    for action_id in messages.COMMITMENT_OUTCOMES:
        app.action(action_id)(commitment_answered)
    app.action(ids.RESUME_FROM_DM)(resume_from_dm)
    app.view(ids.REFLECTION_MODAL)(reflection_submitted)
