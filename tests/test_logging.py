"""Logs an operator can ship: JSON lines with a request id, quiet at INFO in steady state."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

from bot.config import Settings, configure_logging
from bot.deps import Deps
from bot.sandbox.harness import Sandbox
from bot.scheduler import RoundScheduler


@pytest.fixture
def log_output() -> io.StringIO:
    """Where configure_logging writes during the test (conftest restores logging after)."""
    return io.StringIO()


def json_lines(stream: io.StringIO, start: int = 0) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue()[start:].splitlines()]


def test_every_line_a_request_causes_carries_its_request_id(
    sandbox: Sandbox, log_output: io.StringIO
) -> None:
    stream = log_output
    configure_logging(Settings(log_format="json", log_level="DEBUG"), stream=stream)
    sandbox.emulator.fail_next("views.open", "internal_error")  # the listener will fail

    sandbox.people.command("U001", "join")
    sandbox.settle()
    first = json_lines(stream)
    sandbox.people.command("U002", "help")
    sandbox.settle()
    second = json_lines(stream)[len(first) :]

    loggers = {line["logger"] for line in first}
    # The request thread, and the background work after the ack (views.open, refused).
    assert {"bot.observability", "bot.listeners.common"} <= loggers
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in first)
    assert len({line.get("request_id") for line in first}) == 1
    assert first[0].get("request_id")
    assert second and {line.get("request_id") for line in second} != {first[0]["request_id"]}
    assert len({line.get("request_id") for line in second}) == 1


def test_a_steady_state_scheduler_tick_logs_nothing_at_info(
    sandbox: Sandbox, log_output: io.StringIO
) -> None:
    stream = log_output

    def lines_of_one_more_tick(level: str) -> list[dict[str, str]]:
        configure_logging(Settings(log_format="json", log_level=level), stream=stream)
        # Real time: APScheduler fires on the wall clock, the tick then finds nothing due.
        deps = Deps(
            settings=sandbox.settings, sessions=sandbox.deps.sessions, render=sandbox.deps.render
        )
        scheduler = RoundScheduler(deps)
        ran = threading.Semaphore(0)

        def on_run(event: JobExecutionEvent) -> None:
            ran.release()

        scheduler.scheduler.add_listener(on_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start()
        try:
            assert ran.acquire(timeout=30)  # the first tick, at start
            start = len(stream.getvalue())
            scheduler.scheduler.modify_job("peercoach-tick", next_run_time=datetime.now(UTC))
            assert ran.acquire(timeout=30)  # one more tick: steady state
            return json_lines(stream, start)
        finally:
            scheduler.shutdown()

    assert lines_of_one_more_tick("INFO") == []
    # The same tick at DEBUG shows APScheduler's lines: the quiet above is the setting's doing.
    assert any(line["logger"].startswith("apscheduler") for line in lines_of_one_more_tick("DEBUG"))
