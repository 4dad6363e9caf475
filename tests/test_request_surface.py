"""Unverified means inert: a request that is not Slack's, or not shaped like Slack's, gets a
4xx and causes no outbound call, no database write, no ERROR log and no traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from bot import ids
from bot.sandbox.harness import Sandbox
from bot.sandbox.slack_requests import call_wsgi
from tests.surface_helpers import Attacker, LogCapture, every_logger_at, row_counts, sign

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    with every_logger_at(logging.DEBUG) as capture:
        yield capture


def forged_command(attacker: Attacker, **fields: str) -> bytes:
    """A slash command whose response_url points at the attacker."""
    return urlencode(
        {
            "command": ids.COMMAND,
            "text": "join",
            "team_id": "T0PEERS",
            "user_id": "U001",
            "trigger_id": "1.2.trigger",
            "response_url": attacker.url,
            **fields,
        }
    ).encode()


def assert_inert(
    sandbox: Sandbox, attacker: Attacker, logs: LogCapture, rows_before: dict[str, int]
) -> None:
    """Nothing happened: no call anywhere, no row written, one WARNING at most, no traceback."""
    sandbox.settle()
    assert attacker.hits == []
    assert sandbox.emulator.calls == []
    assert sandbox.emulator.responses == []
    assert row_counts(sandbox.engine) == rows_before
    assert logs.at_least(logging.ERROR) == []
    assert len(logs.at_least(logging.WARNING)) <= 1
    assert "Traceback" not in logs.text
    assert all(r.exc_info is None for r in logs.records)


def post(sandbox: Sandbox, body: bytes, headers: dict[str, str], content_type: str = FORM):
    return call_wsgi(
        sandbox.wsgi, "POST", "/slack/events", body, {"Content-Type": content_type, **headers}
    )


def test_a_malformed_timestamp_is_401_and_nothing_reaches_the_attackers_url(
    sandbox: Sandbox, attacker: Attacker, logs: LogCapture
) -> None:
    """The case from issue 11: timestamp `abc`, any signature, response_url on 127.0.0.1."""
    rows = row_counts(sandbox.engine)
    body = forged_command(attacker)
    headers = {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=abc"}

    response = post(sandbox, body, headers)

    assert response.status == 401
    assert_inert(sandbox, attacker, logs, rows)


TIMESTAMPS = {
    "missing": None,
    "empty": "",
    "negative": "-5",
    "exponent": "1e9",
    "fraction": "12.5",
    "space": " 1700000000",
    "arabic digits": "\u0661\u0667" + "\u0660" * 8,
    "huge": "9" * 40,
    "1970": "0",
}


def test_a_missing_or_malformed_timestamp_is_401(
    sandbox: Sandbox, attacker: Attacker, logs: LogCapture
) -> None:
    rows = row_counts(sandbox.engine)
    body = forged_command(attacker)
    for case, timestamp in TIMESTAMPS.items():
        logs.clear()
        headers = {"X-Slack-Signature": sign(body)["X-Slack-Signature"]}
        if timestamp is not None:
            headers["X-Slack-Request-Timestamp"] = timestamp
        assert post(sandbox, body, headers).status == 401, case
        assert_inert(sandbox, attacker, logs, rows)


def test_a_missing_or_wrong_signature_is_401(
    sandbox: Sandbox, attacker: Attacker, logs: LogCapture
) -> None:
    rows = row_counts(sandbox.engine)
    body = forged_command(attacker)
    for signature in (None, "", "v0=", "v0=" + "0" * 64, "v1=abc"):
        logs.clear()
        headers = {"X-Slack-Request-Timestamp": sign(body)["X-Slack-Request-Timestamp"]}
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        assert post(sandbox, body, headers).status == 401, signature
        assert_inert(sandbox, attacker, logs, rows)


def test_a_body_that_is_not_utf8_is_400_even_when_signed(
    sandbox: Sandbox, attacker: Attacker, logs: LogCapture
) -> None:
    rows = row_counts(sandbox.engine)
    body = forged_command(attacker) + b"&text=\xff\xfe"
    assert post(sandbox, body, sign(body)).status == 400
    assert_inert(sandbox, attacker, logs, rows)


WHO = {"team": {"id": "T0PEERS"}, "user": {"id": "U001"}}
SUBMISSION = {"type": "view_submission", "view": {"callback_id": "x", "state": {"values": {}}}}
MISSHAPEN = {
    "payload not json": (urlencode({"payload": "not json {"}).encode(), FORM),
    "payload an array": (urlencode({"payload": "[1, 2]"}).encode(), FORM),
    "payload null": (urlencode({"payload": "null"}).encode(), FORM),
    "payload a string": (urlencode({"payload": '"a string"'}).encode(), FORM),
    "json an array": (b"[]", "application/json"),
    "json broken": (b"{not json", "application/json"),
    "empty": (b"", FORM),
    "event not an object": (
        json.dumps({"type": "event_callback", "team_id": "T0PEERS", "event": "x"}).encode(),
        "application/json",
    ),
    "no actions": (
        urlencode({"payload": json.dumps(WHO | {"type": "block_actions"})}).encode(),
        FORM,
    ),
    "lone surrogate": (
        urlencode({"payload": json.dumps(WHO | SUBMISSION | {"x": "\ud800"})}).encode(),
        FORM,
    ),
    "command without a user": (urlencode({"command": ids.COMMAND, "text": "join"}).encode(), FORM),
    "two payloads": (
        urlencode(
            [("payload", json.dumps(WHO | SUBMISSION)), ("payload", json.dumps(WHO | SUBMISSION))]
        ).encode(),
        FORM,
    ),
    "a repeated command field": (
        urlencode(
            [("command", ids.COMMAND), ("command", ids.COMMAND), ("user_id", "U001")]
        ).encode(),
        FORM,
    ),
}


def test_a_signed_body_not_shaped_like_slacks_is_400(
    sandbox: Sandbox, attacker: Attacker, logs: LogCapture
) -> None:
    rows = row_counts(sandbox.engine)
    for case, (body, content_type) in MISSHAPEN.items():
        logs.clear()
        assert post(sandbox, body, sign(body), content_type).status == 400, case
        assert_inert(sandbox, attacker, logs, rows)


def test_a_body_over_the_cap_is_413_before_it_is_read(
    sandbox: Sandbox, attacker: Attacker, logs: LogCapture
) -> None:
    rows = row_counts(sandbox.engine)
    cap = sandbox.settings.max_request_bytes
    body = forged_command(attacker, text="x" * cap)
    assert post(sandbox, body, sign(body)).status == 413
    assert_inert(sandbox, attacker, logs, rows)


def test_a_body_over_the_cap_without_content_length_is_413(
    sandbox: Sandbox, attacker: Attacker, logs: LogCapture
) -> None:
    rows = row_counts(sandbox.engine)
    body = forged_command(attacker, text="x" * sandbox.settings.max_request_bytes)
    response = call_wsgi(
        sandbox.wsgi,
        "POST",
        "/slack/events",
        body,
        {"Content-Type": FORM, **sign(body)},
        send_content_length=False,
    )
    assert response.status == 413
    assert_inert(sandbox, attacker, logs, rows)


def test_the_largest_submission_the_app_can_receive_fits_under_the_cap(
    sandbox: Sandbox,
) -> None:
    """A reflection modal prefilled and resubmitted at full length in the characters that
    grow most when escaped (JSON, then URL encoding) stays well under MAX_REQUEST_BYTES."""
    from bot.domain.people import ReflectionInput
    from bot.views.reflection import MAX_COMMITMENT, MAX_TAKEAWAY, reflection_modal
    from tests.test_rounds import reflection_values

    takeaway, commitment = '"\\' * (MAX_TAKEAWAY // 2), "\U0001f600" * MAX_COMMITMENT
    view = reflection_modal(
        7, ["U002", "U003"], ReflectionInput(5, takeaway, commitment, share_takeaway=True)
    )
    view |= {"id": "V1", "state": {"values": reflection_values("5", takeaway, commitment)}}
    payload = {"type": "view_submission", "team": {"id": "T0PEERS"}, "user": {"id": "U001"}}
    body = urlencode({"payload": json.dumps(payload | {"view": view})}).encode()
    assert len(body) < sandbox.settings.max_request_bytes / 4


def test_a_get_to_the_slack_path_is_405(sandbox: Sandbox) -> None:
    assert call_wsgi(sandbox.wsgi, "GET", "/slack/events").status == 405


def test_the_error_handler_never_answers_on_a_response_url_off_slacks_hosts(
    sandbox: Sandbox, attacker: Attacker, logs: LogCapture
) -> None:
    """A signed interaction whose listener fails (Slack refuses views.open), carrying the
    attacker's response_url: the person is told by DM instead; the URL is never called."""
    sandbox.emulator.fail_next("views.open", "internal_error")
    body = urlencode(
        {
            "payload": json.dumps(
                {
                    "type": "block_actions",
                    "team": {"id": sandbox.team_id},
                    "user": {"id": "U001"},
                    "trigger_id": "1.2.trigger",
                    "response_url": attacker.url,
                    "actions": [{"action_id": ids.HOME_JOIN, "value": ""}],
                }
            )
        }
    ).encode()

    response = sandbox.people.post(body, FORM)
    sandbox.settle()

    assert response.status == 200
    assert attacker.hits == []
    # Slack refused the modal: the person is told to try again by DM (the outbox), never
    # on the forged response_url.
    dms = sandbox.emulator.calls_to("chat.postMessage")
    assert [c.args["text"][:5] for c in dms] == ["Slack"]
    assert "internal_error" not in logs.text  # Slack's answer is never logged


def test_the_error_handler_answers_on_slacks_response_url(sandbox: Sandbox) -> None:
    sandbox.emulator.fail_next("views.open", "internal_error")
    sandbox.people.click("U001", ids.HOME_JOIN, channel_id="D1", message_ts="1.1")
    sandbox.settle()

    assert [r["text"][:5] for r in sandbox.emulator.responses] == ["Slack"]
    assert sandbox.emulator.calls_to("chat.postMessage") == []


def test_a_command_mentioning_payload_is_answered_like_any_other(sandbox: Sandbox) -> None:
    """Bolt alone reads a form body containing "payload" as an (empty) interaction."""
    response = sandbox.people.command("U001", "help payload")
    assert response.status == 200
    assert "/peercoach join" in response.text
