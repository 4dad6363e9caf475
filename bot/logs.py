"""Keep people's text out of the logs, whatever level any logger is set to.

Our own code logs ids, counts and error codes only. The libraries under us do not: Bolt logs
request and response bodies at DEBUG (and a rejected request's body at INFO), slack-sdk logs
every Web API call's arguments and answer at DEBUG, SQLAlchemy logs result rows at DEBUG, and
any library's traceback ends with an exception message that may quote a value. So each of
these libraries' loggers hands its records to a redactor instead of the root logger's handlers
(see docs/security.md):

- slack_bolt and slack_sdk: arguments dropped, and the message cut where a body, payload,
  parameters, headers, response or text starts;
- sqlalchemy: arguments dropped (statements are kept: their values are bound parameters, which
  `hide_parameters` already keeps out);
- apscheduler and waitress: messages kept;
- all of them: a traceback becomes its exception types and frames (`describe_failure`).
"""

from __future__ import annotations

import copy
import logging
import re
import traceback

# Where each library's log text may quote what people wrote, and where it can't.
CUT_AT_PAYLOAD = ("slack_bolt", "slack_sdk")
DROP_ARGUMENTS = ("slack_bolt", "slack_sdk", "sqlalchemy")
SCRUB_TRACEBACKS = ("slack_bolt", "slack_sdk", "sqlalchemy", "apscheduler", "waitress")
# The name the Bolt app logs under: inside the slack_bolt tree, so it is redacted too.
BOLT_APP_NAME = "slack_bolt.peercoach"

REDACTED = "[redacted]"
PAYLOAD_MARKER = re.compile(
    r"body|payload|param|argument|header|response|text|block|view|value|[{\[(]", re.IGNORECASE
)
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")


def describe_failure(error: BaseException) -> str:
    """An exception as its type and the frames it passed through, e.g.
    `builtins.KeyError at bot/listeners/x.py:12 in f <- ...`, then the same for its cause.

    Never the exception's message or local values: those can carry people's text (a database
    error quotes the values it was given).
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(parts) < 5:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)
        where = " <- ".join(
            f"{_short_path(f.filename)}:{f.lineno} in {f.name}" for f in reversed(frames[-8:])
        )
        parts.append(f"{type(current).__module__}.{type(current).__qualname__} at {where or '?'}")
        current = current.__cause__ or current.__context__
    return "; caused by ".join(parts)


def _short_path(filename: str) -> str:
    """A frame's file from its package root on (no machine paths in the logs)."""
    for marker in ("/site-packages/", "/bot/", "/db/"):
        if marker in filename:
            tail = filename.rsplit(marker, 1)[1]
            return tail if marker == "/site-packages/" else marker.strip("/") + "/" + tail
    return filename.rsplit("/", 1)[-1]


def _family(name: str, families: tuple[str, ...]) -> bool:
    return any(name == f or name.startswith(f + ".") for f in families)


def redact(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of a library's log record that can be shown: see the module docstring."""
    clean = copy.copy(record)
    message = str(record.msg)
    if record.args and _family(record.name, DROP_ARGUMENTS):
        message = PLACEHOLDER.sub(REDACTED, message)
    elif record.args:
        message = record.getMessage()
    if _family(record.name, CUT_AT_PAYLOAD):
        found = PAYLOAD_MARKER.search(message)
        if found is not None:
            message = message[: found.start()].rstrip(" :(-,") + " " + REDACTED
    if record.exc_info and record.exc_info[1] is not None:
        message += " | " + describe_failure(record.exc_info[1])
    clean.msg, clean.args = message, None
    clean.exc_info, clean.exc_text, clean.stack_info = None, None, None
    return clean


class _Redactor(logging.Handler):
    """Passes a redacted copy of each record on to the root logger's handlers."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger().handle(redact(record))


def redact_library_logs() -> None:
    """Route the libraries' loggers through the redactor (idempotent).

    They stop propagating to the root logger and hand it redacted copies instead, so the
    redaction holds at any level and for any handler attached to the root logger.
    """
    for name in SCRUB_TRACEBACKS:
        library = logging.getLogger(name)
        if not any(isinstance(h, _Redactor) for h in library.handlers):
            library.addHandler(_Redactor())
        library.propagate = False
