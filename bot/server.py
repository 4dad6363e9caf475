"""The production HTTP surface: POST /slack/events for Slack, GET /healthz and GET /metrics.

/healthz and /metrics are for the internal network (load balancer, Prometheus), not for Slack:
route only /slack/events from the internet. With METRICS_TOKEN set, /metrics also asks for
`Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine

from bot import observability
from bot.deps import utc_now
from db.session import database_is_reachable

SLACK_PATH = "/slack/events"
METRICS_PATH = "/metrics"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_wsgi_app(
    app: App,
    engine: Engine,
    *,
    metrics_token: str | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> WsgiApp:
    """A WSGI app routing Slack's requests to Bolt and answering health checks and scrapes.

    Each Slack request runs inside `observability.slack_request` (its id on every log line, its
    latency measured until the ack). /metrics reads the database only when scraped.
    """
    slack = SlackRequestHandler(app, path=SLACK_PATH)
    registry = observability.scrape_registry(engine, clock)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/healthz" and method == "GET":
            healthy = database_is_reachable(engine)
            status = "200 OK" if healthy else "503 Service Unavailable"
            return _plain(start_response, status, b"ok" if healthy else b"database unreachable")
        if path == METRICS_PATH and method == "GET":
            if metrics_token and not _bearer_matches(environ, metrics_token):
                return _plain(start_response, "401 Unauthorized", b"metrics token required")
            body, content_type = observability.metrics_app_payload(registry)
            start_response(
                "200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))]
            )
            return [body]
        if path == SLACK_PATH:
            with observability.slack_request():
                # Bolt's WSGI handler dispatches (and waits for the ack) inside this call.
                return slack(environ, start_response)
        return slack(environ, start_response)

    return wsgi


def _plain(start_response: Callable[..., Any], status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _bearer_matches(environ: dict[str, Any], token: str) -> bool:
    supplied = str(environ.get("HTTP_AUTHORIZATION", ""))
    return hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode())
