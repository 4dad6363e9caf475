"""The production HTTP surface: POST /slack/events for Slack, GET /healthz and GET /metrics.

/healthz and /metrics are for the internal network (load balancer, Prometheus), not for Slack:
route only /slack/events from the internet. With METRICS_TOKEN set, /metrics also asks for
`Authorization: Bearer <token>`. Processes without this server (worker, Socket Mode) serve
/metrics on METRICS_PORT instead (`serve_metrics_in_background`).
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine

from bot import observability
from bot.config import Settings
from bot.deps import utc_now
from db.session import database_is_reachable

SLACK_PATH = "/slack/events"
METRICS_PATH = "/metrics"

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_metrics_app(
    engine: Engine,
    *,
    metrics_token: str | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> WsgiApp:
    """A WSGI app answering GET /metrics (Prometheus text format) and 404 to anything else.

    The outbox and lease figures are read from `engine` at scrape time. With `metrics_token`,
    a scrape without `Authorization: Bearer <token>` gets 401.
    """
    registry = observability.scrape_registry(engine, clock)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != METRICS_PATH or environ.get("REQUEST_METHOD") != "GET":
            return _plain(start_response, "404 Not Found", b"not found")
        if metrics_token and not _bearer_matches(environ, metrics_token):
            return _plain(start_response, "401 Unauthorized", b"metrics token required")
        body, content_type = observability.metrics_app_payload(registry)
        start_response(
            "200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        )
        return [body]

    return wsgi


def serve_metrics_in_background(engine: Engine, settings: Settings) -> Callable[[], None] | None:
    """Serve GET /metrics on METRICS_HOST:METRICS_PORT from a daemon thread (worker, socket).

    `peercoach serve` answers /metrics on its own port; processes without an HTTP server
    (a worker delivering rounds, Socket Mode) need this one. Returns a function that stops it,
    or None when METRICS_PORT is not set.
    """
    if settings.metrics_port is None:
        return None
    import waitress.server

    app = make_metrics_app(engine, metrics_token=settings.secret("metrics_token") or None)
    server = waitress.server.create_server(
        app, host=settings.metrics_host, port=settings.metrics_port, threads=2
    )
    threading.Thread(target=server.run, name="metrics-http", daemon=True).start()
    logger.info("serving GET /metrics on %s:%s", settings.metrics_host, settings.metrics_port)
    stop: Callable[[], None] = server.close
    return stop


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
    metrics = make_metrics_app(engine, metrics_token=metrics_token, clock=clock)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/healthz" and method == "GET":
            healthy = database_is_reachable(engine)
            status = "200 OK" if healthy else "503 Service Unavailable"
            return _plain(start_response, status, b"ok" if healthy else b"database unreachable")
        if path == METRICS_PATH:
            return metrics(environ, start_response)
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
