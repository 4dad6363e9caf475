"""Pure parts of bot/observability.py and bot/logging_setup.py: kinds, labels, log lines."""

from __future__ import annotations

import json
import logging

import pytest

from bot import observability
from bot.logging_setup import JsonFormatter, RequestIdFilter


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"command": "/peercoach", "text": "join"}, "command"),
        ({"type": "block_actions", "actions": []}, "action"),
        ({"type": "view_submission", "view": {}}, "view"),
        ({"type": "view_closed", "view": {}}, "view"),
        ({"type": "event_callback", "event": {"type": "app_home_opened"}}, "event"),
        ({"type": "shortcut"}, "shortcut"),
        ({"type": "block_suggestion"}, "options"),
        ({"type": "url_verification", "challenge": "x"}, "other"),
        ({}, "other"),
    ],
)
def test_request_kinds_come_from_a_fixed_set(body: dict, kind: str) -> None:
    assert observability.request_kind(body) == kind
    assert kind in observability.REQUEST_KINDS


def test_a_rate_limit_label_is_a_slack_method_name_or_other() -> None:
    counter = observability.SLACK_RATE_LIMITED
    before = counter.labels(method="other")._value.get()

    observability.rate_limited("http://127.0.0.1:1/api/views.open")
    observability.rate_limited("http://127.0.0.1:1/api/Ask me anything!")

    assert counter.labels(method="views.open")._value.get() >= 1
    assert counter.labels(method="other")._value.get() == before + 1


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("bot.test", logging.INFO, __file__, 1, message, (), None)


def test_a_json_line_has_time_level_logger_message_and_the_request_id() -> None:
    line = record("hello")
    with observability.slack_request(request_id="req-123"):
        RequestIdFilter().filter(line)

    parsed = json.loads(JsonFormatter().format(line))

    assert parsed["level"] == "INFO" and parsed["logger"] == "bot.test"
    assert parsed["message"] == "hello" and parsed["request_id"] == "req-123"
    assert parsed["time"].endswith("+00:00")


def test_a_line_outside_any_request_has_no_request_id() -> None:
    line = record("tick")
    RequestIdFilter().filter(line)

    assert "request_id" not in json.loads(JsonFormatter().format(line))
