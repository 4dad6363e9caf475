"""Buttons in the pairing DMs and the reflection modal."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.deps import Deps
from bot.listeners.common import (
    dm_through_outbox,
    open_view_later,
    respond_later,
    send_outbox_soon,
)
from bot.prompts import load_toolkit
from bot.services import keep_meeting, membership, pairing, rescue
from bot.views import coaching
from bot.views import membership as membership_views
from bot.views import pairing as messages
from bot.views import reflection as views
from bot.views.blocks import record_id

SAVED_TEXT = "Reflection saved. Only you can see it (`/peercoach history`)."


def open_reflection(
    deps: Deps,
    client: WebClient,
    respond: Respond | None,
    *,
    trigger_id: str,
    group_id: int,
    team_id: str,
    user_id: str,
) -> None:
    """Open the reflection modal for one of the person's pairings (right after the ack)."""
    with deps.request_unit_of_work() as session:
        seat = pairing.seat_context(session, team_id=team_id, group_id=group_id, user_id=user_id)
        current = pairing.own_reflection(
            session, team_id=team_id, group_id=group_id, user_id=user_id
        )
    view = views.reflection_modal(group_id, seat.partners, current, goal=seat.own_goal)
    open_view_later(
        deps, client, respond, trigger_id=trigger_id, view=view, team_id=team_id, user_id=user_id
    )


def group_of(body: dict[str, Any]) -> int:
    """The group id a pairing button carries; StaleAction if it is not one."""
    return record_id(body["actions"][0].get("value"))


def register(app: App, deps: Deps) -> None:
    """Attach the pairing listeners."""

    def we_met(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        group_id = group_of(body)  # before the ack: a forged value is answered in the ack
        ack()
        with deps.request_unit_of_work() as session:
            first = pairing.record_met(
                session,
                team_id=context.team_id or "",
                group_id=group_id,
                user_id=context.user_id or "",
                now=deps.clock(),
            )
        text = (
            "Noted: you met. :tada: When you have two minutes, press *Reflect*."
            if first
            else "Already noted that you met. Thanks!"
        )
        respond_later(deps, respond, response_type="ephemeral", replace_original=False, text=text)

    def not_meeting(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        group_id = group_of(body)
        ack()
        now = deps.clock()
        team_id, user_id = context.team_id or "", context.user_id or ""
        with deps.request_unit_of_work() as session:
            if body["actions"][0]["action_id"] == ids.CANT_MAKE_IT:
                rescue.cant_make_it(
                    session, team_id=team_id, group_id=group_id, user_id=user_id, now=now
                )
            else:
                pairing.record_not_meeting(
                    session,
                    team_id=team_id,
                    group_id=group_id,
                    user_id=user_id,
                    now=now,
                    tell_partners=False,
                )
            # The group's workspace: the service refused a group of any other.
            workspace_id = membership.workspace_for(session, team_id, now=now).id
        send_outbox_soon(deps, workspace_id)
        respond_later(
            deps,
            respond,
            response_type="ephemeral",
            replace_original=False,
            text="Noted. This round won't count as a meeting, so you can be paired again.",
        )

    def reflect(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        group_id = group_of(body)  # before anything else: a forged value is out of date
        open_reflection(
            deps,
            client,
            respond,
            trigger_id=body["trigger_id"],
            group_id=group_id,
            team_id=context.team_id or "",
            user_id=context.user_id or "",
        )
        ack()

    def how_to_coach(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        open_view_later(
            deps,
            client,
            respond,
            trigger_id=body["trigger_id"],
            view=coaching.coaching_guide_modal(load_toolkit().guide),
            team_id=context.team_id or "",
            user_id=context.user_id or "",
        )
        ack()

    def commitment_answered(
        ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        action = body["actions"][0]
        outcome, label = messages.COMMITMENT_OUTCOMES[action["action_id"]]
        reflection_id = record_id(action.get("value"))
        with deps.request_unit_of_work() as session:
            commitment = pairing.record_commitment_outcome(
                session,
                team_id=context.team_id or "",
                reflection_id=reflection_id,
                user_id=context.user_id or "",
                outcome=outcome,
                now=deps.clock(),
            )
        ack()
        respond_later(
            deps,
            respond,
            replace_original=True,
            text=messages.commitment_answer_text(label, commitment),
        )

    def keep_meeting_chosen(
        ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        group_id, rounds = messages.parse_keep_value(body["actions"][0].get("value"))
        team_id, user_id, now = context.team_id or "", context.user_id or "", deps.clock()
        with deps.request_unit_of_work() as session:
            choice = keep_meeting.choose(
                session, team_id=team_id, group_id=group_id, user_id=user_id, rounds=rounds, now=now
            )
            # The group's workspace: the service refused a group of any other.
            workspace_id = membership.workspace_for(session, team_id, now=now).id
        ack()
        send_outbox_soon(deps, workspace_id)
        answer = messages.keep_meeting_chosen(group_id, choice.agreed, choice.rounds)
        respond_later(deps, respond, replace_original=True, text=answer.text, blocks=answer.blocks)

    def keep_meeting_ended(
        ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        group_id = group_of(body)
        team_id, user_id, now = context.team_id or "", context.user_id or "", deps.clock()
        with deps.request_unit_of_work() as session:
            keep_meeting.end(session, team_id=team_id, group_id=group_id, user_id=user_id, now=now)
            # The group's workspace: the service refused a group of any other.
            workspace_id = membership.workspace_for(session, team_id, now=now).id
        ack()
        send_outbox_soon(deps, workspace_id)
        respond_later(deps, respond, replace_original=True, text=messages.KEEP_MEETING_STOPPED_TEXT)

    def resume_from_dm(ack: Ack, respond: Respond, context: BoltContext) -> None:
        ack()
        with deps.request_unit_of_work() as session:
            membership.resume_member(
                session,
                team_id=context.team_id or "",
                user_id=context.user_id or "",
                now=deps.clock(),
            )
        respond_later(deps, respond, replace_original=True, text=membership_views.RESUMED_TEXT)

    def reflection_submitted(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        entry, errors = views.parse_reflection(view["state"]["values"])
        if entry is None:
            ack(response_action="errors", errors=errors)
            return
        team_id, user_id, now = context.team_id or "", context.user_id or "", deps.clock()
        # Stored before the ack, within the request's database budget (errors.Busy, shown
        # inline in the modal, if the database is too busy: then nothing was stored).
        with deps.request_unit_of_work() as session:
            pairing.save_reflection(
                session,
                team_id=team_id,
                group_id=views.group_id_of(view),
                user_id=user_id,
                entry=entry,
                now=now,
            )
            workspace_id = dm_through_outbox(
                deps,
                session,
                team_id=team_id,
                user_id=user_id,
                text=SAVED_TEXT,
                key=f"reflection_saved:{view.get('id')}:{view.get('hash')}",
            )
        ack()
        send_outbox_soon(deps, workspace_id)

    app.action(ids.WE_MET)(we_met)
    app.action(ids.CANT_MAKE_IT)(not_meeting)
    app.action(ids.DIDNT_MEET)(not_meeting)
    app.action(ids.OPEN_REFLECTION)(reflect)
    app.action(ids.HOW_TO_COACH)(how_to_coach)
    for action_id in messages.COMMITMENT_OUTCOMES:
        app.action(action_id)(commitment_answered)
    app.action(re.compile(rf"^{ids.KEEP_MEETING}_\d$"))(keep_meeting_chosen)
    app.action(ids.KEEP_MEETING_END)(keep_meeting_ended)
    app.action(ids.RESUME_FROM_DM)(resume_from_dm)
    app.view(ids.REFLECTION_MODAL)(reflection_submitted)
