"""The collector pause around large batches (bot.batch)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from bot.batch import collector_paused


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_comes_back_on_when_the_block_raises() -> None:
    with pytest.raises(ValueError), collector_paused():
        raise ValueError
    assert gc.isenabled()


def test_as_a_decorator_each_call_pauses_it() -> None:
    seen: list[bool] = []

    @collector_paused()
    def batch() -> None:
        seen.append(gc.isenabled())

    batch()
    batch()
    assert seen == [False, False]
    assert gc.isenabled()


def test_overlapping_pauses_in_two_threads_end_with_the_last() -> None:
    first_inside, second_done, during = threading.Event(), threading.Event(), []

    def first() -> None:
        with collector_paused():
            first_inside.set()
            second_done.wait(timeout=10)
            during.append(gc.isenabled())  # the other thread's pause ended meanwhile

    worker = threading.Thread(target=first)
    worker.start()
    first_inside.wait(timeout=10)
    with collector_paused():
        pass
    second_done.set()
    worker.join(timeout=10)
    assert during == [False]
    assert gc.isenabled()


def test_a_collector_someone_turned_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
