"""The production HTTP surface: POST /slack/events for Slack, GET /healthz and GET /metrics,
and (with OAuth) GET /slack/install and GET /slack/oauth_redirect.

Every request to /slack/events is checked here, before Bolt sees it: its size, its signature
and timestamp (Slack's signing secret), then its shape (UTF-8, a form or JSON object, a
`payload=` that is a JSON object). A request that fails any check is answered 4xx on the spot
with one WARNING line naming the reason, never its content, and reaches no listener, no
database and no outbound call. Bolt keeps its own signature check behind this one.
See docs/security.md.

/healthz and /metrics are for the internal network (load balancer, Prometheus), not for Slack:
route only /slack/* from the internet. With METRICS_TOKEN set, /metrics also asks for
`Authorization: Bearer <token>`. Processes without this server (worker, Socket Mode) serve
/metrics on METRICS_PORT instead (`serve_metrics_in_background`).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import build_context
from slack_sdk.signature import Clock, SignatureVerifier
from sqlalchemy import Engine

from bot import ids, observability
from bot.config import Settings
from bot.deps import utc_now
from db.session import database_is_reachable

SLACK_PATH = "/slack/events"
METRICS_PATH = "/metrics"
# Slack refuses requests older than five minutes on its side too; a replay after that is refused.
MAX_REQUEST_AGE_SECONDS = 5 * 60
# Unix seconds: ASCII digits only (str.isdigit also accepts other scripts' digits).
TIMESTAMP = re.compile(r"[0-9]{1,12}")
# A JSON escape of a UTF-16 surrogate (\ud800-\udfff): only these can spell a lone one.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

logger = logging.getLogger(__name__)


class Refused(Exception):
    """A request answered with a 4xx before Bolt; `reason` is ours, never the request's text."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class VerifiedRequest:
    """A request whose signature checked out, with its body parsed as Bolt will see it."""

    text: str
    body: dict[str, Any]
    headers: dict[str, str | Sequence[str]]
    query: str


class _WallClock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


class SlackRequestGuard:
    """Decides whether a request to /slack/events may go any further.

    `check` returns the verified, parsed request or raises Refused: 413 when the body is over
    `max_body_bytes`, 401 when the timestamp is missing, malformed or more than five minutes
    off, or the signature is missing or wrong, 400 when a signed body is not UTF-8 or not a
    form / JSON object Slack would send.
    """

    def __init__(
        self, signing_secret: str, *, max_body_bytes: int, clock: Callable[[], float] = time.time
    ) -> None:
        if not signing_secret:
            raise ValueError("a signing secret is required to serve Slack's requests")
        self.max_body_bytes = max_body_bytes
        self._clock = clock
        self._verifier = SignatureVerifier(signing_secret, clock=_WallClock(clock))

    def check(self, environ: dict[str, Any]) -> VerifiedRequest:
        raw = self._read_body(environ)
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""
        signature = environ.get("HTTP_X_SLACK_SIGNATURE") or ""
        if not TIMESTAMP.fullmatch(timestamp):
            raise Refused(401, "missing or malformed X-Slack-Request-Timestamp")
        if abs(self._clock() - int(timestamp)) > MAX_REQUEST_AGE_SECONDS:
            raise Refused(401, "request timestamp more than five minutes off")
        if not signature:
            raise Refused(401, "missing X-Slack-Signature")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            # Slack signs UTF-8 text; these bytes cannot be a request from Slack.
            raise Refused(400, "body is not UTF-8") from None
        if not self._verifier.is_valid(text, timestamp, signature):
            raise Refused(401, "signature does not match")
        content_type = environ.get("CONTENT_TYPE") or ""
        # Bolt's own x-slack-bolt-* headers (lazy listeners) are never Slack's, and the
        # signature does not cover headers: a replayed request must not carry them to Bolt.
        headers: dict[str, str | Sequence[str]] = {
            key[5:].lower().replace("_", "-"): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_") and not key.startswith("HTTP_X_SLACK_BOLT_")
        }
        headers["content-type"] = content_type
        headers["content-length"] = str(len(raw))
        body = _parse_body(text, content_type)
        _check_shape(body)
        return VerifiedRequest(
            text=text,
            body=body,
            headers=headers,
            query=environ.get("QUERY_STRING") or "",
        )

    def _read_body(self, environ: dict[str, Any]) -> bytes:
        declared = environ.get("CONTENT_LENGTH") or ""
        stream = environ.get("wsgi.input")
        if declared:
            if not declared.isascii() or not declared.isdigit():
                raise Refused(400, "malformed Content-Length")
            if int(declared) > self.max_body_bytes:
                raise Refused(413, f"body over {self.max_body_bytes} bytes")
            return stream.read(int(declared)) if stream is not None and int(declared) else b""
        raw = stream.read(self.max_body_bytes + 1) if stream is not None else b""
        if len(raw) > self.max_body_bytes:
            raise Refused(413, f"body over {self.max_body_bytes} bytes")
        return bytes(raw)


def _parse_body(text: str, content_type: str) -> dict[str, Any]:
    """The body as a dict, the way Slack sends it: a JSON object (Events API), or a form whose
    `payload` field is a JSON object (interactions) or whose fields are the data (commands)."""
    if not text:
        raise Refused(400, "empty body")
    if content_type.split(";")[0].strip().lower() == "application/json" or text.startswith("{"):
        return _json_object(text, "body")
    fields = parse_qsl(text, keep_blank_values=True)
    form = dict(fields)
    if len(form) != len(fields):
        # Slack never repeats a field; a repeated one (two `payload=`) would be read one way
        # here and another way by Bolt.
        raise Refused(400, "repeated form field")
    if "payload" in form:
        return _json_object(form["payload"], "payload")
    return form


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
        if SURROGATE_ESCAPE.search(text):
            # JSON may spell lone surrogates (\ud800), which no database can store. (The
            # text itself is strict UTF-8, so an escape is the only way to spell one.)
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):
        raise Refused(400, f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{what} is not a JSON object")
    return value


def _field(body: dict[str, Any], path: str, *, pattern: re.Pattern[str] | None = None) -> Any:
    """The value at a dotted path; Refused(400) naming the path when it is absent or not a
    string (matching `pattern` when given)."""
    value: Any = body
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
        raise Refused(400, f"signed body without a valid {path}")
    return value


def _optional(body: dict[str, Any], path: str, kind: type) -> None:
    value: Any = body
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return
        value = value[key]
    if value is not None and not isinstance(value, kind):
        raise Refused(400, f"signed body with a malformed {path}")


def _check_shape(body: dict[str, Any]) -> None:
    """Refuse a signed body lacking what Slack always sends with that kind of request (the
    fields our listeners and Bolt read), so neither meets a missing key or a wrong type."""
    kind = body.get("type")
    if "command" in body:
        for path in ("command", "trigger_id", "response_url"):
            _field(body, path)
        _field(body, "team_id", pattern=ids.SLACK_ID)
        _field(body, "user_id", pattern=ids.USER_ID)
        _optional(body, "text", str)
        _optional(body, "channel_id", str)
    elif kind in ("block_actions", "view_submission", "view_closed"):
        _field(body, "team.id", pattern=ids.SLACK_ID)
        _field(body, "user.id", pattern=ids.USER_ID)
        _optional(body, "trigger_id", str)
        _optional(body, "response_url", str)
        _optional(body, "view", dict)
        if kind == "block_actions":
            actions = body.get("actions")
            if not isinstance(actions, list) or not actions:
                raise Refused(400, "signed body without actions")
            for action in actions:
                if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
                    raise Refused(400, "signed body with a malformed action")
                _optional(action, "value", str)
                _optional(action, "block_id", str)
            _optional(body, "channel", dict)
            _optional(body, "container", dict)
        else:
            _field(body, "view.callback_id")
            _optional(body, "view.private_metadata", str)
            _optional(body, "view.blocks", list)
            if kind == "view_submission":
                values = (body["view"].get("state") or {}).get("values")
                if not isinstance(values, dict):
                    raise Refused(400, "signed body without view.state.values")
    elif kind == "event_callback":
        _field(body, "team_id", pattern=ids.SLACK_ID)
        event_type = _field(body, "event.type")
        if event_type == "app_home_opened":
            _field(body, "event.user", pattern=ids.USER_ID)
        if event_type == "user_change":  # the one event we handle whose user is an object
            _field(body, "event.user.id", pattern=ids.USER_ID)
        else:
            _optional(body, "event.user", str)
        _optional(body, "event.tab", str)
        _optional(body, "authorizations", list)
    elif kind == "url_verification":
        _field(body, "challenge")


def _bolt_request(verified: VerifiedRequest) -> BoltRequest:
    """The request for Bolt, with the body as the guard parsed it: Bolt's own parse would read
    any form mentioning "payload" (say `/peercoach pause payload`) as an interaction and find
    none, and parsing twice costs a request's time. Bolt still checks the signature over the
    raw text (its request verification middleware reads `raw_body`)."""
    request = BoltRequest(body="", query=verified.query, headers=verified.headers)
    request.raw_body = verified.text
    request.body = verified.body
    request.context = build_context(request.context, verified.body)
    return request


# "200 OK" ...: an enum lookup per response is avoidable work.
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


def _respond(
    start_response: Callable[..., Any],
    status: int,
    body: bytes,
    headers: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    all_headers = [*headers, ("Content-Length", str(len(body)))]
    start_response(
        _STATUS_LINES.get(status) or f"{status} {HTTPStatus(status).phrase}", all_headers
    )
    return [body]


def _text(start_response: Callable[..., Any], status: int, body: bytes = b"") -> list[bytes]:
    headers = [("Content-Type", "text/plain; charset=utf-8")] if body else []
    return _respond(start_response, status, body, headers)


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
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    wall_clock: Callable[[], float] = time.time,
) -> WsgiApp:
    """A WSGI app: verified Slack requests go to Bolt; health checks, scrapes and (with
    OAuth) the install pages are answered here.

    Requests are verified with SLACK_SIGNING_SECRET and capped at MAX_REQUEST_BYTES;
    `wall_clock` (Unix seconds) judges their timestamps, `clock` dates the outbox's ages on
    /metrics. Each Slack request runs inside `observability.slack_request` (its id on every
    log line, its latency measured until the ack). Raises ValueError without a signing secret.
    """
    guard = SlackRequestGuard(
        settings.secret("slack_signing_secret"),
        max_body_bytes=settings.max_request_bytes,
        clock=wall_clock,
    )
    metrics = make_metrics_app(
        engine, metrics_token=settings.secret("metrics_token") or None, clock=clock
    )
    # Bolt's own handler serves the OAuth pages (GET, unsigned by nature: Slack's consent
    # page redirects a browser here; the state parameter and cookie protect them).
    oauth_pages = SlackRequestHandler(app, path=SLACK_PATH)
    flow = app.oauth_flow
    install_paths = {flow.install_path, flow.redirect_uri_path} if flow is not None else set()

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/healthz" and method == "GET":
            healthy = database_is_reachable(engine)
            body = b"ok" if healthy else b"database unreachable"
            return _text(start_response, 200 if healthy else 503, body)
        if path == METRICS_PATH:
            return metrics(environ, start_response)
        if path in install_paths and method == "GET":
            return oauth_pages(environ, start_response)
        if path != SLACK_PATH:
            return _text(start_response, 404, b"Not Found")
        if method != "POST":
            return _text(start_response, 405, b"Method Not Allowed")
        with observability.slack_request():
            return _dispatch(app, guard, environ, start_response)

    return wsgi


def _dispatch(
    app: App, guard: SlackRequestGuard, environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes]:
    """Check one POST to /slack/events and hand it to Bolt, which waits for the ack."""
    try:
        verified = guard.check(environ)
    except Refused as refused:
        logger.warning("refused a request: %s (%d)", refused.reason, refused.status)
        return _text(start_response, refused.status)
    try:
        request = _bolt_request(verified)
    except Exception as error:
        # A signed body of a shape Bolt cannot read (say "team": 5): nothing to answer.
        logger.warning("refused a signed request Bolt cannot read (%s)", type(error).__name__)
        return _text(start_response, 400)
    response: BoltResponse = app.dispatch(request)
    body = response.body.encode("utf-8") if isinstance(response.body, str) else b""
    headers = [
        (name, value)
        for name, values in response.headers.items()
        if name.lower() != "content-length"
        for value in values
    ]
    return _respond(start_response, response.status, body, headers)


def _plain(start_response: Callable[..., Any], status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _bearer_matches(environ: dict[str, Any], token: str) -> bool:
    supplied = str(environ.get("HTTP_AUTHORIZATION", ""))
    return hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode())
