"""Small per-container caches with a time-to-live, and one reset for all of them.

Lambda keeps a container warm between invocations, so a few shared reads (the taxonomy, the
featured resources) are cached in memory. Every cache registers here so that tests (and a
local server after a reseed) can drop them all at once: no state leaks from one test to the next."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

_registry: list[TtlCache[object]] = []


class TtlCache(Generic[V]):
    """Values by key, each kept for `ttl_sec` seconds. Wall-clock time, so tests can move it; a
    clock step only makes an entry live a little shorter or longer."""

    def __init__(self, name: str, ttl_sec: float, *, max_entries: int = 1024) -> None:
        self.name, self.ttl_sec, self.max_entries = name, ttl_sec, max_entries
        self._entries: dict[Hashable, tuple[float, V]] = {}
        _registry.append(self)  # type: ignore[arg-type]

    def get_or_load(self, key: Hashable, load: Callable[[], V], *, keep: Callable[[V], bool] = lambda _: True) -> V:
        """The cached value, or `load()`'s, stored only if `keep` accepts it."""
        now = time.time()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] <= self.ttl_sec:
            return entry[1]
        value = load()
        if keep(value):
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # bounded memory; a cold miss is cheap
            self._entries[key] = (now, value)
        return value

    def put(self, key: Hashable, value: V) -> None:
        """Store a value this container just learnt (for example, by writing it)."""
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.time(), value)

    def invalidate(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def discard_if(self, matches: Callable[[Hashable], bool]) -> None:
        """Forget every entry whose key matches (all of one user's sessions, say)."""
        for key in [k for k in self._entries if matches(k)]:
            del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()


def reset_all_caches() -> None:
    """Forget every cached value in this process."""
    for cache in _registry:
        cache.clear()
