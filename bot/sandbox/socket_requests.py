"""People's requests over Socket Mode instead of signed HTTP (see bot/sandbox/socket_mode.py).

The same people typing, clicking and submitting as `SlackRequests`, so the harness and tests
run unchanged on both transports.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from bot.sandbox.slack_requests import HttpResponse, SlackRequests
from bot.sandbox.socket_mode import SocketModeEndpoint


class SocketSlackRequests(SlackRequests):
    """People's requests delivered over Socket Mode: each waits for the app's acknowledgement.

    The answer is shaped like the HTTP one (status 200, the ack's payload as a JSON body), so
    `Sandbox.join` and the tests read it the same way.
    """

    def __init__(self, endpoint: SocketModeEndpoint, **kwargs: Any) -> None:
        super().__init__(_no_http, signing_secret="unused-in-socket-mode", **kwargs)
        self.endpoint = endpoint
        # Set by a test: cut the connection right after the next request is written.
        self.drop_after_next = False

    def post(
        self, body: bytes, content_type: str, *, headers: dict[str, str] | None = None
    ) -> HttpResponse:
        if content_type == "application/json":
            type_, payload, accepts = "events_api", json.loads(body), False
        else:
            form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
            if "payload" in form:
                type_, payload, accepts = "interactive", json.loads(form["payload"]), True
            else:
                type_, payload, accepts = "slash_commands", form, True
        drop, self.drop_after_next = self.drop_after_next, False
        envelope_id = self.endpoint.send(
            type_, payload, accepts_response_payload=accepts, drop_after_write=drop
        )
        answer = self.endpoint.wait_for_ack(envelope_id).ack_payload
        if not answer:
            return HttpResponse(200, {}, b"")
        return HttpResponse(200, {"content-type": "application/json"}, json.dumps(answer).encode())


def _no_http(environ: dict[str, Any], start_response: Any) -> Any:
    raise AssertionError("a Socket Mode request went to the HTTP app")
