"""Serving Slack over Socket Mode: the same Bolt app, requests arriving as WebSocket envelopes."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot import observability


class ObservedSocketModeHandler(SocketModeHandler):
    """Bolt's Socket Mode handler (slack-sdk's built-in client), each envelope in a request scope.

    Like the HTTP path, an envelope gets a request id for its log lines (carried into the
    listener threads) and its time until the acknowledgement goes to the latency metrics.
    """

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        with observability.slack_request():
            super().handle(client, req)


def make_socket_handler(app: App, app_token: str, **options: Any) -> ObservedSocketModeHandler:
    """A Socket Mode handler for `app` (from `create_app`) using the app-level token (xapp-...).

    `options` go to slack-bolt's SocketModeHandler (e.g. `ping_interval`, seconds). Call
    `connect()` to run in the background or `start()` to block.
    """
    return ObservedSocketModeHandler(app, app_token, **options)
