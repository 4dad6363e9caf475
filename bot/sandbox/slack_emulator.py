"""A local Slack Web API: answers like Slack, refuses what Slack would refuse, records every call.

Used by the test suite and by `peercoach demo`. It listens on 127.0.0.1 only. Every call is
checked against Slack's method reference (unknown method, unknown argument, missing required
argument) and Block Kit limits; what real Slack would refuse is recorded in `violations` and
answered with Slack's error. Errors and HTTP 429 can be scripted per method, and with
`enforce_rate_limits` the per-method tiers are applied on the emulator's clock.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import selectors
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from bot.sandbox.reference import check_blocks, check_call, check_view, method_spec
from bot.sandbox.socket_mode import SocketModeEndpoint

# Calls per minute per method and workspace for each tier (Slack's published figures).
TIER_PER_MINUTE = {"t1": 1, "t2": 20, "t3": 50, "t4": 100}
JSON_ARGS = {"blocks", "view", "files", "attachments", "metadata"}
APP_USER_ID = "UPEERCOACHBOT"


@dataclass
class Call:
    """One Web API call as the emulator saw it, and what it answered."""

    method: str
    args: dict[str, Any]
    status: int
    response: dict[str, Any]
    # The workspace whose token made the call (the default workspace for unknown tokens).
    team_id: str = ""

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
        # For each response_url answer, how many Web API calls had arrived before it (so a
        # transcript can put both in the order people saw them).
        self.response_positions: list[int] = []
        self.uploads: dict[str, dict[str, Any]] = {}
        # Files people uploaded through Slack (a modal's file_input, a DM): id -> record.
        self.files: dict[str, dict[str, Any]] = {}
        self.file_contents: dict[str, bytes] = {}
        # OAuth: the app's credentials, tokens issued per workspace, codes awaiting exchange.
        self.client_id = "0000000001.0000000001"
        self.client_secret = "sandbox-client-secret"
        self.tokens: dict[str, str] = {}  # token -> its workspace (or org, for an org install)
        self.orgs: dict[str, set[str]] = {}  # Enterprise Grid org -> its workspaces
        self.revoked: set[str] = set()
        self._codes: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, deque[ScriptedFailure]] = defaultdict(deque)
        self.token_error: str | None = None
        self._flaky: dict[str, tuple[float, ScriptedFailure]] = {}
        self._dice = random.Random(0)
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._conversations: dict[tuple[str, ...], str] = {}
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        # Socket Mode: apps.connections.open hands out URLs to this WebSocket endpoint.
        self.socket_mode = SocketModeEndpoint(self._changed)
        self._serving: threading.Thread | None = None
        self._wake: socket.socket | None = None
        # The app's own bot user (auth.test's user_id), which users.info knows like Slack does.
        self.add_user(APP_USER_ID, name="peercoach", is_bot=True)

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
                try:
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    # The caller died mid-call (the crash campaign SIGKILLs it): Slack has
                    # taken the call, as the call log says, and nobody is left to answer.
                    return

            def do_GET(self) -> None:
                # Downloads of files people shared (url_private_download), like files.slack.com.
                status, content, kind = emulator._download(
                    self.path, self.headers.get("Authorization", "")
                )
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._wake, woken = socket.socketpair()
        self._serving = threading.Thread(
            target=_serve_until_woken, args=(self._server, woken), daemon=True
        )
        self._serving.start()
        return self

    def stop(self) -> None:
        """Stop serving at once (no poll interval to wait out) and free the port."""
        self.socket_mode.stop()
        if self._server is None:
            return
        assert self._wake is not None and self._serving is not None
        self._wake.send(b"\0")
        self._serving.join()
        self._wake.close()
        self._server.server_close()
        self._server = self._serving = self._wake = None

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
        is_bot: bool = False,
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
        team_id: str | None = None,
        email: str | None = None,
    ) -> None:
        """Add a person (or a bot user) to the emulated workspace; users.info and users.list
        answer for them with Slack's flags. A `team_id` other than the workspace's is someone
        from another organisation seen through a shared channel (Slack marks them
        is_stranger). `email` is their profile email (users.lookupByEmail finds them by it)."""
        display = name or user_id.lower()
        home_team = team_id or self.team_id
        self.users[user_id] = {
            "id": user_id,
            "team_id": home_team,
            "name": display,
            "real_name": display.title(),
            "deleted": deleted,
            "is_bot": is_bot,
            "is_app_user": False,
            "is_restricted": is_restricted or is_ultra_restricted,
            "is_ultra_restricted": is_ultra_restricted,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": tz_offset_seconds,
            "profile": {"real_name": display.title(), "display_name": display}
            | ({"email": email} if email else {}),
        }

    def upload_file(
        self, user_id: str, filename: str, content: bytes, *, filetype: str = "csv"
    ) -> dict[str, Any]:
        """Someone uploads a file through Slack's own UI (a modal's file_input): returns the
        file object Slack then puts in the view's state (and files.info answers)."""
        file_id = self._new_id("F")
        url = f"{self.root_url}/files-pri/{self.team_id}-{file_id}"
        record = {
            "id": file_id,
            "created": 1_700_000_000,
            "timestamp": 1_700_000_000,
            "name": filename,
            "title": filename,
            "mimetype": "text/csv" if filetype == "csv" else "text/plain",
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": len(content),
            "mode": "hosted",
            "is_external": False,
            "is_public": False,
            "url_private": f"{url}/{filename}",
            "url_private_download": f"{url}/download/{filename}",
        }
        with self._changed:
            self.files[file_id] = record
            self.file_contents[file_id] = content
        return dict(record)

    def break_token(self, error: str = "account_inactive") -> None:
        """Answer every call with `error`, as Slack does for a revoked or broken token."""
        self.token_error = error

    def fix_token(self) -> None:
        self.token_error = None

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

    def clear_failures(self, method: str) -> None:
        """Forget the failures still scripted for `method`."""
        with self._changed:
            self._failures[method].clear()

    def fail_fraction(
        self,
        method: str,
        fraction: float,
        error: str = "internal_error",
        *,
        status: int = 200,
        retry_after: int | None = None,
    ) -> None:
        """From now on, fail about `fraction` of the calls to `method` (a seeded draw, so a
        run is repeatable); `fraction=0` stops it."""
        if fraction <= 0:
            self._flaky.pop(method, None)
        else:
            self._flaky[method] = (fraction, ScriptedFailure(error, status, retry_after))

    def rate_limit_next(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """Make the next calls to `method` answer HTTP 429 with Retry-After."""
        self.fail_next(method, "ratelimited", status=429, retry_after=retry_after, times=times)

    def approve_install(
        self,
        team_id: str,
        *,
        user_id: str,
        enterprise_id: str | None = None,
        enterprise_install: bool = False,
        scopes: str = "chat:write,commands",
    ) -> str:
        """What Slack does when an admin approves the app on its consent page: a one-time
        code for the redirect (exchanged by oauth.v2.access for that workspace's token)."""
        code = f"code-{next(self._ids)}"
        with self._changed:
            self._codes[code] = {
                "team_id": team_id,
                "user_id": user_id,
                "enterprise_id": enterprise_id,
                "enterprise_install": enterprise_install,
                "scopes": scopes,
            }
        return code

    def add_org(self, enterprise_id: str, team_ids: list[str]) -> None:
        """Make an Enterprise Grid org of these workspaces."""
        with self._changed:
            self.orgs.setdefault(enterprise_id, set()).update(team_ids)

    def revoke_tokens(self, team_id: str) -> None:
        """Uninstall: every token issued to the workspace answers invalid_auth from now on."""
        with self._changed:
            self.revoked |= {t for t, team in self.tokens.items() if team == team_id}

    def calls_by(self, team_id: str) -> list[Call]:
        """Every call made with a token of `team_id`."""
        with self._changed:
            return [c for c in self.calls if c.team_id == team_id]

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
                self.response_positions.append(len(self.calls))
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
        elif authorization.startswith("Basic "):  # oauth.v2.access: client id and secret
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
            args.setdefault("client_id", user)
            args.setdefault("client_secret", password)
        team_id = self.tokens.get(str(args.get("token", "")), self.team_id)
        if team_id in self.orgs:  # an org-wide token speaks for each of the org's workspaces
            asked = str(args.get("team_id") or "")
            team_id = asked if asked in self.orgs[team_id] else team_id
        headers: dict[str, str]
        if args.get("token") in self.revoked:
            status, body, headers = 200, {"ok": False, "error": "invalid_auth"}, {}
        else:
            status, body, headers = self._answer(method, args, team_id)
        with self._changed:
            self.calls.append(Call(method, args, status, body, team_id))
            self._changed.notify_all()
        return status, body, headers

    def _download(self, path: str, authorization: str) -> tuple[int, bytes, str]:
        """Serve a file's private URL: only with a token of the file's workspace (Slack
        answers anyone else with its sign-in page; here a 403)."""
        token = authorization.removeprefix("Bearer ").strip()
        parts = path.split("/")
        file_id = parts[2].partition("-")[2] if len(parts) > 2 and parts[1] == "files-pri" else ""
        with self._changed:
            record = self.files.get(file_id)
            content = self.file_contents.get(file_id)
            team = self.tokens.get(token, self.team_id if token else None)
            allowed = token not in self.revoked and record is not None
        if record is None or content is None:
            return 404, b"not found", "text/plain"
        if not allowed or team != record["user_team"] or self.token_error is not None:
            return 403, b"<html>sign in to Slack</html>", "text/html"
        return 200, content, str(record["mimetype"])

    @staticmethod
    def _parse_args(raw: bytes, content_type: str) -> dict[str, Any]:
        args: dict[str, Any]
        if "json" in content_type:
            args = json.loads(raw or b"{}")
        else:
            args = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        for name in JSON_ARGS & args.keys():
            if isinstance(args[name], str) and args[name][:1] in "[{":
                args[name] = json.loads(args[name])
        return args

    def _answer(
        self, method: str, args: dict[str, Any], team_id: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        problems = check_call(method, args)
        if args.get("team_id") not in (None, team_id):
            problems.append(f"{method}: team_id {args['team_id']!r} is not this workspace")
        if problems:
            with self._changed:
                self.violations.extend(problems)
            if method_spec(method) is None:
                return 404, {"ok": False, "error": "unknown_method"}, {}
            return 200, {"ok": False, "error": "invalid_arguments", "problems": problems}, {}
        if self.token_error is not None:
            return 200, {"ok": False, "error": self.token_error}, {}
        with self._changed:
            scripted = self._failures[method].popleft() if self._failures[method] else None
            if scripted is None and method in self._flaky:
                fraction, failure = self._flaky[method]
                scripted = failure if self._dice.random() < fraction else None
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
            body = handler({**args, "_team_id": team_id})
        except SlackError as error:
            return 200, {"ok": False, "error": error.code}, {}
        return 200, {"ok": True, **body}, {}

    def _rate_limit_wait(self, method: str, args: dict[str, Any]) -> int | None:
        """Seconds until this call would be allowed, or None if allowed now (and counted)."""
        now = self.clock()
        if method == "chat.postMessage":
            key, limit, window = f"{method}:{args.get('channel')}", 1, 1.0
        else:
            spec = method_spec(method) or {}  # only known methods get this far
            per_minute = TIER_PER_MINUTE.get(spec.get("tier", ""))
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
            "team_id": args["_team_id"],
            "user_id": APP_USER_ID,
            "bot_id": "BPEERCOACH",
            "is_enterprise_install": False,
        }

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not str(args.get("token", "")).startswith("xapp-"):
            raise SlackError("invalid_auth")  # Socket Mode takes an app-level token only
        return {"url": self.socket_mode.issue_url()}

    def _m_oauth_v2_access(self, args: dict[str, Any]) -> dict[str, Any]:
        if (args.get("client_id"), args.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            raise SlackError("invalid_client_id")
        with self._changed:
            grant = self._codes.pop(str(args.get("code")), None)
        if grant is None:
            raise SlackError("invalid_code")
        team_id = grant["team_id"]
        enterprise = grant["enterprise_id"]
        token = f"xoxb-{team_id}-{next(self._ids)}"
        with self._changed:
            self.tokens[token] = enterprise if grant["enterprise_install"] else team_id
        return {
            "access_token": token,
            "token_type": "bot",
            "scope": grant["scopes"],
            "bot_user_id": f"UBOT{team_id}",
            "app_id": "APEERCOACH",
            "team": None if grant["enterprise_install"] else {"id": team_id, "name": team_id},
            "enterprise": {"id": enterprise, "name": enterprise} if enterprise else None,
            "authed_user": {"id": grant["user_id"]},
            "is_enterprise_install": grant["enterprise_install"],
        }

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"user": self._as_seen_by(self._user(args["user"]), args["_team_id"])}

    def _m_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        wanted = str(args["email"]).strip().lower()
        for user in list(self.users.values()):
            if str(user["profile"].get("email", "")).lower() == wanted:
                return {"user": self._as_seen_by(user, args["_team_id"])}
        raise SlackError("users_not_found")

    def _m_files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        with self._changed:
            record = self.files.get(str(args["file"]))
        if record is None:
            raise SlackError("file_not_found")
        if record["user_team"] != args["_team_id"]:
            raise SlackError("not_visible")
        return {"file": dict(record), "comments": [], "response_metadata": {"next_cursor": ""}}

    def _as_seen_by(self, user: dict[str, Any], team_id: str) -> dict[str, Any]:
        """A user as a workspace's token sees them: someone of another organisation (not this
        workspace, nor one of its Enterprise Grid org) is marked is_stranger, as Slack does."""
        home = user["team_id"]
        same_org = home in self.orgs.get(team_id, ()) or any(
            home in teams and team_id in teams for teams in self.orgs.values()
        )
        if home == team_id or same_org:
            return user
        return {**user, "is_stranger": True}

    def _m_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        everyone = list(self.users.values())
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 0) or len(everyone)
        following = str(start + limit) if start + limit < len(everyone) else ""
        return {
            "members": [
                self._as_seen_by(u, args["_team_id"]) for u in everyone[start : start + limit]
            ],
            "cache_ts": 1_700_000_000,
            "response_metadata": {"next_cursor": following},
        }

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
        channel = args.get("channel_id")
        if channel and (
            channel not in self._conversations.values() and channel not in self.channel_members
        ):
            raise SlackError("channel_not_found")
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


def _serve_until_woken(server: ThreadingHTTPServer, woken: socket.socket) -> None:
    """Serve requests until a byte arrives on `woken`.

    `serve_forever` notices `shutdown()` only at its next poll (half a second by default), which
    every test using the emulator would wait out; waiting on both sockets ends the loop at once.
    """
    with woken, selectors.DefaultSelector() as selector:
        selector.register(server, selectors.EVENT_READ)
        selector.register(woken, selectors.EVENT_READ)
        while True:
            ready = {key.fileobj for key, _ in selector.select()}
            if woken in ready:
                return
            server.handle_request()  # the listening socket is readable: accept without blocking
