"""`peercoach demo --show-messages`: everything the app showed people, as readable text.

The emulator records every Web API call the app made and every answer it posted to a
response_url. This turns them, in order, into a transcript: each message with whom it went
to, each update of a message, each modal and App Home a person saw, each file (the admins'
digest) with its comment. Block Kit becomes plain text (bot.sandbox.demo_render).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from bot.sandbox.demo_render import blocks_to_text, join_names, mrkdwn_to_text
from bot.sandbox.slack_emulator import SlackEmulator

SHOWN_METHODS = (
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "views.open",
    "views.push",
    "views.update",
    "views.publish",
    "files.completeUploadExternal",
)


class Transcript:
    """Renders what the app showed people since the last call to `lines`, as text."""

    def __init__(self, emulator: SlackEmulator, names: Mapping[str, str]) -> None:
        self.emulator = emulator
        self.names = names
        self._calls = 0
        self._responses = 0
        self._homes: dict[str, str] = {}  # user -> digest of the App Home last shown
        self._modals: set[str] = set()  # digests of the modals shown so far

    def _who(self, channel: str | None) -> str:
        if not channel:
            return "?"
        try:
            members = self.emulator.conversation_members(channel)
        except KeyError:
            return channel
        return join_names([self.names.get(u, u) for u in members])

    def _body(self, text: str, blocks: list[dict[str, Any]] | None) -> list[str]:
        if blocks:
            return blocks_to_text(blocks, self.names)
        return mrkdwn_to_text(text or "", self.names).splitlines()

    def _call(self, method: str, args: dict[str, Any]) -> list[str]:
        blocks = _json(args.get("blocks"))
        if method == "chat.postMessage":
            head = f"message to {self._who(args.get('channel'))}"
            body = self._body(args.get("text", ""), blocks)
        elif method == "chat.update":
            head = f"message updated in place for {self._who(args.get('channel'))}"
            body = self._body(args.get("text", ""), blocks)
        elif method == "chat.postEphemeral":
            head = f"only {self.names.get(args.get('user', ''), args.get('user'))} sees"
            body = self._body(args.get("text", ""), blocks)
        elif method == "views.publish":
            user = str(args.get("user_id", ""))
            view = _json(args.get("view")) or {}
            digest = hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()
            if self._homes.get(user) == digest:
                return []
            self._homes[user] = digest
            head = f"App Home of {self.names.get(user, user)}"
            body = blocks_to_text(view.get("blocks", []), self.names)
        elif method.startswith("views."):
            view = _json(args.get("view")) or {}
            title = (view.get("title") or {}).get("text", "")
            verb = {"views.open": "opened", "views.push": "pushed", "views.update": "updated"}
            head = f"modal {verb[method]}: “{title}”"
            digest = hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()
            if digest in self._modals:
                return [f"── {head} (as shown above)"]
            self._modals.add(digest)
            body = blocks_to_text(view.get("blocks", []), self.names)
            if view.get("submit"):
                body.append(f"[{view['submit'].get('text', 'Submit')}]")
        else:  # files.completeUploadExternal
            files = _json(args.get("files")) or []
            titles = ", ".join(str(f.get("title", "")) for f in files)
            head = f"file for {self._who(args.get('channel_id'))}: {titles}"
            body = mrkdwn_to_text(args.get("initial_comment") or "", self.names).splitlines()
        return [f"── {head}", *_framed(body)]

    def _response(self, answer: dict[str, Any]) -> list[str]:
        kind = "replaces the message" if answer.get("replace_original") else "reply"
        if answer.get("delete_original"):
            return ["── the message was removed"]
        body = self._body(answer.get("text", ""), answer.get("blocks"))
        return [f"── {kind} (only the person who acted sees it)", *_framed(body)]

    def _events(self) -> Iterator[tuple[int, int, list[str]]]:
        calls = self.emulator.calls
        for index in range(self._calls, len(calls)):
            call = calls[index]
            if call.ok and call.method in SHOWN_METHODS:
                yield index, 0, self._call(call.method, call.args)
        positions = self.emulator.response_positions
        for index in range(self._responses, len(self.emulator.responses)):
            yield positions[index], 1, self._response(self.emulator.responses[index])

    def lines(self) -> list[str]:
        """What people were shown since the last call, oldest first."""
        events = sorted(self._events(), key=lambda e: (e[0], e[1]))
        self._calls = len(self.emulator.calls)
        self._responses = len(self.emulator.responses)
        return [line for _, _, rendered in events for line in rendered]


def _framed(body: list[str]) -> list[str]:
    return [f"    │ {line}".rstrip() for line in body] or ["    │"]


def _json(value: Any) -> Any:
    """Arguments sent form-encoded arrive as JSON strings; JSON bodies as objects."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value
