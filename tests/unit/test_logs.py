"""Library log records are redacted before any handler sees them."""

from __future__ import annotations

import logging

from bot.logs import describe_failure, redact


def record(
    name: str, msg: str, *args: object, exc: BaseException | None = None
) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord(name, logging.DEBUG, "x.py", 1, msg, args or None, exc_info)


def test_bolt_and_sdk_messages_are_cut_where_a_payload_starts() -> None:
    bolt = record("slack_bolt.App", "Responding with status: 200 body: \"{'text': 'SECRET'}\"")
    sdk = record(
        "slack_sdk.web.base_client", "Sending a request - url: u, body_params: {'text': 'SECRET'}"
    )
    webhook = record("slack_sdk.webhook.client", "Sending a request - url: u, body: SECRET")
    for cut in (bolt, sdk, webhook):
        assert "SECRET" not in redact(cut).getMessage()
    assert redact(bolt).getMessage() == "Responding with status: 200 [redacted]"
    plain = record("slack_bolt.App", "Applying middleware: RequestVerification")
    assert redact(plain).getMessage() == "Applying middleware: RequestVerification"


def test_arguments_never_reach_the_message() -> None:
    row = record("sqlalchemy.engine.Engine", "Row %r", ("SECRET",))
    assert redact(row).getMessage() == "Row [redacted]"
    statement = record("sqlalchemy.engine.Engine", "SELECT a FROM t WHERE (b = ?)")
    assert redact(statement).getMessage() == "SELECT a FROM t WHERE (b = ?)"


def test_a_traceback_becomes_types_and_frames() -> None:
    try:
        try:
            raise KeyError("SECRET-1")
        except KeyError as inner:
            raise ValueError("SECRET-2") from inner
    except ValueError as error:
        clean = redact(record("apscheduler.executors", "Job failed", exc=error))
        described = describe_failure(error)
    assert clean.exc_info is None
    assert "SECRET" not in clean.getMessage() and "SECRET" not in described
    assert described.startswith("builtins.ValueError at test_logs.py:")
    assert "caused by builtins.KeyError" in described


def test_our_code_never_logs_a_traceback_with_its_message() -> None:
    """A traceback carries the exception's message, and a database error's message can quote
    the values it was given (people's text): our code logs describe_failure instead."""
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "bot"
    offenders = [
        f"{path.relative_to(package.parent)}:{number}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "exc_info=" in line or ".exception(" in line
    ]
    assert offenders == []
