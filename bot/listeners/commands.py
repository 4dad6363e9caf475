"""The /peercoach slash command: parse the subcommand, call a service, answer ephemerally."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot import ids
from bot.deps import Deps
from bot.listeners.common import Answer, answer_in_time, open_join_modal
from bot.listeners.pairing import open_reflection
from bot.schedule import Schedule
from bot.services import membership, pairing
from bot.views import membership as views
from bot.views import reflection as reflection_views


@dataclass(frozen=True)
class Invocation:
    """One /peercoach call, parsed out of Slack's payload."""

    ack: Ack
    client: WebClient
    respond: Respond
    trigger_id: str
    team_id: str
    user_id: str
    channel_id: str
    args: list[str]


Subcommand = Callable[[Deps, Invocation], None]
SUBCOMMANDS: dict[str, Subcommand] = {}


def subcommand(*names: str) -> Callable[[Subcommand], Subcommand]:
    """Register a function as the handler of `/peercoach <name>`."""

    def decorate(handler: Subcommand) -> Subcommand:
        for name in names:
            SUBCOMMANDS[name] = handler
        return handler

    return decorate


def register(app: App, deps: Deps) -> None:
    """Attach the slash command listener."""

    def peercoach_command(
        ack: Ack,
        command: dict[str, Any],
        client: WebClient,
        respond: Respond,
        context: BoltContext,
    ) -> None:
        words = (command.get("text") or "").split()
        name, args = (words[0].lower(), words[1:]) if words else ("help", [])
        handler = SUBCOMMANDS.get(name)
        if handler is None:
            ack(**views.help_message(f"I don't know `{name}`. Here's what I can do:"))
            return
        call = Invocation(
            ack=ack,
            client=client,
            respond=respond,
            trigger_id=command["trigger_id"],
            team_id=context.team_id or command["team_id"],
            user_id=command["user_id"],
            channel_id=command.get("channel_id", ""),
            args=args,
        )
        handler(deps, call)

    app.command(ids.COMMAND)(peercoach_command)


@subcommand("join", "profile", "edit")
def _join(deps: Deps, call: Invocation) -> None:
    open_join_modal(
        deps,
        call.client,
        call.respond,
        trigger_id=call.trigger_id,
        team_id=call.team_id,
        user_id=call.user_id,
    )
    call.ack()


def _pause_until(
    deps: Deps,
    call: Invocation,
    ends: Callable[[Schedule, datetime], datetime],
    reply: Callable[[datetime], str],
) -> None:
    """Pause the caller until `ends(schedule, now)`; answer with `reply(until)`."""
    now = deps.clock()

    def work(session: Session) -> Answer:
        workspace = membership.workspace_for(session, call.team_id, now=now)
        until = ends(membership.schedule_of(workspace), now)
        membership.pause_member(
            session, team_id=call.team_id, user_id=call.user_id, until=until, now=now
        )
        return views.ephemeral(reply(until))

    answer_in_time(deps, call.ack, call.respond, work)


@subcommand("pause")
def _pause(deps: Deps, call: Invocation) -> None:
    _pause_until(
        deps,
        call,
        lambda schedule, now: membership.parse_pause(call.args, now=now, schedule=schedule),
        views.paused_text,
    )


@subcommand("skip")
def _skip(deps: Deps, call: Invocation) -> None:
    _pause_until(
        deps,
        call,
        lambda schedule, now: membership.skip_until(now=now, schedule=schedule),
        views.skipped_text,
    )


@subcommand("resume")
def _resume(deps: Deps, call: Invocation) -> None:
    now = deps.clock()

    def work(session: Session) -> Answer:
        membership.resume_member(session, team_id=call.team_id, user_id=call.user_id, now=now)
        return views.ephemeral(views.RESUMED_TEXT)

    answer_in_time(deps, call.ack, call.respond, work)


@subcommand("status")
def _status(deps: Deps, call: Invocation) -> None:
    with deps.request_unit_of_work() as session:
        status = membership.member_status(
            session, team_id=call.team_id, user_id=call.user_id, now=deps.clock()
        )
    call.ack(**views.ephemeral(views.status_text(status)))


@subcommand("leave")
def _leave(deps: Deps, call: Invocation) -> None:
    with deps.request_unit_of_work() as session:
        member = membership.find_member(session, team_id=call.team_id, user_id=call.user_id)
        is_member = member is not None and member.status != "left"
    if not is_member:
        call.ack(**views.ephemeral("You're not in PeerCoach, so there's nothing to leave."))
        return
    call.ack(**views.leave_confirmation())


@subcommand("reflect")
def _reflect(deps: Deps, call: Invocation) -> None:
    with deps.request_unit_of_work() as session:
        group_id = pairing.latest_group_of(session, team_id=call.team_id, user_id=call.user_id)
    open_reflection(
        deps,
        call.client,
        call.respond,
        trigger_id=call.trigger_id,
        group_id=group_id,
        team_id=call.team_id,
        user_id=call.user_id,
    )
    call.ack()


@subcommand("history")
def _history(deps: Deps, call: Invocation) -> None:
    with deps.request_unit_of_work() as session:
        entries = pairing.history_of(session, team_id=call.team_id, user_id=call.user_id)
    call.ack(**reflection_views.history_message(entries))


@subcommand("help")
def _help(deps: Deps, call: Invocation) -> None:
    call.ack(**views.help_message())
