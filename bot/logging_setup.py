"""Log output: text or one JSON object per line, each line tagged with its Slack request's id.

INFO stays quiet in steady state: APScheduler's two lines per tick and the libraries that log
request bodies or SQL parameters at DEBUG (user text, which never goes to logs) are held back.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from bot.observability import current_request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers held at a floor whatever LOG_LEVEL says, and why:
# - sqlalchemy.engine logs every statement's parameters (reflections, goals) at INFO;
# - slack_sdk logs request and response bodies (messages, views) at DEBUG.
ALWAYS_AT_LEAST = {
    "sqlalchemy.engine": logging.WARNING,
    "slack_sdk": logging.INFO,
    # Alembic announces each plugin it loads at INFO; what a migration applies stays visible.
    "alembic.runtime.plugins": logging.WARNING,
}
# APScheduler logs "Running job" and "executed successfully" at INFO every tick.
QUIET_UNLESS_DEBUG = ("apscheduler",)


class RequestIdFilter(logging.Filter):
    """Puts the current Slack request's id (or None) on every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id.

    `request_id` is present only on lines a Slack request caused; a traceback, when logged,
    is in `exc_info`.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The classic line, with ` [req <id>]` appended on lines a Slack request caused."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [req {request_id}]" if request_id else line


class StderrHandler(logging.StreamHandler[IO[str]]):
    """Writes to whatever `sys.stderr` is at the time of each line, not at creation.

    A command run in-process (tests call `bot.cli.main`) must not leave a handler bound to a
    stream that is closed or replaced afterwards.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override,unused-ignore]
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _value: IO[str]) -> None:
        pass


_installed: logging.Handler | None = None


def install(level: str, log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """Replace the root logger's handlers with one writing to `stream` (stderr by default).

    `level` is a level name (DEBUG ... CRITICAL); `log_format` is "text" or "json". Returns
    the handler, so a caller (a test) can remove it again.
    """
    handler: logging.Handler = (
        logging.StreamHandler(stream) if stream is not None else StderrHandler()
    )
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    global _installed
    if _installed is not None:  # installing again replaces ours, and only ours
        root.removeHandler(_installed)
    _installed = handler
    root.addHandler(handler)
    root.setLevel(level)
    numeric = logging.getLevelName(level)
    for name, floor in ALWAYS_AT_LEAST.items():
        logging.getLogger(name).setLevel(max(floor, numeric))
    for name in QUIET_UNLESS_DEBUG:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    return handler
