"""Event sinks: emit never does I/O on the caller's thread, nothing lost on a clean stop,
rotation by size, a bounded Redis stream read back by the report, Redis outages absorbed."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from etalage.cli import main
from etalage.errors import ConfigError
from etalage.events import (
    JsonLinesSink,
    RedisStreamSink,
    make_sink,
    parse_stream_url,
    read_events,
)
from tests.support.clocks import Monotonic
from tests.support.redis_server import RedisServer

# -- JSON lines: nothing lost on a clean stop -----------------------------------------------


def test_close_flushes_every_queued_event(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path)
    for n in range(5000):
        sink.emit({"type": "exposure", "n": n})
    sink.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 5000
    assert [json.loads(line)["n"] for line in lines] == list(range(5000))
    assert (sink.written, sink.dropped, sink.lost) == (5000, 0, 0)


def test_close_appends_to_an_existing_file(tmp_path):
    path = tmp_path / "events.jsonl"
    for run in range(2):
        sink = JsonLinesSink(path)
        for n in range(100):
            sink.emit({"run": run, "n": n})
        sink.close()
    assert len(read_events(str(path))) == 200


def test_flush_waits_until_everything_emitted_is_written(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path)
    for n in range(300):
        sink.emit({"n": n})
    assert sink.flush(timeout=30)
    assert len(path.read_text().splitlines()) == 300  # before close
    sink.close()


def test_emit_after_close_is_dropped_and_counted(tmp_path):
    sink = JsonLinesSink(tmp_path / "e.jsonl")
    sink.close()
    sink.emit({"late": True})
    sink.close()
    assert read_events(str(tmp_path / "e.jsonl")) == []
    assert sink.dropped == 1


def test_the_events_of_one_answer_go_in_as_one_item_and_come_out_in_order(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path)
    sink.emit({"n": 0})
    sink.emit_many([{"n": 1}, {"n": 2}, {"n": 3}])
    sink.emit_many([])
    sink.emit({"n": 4})
    sink.close()
    assert [e["n"] for e in read_events(str(path))] == [0, 1, 2, 3, 4]
    assert (sink.written, sink.dropped) == (5, 0)
    sink.emit_many([{"n": 5}, {"n": 6}])
    assert sink.dropped == 2  # after close: every event of the batch counted


def test_a_sink_of_ones_own_with_only_emit_gets_every_exposure(tmp_path):
    from starlette.testclient import TestClient

    from etalage.middleware import EtalageMiddleware
    from tests.support.sinks import ListSink

    from ..middleware.site_fixture import DESKTOP, upstream_app, write_site

    collector = ListSink()
    app = EtalageMiddleware(
        upstream_app(), rules=write_site(tmp_path), secret_keys=["k"], event_sink=collector
    )
    client = TestClient(app, headers={"User-Agent": DESKTOP})
    client.post("/_etalage/consent", json={"personalization": True})
    client.get("/")
    exposures = [e for e in collector.events if e["type"] == "exposure"]
    assert exposures and len({e["answer"] for e in exposures}) == 1
    assert {e["slot"] for e in exposures} >= {"hero"}


# -- JSON lines: no I/O on the caller's thread ----------------------------------------------


class RecordingSink(JsonLinesSink):
    """Notes which thread touches the file (a spy, the real writing is unchanged)."""

    def __init__(self, *args, **kwargs):
        self.io_threads: set[int] = set()
        super().__init__(*args, **kwargs)

    def _open(self):
        self.io_threads.add(threading.get_ident())
        super()._open()

    def _write_bytes(self, data):
        self.io_threads.add(threading.get_ident())
        super()._write_bytes(data)


def test_the_file_is_opened_and_written_only_by_the_writer_thread(tmp_path):
    sink = RecordingSink(tmp_path / "events.jsonl", max_bytes=500)
    for n in range(200):
        sink.emit({"n": n})
    sink.close()
    assert sink.io_threads == {sink.writer_thread.ident}
    assert threading.get_ident() not in sink.io_threads
    assert len(read_events(str(tmp_path / "events.jsonl"))) == 200


needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


def read_pipe(path: Path, into: list[bytes]) -> threading.Thread:
    def run() -> None:
        with open(path, "rb") as pipe:
            into.append(pipe.read())

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@needs_fifo
def test_emit_returns_while_the_file_cannot_even_be_opened(tmp_path):
    """A named pipe without a reader blocks whoever opens it: here only the writer thread."""
    fifo = tmp_path / "events.pipe"
    os.mkfifo(fifo)
    sink = JsonLinesSink(fifo)
    received: list[bytes] = []
    reader = None
    try:
        for n in range(2000):
            sink.emit({"type": "exposure", "n": n})  # returns: emit does no I/O
        assert sink.written == 0  # nothing can be written until a reader opens the pipe
        assert sink.writer_thread.is_alive()
    finally:
        reader = read_pipe(fifo, received)
        sink.close()
        reader.join(30)
    lines = received[0].decode().splitlines()
    assert [json.loads(line)["n"] for line in lines] == list(range(2000))


@needs_fifo
def test_a_full_queue_drops_new_events_counts_them_and_logs_once(tmp_path, caplog):
    fifo = tmp_path / "events.pipe"
    os.mkfifo(fifo)
    sink = JsonLinesSink(fifo, max_queue=10)
    received: list[bytes] = []
    with caplog.at_level(logging.ERROR, logger="etalage"):
        try:
            for n in range(100):
                sink.emit({"n": n})  # the writer is stuck opening the pipe: the queue fills
        finally:
            reader = read_pipe(fifo, received)
            sink.close()
            reader.join(30)
    assert sink.dropped == 90
    assert [json.loads(line)["n"] for line in received[0].decode().splitlines()] == list(range(10))
    full = [r for r in caplog.records if "queue full" in r.getMessage()]
    assert len(full) == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_failing_disk_never_reaches_emit_and_is_logged_once(caplog):
    with caplog.at_level(logging.ERROR, logger="etalage"):
        sink = JsonLinesSink("/dev/full")  # every write fails with ENOSPC
        for n in range(50):
            sink.emit({"n": n})
            if n % 10 == 0:
                assert sink.flush(timeout=30)
        sink.close()
    assert sink.written == 0 and sink.lost == 50
    failures = [r for r in caplog.records if "not written" in r.getMessage()]
    assert len(failures) == 1


def test_an_unserializable_event_is_skipped_and_the_rest_written(tmp_path):
    looped: dict = {}
    looped["self"] = looped
    sink = JsonLinesSink(tmp_path / "e.jsonl")
    sink.emit({"n": 1})
    sink.emit(looped)
    sink.emit({"n": 2, "at": object()})  # not JSON, written with str()
    sink.close()
    events = read_events(str(tmp_path / "e.jsonl"))
    assert [e["n"] for e in events] == [1, 2]
    assert sink.lost == 1


# -- JSON lines: rotation by size -----------------------------------------------------------


def file_sizes(path: Path) -> dict[str, int]:
    """The event file and its backups (not the rotation lock) by name."""
    return {
        p.name: p.stat().st_size
        for p in path.parent.iterdir()
        if p.name.startswith(path.name) and not p.name.endswith(".lock")
    }


def test_rotates_by_size_every_file_within_the_cap_and_reads_back_in_order(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path, max_bytes=500, backups=50)
    for n in range(300):
        sink.emit({"n": n})
    sink.close()
    sizes = file_sizes(path)
    assert len(sizes) > 3 and "events.jsonl.1" in sizes
    assert all(size <= 500 for size in sizes.values())
    assert [e["n"] for e in read_events(str(path))] == list(range(300))


def test_rotation_keeps_only_the_newest_backups(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path, max_bytes=1000, backups=2)
    for n in range(1000):
        sink.emit({"n": n})
    sink.close()
    assert sorted(file_sizes(path)) == ["events.jsonl", "events.jsonl.1", "events.jsonl.2"]
    kept = [e["n"] for e in read_events(str(path))]
    assert kept == list(range(kept[0], 1000))  # the newest events, none missing in between
    assert len(kept) < 1000


def test_rotation_continues_from_an_existing_file(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"n":-1}\n' * 100)  # 900 bytes already there
    sink = JsonLinesSink(path, max_bytes=1000)
    for n in range(20):
        sink.emit({"n": n})
    sink.close()
    assert (tmp_path / "events.jsonl.1").stat().st_size <= 1000
    assert [e["n"] for e in read_events(str(path))][-20:] == list(range(20))


def test_a_line_longer_than_the_cap_gets_a_file_of_its_own(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path, max_bytes=100)
    sink.emit({"n": 0})
    sink.emit({"n": 1, "big": "x" * 300})
    sink.emit({"n": 2})
    sink.close()
    assert [e["n"] for e in read_events(str(path))] == [0, 1, 2]
    assert path.read_text() == '{"n":2}\n'


@settings(deadline=None, max_examples=30)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=60),
    max_bytes=st.integers(min_value=40, max_value=400),
)
def test_rotation_property_nothing_lost_and_files_within_the_cap(sizes, max_bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.jsonl"
        sink = JsonLinesSink(path, max_bytes=max_bytes, backups=len(sizes) + 1)
        events = [{"n": n, "pad": "p" * size} for n, size in enumerate(sizes)]
        for event in events:
            sink.emit(event)
        sink.close()
        assert read_events(str(path)) == events
        for file in path.parent.iterdir():
            lines = file.read_bytes().splitlines(keepends=True)
            assert file.stat().st_size <= max_bytes or len(lines) == 1


WRITER = """
import sys
from etalage.events import JsonLinesSink
path, name = sys.argv[1:]
sink = JsonLinesSink(path, max_bytes=4000, backups=10_000)
print("ready", flush=True)
sys.stdin.read()  # the start signal: the test closes stdin once both writers are ready
for n in range(4000):
    sink.emit({"w": name, "n": n})
    if n % 50 == 0:
        sink.flush()  # many small batches
sink.close()
"""


def test_processes_sharing_one_file_lose_nothing_to_rotation(tmp_path):
    """`etalage serve --workers 2` with one JSON-lines path: two writers, one file."""
    path = tmp_path / "events.jsonl"
    with contextlib.ExitStack() as stack:  # on leaving: pipes closed, writers waited for
        writers = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-c", WRITER, str(path), name],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
            )
            for name in "ab"
        ]
        # Start both together, so that both append and rotate at once.
        assert [w.stdout.readline() for w in writers] == [b"ready\n", b"ready\n"]
        for w in writers:
            w.stdin.close()
        assert [w.wait(timeout=120) for w in writers] == [0, 0]
    events = read_events(str(path))
    for name in "ab":
        assert [e["n"] for e in events if e["w"] == name] == list(range(4000))
    sizes = file_sizes(path)
    assert len(sizes) > 20
    assert all(size <= 2 * 4000 for size in sizes.values())  # each writer keeps to the cap


def test_a_cut_line_is_skipped(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text('{"n": 1}\n{"n": 2\n{"n": 3}\n')
    assert [e["n"] for e in read_events(str(path))] == [1, 3]


def test_only_numbered_backups_are_read(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text('{"n": 3}\n')
    (tmp_path / "e.jsonl.1").write_text('{"n": 2}\n')
    (tmp_path / "e.jsonl.10").write_text('{"n": 1}\n')
    (tmp_path / "e.jsonl.bak").write_text('{"n": 99}\n')
    assert [e["n"] for e in read_events(str(path))] == [1, 2, 3]


def test_reading_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_events(str(tmp_path / "nothing.jsonl"))


def test_bad_settings_are_config_errors(tmp_path):
    with pytest.raises(ConfigError):
        JsonLinesSink(tmp_path / "e.jsonl", backups=0)
    with pytest.raises(ConfigError):
        JsonLinesSink(tmp_path / "e.jsonl", max_bytes=0)


# -- Redis streams --------------------------------------------------------------------------


def test_stream_urls_name_the_stream_and_the_cap():
    assert parse_stream_url("redis://h:1/0?stream=shop:events&maxlen=500") == (
        "redis://h:1/0",
        "shop:events",
        500,
    )
    assert parse_stream_url("redis://h:1/0#legacy") == ("redis://h:1/0", "legacy", None)
    assert parse_stream_url("redis://h:1/2?socket_timeout=1") == (
        "redis://h:1/2?socket_timeout=1",
        None,
        None,
    )
    assert parse_stream_url("unix:///run/redis.sock?db=0&stream=s") == (
        "unix:///run/redis.sock?db=0",
        "s",
        None,
    )
    with pytest.raises(ConfigError):
        parse_stream_url("redis://h:1/0?maxlen=lots")


def test_make_sink_builds_a_redis_sink_from_a_url(redis_server):
    sink = make_sink(f"{redis_server.url}?stream=made&maxlen=1234")
    try:
        assert isinstance(sink, RedisStreamSink)
        assert (sink.stream, sink.maxlen) == ("made", 1234)
    finally:
        sink.close()


def test_xadd_keeps_the_stream_bounded_and_it_reads_back_in_order(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    node_entries = int(client.config_get("stream-node-max-entries")["stream-node-max-entries"])
    sink = RedisStreamSink(redis_server.url, stream="bounded", maxlen=300)
    for n in range(5000):
        sink.emit({"type": "exposure", "n": n})
    sink.close()
    assert sink.written == 5000
    length = client.xlen("bounded")
    # MAXLEN ~ trims whole radix-tree nodes: at least maxlen kept, at most one node more.
    assert 300 <= length <= 300 + node_entries
    kept = [e["n"] for e in read_events(f"{redis_server.url}?stream=bounded")]
    assert kept == list(range(5000 - length, 5000))
    client.close()


def test_report_reads_a_redis_stream(redis_server, capsys):
    sink = RedisStreamSink(redis_server.url, stream="report:events")
    at = "2026-11-01T10:00:00+00:00"
    for n in range(30):
        visitor = f"v{n}"
        sink.emit(
            {"type": "exposure", "visitor": visitor, "rule": "hero-rule", "holdout": n % 2 == 0}
            | {"at": at, "slot": "hero", "page": "/"}
        )
        if n % 3 == 0:
            sink.emit(
                {"type": "conversion", "event": "purchase", "visitor": visitor, "value": 10}
                | {"at": "2026-11-01T10:05:00+00:00"}
            )
    sink.close()
    assert main(["report", f"{redis_server.url}?stream=report:events", "--wide"]) == 0
    out = capsys.readouterr().out
    assert "40 events (30 exposures, 10 purchase conversions)" in out
    assert "hero-rule" in out and "5/15" in out  # treated: odd n, 5 of 15 convert
    assert main(["report", f"{redis_server.url}#report:events"]) == 0
    assert "hero-rule" in capsys.readouterr().out


def test_report_on_an_unreachable_redis_is_a_clean_error(capsys):
    with RedisServer() as server:
        url = server.url
    assert main(["report", f"{url}?stream=x"]) == 1
    assert "cannot read events" in capsys.readouterr().err


def test_redis_outage_mid_run_is_absorbed_buffered_and_logged_once(caplog):
    """A dedicated redis-server is stopped mid-run: emit never raises, the sink holds the
    events, logs the outage once, and writes them when Redis is back."""
    with RedisServer() as server, caplog.at_level(logging.WARNING, logger="etalage"):
        sink = RedisStreamSink(server.url, stream="outage", buffer=1000)
        try:
            for n in range(20):
                sink.emit({"n": n})
            assert sink.flush(timeout=30)
            assert sink.written == 20

            server.stop()
            for n in range(20, 60):
                sink.emit({"n": n})  # never raises, never waits on Redis
                if n % 10 == 0:
                    assert sink.flush(timeout=30)
            assert sink.flush(timeout=30)
            assert (sink.written, sink.pending, sink.lost) == (20, 40, 0)

            server.start()  # same port, empty (no persistence): the first 20 are gone with it
            for n in range(60, 80):
                sink.emit({"n": n})
        finally:
            sink.close()  # a last try whatever the retry pause: the held events go out
        assert (sink.written, sink.pending, sink.lost) == (80, 0, 0)
        assert [e["n"] for e in read_events(f"{server.url}?stream=outage")] == list(range(20, 80))
    down = [r for r in caplog.records if "unavailable" in r.getMessage()]
    back = [r for r in caplog.records if "is back" in r.getMessage()]
    assert len(down) == 1 and down[0].levelno == logging.ERROR
    assert len(back) == 1


def test_an_unavailable_redis_is_retried_after_a_pause_that_doubles():
    """Held events wait for the pause to pass (0.5 s, then 1 s...): new events do not make the
    writer knock on a Redis that just failed, and it retries as soon as the pause is over."""
    clock = Monotonic()
    with RedisServer() as server:
        sink = RedisStreamSink(server.url, stream="paced", clock=clock, max_retry_pause=10.0)
        try:
            server.stop()
            sink.emit({"n": 0})  # fails: the next try is 0.5 s away
            assert sink.flush(timeout=30) and sink.pending == 1
            clock.now += 0.5
            sink.emit({"n": 1})  # tried again, fails again: 1 s away now
            assert sink.flush(timeout=30) and sink.pending == 2

            server.start()
            clock.now += 0.9
            sink.emit({"n": 2})  # Redis is back, but the pause is not over: held
            assert sink.flush(timeout=30)
            assert (sink.written, sink.pending) == (0, 3)
            clock.now += 0.1
            sink.emit({"n": 3})
            assert sink.flush(timeout=30)
            assert (sink.written, sink.pending, sink.lost) == (4, 0, 0)
        finally:
            sink.close()
        assert [e["n"] for e in read_events(f"{server.url}?stream=paced")] == [0, 1, 2, 3]


def test_redis_outage_beyond_the_buffer_keeps_the_newest_and_counts_the_rest(caplog):
    with RedisServer() as server, caplog.at_level(logging.ERROR, logger="etalage"):
        sink = RedisStreamSink(server.url, stream="overflow", buffer=10)
        server.stop()
        for n in range(100):
            sink.emit({"n": n})
        assert sink.flush(timeout=30)
        assert (sink.pending, sink.lost) == (10, 90)
        server.start()
        sink.close()
        assert [e["n"] for e in read_events(f"{server.url}?stream=overflow")] == list(
            range(90, 100)
        )


def test_redis_down_at_shutdown_loses_only_what_it_held_and_says_so(caplog):
    with RedisServer() as server:
        url = server.url
    with caplog.at_level(logging.ERROR, logger="etalage"):
        sink = RedisStreamSink(url, stream="never")
        for n in range(5):
            sink.emit({"n": n})
        sink.close()
    assert (sink.written, sink.lost) == (0, 5)
    assert any("5 events not written" in r.getMessage() for r in caplog.records)
