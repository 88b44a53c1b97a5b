"""Events from the real middleware: exposures and conversions for consenting visitors only,
never for bots, prefetches or visitors without consent; flushed on lifespan shutdown; a Redis
outage never reaches the request path."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from etalage.events import JsonLinesSink, RedisStreamSink, read_events
from etalage.middleware import EtalageMiddleware
from tests.support.clients import consent
from tests.support.redis_server import RedisServer

KEYS = ["measure-secret"]
RULES = """\
version: 1
site: {name: measure-site, search_param: q}
holdout: 0
rules:
  - id: continue-search
    slot: hero
    fragment: hero.html
    when: {search.last: {$exists: true}}
  - id: mobile-banner
    slot: banner
    fragment: banner.html
    when: {device.type: mobile}
"""
PAGE = (
    "<!doctype html><html><head><title>Shop</title></head><body>"
    '<div data-slot="banner"><p>default banner</p></div>'
    '<div data-slot="hero"><h1>default hero</h1></div>'
    "</body></html>"
)
DESKTOP = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


async def buy(request: Request) -> JSONResponse:
    recorded = request.scope["etalage"].record_event("purchase", {"value": 42.5})
    return JSONResponse({"recorded": recorded})


def make_app(
    tmp_path, sink, hero: str = "<p class=personal>Continue: {{ visitor['search.last'] }}</p>"
) -> EtalageMiddleware:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    (tmp_path / "fragments").mkdir(exist_ok=True)
    (tmp_path / "fragments" / "hero.html").write_text(hero)
    (tmp_path / "fragments" / "banner.html").write_text("<p class=mobile>Phone banner</p>")
    shop = Starlette(routes=[Route("/", page), Route("/buy", buy, methods=["POST"])])
    return EtalageMiddleware(shop, rules=rules, secret_keys=KEYS, event_sink=sink)


def beacon(client: TestClient, **headers: str):
    return client.post(
        "/_etalage/event",
        json={"type": "purchase", "data": {"value": 19.9}},
        headers={"Accept": "application/json", **headers},
    )


@pytest.fixture
def sink(tmp_path):
    sink = JsonLinesSink(tmp_path / "events.jsonl")
    yield sink
    sink.close()


def events_of(sink: JsonLinesSink) -> list[dict]:
    sink.close()
    return read_events(str(sink.path))


def test_a_consenting_visitor_produces_exposures_and_conversions(tmp_path, sink):
    client = TestClient(make_app(tmp_path, sink), headers={"User-Agent": DESKTOP})
    consent(client)
    first = client.get("/", params={"q": "tent"})
    assert "Continue: tent" in first.text
    assert beacon(client).json() == {"recorded": True}
    assert client.post("/buy").json() == {"recorded": True}
    events = events_of(sink)
    exposures = [e for e in events if e["type"] == "exposure"]
    conversions = [e for e in events if e["type"] == "conversion"]
    visitor = exposures[0]["visitor"]
    assert isinstance(visitor, str) and visitor
    by_slot = {e["slot"]: e for e in exposures}
    expected = {
        "type": "exposure",
        "visitor": visitor,
        "rule": "continue-search",
        "slot": "hero",
        "holdout": False,
        "holdout_kind": None,
        "page": "/",
    }
    assert {key: by_slot["hero"].get(key) for key in expected} == expected
    assert by_slot["banner"]["rule"] is None  # the default showed: recorded, no rule
    assert datetime.fromisoformat(by_slot["hero"]["at"]).tzinfo is not None
    assert [(c["event"], c["value"], c["visitor"]) for c in conversions] == [
        ("purchase", 19.9, visitor),
        ("purchase", 42.5, visitor),
    ]


def browse(client: TestClient, **headers: str) -> None:
    """Pages, a search, the beacon and an app conversion: everything that could be recorded."""
    for params in ({"q": "tent"}, {}):
        response = client.get("/", params=params, headers=headers)
        assert response.status_code == 200
    assert beacon(client, **headers).status_code in (200, 202)
    assert client.post("/buy", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("user_agent", "setup", "headers"),
    [
        pytest.param(DESKTOP, None, {}, id="never-asked"),
        pytest.param(IPHONE, None, {}, id="never-asked-mobile-still-gets-contextual-rule"),
        pytest.param(DESKTOP, False, {}, id="refused"),
        pytest.param(DESKTOP, None, {"Sec-GPC": "1"}, id="global-privacy-control"),
        pytest.param(GOOGLEBOT, True, {}, id="googlebot-even-with-consent-cookie"),
        pytest.param(BINGBOT, True, {}, id="bingbot-even-with-consent-cookie"),
        pytest.param(DESKTOP, True, {"Sec-Purpose": "prefetch"}, id="prefetch"),
    ],
)
def test_no_events_without_consent_for_bots_or_prefetches(
    tmp_path, sink, user_agent, setup, headers
):
    client = TestClient(make_app(tmp_path, sink), headers={"User-Agent": user_agent})
    if setup is not None:
        consent(client, granted=setup)
    browse(client, **headers)
    if user_agent == IPHONE:
        assert "Phone banner" in client.get("/").text  # personalized, but nothing recorded
    assert events_of(sink) == []


def test_withdrawing_consent_stops_the_events(tmp_path, sink):
    client = TestClient(make_app(tmp_path, sink), headers={"User-Agent": DESKTOP})
    consent(client)
    client.get("/")
    sink.flush(timeout=30)
    before = len(read_events(str(sink.path)))
    assert before == 2  # one exposure per slot
    consent(client, granted=False)
    browse(client)
    assert len(events_of(sink)) == before


def test_lifespan_shutdown_flushes_the_sink_built_from_a_path(tmp_path):
    path = tmp_path / "out" / "events.jsonl"
    app = make_app(tmp_path, str(path))
    with TestClient(app, headers={"User-Agent": DESKTOP}) as client:
        consent(client)
        for n in range(200):
            assert client.get("/", params={"q": f"term {n}"}).status_code == 200
    # No explicit close: the ASGI lifespan shutdown closed (and so flushed) the sink.
    events = read_events(str(path))
    assert len(events) == 400
    assert sum(e["rule"] == "continue-search" for e in events) == 200


def test_redis_outage_never_reaches_the_request_path(tmp_path, caplog):
    """A dedicated redis-server is stopped mid-run: pages keep being personalized and served,
    the outage is logged once, and events held meanwhile reach the stream once it is back."""
    with RedisServer() as server, caplog.at_level(logging.WARNING, logger="etalage"):
        sink = RedisStreamSink(server.url, stream="mw:events")
        app = make_app(tmp_path, sink)
        with TestClient(app, headers={"User-Agent": DESKTOP}) as client:
            consent(client)
            for _ in range(3):
                assert client.get("/", params={"q": "tent"}).status_code == 200
            assert sink.flush(timeout=30) and sink.written == 6

            server.stop()
            for _ in range(5):
                response = client.get("/", params={"q": "tent"})
                assert response.status_code == 200 and "Continue: tent" in response.text
            assert beacon(client).status_code == 200
            assert sink.flush(timeout=30)
            assert sink.pending == 11 and sink.written == 6

            server.start()  # empty: what was written before the outage went with it
            for _ in range(2):
                assert client.get("/", params={"q": "tent"}).status_code == 200
        # The lifespan shutdown closed the sink: a last try sent everything it held.
        events = read_events(f"{server.url}?stream=mw:events")
    assert sum(e["type"] == "exposure" for e in events) == 2 * (5 + 2)
    assert sum(e["type"] == "conversion" for e in events) == 1
    assert sink.lost == 0
    assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1


def test_a_failed_fragment_is_not_recorded_as_an_exposure_to_its_rule(tmp_path, sink):
    app = make_app(tmp_path, sink, hero="{{ 1 / 0 }}")  # compiles, fails when rendered
    client = TestClient(app, headers={"User-Agent": DESKTOP})
    consent(client)
    assert "default hero" in client.get("/", params={"q": "tent"}).text
    hero = [e for e in events_of(sink) if e["slot"] == "hero"]
    assert hero and all(e["rule"] != "continue-search" for e in hero)
