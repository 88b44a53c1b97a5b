"""What the per-request `Responder` (middleware/responder.py) holds back and what it streams:
only a ``200 text/html`` answer to GET or HEAD, not encoded, within the size cap, is buffered
to be personalized; everything else flows through as the app sends it."""

from __future__ import annotations

import asyncio
import logging

import pytest
from starlette.responses import HTMLResponse
from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware
from tests.support.asgi import http_get_scope
from tests.support.clients import consent, profile_json

from .site_fixture import DESKTOP, HOME, IPHONE, KEYS


def test_streaming_answer_passes_through(client):
    assert client.get("/stream").text == "chunk 0\nchunk 1\nchunk 2\n"


@pytest.mark.parametrize(("path", "original"), [("/gz", b"compressed"), ("/missing", b"gone")])
def test_encoded_or_error_html_is_not_personalized(client, path, original):
    response = client.get(path, headers={"User-Agent": IPHONE})
    assert original in response.content
    assert b"Compact hero" not in response.content


def test_head_gets_the_personalized_headers_and_no_body(client):
    get = client.get("/", headers={"User-Agent": IPHONE})
    head = client.head("/", headers={"User-Agent": IPHONE})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["etag"] == get.headers["etag"]


def test_answers_to_post_pass_through_unpersonalized(rules_path, clock):
    async def form_result(scope, receive, send):
        await HTMLResponse(HOME.decode())(scope, receive, send)

    client = TestClient(
        EtalageMiddleware(form_result, rules=rules_path, secret_keys=KEYS, clock=clock),
        headers={"User-Agent": IPHONE},
    )
    consent(client)
    posted = client.post("/checkout", data={"x": "1"})
    assert posted.content == HOME
    assert "Compact hero" in client.get("/").text
    profile = profile_json(client)
    assert [v["path"] for v in profile["stored"]["views"]] == ["/"]


def html_page(*, announce_length: bool):
    """An app answering HOME as ``text/html`` in one body message, with or without a length."""

    async def app(scope, receive, send):
        headers = [(b"content-type", b"text/html")]
        if announce_length:
            headers.append((b"content-length", str(len(HOME)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": HOME})

    return app


@pytest.mark.parametrize("announce_length", [True, False], ids=["content-length", "no-length"])
@pytest.mark.parametrize(
    ("max_html_bytes", "personalized"),
    [(len(HOME), True), (len(HOME) - 1, False)],
    ids=["at-the-cap", "over-the-cap"],
)
def test_html_over_max_html_bytes_passes_through_unchanged(
    rules_path, clock, caplog, announce_length, max_html_bytes, personalized
):
    app = EtalageMiddleware(
        html_page(announce_length=announce_length),
        rules=rules_path,
        secret_keys=KEYS,
        clock=clock,
        max_html_bytes=max_html_bytes,
    )
    with caplog.at_level(logging.WARNING, logger="etalage"):
        response = TestClient(app, headers={"User-Agent": IPHONE}).get("/")
    assert ("Compact hero" in response.text) is personalized
    if not personalized:
        assert response.content == HOME
    # A declared length over the cap is passed on at once; an undeclared one is found out
    # while buffering, and said so.
    warned = [r for r in caplog.records if "larger than max_html_bytes" in r.getMessage()]
    assert len(warned) == (0 if personalized or announce_length else 1)


def test_html_streamed_without_a_length_flows_through_unbuffered(rules_path, clock):
    first_chunk_sent = asyncio.Event()
    downstream: list[dict] = []

    async def streaming_page(scope, receive, send):
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/html")],
            }
        )
        await send({"type": "http.response.body", "body": HOME[:40], "more_body": True})
        # A buffering middleware would still hold the first chunk: this wait would time out.
        await asyncio.wait_for(first_chunk_sent.wait(), timeout=2)
        await send({"type": "http.response.body", "body": HOME[40:], "more_body": False})

    app = EtalageMiddleware(streaming_page, rules=rules_path, secret_keys=["k"], clock=clock)

    async def send(message):
        downstream.append(message)
        if message["type"] == "http.response.body" and message.get("more_body"):
            first_chunk_sent.set()

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = http_get_scope("testserver", [(b"user-agent", DESKTOP.encode())])
    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in downstream if m["type"] == "http.response.body")
    assert body == HOME
