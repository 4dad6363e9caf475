"""Buttons on the App Home and in messages."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.deps import Deps
from bot.listeners.common import (
    open_goal_modal,
    open_join_modal,
    open_view_later,
    refresh_home,
    respond_later,
)
from bot.services import membership
from bot.views import membership as views
from bot.views import privacy as privacy_views
from bot.views.blocks import record_id


def register(app: App, deps: Deps) -> None:
    """Attach the button listeners."""

    def opening(opener: Any) -> Any:
        """A button listener that opens one of the person's modals right after its ack
        (the database read before it, views.open in the background)."""

        def listener(
            ack: Ack,
            body: dict[str, Any],
            client: WebClient,
            respond: Respond,
            context: BoltContext,
        ) -> None:
            opener(
                deps,
                client,
                respond,
                trigger_id=body["trigger_id"],
                team_id=context.team_id or "",
                user_id=context.user_id or "",
                programme=programme_of(body),
            )
            ack()

        return listener

    open_profile = opening(open_join_modal)

    def pause_one_cycle(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        ack()
        team_id, user_id = context.team_id or "", context.user_id or ""
        with deps.request_unit_of_work() as session:  # the same rule as `/peercoach pause`
            membership.pause_for_rounds(
                session,
                team_id=team_id,
                user_id=user_id,
                args=[],
                now=deps.clock(),
                programme=programme_of(body),
            )
        refresh_home(deps, client, team_id=team_id, user_id=user_id)

    def resume(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        ack()
        team_id, user_id = context.team_id or "", context.user_id or ""
        with deps.request_unit_of_work() as session:
            membership.resume_member(
                session,
                team_id=team_id,
                user_id=user_id,
                now=deps.clock(),
                programme=programme_of(body),
            )
        refresh_home(deps, client, team_id=team_id, user_id=user_id)

    def leave_from_home(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        ack()
        team_id, user_id = context.team_id or "", context.user_id or ""
        _leave(deps, team_id, user_id, programme_of(body))
        refresh_home(deps, client, team_id=team_id, user_id=user_id)

    def leave_confirmed(
        ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        ack()
        team_id, user_id = context.team_id or "", context.user_id or ""
        text = views.left_text(_leave(deps, team_id, user_id, programme_of(body)))
        respond_later(
            deps,
            respond,
            replace_original=True,
            text=text,
            blocks=privacy_views.left_blocks(text),
        )
        refresh_home(deps, client, team_id=team_id, user_id=user_id)

    def leave_cancelled(ack: Ack, respond: Respond) -> None:
        ack()
        respond_later(deps, respond, replace_original=True, text=views.LEAVE_CANCELLED_TEXT)

    open_goal = opening(open_goal_modal)

    def review_agreement(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
    ) -> None:
        team_id, user_id = context.team_id or "", context.user_id or ""
        with deps.request_unit_of_work() as session:
            programme = membership.programme_for(
                session,
                team_id=team_id,
                programme=programme_of(body, after_bar=True),
                now=deps.clock(),
            )
            text, version = membership.agreement_of(programme), programme.agreement_version
            programme_id = programme.id
        open_view_later(
            deps,
            client,
            respond,
            trigger_id=body["trigger_id"],
            view=views.agreement_modal(text, version, programme_id),
            team_id=team_id,
            user_id=user_id,
        )
        ack()

    app.action(ids.HOME_GOAL)(open_goal)
    app.action(ids.AGREEMENT_REVIEW)(review_agreement)
    app.action(ids.HOME_JOIN)(open_profile)
    app.action(ids.JOIN_PROGRAMME)(open_profile)
    app.action(ids.HOME_EDIT)(open_profile)
    app.action(ids.HOME_PAUSE)(pause_one_cycle)
    app.action(ids.HOME_RESUME)(resume)
    app.action(ids.HOME_LEAVE)(leave_from_home)
    app.action(ids.LEAVE_CONFIRM)(leave_confirmed)
    app.action(ids.LEAVE_CANCEL)(leave_cancelled)


def _leave(deps: Deps, team_id: str, user_id: str, programme: int | None = None) -> str | None:
    """Leave the programme; returns its name (None: the person was not in it)."""
    with deps.request_unit_of_work() as session:
        # Already gone is fine: pressing the button twice is not an error.
        left = membership.leave_member(
            session, team_id=team_id, user_id=user_id, now=deps.clock(), programme=programme
        )
        return left.programme.name if left is not None else None


def programme_of(body: dict[str, Any], *, after_bar: bool = False) -> int | None:
    """The programme id a button carries as its value, or after a `|` in it (`after_bar`:
    buttons whose value carries something else first). None: a button of the time before
    programmes, or one that names none (the person's only programme)."""
    try:
        value = body["actions"][0].get("value") or ""
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    if not isinstance(value, str) or (after_bar and "|" not in value):
        return None
    head = value.split("|")[-1] if after_bar else value
    return record_id(head) if head else None
