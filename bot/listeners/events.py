"""Events API subscriptions."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import InstallationStore

from bot.deps import Deps
from bot.listeners.common import refresh_home
from bot.services import lifecycle


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

    def user_changed(event: dict[str, Any], context: BoltContext) -> None:
        """A deactivated account leaves the programme and is never paired again."""
        user = event.get("user") or {}
        if not user.get("deleted") or not user.get("id"):
            return
        with deps.unit_of_work() as session:
            lifecycle.account_deactivated(
                session,
                team_id=context.team_id or user.get("team_id") or "",
                user_id=str(user["id"]),
                now=deps.clock(),
            )

    app.event("app_home_opened")(home_opened)
    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)
    app.event("user_change")(user_changed)


def _revocations(store: InstallationStore) -> TokenRevocationListeners:
    """slack-sdk's clean-up of stored installations and tokens."""
    return TokenRevocationListeners(store)
