"""A local Slack Web API: answers like Slack, refuses what Slack would refuse, records every call.

Used by the test suite and by `peercoach demo`. It listens on 127.0.0.1 only. Every call is
checked against Slack's method reference (unknown method, unknown argument, missing required
argument) and Block Kit limits; what real Slack would refuse is recorded in `violations` and
answered with Slack's error. Errors and HTTP 429 can be scripted per method (the next calls,
or a random share of calls with `fail_randomly`), and with `enforce_rate_limits` the
per-method tiers are applied on the emulator's clock (a benchmark that runs real processes can
pass a clock that runs faster than real time, e.g. `lambda: time.time() * 100`: the tiers then
allow 100 times as many calls per real minute, and Retry-After is in the emulator's seconds).
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from bot.sandbox.reference import check_blocks, check_call, check_view, method_spec

# Calls per minute per method and workspace for each tier (Slack's published figures).
TIER_PER_MINUTE = {"t1": 1, "t2": 20, "t3": 50, "t4": 100}
JSON_ARGS = {"blocks", "view", "files", "attachments", "metadata"}


@dataclass
class Call:
    """One Web API call as the emulator saw it, and what it answered."""

    method: str
    args: dict[str, Any]
    status: int
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass
class ScriptedFailure:
    error: str
    status: int = 200
    retry_after: int | None = None


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


class SlackEmulator:
    """A Slack Web API on a local port. Use as a context manager or call start()/stop()."""

    def __init__(
        self,
        *,
        team_id: str = "T0PEERS",
        clock: Callable[[], float] = time.monotonic,
        enforce_rate_limits: bool = False,
    ) -> None:
        self.team_id = team_id
        self.clock = clock
        self.enforce_rate_limits = enforce_rate_limits
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.channel_members: dict[str, list[str]] = {}
        self.messages: list[Message] = []
        self.homes: dict[str, dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.responses: list[dict[str, Any]] = []
        self.uploads: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, deque[ScriptedFailure]] = defaultdict(deque)
        self._random_failures: dict[str, tuple[float, list[ScriptedFailure]]] = {}
        self._random = random.Random(0)
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._conversations: dict[tuple[str, ...], str] = {}
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> SlackEmulator:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, body, headers = emulator._handle(
                    self.path,
                    raw,
                    self.headers.get("Content-Type", ""),
                    self.headers.get("Authorization", ""),
                )
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        assert self._server is not None, "start() the emulator first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The value for SLACK_API_URL."""
        return f"{self.root_url}/api/"

    # -- set-up and scripting ---------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        tz: str = "Europe/London",
        tz_offset_seconds: int = 0,
        is_admin: bool = False,
        is_owner: bool = False,
        deleted: bool = False,
    ) -> None:
        """Add a person to the emulated workspace (users.info answers for them)."""
        display = name or user_id.lower()
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": display,
            "real_name": display.title(),
            "deleted": deleted,
            "is_bot": False,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": tz_offset_seconds,
            "profile": {"real_name": display.title(), "display_name": display},
        }

    def fail_next(
        self,
        method: str,
        error: str,
        *,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls to `method` fail with `error` (and HTTP `status`)."""
        for _ in range(times):
            self._failures[method].append(ScriptedFailure(error, status, retry_after))

    def fail_randomly(
        self,
        methods: list[str],
        share: float,
        failures: list[ScriptedFailure],
        *,
        seed: int = 0,
    ) -> None:
        """Make a random `share` (0-1) of calls to `methods` fail, each with one of `failures`
        picked at random (seeded: the same calls fail for the same seed and call order).
        A share of 0 stops it."""
        with self._changed:
            self._random = random.Random(seed)
            for method in methods:
                if share > 0:
                    self._random_failures[method] = (share, list(failures))
                else:
                    self._random_failures.pop(method, None)

    def rate_limit_next(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """Make the next calls to `method` answer HTTP 429 with Retry-After."""
        self.fail_next(method, "ratelimited", status=429, retry_after=retry_after, times=times)

    def new_response_url(self) -> str:
        """A response_url, as Slack puts in commands and interactions."""
        return f"{self.root_url}/response/{next(self._ids)}"

    # -- reading what happened ------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.method == method]

    def successful(self, method: str) -> list[Call]:
        return [c for c in self.calls_to(method) if c.ok]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until `count` calls to `method` arrived (a condition, not a sleep)."""
        with self._changed:
            done = self._changed.wait_for(
                lambda: sum(c.method == method for c in self.calls) >= count, timeout
            )
            calls = [c for c in self.calls if c.method == method]
        if not done:
            raise AssertionError(f"expected {count} call(s) to {method}, got {len(calls)}")
        return calls

    def messages_in(self, channel: str) -> list[Message]:
        with self._changed:
            return [m for m in self.messages if m.channel == channel]

    def conversation_members(self, channel: str) -> tuple[str, ...]:
        """The people in a DM or group DM the app opened."""
        for members, channel_id in self._conversations.items():
            if channel_id == channel:
                return members
        raise KeyError(channel)

    # -- the HTTP side ----------------------------------------------------------------------

    def _handle(
        self, path: str, raw: bytes, content_type: str, authorization: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if path.startswith("/response/"):
            with self._changed:
                self.responses.append(json.loads(raw or b"{}"))
                self._changed.notify_all()
            return 200, {"ok": True}, {}
        if path.startswith("/upload/"):
            file_id = path.rsplit("/", 1)[-1]
            with self._changed:
                if file_id in self.uploads:
                    self.uploads[file_id]["content"] = raw
            return 200, {"ok": True}, {}
        method = path.removeprefix("/api/").split("?")[0]
        args = self._parse_args(raw, content_type)
        if authorization.startswith("Bearer "):
            args.setdefault("token", authorization.removeprefix("Bearer "))
        status, body, headers = self._answer(method, args)
        with self._changed:
            self.calls.append(Call(method, args, status, body))
            self._changed.notify_all()
        return status, body, headers

    @staticmethod
    def _parse_args(raw: bytes, content_type: str) -> dict[str, Any]:
        if "json" in content_type:
            args = json.loads(raw or b"{}")
        else:
            args = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        for name in JSON_ARGS & args.keys():
            if isinstance(args[name], str) and args[name][:1] in "[{":
                args[name] = json.loads(args[name])
        return args

    def _answer(
        self, method: str, args: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        problems = check_call(method, args)
        if args.get("team_id") not in (None, self.team_id):
            problems.append(f"{method}: team_id {args['team_id']!r} is not this workspace")
        if problems:
            with self._changed:
                self.violations.extend(problems)
            if method_spec(method) is None:
                return 404, {"ok": False, "error": "unknown_method"}, {}
            return 200, {"ok": False, "error": "invalid_arguments", "problems": problems}, {}
        with self._changed:
            scripted = self._failures[method].popleft() if self._failures[method] else None
            share, failures = self._random_failures.get(method, (0.0, []))
            if scripted is None and share and self._random.random() < share:
                scripted = self._random.choice(failures)
        if scripted is not None:
            headers = {"Retry-After": str(scripted.retry_after)} if scripted.retry_after else {}
            return scripted.status, {"ok": False, "error": scripted.error}, headers
        if self.enforce_rate_limits:
            wait = self._rate_limit_wait(method, args)
            if wait is not None:
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": True}, {}
        try:
            body = handler(args)
        except SlackError as error:
            return 200, {"ok": False, "error": error.code}, {}
        return 200, {"ok": True, **body}, {}

    def _rate_limit_wait(self, method: str, args: dict[str, Any]) -> int | None:
        """Seconds until this call would be allowed, or None if allowed now (and counted)."""
        now = self.clock()
        if method == "chat.postMessage":
            key, limit, window = f"{method}:{args.get('channel')}", 1, 1.0
        else:
            per_minute = TIER_PER_MINUTE.get(method_spec(method)["tier"])
            if per_minute is None:
                return None
            key, limit, window = method, per_minute, 60.0
        with self._changed:
            recent = self._recent[key]
            while recent and recent[0] <= now - window:
                recent.popleft()
            if len(recent) >= limit:
                return max(1, int(recent[0] + window - now + 0.999))
            recent.append(now)
        return None

    # -- method implementations (answers shaped like Slack's) -------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def _new_ts(self) -> str:
        n = next(self._ids)
        return f"{1_700_000_000 + n}.{n % 1_000_000:06d}"

    def _user(self, user_id: str) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            raise SlackError("user_not_found")
        return user

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://peercoach-sandbox.slack.com/",
            "team": "PeerCoach Sandbox",
            "user": "peercoach",
            "team_id": self.team_id,
            "user_id": "UPEERCOACHBOT",
            "bot_id": "BPEERCOACH",
            "is_enterprise_install": False,
        }

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"user": self._user(args["user"])}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 8:
            raise SlackError("too_many_users")
        for user_id in users:
            if self._user(user_id)["deleted"]:
                raise SlackError("user_disabled")
        key = tuple(sorted(users))
        with self._changed:
            already = key in self._conversations
            if not already:
                self._conversations[key] = self._new_id("D" if len(users) == 1 else "G")
            channel = self._conversations[key]
        return {"channel": {"id": channel}, "already_open": already}

    def _post(self, args: dict[str, Any]) -> Message:
        blocks = args.get("blocks") or []
        self.violations.extend(check_blocks(blocks, "message"))
        if not args.get("text") and not blocks:
            raise SlackError("no_text")
        channel = args["channel"]
        if channel.startswith("U"):
            # Posting to a user id lands in the app's DM with them.
            self._user(channel)
            channel = self._m_conversations_open({"users": channel})["channel"]["id"]
        elif channel not in self._conversations.values() and channel not in self.channel_members:
            raise SlackError("channel_not_found")
        message = Message(channel, self._new_ts(), args.get("text", ""), blocks)
        with self._changed:
            self.messages.append(message)
        return message

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._post(args)
        return {
            "channel": message.channel,
            "ts": message.ts,
            "message": {
                "type": "message",
                "text": message.text,
                "ts": message.ts,
                "bot_id": "BPEERCOACH",
                "blocks": message.blocks,
            },
        }

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self._post(args).ts}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        with self._changed:
            for message in self.messages:
                if message.channel == args["channel"] and message.ts == args["ts"]:
                    message.text = args.get("text", message.text)
                    message.blocks = args.get("blocks", message.blocks)
                    return {"channel": message.channel, "ts": message.ts, "text": message.text}
        raise SlackError("message_not_found")

    def _store_view(self, view: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        self.violations.extend(check_view(view))
        stored = {
            "id": view_id or self._new_id("V"),
            "team_id": self.team_id,
            "state": {"values": {}},
            "hash": self._new_ts(),
            **view,
        }
        with self._changed:
            self.views[stored["id"]] = stored
        return stored

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            raise SlackError("invalid_arguments")
        return {"view": self._store_view(args["view"])}

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        if view_id not in self.views:
            raise SlackError("not_found")
        return {"view": self._store_view(args["view"], view_id)}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        self._user(args["user_id"])
        stored = self._store_view(args["view"])
        with self._changed:
            self.homes[args["user_id"]] = stored
        return {"view": stored}

    def _m_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        members = self.channel_members.get(args["channel"])
        if members is None:
            raise SlackError("channel_not_found")
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = members[start : start + limit]
        following = str(start + limit) if start + limit < len(members) else ""
        return {"members": page, "response_metadata": {"next_cursor": following}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = self._new_id("F")
        with self._changed:
            self.uploads[file_id] = {
                "filename": args["filename"],
                "length": int(args["length"]),
                "alt_txt": args.get("alt_txt"),
                "content": None,
            }
        return {"upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args["files"]
        with self._changed:
            for entry in files:
                upload = self.uploads.get(entry["id"])
                if upload is None or upload["content"] is None:
                    raise SlackError("file_not_found")
                upload.update(
                    title=entry.get("title"),
                    channel=args.get("channel_id"),
                    initial_comment=args.get("initial_comment"),
                )
        return {"files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}


class SlackError(Exception):
    """Answer `{"ok": false, "error": code}` like Slack."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
