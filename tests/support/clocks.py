"""Injectable clocks: tests move time by assigning ``.now``, they never sleep."""

from __future__ import annotations

from datetime import UTC, datetime

#: The moment a `Clock` starts at: a Tuesday morning in December (Berlin is UTC+1).
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    """A wall clock for ``EtalageMiddleware(clock=...)`` and the codecs: returns ``.now``."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Monotonic:
    """A monotonic clock in seconds (``time.monotonic``'s stand-in): returns ``.now``."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
