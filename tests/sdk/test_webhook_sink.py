"""The webhook sink against a real local receiver: NDJSON batches, retries with back-off, a
receiver that is down or hangs, a bounded buffer, nothing held back on close."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from etalage.errors import ConfigError
from etalage.events import WebhookSink, make_sink
from tests.support.ports import free_port


class Clock:
    """A clock the test moves: back-off and flush intervals pass only when it says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers `statuses`, then 200."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.requests: list[dict[str, Any]] = []  # every POST, answered or not
        self.statuses: list[int] = []
        self.arrived = threading.Event()
        self.release: threading.Event | None = None  # when set, hold each answer until released
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                receiver.arrived.set()
                if receiver.release is not None:
                    receiver.release.wait(10)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def batches(self) -> list[list[dict[str, Any]]]:
        return [[json.loads(line) for line in r["body"].splitlines()] for r in self.requests]

    def stop(self) -> None:
        if self.release is not None:
            self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def start_receiver(port: int) -> Iterator[Any]:
    started: list[Receiver] = []

    def start() -> Receiver:
        started.append(Receiver(port))
        return started[-1]

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sinks() -> Iterator[list[WebhookSink]]:
    made: list[WebhookSink] = []
    yield made
    for sink in made:
        sink.close(timeout=5)


@pytest.fixture
def sink_for(port, clock, sinks):
    def make(path: str = "/hook", **options: Any) -> WebhookSink:
        sink = WebhookSink(f"http://127.0.0.1:{port}{path}", clock=clock, **options)
        sinks.append(sink)
        return sink

    return make


def numbered(sink: WebhookSink, start: int, stop: int) -> None:
    for n in range(start, stop):
        sink.emit({"type": "exposure", "n": n})


def numbers(receiver: Receiver) -> list[list[int]]:
    return [[event["n"] for event in batch] for batch in receiver.batches()]


# -- delivery ---------------------------------------------------------------------------------


def test_batches_arrive_as_ndjson_posts(start_receiver, sink_for):
    receiver = start_receiver()
    sink = sink_for(batch_size=2)
    numbered(sink, 0, 5)
    assert sink.flush(timeout=5)
    assert numbers(receiver) == [[0, 1], [2, 3], [4]]
    for request in receiver.requests:
        assert request["path"] == "/hook"
        assert request["headers"]["Content-Type"] == "application/x-ndjson"
        assert request["body"].endswith(b"\n")
    assert (sink.written, sink.pending, sink.lost) == (5, 0, 0)


def test_a_partial_batch_goes_when_the_flush_interval_passes(start_receiver, port, sinks):
    receiver = start_receiver()
    sink = WebhookSink(f"http://127.0.0.1:{port}/hook", batch_size=100, flush_interval=0.05)
    sinks.append(sink)
    numbered(sink, 0, 3)
    assert receiver.arrived.wait(5)  # no flush, no close: the interval sent it
    assert receiver.batches()[0][0] == {"type": "exposure", "n": 0}


def test_close_sends_the_events_held_for_a_fuller_batch(start_receiver, sink_for):
    receiver = start_receiver()
    sink = sink_for(batch_size=100)
    numbered(sink, 0, 5)
    sink.close(timeout=5)
    assert numbers(receiver) == [[0, 1, 2, 3, 4]]
    assert (sink.written, sink.lost) == (5, 0)


# -- failures ---------------------------------------------------------------------------------


def test_a_server_error_is_retried_after_the_back_off(start_receiver, sink_for, clock):
    receiver = start_receiver()
    receiver.statuses = [500]
    sink = sink_for(backoff=0.5)
    numbered(sink, 0, 3)
    assert sink.flush(timeout=5)
    assert len(receiver.requests) == 1 and sink.pending == 3
    assert sink.flush(timeout=5)  # still backing off: no new attempt
    assert len(receiver.requests) == 1
    clock.advance(0.5)
    assert sink.flush(timeout=5)
    assert numbers(receiver) == [[0, 1, 2], [0, 1, 2]]
    assert (sink.written, sink.pending, sink.lost) == (3, 0, 0)


def test_the_back_off_doubles_after_each_failure(start_receiver, sink_for, clock):
    receiver = start_receiver()
    receiver.statuses = [503, 503]
    sink = sink_for(backoff=0.5)
    numbered(sink, 0, 1)
    assert sink.flush(timeout=5)
    clock.advance(0.5)
    assert sink.flush(timeout=5)
    assert len(receiver.requests) == 2
    clock.advance(0.5)  # the second pause is 1 s
    assert sink.flush(timeout=5)
    assert len(receiver.requests) == 2
    clock.advance(0.5)
    assert sink.flush(timeout=5)
    assert len(receiver.requests) == 3 and sink.written == 1


@pytest.mark.parametrize(
    ("status", "retried"),
    [(429, True), (502, True), (400, False), (404, False), (302, False)],
    ids=["too-many-requests", "bad-gateway", "bad-request", "not-found", "redirect"],
)
def test_which_answers_are_retried(start_receiver, sink_for, clock, status, retried):
    receiver = start_receiver()
    receiver.statuses = [status]
    sink = sink_for()
    numbered(sink, 0, 2)
    assert sink.flush(timeout=5)
    clock.advance(60)
    assert sink.flush(timeout=5)
    if retried:
        assert numbers(receiver) == [[0, 1], [0, 1]]
        assert (sink.written, sink.lost) == (2, 0)
    else:
        assert numbers(receiver) == [[0, 1]]  # a redirect is not followed either
        assert (sink.written, sink.lost, sink.pending) == (0, 2, 0)


def test_a_batch_is_given_up_after_max_retries(start_receiver, sink_for, clock):
    receiver = start_receiver()
    receiver.statuses = [500, 500]
    sink = sink_for(max_retries=1)
    numbered(sink, 0, 2)
    assert sink.flush(timeout=5)
    clock.advance(60)
    assert sink.flush(timeout=5)
    assert len(receiver.requests) == 2
    assert (sink.written, sink.lost, sink.pending) == (0, 2, 0)


def test_events_wait_for_a_receiver_that_is_down(start_receiver, sink_for, clock, caplog):
    sink = sink_for()
    numbered(sink, 0, 3)
    assert sink.flush(timeout=5)
    assert (sink.written, sink.pending) == (0, 3)
    receiver = start_receiver()
    clock.advance(60)
    assert sink.flush(timeout=5)
    assert numbers(receiver) == [[0, 1, 2]]
    assert (sink.written, sink.pending, sink.lost) == (3, 0, 0)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unavailable" in m for m in messages) == 1
    assert sum("is back" in m for m in messages) == 1


def test_the_buffer_keeps_the_newest_events_and_warns_once(start_receiver, sink_for, clock, caplog):
    sink = sink_for(batch_size=2, max_buffer=3)
    numbered(sink, 0, 5)
    assert sink.flush(timeout=5)
    numbered(sink, 5, 7)
    assert sink.flush(timeout=5)
    assert (sink.pending, sink.lost) == (3, 4)
    receiver = start_receiver()
    clock.advance(60)
    assert sink.flush(timeout=5)
    assert numbers(receiver) == [[4, 5], [6]]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("buffer full" in m for m in warnings) == 1
    assert any("is back (4 events dropped" in m for m in warnings)


def test_close_counts_what_a_down_receiver_never_got_as_lost(sink_for, caplog):
    sink = sink_for()
    numbered(sink, 0, 3)
    sink.close(timeout=5)
    assert (sink.written, sink.lost, sink.pending) == (0, 3, 0)
    assert any("3 events not delivered at shutdown" in r.getMessage() for r in caplog.records)


def test_emit_returns_while_the_receiver_hangs(start_receiver, sink_for):
    receiver = start_receiver()
    receiver.release = threading.Event()
    sink = sink_for(batch_size=1, timeout=30)
    numbered(sink, 0, 1)
    assert receiver.arrived.wait(5)  # the writer is now inside a POST that does not answer
    numbered(sink, 1, 200)
    sink.emit_many([{"n": 200}])
    assert len(receiver.requests) == 1 and not receiver.release.is_set()
    receiver.release.set()
    sink.close(timeout=10)
    assert [n for batch in numbers(receiver) for n in batch] == list(range(201))
    assert (sink.written, sink.dropped, sink.lost) == (201, 0, 0)


# -- configuration ----------------------------------------------------------------------------


def test_url_credentials_become_basic_auth_and_stay_out_of_logs(
    start_receiver, port, clock, sinks, caplog
):
    sink = WebhookSink(f"http://shop:s3cret@127.0.0.1:{port}/hook?key=k3y", clock=clock)
    sinks.append(sink)
    numbered(sink, 0, 1)
    assert sink.flush(timeout=5)  # down: logged
    receiver = start_receiver()
    clock.advance(60)
    assert sink.flush(timeout=5)
    request = receiver.requests[0]
    assert request["path"] == "/hook?key=k3y"
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(
        b"shop:s3cret"
    ).decode("ascii")
    assert sink.url == f"http://***@127.0.0.1:{port}/hook"
    logged = caplog.text + " ".join(r.getMessage() for r in caplog.records)
    assert "unavailable" in logged
    assert "s3cret" not in logged and "k3y" not in logged


def test_headers_are_sent_with_every_batch(start_receiver, sink_for):
    receiver = start_receiver()
    sink = sink_for(headers={"Authorization": "Bearer t0ken"})
    numbered(sink, 0, 1)
    assert sink.flush(timeout=5)
    assert receiver.requests[0]["headers"]["Authorization"] == "Bearer t0ken"


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/e", "HTTPS://collector.example/etalage"])
def test_make_sink_turns_an_http_url_into_a_webhook(url):
    sink = make_sink(url)
    try:
        assert isinstance(sink, WebhookSink)
    finally:
        sink.close()


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("ftp://collector.example/e", {}),
        ("http:///no-host", {}),
        ("http://collector.example/e", {"batch_size": 0}),
        ("http://collector.example/e", {"batch_size": 10, "max_buffer": 5}),
        ("http://collector.example/e", {"timeout": 0}),
    ],
    ids=["not-http", "no-host", "empty-batch", "buffer-below-batch", "no-timeout"],
)
def test_a_bad_configuration_fails_at_construction(url, options):
    with pytest.raises(ConfigError):
        WebhookSink(url, **options)
