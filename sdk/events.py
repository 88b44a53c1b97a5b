"""Event sinks for exposures and conversions: a JSON-lines file (default) or a Redis stream.

Sinks never block the event loop: `emit` puts the event on a queue and a writer thread
writes it. `close` drains the queue, so nothing is lost on a clean stop.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger("etalage")

_STOP = object()


class EventSink(Protocol):
    """Where exposure and conversion events go."""

    def emit(self, event: dict[str, Any]) -> None:
        """Queue one event (never blocks, never raises)."""

    def close(self) -> None:
        """Write everything queued, then stop."""


class _ThreadedSink:
    """A queue drained by one writer thread, in batches."""

    batch_size = 500

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._closed = False
        self.written = 0
        self._thread.start()

    def emit(self, event: dict[str, Any]) -> None:
        """Queue one event for the writer thread."""
        if not self._closed:
            self._queue.put(event)

    def close(self) -> None:
        """Drain the queue and stop the writer thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            while len(batch) < self.batch_size:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in batch:
                stopping = True
                batch = [item for item in batch if item is not _STOP]
            if batch:
                self._write(batch)
        self._finish()

    def _write(self, events: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        """Release resources after the last write."""


class JsonLinesSink(_ThreadedSink):
    """Append events to a JSON-lines file, rotated by size (``events.jsonl.1`` ... ``.N``)."""

    def __init__(self, path: str | Path, *, max_bytes: int = 50_000_000, backups: int = 5) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in _finish
        super().__init__()

    def _write(self, events: list[dict[str, Any]]) -> None:
        lines = "".join(json.dumps(e, separators=(",", ":"), default=str) + "\n" for e in events)
        try:
            self._file.write(lines)
            self._file.flush()
            self.written += len(events)
            if self._file.tell() >= self.max_bytes:
                self._rotate()
        except OSError as exc:
            logger.error(
                "event file %s not written (%d events lost): %s", self.path, len(events), exc
            )

    def _rotate(self) -> None:
        self._file.close()
        for n in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def _finish(self) -> None:
        self._file.close()


class RedisStreamSink(_ThreadedSink):
    """XADD events to a Redis stream (bounded with MAXLEN ~), for many instances, one report."""

    def __init__(
        self,
        url: str,
        *,
        stream: str = "etalage:events",
        maxlen: int = 1_000_000,
        timeout: float = 0.5,
    ) -> None:
        import redis

        self.stream = stream
        self.maxlen = maxlen
        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._down = False
        self.lost = 0
        super().__init__()

    def _write(self, events: list[dict[str, Any]]) -> None:
        import redis

        try:
            pipe = self._redis.pipeline(transaction=False)
            for event in events:
                pipe.xadd(
                    self.stream,
                    {"e": json.dumps(event, default=str)},
                    maxlen=self.maxlen,
                    approximate=True,
                )
            pipe.execute()
            self.written += len(events)
            if self._down:
                self._down = False
                logger.warning("Redis event stream is back")
        except redis.RedisError as exc:
            self.lost += len(events)
            if not self._down:
                self._down = True
                logger.error("Redis event stream unavailable, events dropped: %s", exc)

    def _finish(self) -> None:
        self._redis.close()


def read_events(source: str) -> list[dict[str, Any]]:
    """Read every event from a JSON-lines file (with its rotated backups) or a redis:// URL."""
    if source.startswith(("redis://", "rediss://", "unix://")):
        return _read_stream(source)
    path = Path(source)
    files = sorted(path.parent.glob(path.name + ".*"), key=lambda p: -_suffix(p)) + [path]
    events: list[dict[str, Any]] = []
    for file in files:
        if not file.is_file():
            continue
        with open(file, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # a line cut by a crash: skip it, keep the rest
                if isinstance(event, dict):
                    events.append(event)
    return events


def _suffix(path: Path) -> int:
    tail = path.name.rsplit(".", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _read_stream(url: str) -> list[dict[str, Any]]:
    import redis

    base, _, stream = url.partition("#")
    client = redis.Redis.from_url(base)
    events: list[dict[str, Any]] = []
    last = "-"
    while True:
        batch = client.xrange(stream or "etalage:events", min=last, max="+", count=5000)
        if last != "-":
            batch = batch[1:]
        if not batch:
            break
        for _entry_id, fields in batch:
            try:
                events.append(json.loads(fields[b"e"]))
            except (KeyError, ValueError):
                continue
        last = batch[-1][0].decode()
    client.close()
    return events
