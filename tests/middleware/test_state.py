"""`RequestState` (middleware/state.py), what app code finds in ``scope["etalage"]``: recording
events (only with consent; dismissals only of dismissible rules), asking for decisions, and
identifying a visitor (only with a profile store)."""

from __future__ import annotations

import asyncio
import gc

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware
from tests.support.asgi import http_get_scope
from tests.support.clients import consent, profile_json

from .site_fixture import DESKTOP, IPHONE, KEYS, upstream_app


async def decisions(request: Request) -> JSONResponse:
    """App code asking what two slots would show this visitor now."""
    decided = request.scope["etalage"].decide(["hero", "greeting"])
    return JSONResponse({slot: d.rule.id if d.rule else None for slot, d in decided.items()})


async def identify(request: Request) -> JSONResponse:
    return JSONResponse({"identified": await request.scope["etalage"].identify("account-42")})


@pytest.fixture
def app_code_client(rules_path, clock) -> TestClient:
    """The test site plus routes of app code calling `decide` and `identify`."""
    site = Starlette(
        routes=[
            *upstream_app().routes,
            Route("/decisions", decisions),
            Route("/identify", identify, methods=["POST"]),
        ]
    )
    app = EtalageMiddleware(site, rules=rules_path, secret_keys=KEYS, clock=clock)
    return TestClient(app, headers={"User-Agent": DESKTOP})


# -- record_event ------------------------------------------------------------------------------


def test_app_code_records_events_through_the_scope(client):
    consent(client)
    assert client.post("/buy").json() == {"recorded": True}
    profile = profile_json(client)
    assert profile["stored"]["cart"]["items"] == 2


def test_app_code_cannot_record_without_consent(client):
    assert client.post("/buy").json() == {"recorded": False}


def test_event_beacon_records_dismissal(client):
    consent(client)
    response = client.post(
        "/_etalage/event",
        json={"type": "dismiss", "data": {"rule": "greet"}},
        headers={"Accept": "application/json"},
    )
    assert response.json() == {"recorded": True}
    profile = profile_json(client)
    assert "greet" in profile["stored"]["dismissed"]


@pytest.mark.parametrize("rule", ["no-such-rule", "continue-search"])
def test_only_dismissible_rules_can_be_dismissed(client, rule):
    consent(client)
    response = client.post(
        "/_etalage/event",
        json={"type": "dismiss", "data": {"rule": rule}},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    profile = profile_json(client)
    assert profile["stored"]["dismissed"] == {}


# -- decide ------------------------------------------------------------------------------------


def test_decide_tells_app_code_what_slots_would_show_the_visitor_now(app_code_client):
    client = app_code_client
    assert client.get("/decisions", headers={"User-Agent": IPHONE}).json() == {
        "hero": "mobile-hero",
        "greeting": None,
    }
    consent(client)
    client.get("/?q=tent")
    client.post("/_etalage/preferences", data={"name": "Ada"})
    assert client.get("/decisions").json() == {"hero": "continue-search", "greeting": "greet"}


# -- identify ----------------------------------------------------------------------------------


@pytest.mark.parametrize("granted", [True, False])
def test_identify_without_a_profile_store_attaches_nothing(app_code_client, granted):
    consent(app_code_client, granted=granted)
    assert app_code_client.post("/identify").json() == {"identified": False}



def test_an_asset_request_leaves_no_reference_cycle_behind(rules_path, clock):
    """The builder of an unread visitor refers back to the request's scope: released once the
    answer is out, nothing is left for the cyclic garbage collector."""
    app = EtalageMiddleware(upstream_app(), rules=rules_path, secret_keys=KEYS, clock=clock)
    client = TestClient(app)
    consent(client)
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    headers = [(b"user-agent", DESKTOP.encode()), (b"cookie", cookie.encode())]

    async def assets(count: int) -> None:
        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: object) -> None:
            pass

        for _ in range(count):
            scope = http_get_scope("testserver", headers)
            scope["path"] = "/asset.css"
            await app(scope, receive, send)
            assert scope["etalage"].visitor_built is False

    asyncio.run(assets(1))
    gc.collect()
    gc.disable()
    try:
        asyncio.run(assets(50))
        assert gc.collect() < 50  # the event loop's own few objects, not one cycle a request
    finally:
        gc.enable()
