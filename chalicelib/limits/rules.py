"""Fixed-window rate limits. Pure: the caller passes `now`.

A window is aligned to the epoch (a 15-minute window starts at :00, :15, :30, :45), so every
container computes the same window for the same moment and one counter item per window and subject
is exact. The price of fixed windows is a burst of up to twice the limit across a boundary; each
limit is set with that in mind."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """At most `max_hits` in any window of `window_sec` seconds, per subject."""

    name: str
    max_hits: int
    window_sec: int

    def __post_init__(self) -> None:
        if self.max_hits < 1 or self.window_sec < 1:
            raise ValueError(f"limit {self.name}: max_hits and window_sec must be positive")


@dataclass(frozen=True)
class Window:
    start: int
    end: int

    def retry_after(self, now: int) -> int:
        """Seconds until the window reopens: at least 1, so a client never retries at once."""
        return max(1, self.end - now)


def window_at(limit: Limit, now: int) -> Window:
    start = now - now % limit.window_sec
    return Window(start, start + limit.window_sec)
