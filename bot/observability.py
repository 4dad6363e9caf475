"""Prometheus metrics and the per-request id: what an operator watches, never what people wrote.

Every label here takes a value from a fixed set (a request kind, a delivery outcome, a Slack
method name, an outbox kind written by our code); nothing a person typed, no names and no Slack
user ids ever become a label or a value. Metrics live in one process-wide registry; the outbox
and lease figures are read from the database when /metrics is scraped (`DatabaseCollector`),
never on a Slack request's path.

The request id is a context variable set for each Slack request (WSGI layer or Socket Mode
handler) and copied into the listener threads (`ContextPropagatingExecutor`), so every log line
a request causes carries it (see bot/logging_setup.py).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select, text

from db.models import OutboxMessage, SchedulerLease

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# Slack shows the person an error when an ack takes over 3 s; 2 s is the early warning.
SLOW_ACK_SECONDS = 2.0
REQUEST_KINDS = ("command", "action", "view", "event", "shortcut", "options", "other")
DELIVERY_OUTCOMES = ("sent", "deferred", "failed", "unreachable")
# An outbox kind is written by our code ("intro", "nudge", ...); anything else is folded.
_SAFE_KIND = re.compile(r"^[a-z_]{1,32}$")
_SLACK_METHOD = re.compile(r"^[a-z]+(\.[a-zA-Z]+)+$")
# How long a scrape may wait for the database before it reports the figures as unavailable.
SCRAPE_DB_TIMEOUT_MS = 2000

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

REQUEST_SECONDS = Histogram(
    "peercoach_slack_request_seconds",
    "Time from receiving a Slack request to answering it (the ack), by request kind.",
    ["kind"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
    registry=REGISTRY,
)
SLOW_ACKS = Counter(
    "peercoach_slack_slow_acks",
    f"Slack requests answered after more than {SLOW_ACK_SECONDS:g} s (Slack gives up at 3 s).",
    ["kind"],
    registry=REGISTRY,
)
LISTENER_ERRORS = Counter(
    "peercoach_listener_errors",
    "Listener failures that reached the app's error handler, by request kind.",
    ["kind"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "peercoach_deliveries",
    "Outbox send attempts by outcome: sent, deferred (retried later), failed, unreachable"
    " (Slack cannot reach a recipient; the group goes on without them or is called off).",
    ["outcome"],
    registry=REGISTRY,
)
SLACK_RATE_LIMITED = Counter(
    "peercoach_slack_rate_limited",
    "HTTP 429 answers from the Slack Web API, by API method.",
    ["method"],
    registry=REGISTRY,
)
ROUND_START_SECONDS = Histogram(
    "peercoach_round_start_seconds",
    "Time to start a round (close the last, match, record groups and intros), by round kind.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0),
    registry=REGISTRY,
)
LEASE_HELD = Gauge(
    "peercoach_scheduler_lease_held",
    "1 while this process holds the scheduler lease (runs rounds and sends the outbox), else 0.",
    registry=REGISTRY,
)

for _kind in REQUEST_KINDS:  # export zeros from the start, so rates and alerts have a baseline
    REQUEST_SECONDS.labels(kind=_kind)
    SLOW_ACKS.labels(kind=_kind)
    LISTENER_ERRORS.labels(kind=_kind)
for _outcome in DELIVERY_OUTCOMES:
    DELIVERIES.labels(outcome=_outcome)


# -- the request being served --------------------------------------------------------------


@dataclass
class RequestContext:
    """The Slack request this thread is serving: its id and, once Bolt parsed it, its kind."""

    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    kind: str = "other"
    started: float = field(default_factory=time.perf_counter)


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "peercoach_request", default=None
)


def current_request_id() -> str | None:
    """The id of the Slack request this code runs for, or None outside any request."""
    context = _current.get()
    return context.request_id if context is not None else None


def current_request_kind() -> str:
    context = _current.get()
    return context.kind if context is not None else "other"


@contextmanager
def slack_request(request_id: str | None = None) -> Iterator[RequestContext]:
    """Serve one Slack request: set its id for every log line, time it until the ack.

    Wraps the whole dispatch (HTTP: the WSGI call; Socket Mode: the envelope's handling), so
    the time observed is what Slack waits for. The kind is filled in by `note_request_kind`.
    """
    context = RequestContext(request_id=request_id) if request_id else RequestContext()
    token = _current.set(context)
    try:
        yield context
    finally:
        elapsed = time.perf_counter() - context.started
        REQUEST_SECONDS.labels(kind=context.kind).observe(elapsed)
        if elapsed > SLOW_ACK_SECONDS:
            SLOW_ACKS.labels(kind=context.kind).inc()
        logger.debug("slack %s request answered in %.3f s", context.kind, elapsed)
        _current.reset(token)


def request_kind(body: dict[str, Any]) -> str:
    """The kind of a parsed Slack request body: command, action, view, event, ... or other."""
    payload_type = body.get("type")
    if body.get("command"):
        return "command"
    if payload_type == "block_actions" or payload_type == "interactive_message":
        return "action"
    if payload_type in ("view_submission", "view_closed"):
        return "view"
    if payload_type == "event_callback":
        return "event"
    if payload_type in ("shortcut", "message_action"):
        return "shortcut"
    if payload_type == "block_suggestion":
        return "options"
    return "other"


def note_request_kind(body: dict[str, Any]) -> None:
    """Record the verified request's kind for the latency metrics (called from the app's
    middleware, which Bolt runs after it verified the signature: unverified requests stay
    kind "other")."""
    context = _current.get()
    if context is not None:
        context.kind = request_kind(body)


def listener_failed() -> None:
    """Count a listener failure (called from the app's error handler)."""
    LISTENER_ERRORS.labels(kind=current_request_kind()).inc()


class ContextPropagatingExecutor(Executor):
    """Runs each submitted listener inside a copy of the submitting thread's context.

    Bolt submits listeners from the request thread; without this, the request id set there
    would be missing from every line a listener logs on its pool thread.
    """

    def __init__(self, inner: Executor) -> None:
        self.inner = inner

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        context = contextvars.copy_context()
        return self.inner.submit(context.run, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


# -- hooks for the jobs ----------------------------------------------------------------------


def delivery(outcome: str) -> None:
    """Count one outbox outcome: "sent", "deferred", "failed" or "unreachable" (a recipient)."""
    DELIVERIES.labels(outcome=outcome if outcome in DELIVERY_OUTCOMES else "failed").inc()


def rate_limited(url_or_method: str) -> None:
    """Count one HTTP 429 from Slack for a Web API method (a URL's last segment is taken)."""
    method = url_or_method.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    SLACK_RATE_LIMITED.labels(method=method if _SLACK_METHOD.match(method) else "other").inc()


def lease_held(held: bool) -> None:
    """Record whether this process holds the scheduler lease (after each attempt to take it)."""
    LEASE_HELD.set(1 if held else 0)


def timed_round_start(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate `start_round`: observe its duration when it started a round (not a no-op)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        if result is not None:
            kind = str(kwargs.get("kind", "other"))
            ROUND_START_SECONDS.labels(kind=kind if _SAFE_KIND.match(kind) else "other").observe(
                time.perf_counter() - started
            )
        return result

    return wrapper


# -- figures read at scrape time -------------------------------------------------------------


class DatabaseCollector(Collector):
    """Outbox depth and age by kind, and the lease, read from the database when scraped.

    One short read-only query per family, bounded by SCRAPE_DB_TIMEOUT_MS on PostgreSQL; if
    the database does not answer, `peercoach_metrics_database_up` is 0 and the rest is absent.
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def describe(self) -> list[Any]:
        return []  # figures are only known at scrape time; don't query on registration

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "peercoach_metrics_database_up",
            "1 if the database answered the metrics queries of this scrape, else 0.",
        )
        try:
            families = self._read()
        except Exception as error:  # a scrape must answer even when the database does not
            logger.warning("metrics: database figures unavailable (%s)", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> list[Any]:
        now = self.clock()
        depth = GaugeMetricFamily(
            "peercoach_outbox_depth",
            "Outbox messages waiting to be sent (pending or being sent), by message kind.",
            labels=["kind"],
        )
        oldest = GaugeMetricFamily(
            "peercoach_outbox_oldest_pending_age_seconds",
            "Age of the oldest message still waiting to be sent, by message kind.",
            labels=["kind"],
        )
        lease_left = GaugeMetricFamily(
            "peercoach_scheduler_lease_seconds_left",
            "Seconds until the scheduler lease lapses (negative: lapsed; absent: never taken).",
        )
        lease_holder = GaugeMetricFamily(
            "peercoach_scheduler_lease_holder",
            "1 for the process (host:pid:nonce) that holds the scheduler lease.",
            labels=["holder"],
        )
        with self.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"SET LOCAL statement_timeout = {SCRAPE_DB_TIMEOUT_MS}"))
            rows = connection.execute(
                select(
                    OutboxMessage.kind,
                    func.count(),
                    func.min(OutboxMessage.created_at),
                )
                .where(OutboxMessage.status.in_(("pending", "sending")))
                .group_by(OutboxMessage.kind)
            ).all()
            lease = connection.execute(
                select(SchedulerLease.holder, SchedulerLease.expires_at)
            ).first()
            connection.rollback()
        by_kind: dict[str, tuple[int, float]] = {}
        for kind, count, created in rows:
            label = kind if _SAFE_KIND.match(kind or "") else "other"
            age = max(0.0, (now - _utc(created)).total_seconds()) if created else 0.0
            old_count, old_age = by_kind.get(label, (0, 0.0))
            by_kind[label] = (old_count + count, max(old_age, age))
        for label, (count, age) in sorted(by_kind.items()):
            depth.add_metric([label], count)
            oldest.add_metric([label], age)
        families: list[Any] = [depth, oldest]
        if lease is not None:
            lease_left.add_metric([], (_utc(lease.expires_at) - now).total_seconds())
            lease_holder.add_metric([lease.holder], 1)
            families += [lease_left, lease_holder]
        return families


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def metrics_app_payload(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The text exposition of a registry and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


def scrape_registry(engine: Engine, clock: Callable[[], datetime]) -> CollectorRegistry:
    """A registry for one HTTP app: the process-wide metrics plus this database's figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Forward(REGISTRY))
    registry.register(DatabaseCollector(engine, clock))
    return registry


class _Forward(Collector):
    """Exposes another registry's metrics (the process-wide ones) through this one."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        yield from self.source.collect()
