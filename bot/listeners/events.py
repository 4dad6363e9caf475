"""Events API subscriptions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import InstallationStore

from bot.deps import Deps
from bot.listeners.common import NOT_SLACK_ADMIN, refresh_home
from bot.services import admin, lifecycle, membership


def register(app: App, deps: Deps) -> None:
    """Attach the event listeners."""

    def home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        # Bolt acks events before the listener runs; the render and views.publish run in the
        # background (dropped, with a log line, if it is full: the next open renders again).
        if event.get("tab", "home") != "home":
            return
        refresh_home(
            deps, client, team_id=context.team_id or "", user_id=event["user"], opened=True
        )

    def app_uninstalled(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        """Stop all work for the workspace now; its data goes after the grace period."""
        team_id = context.team_id or body.get("team_id") or ""
        with deps.unit_of_work() as session:
            lifecycle.uninstalled(session, team_id=team_id, now=deps.clock())
        if deps.installation_store is not None:
            _revocations(deps.installation_store).handle_app_uninstalled_events(context)

    def tokens_revoked(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        """A revoked bot token leaves the app without a voice here: stop, as on uninstall."""
        if event.get("tokens", {}).get("bot"):
            with deps.unit_of_work() as session:
                lifecycle.uninstalled(
                    session, team_id=context.team_id or body.get("team_id") or "", now=deps.clock()
                )
        if deps.installation_store is not None:
            _revocations(deps.installation_store).handle_tokens_revoked_events(event, context)

    def user_changed(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        """A deactivated account leaves the programme and is never paired again. Otherwise
        Slack's word on the person's role and time zone is kept: the role of a member
        already recorded (what their App Home goes by without users.info), a member's zone;
        unless Slack answered users.info about them after the event happened (a late or
        retried event is old news)."""
        user = event.get("user") or {}
        if not user.get("id"):
            return
        team_id, user_id = context.team_id or user.get("team_id") or "", str(user["id"])
        if user.get("deleted"):
            with deps.unit_of_work() as session:
                lifecycle.account_deactivated(
                    session, team_id=team_id, user_id=user_id, now=deps.clock()
                )
            return
        # Nothing this process remembers of their role outlives the change: an admin action
        # asks Slack again, the App Home reads slack_roles again.
        deps.admin_cache.forget(team_id, user_id)
        deps.admin_answers.forget(NOT_SLACK_ADMIN, team_id, user_id)
        tz_name, offset = user.get("tz"), user.get("tz_offset")
        with deps.unit_of_work() as session:
            news = admin.slack_role_changed(
                session,
                team_id=team_id,
                user_id=user_id,
                is_admin=user.get("is_admin") is True or user.get("is_owner") is True,
                now=_happened_at(body, deps.clock()),
            )
            if news is not None and isinstance(tz_name, str) and isinstance(offset, int):
                membership.set_time_zone(
                    session,
                    team_id=team_id,
                    user_id=user_id,
                    tz_name=tz_name,
                    tz_offset_minutes=offset // 60,
                )

    app.event("app_home_opened")(home_opened)
    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)
    app.event("user_change")(user_changed)


def _happened_at(body: dict[str, Any], now: datetime) -> datetime:
    """When Slack says an event happened (the envelope's `event_time`, whole Unix seconds:
    taken as the end of that second, so that a users.info answer recorded within the same
    second does not outrank it), never later than `now`; `now` when the envelope does not
    say."""
    stamp = body.get("event_time")
    if isinstance(stamp, int) and not isinstance(stamp, bool):
        try:
            return min(datetime.fromtimestamp(stamp + 1, UTC), now)
        except (OverflowError, OSError, ValueError):
            return now
    return now


def _revocations(store: InstallationStore) -> TokenRevocationListeners:
    """slack-sdk's clean-up of stored installations and tokens."""
    return TokenRevocationListeners(store)
