"""The bounded background executor: full means refused at once, never a wait."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bot.deps import BackgroundFull, BoundedExecutor, TtlCache


def test_a_full_background_refuses_at_once_and_frees_the_slot_when_work_ends() -> None:
    release = threading.Event()
    background = BoundedExecutor(ThreadPoolExecutor(1), capacity=1)
    try:
        running = background.try_submit(release.wait, 30)
        assert running is not None

        assert background.try_submit(print) is None  # returns at once: no wait for a slot
        dropped = background.submit(print)
        assert isinstance(dropped.exception(timeout=0), BackgroundFull)

        release.set()
        running.result(timeout=30)
        again = background.try_submit(lambda: "ran")
        assert again is not None and again.result(timeout=30) == "ran"
    finally:
        release.set()
        background.shutdown()


def test_the_ttl_cache_forgets_after_its_time() -> None:
    now = [0.0]
    cache = TtlCache(ttl=10, clock=lambda: now[0])
    cache.put("T1", "U1", True)
    assert cache.get("T1", "U1") is True and cache.get("T1", "U2") is None
    now[0] = 10.0
    assert cache.get("T1", "U1") is None


def test_draining_the_background_waits_for_its_work_within_the_time_given() -> None:
    release = threading.Event()
    background = BoundedExecutor(ThreadPoolExecutor(2), capacity=4)
    try:
        done = background.try_submit(lambda: "done")
        assert done is not None and done.result(timeout=30) == "done"
        background.try_submit(release.wait, 30)
        assert background.drain(0) == 1  # still running when the time was up
        assert background.try_submit(print) is None  # takes no more work
        release.set()
        assert background.drain(30) == 0
    finally:
        release.set()


def test_the_ttl_cache_forgets_everything_when_cleared() -> None:
    cache = TtlCache(ttl=10)
    cache.put("T1", "U1", True)
    cache.clear()
    assert cache.get("T1", "U1") is None
