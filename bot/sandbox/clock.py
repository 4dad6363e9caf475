"""A clock the sandbox and tests move by hand, so a year of cycles takes seconds."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class ManualClock:
    """Wall time and a monotonic reading that only move when told to (or when slept on)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()
        self.slept = 0.0

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def __call__(self) -> datetime:
        return self.now()

    def monotonic(self) -> float:
        return self.now().timestamp()

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move time forward by `delta` or by timedelta keyword arguments."""
        step = delta if delta is not None else timedelta(**kwargs)
        with self._lock:
            self._now += step
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment.astimezone(UTC)

    def sleep(self, seconds: float) -> None:
        """Sleeping on a manual clock moves it: rate-limit waits cost no real time."""
        self.slept += seconds
        self.advance(seconds=seconds)
