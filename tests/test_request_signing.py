"""Only requests signed by Slack, recently, reach the listeners."""

from __future__ import annotations

import time

from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import call_wsgi


def test_a_request_with_a_wrong_signature_gets_401_and_does_nothing(sandbox: Sandbox) -> None:
    body = sandbox.people.command_body("U001", "join")
    headers = sandbox.people.signed_headers(body, "application/x-www-form-urlencoded")
    headers["X-Slack-Signature"] = "v0=" + "0" * 64

    response = call_wsgi(sandbox.wsgi, "POST", "/slack/events", body, headers)
    sandbox.settle()

    assert response.status == 401
    assert sandbox.emulator.calls_to("views.open") == []


def test_a_request_older_than_five_minutes_gets_401(sandbox: Sandbox) -> None:
    body = sandbox.people.command_body("U001", "join")
    stale = int(time.time()) - 6 * 60
    headers = sandbox.people.signed_headers(body, "application/x-www-form-urlencoded", stale)

    response = call_wsgi(sandbox.wsgi, "POST", "/slack/events", body, headers)
    sandbox.settle()

    assert response.status == 401
    assert sandbox.emulator.calls_to("views.open") == []


def test_a_tampered_body_gets_401(sandbox: Sandbox) -> None:
    body = sandbox.people.command_body("U001", "help")
    headers = sandbox.people.signed_headers(body, "application/x-www-form-urlencoded")
    response = call_wsgi(
        sandbox.wsgi, "POST", "/slack/events", body.replace(b"help", b"leave"), headers
    )
    assert response.status == 401


def test_healthz_answers_200_while_the_database_is_reachable(sandbox: Sandbox) -> None:
    response = call_wsgi(sandbox.wsgi, "GET", "/healthz")
    assert (response.status, response.body) == (200, b"ok")


def test_unknown_paths_are_404(sandbox: Sandbox) -> None:
    assert call_wsgi(sandbox.wsgi, "GET", "/admin").status == 404


def test_bolts_own_lazy_headers_added_to_a_signed_request_are_ignored(sandbox: Sandbox) -> None:
    """Slack's signature covers the body and timestamp, not other headers: someone replaying
    a signed `/peercoach join` with Bolt's internal lazy-listener headers added still gets the
    join modal, as Slack's own request would (the headers are Bolt's, never Slack's)."""
    body = sandbox.people.command_body("U001", "join")
    headers = sandbox.people.signed_headers(body, "application/x-www-form-urlencoded")
    headers["X-Slack-Bolt-Lazy-Only"] = "true"
    headers["X-Slack-Bolt-Lazy-Function-Name"] = "anything"

    response = call_wsgi(sandbox.wsgi, "POST", "/slack/events", body, headers)
    sandbox.settle()

    assert response.status == 200
    assert len(sandbox.emulator.calls_to("views.open")) == 1
