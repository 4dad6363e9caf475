"""Events API subscriptions."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.deps import Deps
from bot.listeners.common import refresh_home


def register(app: App, deps: Deps) -> None:
    """Attach the event listeners."""

    def home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        # Bolt acks events before the listener runs; the render and views.publish run in the
        # background (dropped, with a log line, if it is full: the next open renders again).
        if event.get("tab", "home") != "home":
            return
        refresh_home(deps, client, team_id=context.team_id or "", user_id=event["user"])

    app.event("app_home_opened")(home_opened)
