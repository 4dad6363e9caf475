"""Slack's Socket Mode, played locally: a WebSocket endpoint and people's requests over it.

`SocketModeEndpoint` speaks Slack's side of the protocol (https://docs.slack.dev/apis/events-api/
using-socket-mode): `apps.connections.open` hands out a one-time ticket URL; on connecting the
app gets `{"type": "hello"}`; each request travels as an envelope (`envelope_id`, `type`,
`payload`, `accepts_response_payload`, `retry_attempt`) that the app acknowledges by sending
the `envelope_id` back (with a response payload where allowed). `refresh()` sends Slack's
`disconnect` message (the app must open a new connection), `drop()` cuts the connection
abruptly. An envelope that was not acknowledged on a connection that went away is sent again
on the next one, with `retry_attempt` counted up, as Slack does; an acknowledged one never is.

The people's side is `SocketSlackRequests` (bot/sandbox/socket_requests.py). The WebSocket
protocol itself is the `websockets` library's (sync server).
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

APP_ID = "APEERCOACH"


@dataclass
class Envelope:
    """One request sent to the app over Socket Mode, and what became of it."""

    envelope_id: str
    type: str  # slash_commands, interactive or events_api
    payload: dict[str, Any]
    accepts_response_payload: bool
    deliveries: int = 0  # how many times it was written to a connection
    connection: int | None = None  # the connection it was last written to, while that lives
    acked: bool = False
    ack_payload: dict[str, Any] | None = None


@dataclass
class _Live:
    number: int
    websocket: ServerConnection
    closed: threading.Event = field(default_factory=threading.Event)


class SocketModeEndpoint:
    """Slack's Socket Mode WebSocket server on 127.0.0.1, started on first use."""

    def __init__(self, changed: threading.Condition) -> None:
        # The emulator's condition: waiting for an ack is waiting for "something changed".
        self._changed = changed
        self._server: Server | None = None
        self._tickets: set[str] = set()
        self._numbers = itertools.count(1)
        self._live: dict[int, _Live] = {}
        self.connections_opened = 0
        self.hellos_sent = 0
        self.envelopes: dict[str, Envelope] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def _ensure_started(self) -> Server:
        if self._server is None:
            # Slack's own pings are not emulated; slack-sdk's client pings us and we answer.
            self._server = serve(self._serve_connection, "127.0.0.1", 0, ping_interval=None)
            threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self._server

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def issue_url(self) -> str:
        """A one-time `wss://`-shaped URL (ws:// locally), as `apps.connections.open` returns."""
        server = self._ensure_started()
        port = server.socket.getsockname()[1]
        ticket = uuid.uuid4().hex
        with self._changed:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{port}/link/?ticket={ticket}&app_id={APP_ID}"

    # -- the server side of one connection ----------------------------------------------------

    def _serve_connection(self, websocket: ServerConnection) -> None:
        assert websocket.request is not None
        ticket = parse_qs(urlsplit(websocket.request.path).query).get("ticket", [""])[0]
        with self._changed:
            if ticket not in self._tickets:
                websocket.close(code=1008, reason="invalid ticket")  # tickets are single-use
                return
            self._tickets.discard(ticket)
            live = _Live(next(self._numbers), websocket)
            self._live[live.number] = live
            self.connections_opened += 1
            websocket.send(
                json.dumps(
                    {
                        "type": "hello",
                        "num_connections": len(self._live),
                        "debug_info": {
                            "host": "peercoach-sandbox",
                            "approximate_connection_time": 18060,
                        },
                        "connection_info": {"app_id": APP_ID},
                    }
                )
            )
            self.hellos_sent += 1
            self._resend_orphans()
            self._changed.notify_all()
        try:
            for raw in websocket:
                self._receive(raw)
        except ConnectionClosed:
            pass
        finally:
            self._forget(live)

    def _receive(self, raw: str | bytes) -> None:
        message = json.loads(raw)
        envelope_id = message.get("envelope_id")
        with self._changed:
            envelope = self.envelopes.get(envelope_id or "")
            if envelope is not None and not envelope.acked:
                envelope.acked = True
                envelope.ack_payload = message.get("payload")
            self._changed.notify_all()

    def _forget(self, live: _Live) -> None:
        with self._changed:
            if self._live.pop(live.number, None) is None:
                return
            live.closed.set()
            for envelope in self.envelopes.values():
                if envelope.connection == live.number and not envelope.acked:
                    envelope.connection = None
            self._resend_orphans()
            self._changed.notify_all()

    def _newest(self) -> _Live | None:
        return self._live[max(self._live)] if self._live else None

    def _resend_orphans(self) -> None:
        """Write every unacknowledged envelope without a live connection to the newest one."""
        for envelope in self.envelopes.values():
            if not envelope.acked and envelope.connection is None:
                self._write(envelope)

    def _write(self, envelope: Envelope) -> None:
        live = self._newest()
        if live is None:
            return  # kept until the app connects again
        frame = {
            "envelope_id": envelope.envelope_id,
            "type": envelope.type,
            "payload": envelope.payload,
            "accepts_response_payload": envelope.accepts_response_payload,
            "retry_attempt": envelope.deliveries,
            "retry_reason": "timeout" if envelope.deliveries else "",
        }
        try:
            live.websocket.send(json.dumps(frame))
        except ConnectionClosed:
            return  # its handler will forget the connection and resend
        envelope.deliveries += 1
        envelope.connection = live.number

    # -- what tests do -------------------------------------------------------------------------

    def send(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        drop_after_write: bool = False,
    ) -> str:
        """Send an envelope to the app (now, or once it connects); return its envelope_id.

        With `drop_after_write`, the connection is cut right after the envelope is written,
        before any acknowledgement can come back: the app may or may not have seen it, so it
        is sent again on the next connection (Slack's at-least-once delivery).
        """
        envelope = Envelope(str(uuid.uuid4()), type_, payload, accepts_response_payload)
        with self._changed:
            self.envelopes[envelope.envelope_id] = envelope
            self._write(envelope)
            if drop_after_write:
                self.drop()
        return envelope.envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 30.0) -> Envelope:
        """Block until the app acknowledged the envelope (a condition, not a sleep)."""
        with self._changed:
            envelope = self.envelopes[envelope_id]
            if not self._changed.wait_for(lambda: envelope.acked, timeout):
                raise AssertionError(f"envelope {envelope_id} ({envelope.type}) was not acked")
            return envelope

    def wait_for_connections(self, count: int, timeout: float = 30.0) -> None:
        """Block until the app has opened `count` connections in all and one is live."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: self.connections_opened >= count and bool(self._live), timeout
            ):
                raise AssertionError(f"{self.connections_opened} connection(s), wanted {count}")

    def live_connections(self) -> int:
        with self._changed:
            return len(self._live)

    def refresh(self) -> None:
        """Slack asks the app to reconnect: a `disconnect` message, reason `refresh_requested`."""
        with self._changed:
            live = self._newest()
            assert live is not None, "no connection to refresh"
            live.websocket.send(
                json.dumps(
                    {
                        "type": "disconnect",
                        "reason": "refresh_requested",
                        "debug_info": {"host": "peercoach-sandbox"},
                    }
                )
            )

    def drop(self) -> None:
        """Cut the newest connection without a closing handshake, as a network failure would."""
        with self._changed:
            live = self._newest()
            assert live is not None, "no connection to drop"
            self._live.pop(live.number)  # nothing more is written to it from now on
            for envelope in self.envelopes.values():
                if envelope.connection == live.number and not envelope.acked:
                    envelope.connection = None
            self._resend_orphans()
            self._changed.notify_all()
        live.websocket.socket.shutdown(socket.SHUT_RDWR)
