"""The Lambda init heap policy: the collector is paused during init and what init built is frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from chalicelib.core.lambda_init import collector_paused_then_frozen


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    """Each test starts and ends with nothing frozen and the collector on (as in the test process)."""
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.enable()


def test_init_runs_without_collections_and_its_objects_are_frozen_after():
    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle, as modules and classes are

    with collector_paused_then_frozen():
        assert not gc.isenabled()
        collections_before = sum(stats["collections"] for stats in gc.get_stats())
        built = [Node() for _ in range(5_000)]  # 7x the youngest generation's threshold (700)
        assert sum(stats["collections"] for stats in gc.get_stats()) == collections_before
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(built)
    assert gc.get_count()[0] < 100  # what init allocated is not waiting for the first request's collection


def test_a_failed_init_leaves_the_collector_on_and_freezes_nothing():
    with pytest.raises(RuntimeError), collector_paused_then_frozen():
        raise RuntimeError("settings invalid")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_collector_switched_off_before_stays_off():
    gc.disable()
    with collector_paused_then_frozen():
        pass
    assert not gc.isenabled()
