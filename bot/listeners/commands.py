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
from bot.domain.enums import MemberStatus
from bot.domain.programme import programme_name
from bot.listeners.common import Answer, answer_in_time, later, open_goal_modal, open_join_modal
from bot.listeners.pairing import open_reflection
from bot.listeners.privacy import send_my_data
from bot.services import membership, pairing
from bot.views import membership as views
from bot.views import privacy as privacy_views
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
    # `--programme <name>` (the rest of the text after it), when given.
    programme: str | None = None

    def open_modal(self, deps: Deps, opener: Callable[..., None], **options: Any) -> None:
        """Open a modal with one of the common openers (join, goal, settings, preview, org
        chart: each takes deps, client, respond and the ids, plus `options` such as the
        programme, and opens after the ack), then ack."""
        opener(
            deps,
            self.client,
            self.respond,
            trigger_id=self.trigger_id,
            team_id=self.team_id,
            user_id=self.user_id,
            **options,
        )
        self.ack()


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
        words, programme = split_programme((command.get("text") or "").split())
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
            programme=programme,
        )
        handler(deps, call)

    app.command(ids.COMMAND)(peercoach_command)


def split_programme(words: list[str]) -> tuple[list[str], str | None]:
    """Take `--programme <name>` (or `-p <name>`) off the end of a command's words: the name
    is everything after the flag (names may have spaces). Returns (words, name or None)."""
    for flag in ("--programme", "--program", "-p"):
        if flag in words:
            at = words.index(flag)
            name = programme_name(" ".join(words[at + 1 :]))
            return words[:at], name or None
    return words, None


@subcommand("join", "profile", "edit")
def _join(deps: Deps, call: Invocation) -> None:
    """`/peercoach join [<programme>]`: with one open programme (or a name), its join modal;
    with several open ones, a picker. `profile` / `edit`: the person's own programme."""
    programme: int | str | None = call.programme or (" ".join(call.args) or None)
    if programme is None:
        with deps.request_unit_of_work() as session:
            choice = membership.join_choice(
                session, team_id=call.team_id, user_id=call.user_id, now=deps.clock()
            )
        if isinstance(choice, list):
            if not choice:
                call.ack(**views.ephemeral(views.no_open_programme_text()))
            else:
                call.ack(**views.join_picker(choice))
            return
        programme = choice
    call.open_modal(deps, open_join_modal, programme=programme)


def _pause_for_rounds(
    deps: Deps, call: Invocation, args: list[str] | None, reply: Callable[[datetime], str]
) -> None:
    """Pause the caller (`args` None: skip the next round); answer with `reply(back)`, the
    start of the first round they are back for."""
    now = deps.clock()

    def work(session: Session) -> Answer:
        back = membership.pause_for_rounds(
            session,
            team_id=call.team_id,
            user_id=call.user_id,
            args=args,
            now=now,
            programme=call.programme,
        )
        return views.ephemeral(reply(back))

    answer_in_time(deps, call.ack, call.respond, work)


@subcommand("pause")
def _pause(deps: Deps, call: Invocation) -> None:
    _pause_for_rounds(deps, call, call.args, views.paused_text)


@subcommand("skip")
def _skip(deps: Deps, call: Invocation) -> None:
    _pause_for_rounds(deps, call, None, views.skipped_text)


@subcommand("resume")
def _resume(deps: Deps, call: Invocation) -> None:
    now = deps.clock()

    def work(session: Session) -> Answer:
        membership.resume_member(
            session,
            team_id=call.team_id,
            user_id=call.user_id,
            now=now,
            programme=call.programme,
        )
        return views.ephemeral(views.RESUMED_TEXT)

    answer_in_time(deps, call.ack, call.respond, work)


@subcommand("status")
def _status(deps: Deps, call: Invocation) -> None:
    # A read (no session needed) unless a pause has ended: resuming is a write.
    with deps.request_read() as connection:
        status = membership.read_status(
            connection,
            team_id=call.team_id,
            user_id=call.user_id,
            now=deps.clock(),
            programme=call.programme,
        )
    if status is None:
        with deps.request_unit_of_work() as session:
            status = membership.member_status(
                session,
                team_id=call.team_id,
                user_id=call.user_id,
                now=deps.clock(),
                programme=call.programme,
            )
    call.ack(**views.ephemeral(views.status_text(status)))


@subcommand("leave")
def _leave(deps: Deps, call: Invocation) -> None:
    with deps.request_unit_of_work() as session:
        member = membership.find_member(
            session, team_id=call.team_id, user_id=call.user_id, programme=call.programme
        )
        is_member = member is not None and member.status != MemberStatus.LEFT
        programme_id = member.programme_id if member is not None else None
        name = member.programme.name if member is not None else None
    if not is_member:
        call.ack(**views.ephemeral("You're not in PeerCoach, so there's nothing to leave."))
        return
    call.ack(**views.leave_confirmation(programme_id, name))


@subcommand("reflect")
def _reflect(deps: Deps, call: Invocation) -> None:
    with deps.request_unit_of_work() as session:
        group_id = pairing.latest_group_of(
            session, team_id=call.team_id, user_id=call.user_id, programme=call.programme
        )
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
        entries = pairing.history_of(
            session, team_id=call.team_id, user_id=call.user_id, programme=call.programme
        )
    call.ack(**reflection_views.history_message(entries))


@subcommand("my-data")
def _my_data(deps: Deps, call: Invocation) -> None:
    call.ack(**views.ephemeral(privacy_views.EXPORT_COMING_TEXT))
    later(deps, send_my_data, deps, call.client, team_id=call.team_id, user_id=call.user_id)


@subcommand("delete-my-data")
def _delete_my_data(deps: Deps, call: Invocation) -> None:
    call.ack(**privacy_views.delete_confirmation())


@subcommand("goal")
def _goal(deps: Deps, call: Invocation) -> None:
    """`/peercoach goal`: set or change one's private development goal."""
    call.open_modal(deps, open_goal_modal, programme=call.programme)


@subcommand("help")
def _help(deps: Deps, call: Invocation) -> None:
    call.ack(**views.help_message())
