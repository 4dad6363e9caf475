"""Requests exactly as Slack sends them (form, payload=, JSON; signed), into our WSGI app."""

from __future__ import annotations

import io
import itertools
import json
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot import ids
from bot.sandbox.slack_emulator import SlackEmulator

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}

    @property
    def text(self) -> str:
        """The `text` of a JSON acknowledgement (what Slack shows the person), or ''."""
        if not self.body or not self.headers.get("content-type", "").startswith("application/json"):
            return self.body.decode()
        text: str = self.json().get("text", "")
        return text


class TrackingExecutor(ThreadPoolExecutor):
    """A listener pool that can say when every listener it ran has finished."""

    def __init__(self, max_workers: int = 5) -> None:
        super().__init__(max_workers=max_workers)
        self._futures: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        self._futures.append(future)
        return future

    @property
    def pending(self) -> bool:
        """Whether any work submitted so far may still be running."""
        return any(not f.done() for f in self._futures)

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Block until every listener submitted so far has finished; re-raise none."""
        while self._futures:
            pending, self._futures = self._futures, []
            _, not_done = wait(pending, timeout=timeout)
            if not_done:
                raise TimeoutError(f"{len(not_done)} listener(s) still running")


def call_wsgi(
    wsgi: WsgiApp,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    send_content_length: bool = True,
) -> HttpResponse:
    """Send one HTTP request through a WSGI app in-process (without a Content-Length, as a
    chunked upload arrives, when `send_content_length` is False)."""
    headers = headers or {}
    path, _, query = path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "3000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "CONTENT_LENGTH": str(len(body)) if send_content_length else "",
        "CONTENT_TYPE": headers.get("Content-Type", ""),
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    captured: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
        captured["status"] = int(status.split()[0])
        captured["headers"] = {k.lower(): v for k, v in response_headers}

    chunks = wsgi(environ, start_response)
    return HttpResponse(captured["status"], captured["headers"], b"".join(chunks))


class SlackRequests:
    """Plays Slack's side of the HTTP conversation: people typing, clicking and submitting."""

    def __init__(
        self,
        wsgi: WsgiApp,
        *,
        signing_secret: str,
        emulator: SlackEmulator,
        team_id: str,
        enterprise_id: str | None = None,
        enterprise_install: bool = False,
        path: str = "/slack/events",
        wall_clock: Callable[[], float] = time.time,
        event_clock: Callable[[], float] | None = None,
    ) -> None:
        self.wsgi = wsgi
        self.signing_secret = signing_secret
        self.emulator = emulator
        self.team_id = team_id
        # An Enterprise Grid org: requests carry it, as Slack's do for an org's workspaces.
        self.enterprise_id = enterprise_id
        self.enterprise_install = enterprise_install
        self.path = path
        self.wall_clock = wall_clock
        # When Slack says an event happened (`event_time`, Unix seconds): the sandbox's clock,
        # which the app's is; signatures and trigger ids keep the wall clock.
        self.event_clock = event_clock or wall_clock
        self._ids = itertools.count(1)

    # -- transport --------------------------------------------------------------------------

    def signed_headers(
        self, body: bytes, content_type: str, timestamp: int | None = None
    ) -> dict[str, str]:
        stamp = str(int(self.wall_clock()) if timestamp is None else timestamp)
        signature = SignatureVerifier(self.signing_secret).generate_signature(
            timestamp=stamp, body=body.decode()
        )
        assert signature is not None  # slack-sdk answers None only without a timestamp or body
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        }

    def post(
        self, body: bytes, content_type: str, *, headers: dict[str, str] | None = None
    ) -> HttpResponse:
        all_headers = self.signed_headers(body, content_type) | (headers or {})
        return call_wsgi(self.wsgi, "POST", self.path, body, all_headers)

    def _trigger_id(self) -> str:
        return f"{next(self._ids)}.{int(self.wall_clock())}.trigger"

    # -- what people do ---------------------------------------------------------------------

    def command_body(self, user_id: str, text: str, *, channel_id: str = "CGENERAL") -> bytes:
        org = {"enterprise_id": self.enterprise_id} if self.enterprise_id else {}
        return urlencode(
            {
                **org,
                "token": "deprecated-verification-token",
                "team_id": self.team_id,
                "team_domain": "sandbox",
                "channel_id": channel_id,
                "channel_name": "general",
                "user_id": user_id,
                "user_name": user_id.lower(),
                "command": ids.COMMAND,
                "text": text,
                "api_app_id": "APEERCOACH",
                "is_enterprise_install": str(self.enterprise_install).lower(),
                "response_url": self.emulator.new_response_url(),
                "trigger_id": self._trigger_id(),
            }
        ).encode()

    def command(self, user_id: str, text: str, *, channel_id: str = "CGENERAL") -> HttpResponse:
        """`/peercoach <text>` typed by a person."""
        body = self.command_body(user_id, text, channel_id=channel_id)
        return self.post(body, "application/x-www-form-urlencoded")

    def _interaction(self, payload: dict[str, Any]) -> HttpResponse:
        if self.enterprise_id:
            payload["enterprise"] = {"id": self.enterprise_id, "name": self.enterprise_id}
            payload["is_enterprise_install"] = self.enterprise_install
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def _user(self, user_id: str) -> dict[str, Any]:
        return {"id": user_id, "username": user_id.lower(), "team_id": self.team_id}

    def click(
        self,
        user_id: str,
        action_id: str,
        *,
        value: str = "",
        channel_id: str | None = None,
        message_ts: str | None = None,
        view: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """A person presses a button in a message (channel_id, message_ts) or a view."""
        action = {
            "type": "button",
            "action_id": action_id,
            "block_id": "b",
            "text": {"type": "plain_text", "text": action_id},
            "value": value,
            "action_ts": f"{int(self.wall_clock())}.000001",
        }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "sandbox"},
            "user": self._user(user_id),
            "api_app_id": "APEERCOACH",
            "token": "deprecated-verification-token",
            "trigger_id": self._trigger_id(),
            "actions": [action],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = view
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel_id, "name": "directmessage"}
            payload["message"] = {"type": "message", "ts": message_ts, "text": ""}
            payload["response_url"] = self.emulator.new_response_url()
        return self._interaction(payload)

    def submit(self, user_id: str, view: dict[str, Any], values: dict[str, Any]) -> HttpResponse:
        """A person submits a modal the app opened, with these input values."""
        submitted = {**view, "state": {"values": values}}
        return self._interaction(
            {
                "type": "view_submission",
                "team": {"id": self.team_id, "domain": "sandbox"},
                "user": self._user(user_id),
                "api_app_id": "APEERCOACH",
                "token": "deprecated-verification-token",
                "trigger_id": self._trigger_id(),
                "view": submitted,
                "response_urls": [],
            }
        )

    def event(self, event: dict[str, Any], *, event_id: str | None = None) -> HttpResponse:
        """Slack delivers an Events API event."""
        envelope = {
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "api_app_id": "APEERCOACH",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(self.event_clock()),
            "authorizations": [
                {
                    "enterprise_id": self.enterprise_id,
                    "team_id": self.team_id,
                    "user_id": "UPEERCOACHBOT",
                    "is_bot": True,
                    "is_enterprise_install": self.enterprise_install,
                }
            ],
        }
        if self.enterprise_id:
            envelope["enterprise_id"] = self.enterprise_id
            envelope["is_enterprise_install"] = self.enterprise_install
        return self.post(json.dumps(envelope).encode(), "application/json")

    def open_home(self, user_id: str) -> HttpResponse:
        return self.event(
            {
                "type": "app_home_opened",
                "user": user_id,
                "channel": "D0HOME",
                "tab": "home",
                "event_ts": f"{int(self.wall_clock())}.000100",
            }
        )


def select(block_id: str, action_id: str, value: str) -> dict[str, Any]:
    """Modal state for a static select."""
    return {block_id: {action_id: {"type": "static_select", "selected_option": {"value": value}}}}


def multi_select(block_id: str, action_id: str, values: list[str]) -> dict[str, Any]:
    return {
        block_id: {
            action_id: {
                "type": "multi_static_select",
                "selected_options": [{"value": v} for v in values],
            }
        }
    }


def text_input(block_id: str, action_id: str, value: str | None) -> dict[str, Any]:
    return {block_id: {action_id: {"type": "plain_text_input", "value": value}}}


def file_input(block_id: str, action_id: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    """A file_input's state as Slack sends it: the uploaded files' objects (ids, names, URLs)."""
    return {block_id: {action_id: {"type": "file_input", "files": files}}}


def users_select(block_id: str, action_id: str, users: list[str]) -> dict[str, Any]:
    return {block_id: {action_id: {"type": "multi_users_select", "selected_users": users}}}


def join_values(
    level: int,
    team: str,
    goals: list[str],
    never: list[str] | None = None,
    *,
    agree: bool = True,
    goal: str | None = None,
) -> dict[str, Any]:
    """The join modal's state as Slack sends it on submission (agreement ticked unless not)."""
    return (
        select(ids.LEVEL_BLOCK, ids.LEVEL_ACTION, str(level))
        | text_input(ids.TEAM_BLOCK, ids.TEAM_ACTION, team)
        | multi_select(ids.GOALS_BLOCK, ids.GOALS_ACTION, goals)
        | users_select(ids.NEVER_PAIR_BLOCK, ids.NEVER_PAIR_ACTION, never or [])
        | text_input(ids.GOAL_BLOCK, ids.GOAL_ACTION, goal)
        | {
            ids.AGREEMENT_BLOCK: {
                ids.AGREEMENT_ACTION: {
                    "type": "checkboxes",
                    "selected_options": [{"value": "agree"}] if agree else [],
                }
            }
        }
    )


def prefilled_values(view: dict[str, Any]) -> dict[str, Any]:
    """The state Slack sends when a person submits a modal without changing any input.

    Each input answers with its `initial_*` value, or Slack's empty value (null or []) when the
    modal opened without one.
    """
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        state: dict[str, Any] = {"type": kind}
        if kind == "static_select":
            state["selected_option"] = element.get("initial_option")
        elif kind in ("multi_static_select", "checkboxes"):
            state["selected_options"] = element.get("initial_options", [])
        elif kind == "multi_users_select":
            state["selected_users"] = element.get("initial_users", [])
        elif kind in ("plain_text_input", "number_input"):
            state["value"] = element.get("initial_value")
        elif kind == "file_input":
            state["files"] = []
        else:
            raise ValueError(f"no submitted state known for a {kind} element")
        values[block["block_id"]] = {element["action_id"]: state}
    return values
