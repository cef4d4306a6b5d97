"""The per-container cache: a value is loaded once per expiry, however many threads miss at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from chalicelib.core.cache import TtlCache, reset_all_caches


def _misses_together(cache: TtlCache[str], key: str, load: Callable[[], str], threads: int = 12) -> list[str]:
    start, results, lock = threading.Barrier(threads), [], threading.Lock()

    def reader() -> None:
        start.wait()
        value = cache.get_or_load(key, load)
        with lock:
            results.append(value)

    workers = [threading.Thread(target=reader) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    return results


def test_threads_that_miss_together_share_one_load():
    cache: TtlCache[str] = TtlCache("test-single-flight", ttl_sec=60)
    loads = []

    def load() -> str:
        loads.append(1)
        time.sleep(0.05)  # a table read, long enough for every thread to miss
        return "featured"

    assert _misses_together(cache, "k", load) == ["featured"] * 12
    assert len(loads) == 1


def test_different_keys_load_side_by_side():
    cache: TtlCache[str] = TtlCache("test-keys", ttl_sec=60)
    both_loading = threading.Barrier(2, timeout=5)

    def load() -> str:
        both_loading.wait()  # raises BrokenBarrierError if one key's load waited for the other's
        return "v"

    threads = [threading.Thread(target=cache.get_or_load, args=(key, load)) for key in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not both_loading.broken


def test_a_failed_load_is_not_cached_and_the_next_caller_loads_again():
    cache: TtlCache[str] = TtlCache("test-failure", ttl_sec=60)
    calls = []

    def failing() -> str:
        calls.append(1)
        raise RuntimeError("throttled")

    with pytest.raises(RuntimeError):
        cache.get_or_load("k", failing)
    assert cache.get_or_load("k", lambda: "loaded") == "loaded"
    assert calls == [1]


def test_a_rejected_value_is_loaded_again_and_an_expired_one_reloaded(monkeypatch):
    cache: TtlCache[list[str]] = TtlCache("test-keep", ttl_sec=60)
    loads: list[int] = []

    def load() -> list[str]:
        loads.append(1)
        return [] if len(loads) == 1 else ["x"]

    assert cache.get_or_load("k", load, keep=bool) == []
    assert cache.get_or_load("k", load, keep=bool) == ["x"]
    assert cache.get_or_load("k", load, keep=bool) == ["x"]
    assert len(loads) == 2
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert cache.get_or_load("k", load, keep=bool) == ["x"]
    assert len(loads) == 3


def test_reset_forgets_values():
    cache: TtlCache[str] = TtlCache("test-reset", ttl_sec=60)
    cache.put("k", "old")
    reset_all_caches()
    assert cache.get_or_load("k", lambda: "new") == "new"
