"""Event sinks for exposures and conversions: a JSON-lines file (default), a Redis stream or
an HTTP(S) webhook receiving batches of JSON lines.

Both sinks share one small interface (`EventSink`): ``emit(event)`` and ``close()``.

``emit`` never blocks and never raises: it only puts the event on a bounded in-memory queue
(a ``put_nowait`` under a lock, no I/O). One writer thread per sink drains the queue in batches
and does all the file or network I/O, so the event loop serving requests never waits on a
disk or on Redis. ``close`` (called on ASGI lifespan shutdown and at interpreter exit) writes
everything queued before it returns: nothing is lost on a clean stop.

Loss happens only where it must, is counted, and is logged once per episode:
- the queue is full (the backend is far slower than the traffic): ``dropped``;
- the backend fails (disk full, Redis down): the JSON-lines sink counts ``lost`` and retries the
  file with the next batch; the Redis sink keeps up to ``buffer`` events and sends them when
  Redis is back (at-least-once), counting only what overflowed that buffer as ``lost``; the
  webhook sink does the same with its receiver, retrying with exponential back-off.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import queue
import stat
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, Generic, NamedTuple, Protocol, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from etalage.errors import ConfigError

logger = logging.getLogger("etalage")

DEFAULT_STREAM = "etalage:events"
DEFAULT_MAXLEN = 1_000_000
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

_STOP = object()


class _Flush:
    """A marker put on the queue by `flush`: set once everything before it was handled."""

    def __init__(self) -> None:
        self.done = threading.Event()


class EventSink(Protocol):
    """Where exposure and conversion events go."""

    def emit(self, event: dict[str, Any]) -> None:
        """Queue one event (never blocks, never raises)."""

    def close(self) -> None:
        """Write everything queued, then stop."""


class _Batch(list):  # type: ignore[type-arg]
    """The events of one answer, queued as one item."""


class _ThreadedSink:
    """A bounded queue drained by one writer thread, in batches.

    Subclasses implement `_write(batch)` (called on the writer thread only, never raising) and
    may implement `_start`, `_finish`, `_flush_held` and `_idle_timeout` (seconds until
    `_write([])` should be called again to retry held-back events; None: only when events arrive).
    """

    batch_size = 500

    def __init__(self, *, max_queue: int = 100_000) -> None:
        if max_queue < 1:
            raise ConfigError("max_queue must be at least 1")
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()
        self._closed = False
        self._overflow_logged = False
        self.written = 0  # events handed to the backend
        self.dropped = 0  # events refused by emit (queue full, or sink closed)
        self.lost = 0  # events the backend could not take
        self.writer_thread = threading.Thread(
            target=self._run, name=f"etalage-{type(self).__name__}", daemon=True
        )
        self.writer_thread.start()

    def emit(self, event: dict[str, Any]) -> None:
        """Queue one event for the writer thread: no I/O, never blocks, never raises."""
        self._put(event)

    def emit_many(self, events: list[dict[str, Any]]) -> None:
        """Queue the events of one answer together: one hand-off to the writer thread
        instead of one per event (each wakes it, and it competes for the GIL)."""
        if events:
            self._put(_Batch(events))

    def _put(self, item: Any) -> None:
        count = len(item) if isinstance(item, _Batch) else 1
        with self._lock:
            if self._closed:
                self.dropped += count
                return
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                self.dropped += count
                if self._overflow_logged:
                    return
                self._overflow_logged = True
        logger.error(
            "etalage: event queue full (%d events), events dropped until it drains; "
            "the %s backend is slower than the traffic",
            self._queue.maxsize,
            type(self).__name__,
        )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event emitted so far was handled (written, buffered or lost).

        Meant for tests and tools, not for the request path. Returns False on timeout.
        """
        with self._lock:
            closed = self._closed
        if closed:
            self.writer_thread.join(timeout)
            return not self.writer_thread.is_alive()
        marker = _Flush()
        try:
            self._queue.put(marker, timeout=timeout)
        except queue.Full:
            return False
        return marker.done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued and stop the writer thread (idempotent)."""
        with self._lock:
            if self._closed:
                return
            # Every emit that got in finished its put under the lock; none gets in from now
            # on, so the stop marker below is the last item of the queue.
            self._closed = True
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            logger.error(
                "etalage: %s is stuck; %d events still queued at shutdown",
                type(self).__name__,
                self._queue.qsize(),
            )
            return
        self.writer_thread.join(timeout)
        if self.writer_thread.is_alive():
            logger.error(
                "etalage: %s did not finish writing within %.0f s; %d events still queued",
                type(self).__name__,
                timeout,
                self._queue.qsize(),
            )
        elif self.dropped:
            logger.warning("etalage: %s dropped %d events", type(self).__name__, self.dropped)

    def _run(self) -> None:
        self._guarded(self._start)
        stopping = False
        while not stopping:
            try:
                items = [self._queue.get(timeout=self._idle_timeout())]
            except queue.Empty:
                self._guarded(self._write, [])
                continue
            while len(items) < self.batch_size:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            batch: list[dict[str, Any]] = []
            markers: list[_Flush] = []
            for item in items:
                if item is _STOP:
                    stopping = True
                elif isinstance(item, _Flush):
                    markers.append(item)
                elif isinstance(item, _Batch):
                    batch.extend(item)
                else:
                    batch.append(item)
            if batch:
                self._guarded(self._write, batch)
                if self._overflow_logged and self._queue.empty():
                    self._overflow_logged = False  # drained: a new overflow is a new episode
            if markers:
                self._guarded(self._flush_held)
            for marker in markers:
                marker.done.set()
        self._guarded(self._finish)
        while True:  # a flush that raced with close: release its waiter
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Flush):
                item.done.set()

    def _guarded(self, step: Any, *args: Any) -> None:
        """Run a writer step; a bug in it must not kill the writer thread."""
        try:
            step(*args)
        except Exception:  # noqa: BLE001 - the thread must survive to drain the queue
            logger.exception("etalage: %s writer step failed", type(self).__name__)
            if args:
                self.lost += len(args[0])

    def _start(self) -> None:
        """Acquire resources, on the writer thread."""

    def _write(self, events: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def _idle_timeout(self) -> float | None:
        return None

    def _flush_held(self) -> None:
        """Send events held back for a fuller batch, when `flush` asks (not during back-off)."""

    def _finish(self) -> None:
        """Release resources after the last write."""


# One encoder for every line: json.dumps with options builds a new encoder on each call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)


def _encode(event: dict[str, Any]) -> bytes:
    return (_ENCODER.encode(event) + "\n").encode("utf-8")


def _retry_pause(failures: int, first: float, most: float) -> float:
    """Seconds to wait after `failures` failures in a row: `first`, doubled each time, at most
    `most`."""
    return min(most, first * 2.0 ** min(failures - 1, 30))


_Line = TypeVar("_Line", str, bytes)


def _encoded(
    events: list[dict[str, Any]], encode: Callable[[dict[str, Any]], _Line]
) -> tuple[list[_Line], int]:
    """`events` encoded, and how many could not be (skipped, each logged)."""
    lines: list[_Line] = []
    skipped = 0
    for event in events:
        try:
            lines.append(encode(event))
        except (TypeError, ValueError) as exc:
            skipped += 1
            logger.error("etalage: event not JSON-serializable, skipped: %s", exc)
    return lines, skipped


class _HeldEvents(Generic[_Line]):
    """Encoded events a sink's writer thread holds until its backend takes them, oldest first
    (the Redis and webhook sinks, each with its own encoding)."""

    def __init__(self, encode: Callable[[dict[str, Any]], _Line]) -> None:
        self._encode: Callable[[dict[str, Any]], _Line] = encode
        self._lines: deque[_Line] = deque()

    def __len__(self) -> int:
        return len(self._lines)

    def add(self, events: list[dict[str, Any]]) -> int:
        """Encode and hold `events`; how many could not be encoded (skipped, logged)."""
        lines, skipped = _encoded(events, self._encode)
        self._lines.extend(lines)
        return skipped

    def trim(self, most: int) -> int:
        """Drop the oldest events beyond `most`; how many were dropped."""
        overflow = len(self._lines) - most
        for _ in range(overflow):
            self._lines.popleft()
        return max(0, overflow)

    def batch(self, count: int) -> list[_Line]:
        """The `count` oldest events (still held)."""
        return list(islice(self._lines, count))

    def take(self, count: int) -> None:
        """Stop holding the `count` oldest events (their backend took them, or they are lost)."""
        for _ in range(min(count, len(self._lines))):
            self._lines.popleft()

    def clear(self) -> int:
        """Stop holding every event; how many there were."""
        count = len(self._lines)
        self._lines.clear()
        return count


class JsonLinesSink(_ThreadedSink):
    """Append events to a JSON-lines file, rotated by size.

    When writing a line would take the file past `max_bytes`, the file is renamed to
    ``<name>.1`` (older backups shift to ``.2`` ... ``.<backups>``, the oldest is removed) and a
    new file is started, so every file stays within `max_bytes` (a single line longer than
    that gets a file of its own). `read_events` reads the backups oldest first, then the file.

    The file is opened and written on the writer thread only, in append mode, one ``write`` per
    batch. Several processes (``etalage serve --workers N``) may share one path: each follows
    a rotation another did (the path no longer names its open file: it reopens), and rotation
    itself happens under an exclusive lock (``<name>.lock``, POSIX ``flock``), so no process
    renames a file another has just started. With several writers a file may end a little past
    `max_bytes` (they measure it, then append, independently); no event is lost to rotation
    unless it is pushed beyond the last backup.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        max_bytes: int | None = 50_000_000,
        backups: int = 5,
        max_queue: int = 100_000,
    ) -> None:
        if backups < 1:
            raise ConfigError("backups must be at least 1")
        if max_bytes is not None and max_bytes < 1:
            raise ConfigError("max_bytes must be positive (or None: no rotation)")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"event file {self.path}: cannot create its folder: {exc}") from None
        target = self.path if self.path.exists() else self.path.parent
        if not os.access(target, os.W_OK):
            raise ConfigError(f"event file {self.path}: not writable")
        self._file: Any = None
        self._size = 0
        self._failing = False
        super().__init__(max_queue=max_queue)

    def _start(self) -> None:
        self._open()

    def _open(self) -> None:
        try:
            self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed in _finish
            self._size = os.fstat(self._file.fileno()).st_size
        except OSError as exc:
            self._file = None
            self._report_failure(exc)

    def _write(self, events: list[dict[str, Any]]) -> None:
        lines, skipped = _encoded(events, _encode)
        self.lost += skipped
        if self._file is not None:
            self._follow_rotation()
        if self._file is None:
            self._open()
            if self._file is None:
                self.lost += len(lines)
                return
        chunk: list[bytes] = []
        chunk_bytes = 0
        done = 0
        try:
            for line in lines:
                size = self._size + chunk_bytes
                if self.max_bytes is not None and size and size + len(line) > self.max_bytes:
                    self._write_bytes(b"".join(chunk))
                    done += len(chunk)
                    chunk, chunk_bytes = [], 0
                    self._rotate()
                chunk.append(line)
                chunk_bytes += len(line)
            self._write_bytes(b"".join(chunk))
            done += len(chunk)
            if self._failing:
                self._failing = False
                logger.warning("etalage: event file %s is written again", self.path)
        except OSError as exc:
            self.lost += len(lines) - done
            self._report_failure(exc)
            self._close_file()
        finally:
            self.written += done

    def _write_bytes(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            count = self._file.write(view)
            self._size += count
            view = view[count:]

    def _is_current(self) -> bool:
        """Whether the path still names the file this sink has open."""
        try:
            named, held = os.stat(self.path), os.fstat(self._file.fileno())
        except OSError:
            return False
        return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)

    def _follow_rotation(self) -> None:
        """Reopen when another process rotated the file; else refresh its size."""
        if self._is_current():
            self._size = os.fstat(self._file.fileno()).st_size  # other writers append too
        else:
            self._close_file()
            self._open()

    def _rotate(self) -> None:
        with _exclusive(self.path.with_name(self.path.name + ".lock")):
            if self._is_current():  # else another process rotated it meanwhile: just follow
                self._close_file()
                for n in range(self.backups - 1, 0, -1):
                    older = self.path.with_name(f"{self.path.name}.{n}")
                    if older.exists():
                        os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
                os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
            else:
                self._close_file()
            self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115
            self._size = os.fstat(self._file.fileno()).st_size

    def _report_failure(self, exc: OSError) -> None:
        if not self._failing:
            self._failing = True
            logger.error("etalage: event file %s not written, events lost: %s", self.path, exc)

    def _close_file(self) -> None:
        if self._file is None:
            return
        try:
            if stat.S_ISREG(os.fstat(self._file.fileno()).st_mode):
                os.fsync(self._file.fileno())
            self._file.close()
        except OSError as exc:
            logger.error("etalage: event file %s not closed cleanly: %s", self.path, exc)
        self._file = None

    def _finish(self) -> None:
        self._close_file()
        if self.lost:
            logger.error("etalage: event file %s: %d events lost", self.path, self.lost)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `lock_path` (a no-op where flock is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows: one writer per file
        yield
        return
    with open(lock_path, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def parse_stream_url(url: str) -> tuple[str, str | None, int | None]:
    """Split ``redis://host:port/db?stream=NAME&maxlen=N`` into (redis URL, stream, maxlen).

    ``redis://host:port/db#NAME`` also names the stream. Other query options are left in the
    URL for redis-py (``?socket_timeout=1``, ``unix:///run/redis.sock?db=0``, ...).
    """
    parts = urlsplit(url)
    stream = parts.fragment or None
    maxlen: int | None = None
    kept = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "stream":
            stream = value or None
        elif key == "maxlen":
            if not value.isdigit() or int(value) < 1:
                raise ConfigError(f"{url}: maxlen must be a positive integer")
            maxlen = int(value)
        else:
            kept.append((key, value))
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"  # keeps unix:///path intact
    if kept:
        base += "?" + urlencode(kept)
    return base, stream, maxlen


_REDIS_FIRST_PAUSE = 0.5  # seconds before the first retry of an unavailable Redis


class RedisStreamSink(_ThreadedSink):
    """XADD events to a Redis stream capped with ``MAXLEN ~ maxlen``: many instances, one report.

    Each event is one stream entry with a single field ``e`` holding the event's JSON. The URL
    may name the stream and the cap: ``redis://host:6379/0?stream=shop:events&maxlen=500000``
    (keyword arguments win over the URL; defaults ``etalage:events`` and 1,000,000 entries).

    Redis down or slow never reaches the request path: the writer thread keeps up to `buffer`
    events (dropping the oldest beyond that), logs the outage once, retries with a growing
    pause (0.5 s, doubled each time, up to `max_retry_pause` seconds) and logs once when Redis
    is back. A batch that failed half-way may be sent twice (at-least-once); the report counts
    visitors, not events, so a repeated event does not change it. `clock` (monotonic seconds)
    is injectable for tests.
    """

    def __init__(
        self,
        url: str,
        *,
        stream: str | None = None,
        maxlen: int | None = None,
        timeout: float = 0.5,
        buffer: int = 10_000,
        max_queue: int = 100_000,
        max_retry_pause: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        base, url_stream, url_maxlen = parse_stream_url(url)
        self.stream = stream or url_stream or DEFAULT_STREAM
        self.maxlen = maxlen or url_maxlen or DEFAULT_MAXLEN
        self.buffer = buffer
        self.max_retry_pause = max_retry_pause
        self._clock = clock
        # One immediate retry (a pooled connection broken by a Redis restart reconnects), no
        # backoff inside redis-py: pausing and retrying is ours, on the writer thread.
        self._redis = redis.Redis.from_url(
            base,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self._pending: _HeldEvents[str] = _HeldEvents(_ENCODER.encode)  # events as JSON
        self._down = False
        self._failures = 0
        self._retry_at = 0.0
        super().__init__(max_queue=max_queue)

    @property
    def pending(self) -> int:
        """Events held back while Redis is unavailable."""
        return len(self._pending)

    def _idle_timeout(self) -> float | None:
        if not self._pending:
            return None
        return max(0.0, self._retry_at - self._clock())

    def _write(self, events: list[dict[str, Any]]) -> None:
        self.lost += self._pending.add(events)
        self.lost += self._pending.trim(self.buffer)
        if self._pending and self._clock() >= self._retry_at:
            self._send_pending()

    def _send_pending(self) -> None:
        import redis

        try:
            while self._pending:
                batch = self._pending.batch(self.batch_size)
                pipe = self._redis.pipeline(transaction=False)
                for line in batch:
                    pipe.xadd(self.stream, {"e": line}, maxlen=self.maxlen, approximate=True)
                pipe.execute()
                self._pending.take(len(batch))
                self.written += len(batch)
        except (redis.RedisError, OSError) as exc:
            self._failures += 1
            pause = _retry_pause(self._failures, _REDIS_FIRST_PAUSE, self.max_retry_pause)
            self._retry_at = self._clock() + pause
            if not self._down:
                self._down = True
                logger.error(
                    "etalage: Redis event stream %r unavailable, holding up to %d events and "
                    "retrying: %s",
                    self.stream,
                    self.buffer,
                    exc,
                )
            return
        if self._down:
            self._down = False
            logger.warning(
                "etalage: Redis event stream %r is back (%d events lost while it was down)",
                self.stream,
                self.lost,
            )
        self._failures = 0
        self._retry_at = 0.0

    def _finish(self) -> None:
        if self._pending:
            self._retry_at = 0.0
            self._send_pending()  # one last try, whatever the pause
        if self._pending:
            unwritten = self._pending.clear()
            self.lost += unwritten
            logger.error(
                "etalage: Redis event stream %r: %d events not written at shutdown",
                self.stream,
                unwritten,
            )
        self._redis.close()


WEBHOOK_SCHEMES = ("http://", "https://")
# Answers worth sending the same batch again for; any other non-2xx answer rejects the batch.
_RETRY_STATUSES = frozenset({408, 425, 429})


class _Failure(NamedTuple):
    """Why a POST failed, and whether sending the same batch again may work."""

    reason: str
    retry: bool


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would follow a 302 as a GET and drop the batch unnoticed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _public_url(url: str) -> str:
    """`url` fit for a log line: scheme, host, port and path; no credentials, no query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    secret = "***@" if parts.username or parts.password else ""
    return f"{parts.scheme}://{secret}{host}{port}{parts.path}"


class WebhookSink(_ThreadedSink):
    """POST events in batches to an HTTP(S) endpoint, one JSON object per line (NDJSON).

    Each request carries up to `batch_size` events as ``Content-Type: application/x-ndjson``; a
    batch goes when it is full or when its oldest event has waited `flush_interval` seconds. Any
    2xx answer takes the batch. A failed connection, a timeout, 5xx, 408, 425 or 429 keep the
    batch and retry it after ``backoff * 2**n`` seconds (at most `max_backoff`), in order; after
    `max_retries` retries of one batch it is given up (None: retry until delivered). Any other
    answer (3xx, 4xx) rejects the batch: it is counted ``lost`` and logged.

    While the endpoint is failing, up to `max_buffer` events are held, the oldest dropped beyond
    that (counted ``lost``, one warning per outage, the count logged when the endpoint is back).
    ``emit`` never blocks nor raises: all HTTP happens on the writer thread. ``close`` sends what
    is held, one attempt per batch, and counts the rest ``lost``.

    Credentials in the URL (``https://user:token@host/path``) become a Basic ``Authorization``
    header; log lines show the URL without credentials or query. `headers` are added to every
    request (e.g. ``{"Authorization": "Bearer ..."}``). `clock` is injectable for tests.
    """

    def __init__(
        self,
        url: str,
        *,
        batch_size: int = 100,
        flush_interval: float = 1.0,
        max_buffer: int = 10_000,
        timeout: float = 2.0,
        max_retries: int | None = None,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        headers: dict[str, str] | None = None,
        max_queue: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"event webhook {_public_url(url)!r}: an http(s) URL is required")
        if batch_size < 1:
            raise ConfigError("batch_size must be at least 1")
        if max_buffer < batch_size:
            raise ConfigError("max_buffer must be at least batch_size")
        if flush_interval < 0 or backoff < 0 or max_backoff < backoff or timeout <= 0:
            raise ConfigError(
                "flush_interval and backoff must be >= 0, max_backoff >= backoff, timeout > 0"
            )
        if max_retries is not None and max_retries < 0:
            raise ConfigError("max_retries must be >= 0 or None")
        self.url = _public_url(url)
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_buffer = max_buffer
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._clock = clock
        self._headers = {
            "Content-Type": "application/x-ndjson",
            "User-Agent": "etalage-webhook",
            **(headers or {}),
        }
        netloc = parts.netloc.rpartition("@")[2]
        if parts.username is not None or parts.password is not None:
            pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
            self._headers.setdefault(
                "Authorization", "Basic " + base64.b64encode(pair.encode()).decode("ascii")
            )
        self._target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._pending: _HeldEvents[bytes] = _HeldEvents(_encode)  # lines of JSON
        self._oldest_at = 0.0  # clock() when the oldest held event arrived
        self._failures = 0  # consecutive failures of the batch at the head
        self._retry_at = 0.0
        self._down = False
        self._drop_logged = False
        self._lost_in_outage = 0
        self._rejecting = False
        super().__init__(max_queue=max_queue)

    @property
    def pending(self) -> int:
        """Events held back: waiting for a fuller batch, or for the endpoint to recover."""
        return len(self._pending)

    def _idle_timeout(self) -> float | None:
        if not self._pending:
            return None
        due = self._retry_at if self._failures else self._oldest_at + self.flush_interval
        return max(0.0, due - self._clock())

    def _write(self, events: list[dict[str, Any]]) -> None:
        was_empty = not self._pending
        self.lost += self._pending.add(events)
        if was_empty and self._pending:
            self._oldest_at = self._clock()
        self._trim()
        self._send(force=False)

    def _flush_held(self) -> None:
        self._send(force=True)

    def _finish(self) -> None:
        self._send(force=True, final=True)
        if self._pending:
            undelivered = self._pending.clear()
            self.lost += undelivered
            logger.error(
                "etalage: event webhook %s: %d events not delivered at shutdown",
                self.url,
                undelivered,
            )

    def _trim(self) -> None:
        overflow = self._pending.trim(self.max_buffer)
        if not overflow:
            return
        self.lost += overflow
        self._lost_in_outage += overflow
        if not self._drop_logged:
            self._drop_logged = True
            logger.warning(
                "etalage: event webhook %s: buffer full (%d events), dropping the oldest",
                self.url,
                self.max_buffer,
            )

    def _send(self, *, force: bool, final: bool = False) -> None:
        """Post held batches that are due; stop at the first failure (order is kept)."""
        while self._pending:
            now = self._clock()
            if self._failures and now < self._retry_at and not final:
                return
            full = len(self._pending) >= self.batch_size
            if not (full or force or now - self._oldest_at >= self.flush_interval):
                return
            batch = self._pending.batch(self.batch_size)
            count = len(batch)
            failure = self._post(b"".join(batch))
            if failure is None:
                self._delivered(count)
            elif not failure.retry:
                self._rejected(count, failure.reason)
            else:
                self._failed(count, failure.reason)
                if final or self._failures:
                    return

    def _post(self, body: bytes) -> _Failure | None:
        """POST one body: None when the endpoint took it, else why not."""
        request = urllib.request.Request(
            self._target, data=body, headers=self._headers, method="POST"
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            retry = exc.code >= 500 or exc.code in _RETRY_STATUSES
            return _Failure(f"HTTP {exc.code}", retry=retry)
        except urllib.error.URLError as exc:
            return _Failure(str(exc.reason), retry=True)
        except (OSError, http.client.HTTPException) as exc:
            return _Failure(f"{type(exc).__name__}: {exc}", retry=True)
        return None

    def _take(self, count: int) -> None:
        self._pending.take(count)
        if self._pending:
            self._oldest_at = self._clock()

    def _delivered(self, count: int) -> None:
        self._take(count)
        self.written += count
        self._failures = 0
        self._rejecting = False
        if self._down:
            self._down = False
            logger.warning(
                "etalage: event webhook %s is back (%d events dropped while it was down)",
                self.url,
                self._lost_in_outage,
            )
        self._drop_logged = False
        self._lost_in_outage = 0

    def _rejected(self, count: int, reason: str) -> None:
        self._take(count)
        self.lost += count
        self._failures = 0
        if not self._rejecting:
            self._rejecting = True
            logger.error(
                "etalage: event webhook %s rejected a batch (%s), events lost", self.url, reason
            )

    def _failed(self, count: int, reason: str) -> None:
        self._failures += 1
        if not self._down:
            self._down = True
            logger.error(
                "etalage: event webhook %s unavailable (%s), holding up to %d events and retrying",
                self.url,
                reason,
                self.max_buffer,
            )
        if self.max_retries is not None and self._failures > self.max_retries:
            self._take(count)
            self.lost += count
            self._lost_in_outage += count
            self._failures = 0
            logger.error(
                "etalage: event webhook %s: %d events given up after %d retries",
                self.url,
                count,
                self.max_retries,
            )
            return
        pause = _retry_pause(self._failures, self.backoff, self.max_backoff)
        self._retry_at = self._clock() + pause


def make_sink(target: EventSink | str | os.PathLike[str] | None) -> EventSink | None:
    """An event sink from a sink object, a JSON-lines path, a ``redis://`` URL or an
    ``http(s)://`` webhook URL (or None)."""
    if target is None or not isinstance(target, str | os.PathLike):
        return target
    text = str(target)
    if text.startswith(REDIS_SCHEMES):
        return RedisStreamSink(text)
    if text.lower().startswith(WEBHOOK_SCHEMES):
        return WebhookSink(text)
    return JsonLinesSink(text)


def iter_events(source: str) -> Iterator[dict[str, Any]]:
    """Every event of a JSON-lines file (its rotated backups first) or of a Redis stream URL.

    A file source is ``events.jsonl``: ``events.jsonl.N`` ... ``events.jsonl.1`` are read first,
    oldest first. A stream source is ``redis://host:port/db?stream=NAME`` (see
    `parse_stream_url`). Lines or entries that are not JSON objects are skipped.
    """
    if source.startswith(REDIS_SCHEMES):
        yield from _iter_stream(source)
        return
    path = Path(source)
    if not path.exists() and not any(_backups(path)):
        raise FileNotFoundError(f"no such event file: {source}")
    for file in [*_backups(path), path]:
        if not file.is_file():
            continue
        with open(file, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # a line cut by a crash: skip it, keep the rest
                if isinstance(event, dict):
                    yield event


def read_events(source: str) -> list[dict[str, Any]]:
    """Read every event of a JSON-lines file (with its rotated backups) or a Redis stream URL."""
    return list(iter_events(source))


def _backups(path: Path) -> list[Path]:
    """``<name>.N`` files beside `path`, oldest (highest N) first."""
    if not path.parent.is_dir():
        return []
    prefix = path.name + "."
    found = [
        (int(p.name[len(prefix) :]), p)
        for p in path.parent.iterdir()
        if p.name.startswith(prefix) and p.name[len(prefix) :].isdigit()
    ]
    return [p for _, p in sorted(found, reverse=True)]


def _iter_stream(url: str) -> Iterator[dict[str, Any]]:
    import redis

    base, stream, _ = parse_stream_url(url)
    client = redis.Redis.from_url(base)
    try:
        start = "-"
        while True:
            batch = client.xrange(stream or DEFAULT_STREAM, min=start, max="+", count=5000)
            if not batch:
                break
            for _entry_id, fields in batch:
                try:
                    event = json.loads(fields[b"e"])  # type: ignore[index]
                except (KeyError, ValueError):
                    continue
                if isinstance(event, dict):
                    yield event
            last_id = batch[-1][0]
            start = "(" + (last_id.decode() if isinstance(last_id, bytes) else str(last_id))
    finally:
        client.close()
