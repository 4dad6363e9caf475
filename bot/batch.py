"""Large in-memory batches with Python's cyclic garbage collector paused.

A round start for 5,000 members with 29 rounds of history builds a few hundred thousand small
objects (past groups, rows, messages) that all live until it ends. The cyclic collector runs
every 700 net allocations and, as they pile up, walks them again and again: 0.35 s of a 1.9 s
round start on SQLite and 0.5 s of 2.4 s on PostgreSQL (bench/rounds.py, 5,000 members,
measured 2026-12-01 on the 2-core dev machine). None of those objects form cycles, so
reference counting frees them either way; the collector only has to look once, afterwards.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0  # blocks running with the collector paused, in any thread
_resume = False  # whether the first pause found the collector on (and the last restores it)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block (or, as a decorator, the function) with the cyclic collector off.

    The collector is process-wide: overlapping pauses (two programmes' rounds starting in two
    threads) are counted, and it comes back on when the last one ends, and only if it was on
    when the first began. Reference counting goes on meanwhile, so memory is freed as usual;
    cycles made during the block wait for the next collection after it.
    """
    global _pauses, _resume
    with _lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()
