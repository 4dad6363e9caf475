"""The production HTTP surface: POST /slack/events for Slack, GET /healthz for probes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine

from db.session import database_is_reachable

SLACK_PATH = "/slack/events"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_wsgi_app(app: App, engine: Engine) -> WsgiApp:
    """A WSGI app routing Slack's requests to Bolt and answering health checks itself."""
    slack = SlackRequestHandler(app, path=SLACK_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            healthy = database_is_reachable(engine)
            status = "200 OK" if healthy else "503 Service Unavailable"
            body = b"ok" if healthy else b"database unreachable"
            start_response(
                status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return slack(environ, start_response)

    return wsgi
