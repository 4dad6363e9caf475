"""Helpers for tests of the request surface: an attacker's URL, database row counts, signing."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import Engine, func, select

from bot.sandbox.harness import SIGNING_SECRET
from db.models import Base


class Attacker:
    """A tiny HTTP server on 127.0.0.1 standing for a URL an attacker controls; records hits."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, bytes]] = []
        attacker = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                attacker.hits.append((self.path, self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_PUT = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/anything"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def row_counts(engine: Engine) -> dict[str, int]:
    """How many rows each table holds."""
    with engine.connect() as connection:
        return {
            table.name: connection.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def sign(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    """Slack's signature headers over raw bytes (also bytes that are not UTF-8)."""
    stamp = timestamp or str(int(time.time()))
    digest = hmac.new(
        SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


class LogCapture(logging.Handler):
    """Every record that reaches the root logger, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))

    def clear(self) -> None:
        self.records.clear()
        self.lines.clear()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def at_least(self, level: int) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= level]


@contextmanager
def every_logger_at(level: int) -> Iterator[LogCapture]:
    """Set the root logger and every logger that exists to `level`; capture what the root
    logger's handlers receive. Restores the levels afterwards."""
    root = logging.getLogger()
    loggers = [root] + [
        logging.getLogger(name)
        for name, item in list(logging.root.manager.loggerDict.items())
        if isinstance(item, logging.Logger)
    ]
    before = [(lg, lg.level) for lg in loggers]
    capture = LogCapture()
    root.addHandler(capture)
    try:
        for lg in loggers:
            lg.setLevel(level)
        yield capture
    finally:
        root.removeHandler(capture)
        for lg, old in before:
            lg.setLevel(old)
