"""`ListSink`: an event sink of a user's own, with only `emit` and `close`, keeping events."""

from __future__ import annotations

from typing import Any


class ListSink:
    """Keeps every event it is given in `events` (a sink without `emit_many`)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass
