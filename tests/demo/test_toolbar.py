"""The demo's toolbar and time travel: built on the middleware's public hooks only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from etalage.demo import create_app, toolbar

KEYS = ["toolbar-secret"]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)
HTML = {"Accept": "text/html"}


@pytest.fixture
def shop():
    app = create_app(secret_keys=KEYS, clock=lambda: NOW)
    with TestClient(app, headers={"User-Agent": CHROME}) as client:
        yield client


def clock_text(client: TestClient) -> str:
    page = client.get("/", headers=HTML).text
    start = page.index('data-demo="clock">') + len('data-demo="clock">')
    return page[start : page.index("</span>", start)]


def test_time_travel_moves_the_visitors_clock_and_reset_brings_it_back(shop):
    assert clock_text(shop) == "clock: 2026-12-01 10:00"  # Europe/Berlin
    travelled = shop.post(
        toolbar.TRAVEL_PATH,
        data={"shift": "+7d"},
        headers={"Referer": "http://testserver/trips.html?x=1"},
        follow_redirects=False,
    )
    assert travelled.status_code == 303
    assert travelled.headers["location"] == "/trips.html?x=1"
    assert travelled.headers["cache-control"] == "no-store"
    shop.post(toolbar.TRAVEL_PATH, data={"shift": "+1d"}, follow_redirects=False)
    assert clock_text(shop) == "clock: 2026-12-09 10:00 (+8 days)"
    shop.post(toolbar.TRAVEL_PATH, data={"shift": "reset"}, follow_redirects=False)
    assert clock_text(shop) == "clock: 2026-12-01 10:00"


def test_time_travel_answers_json_when_asked(shop):
    answer = shop.post(
        toolbar.TRAVEL_PATH, data={"shift": "+30d"}, headers={"Accept": "application/json"}
    )
    assert answer.json() == {"shift_seconds": 30 * 86400}


@pytest.mark.parametrize(
    "referer",
    ["http://testserver//evil.example/", "http://evil.example/", "http://[x", "/\\evil.example"],
)
def test_time_travel_only_returns_to_a_page_of_this_site(shop, referer):
    answer = shop.post(
        toolbar.TRAVEL_PATH,
        data={"shift": "+1d"},
        headers={"Referer": referer},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"


def test_time_travel_refuses_cross_site_posts_and_unknown_shifts(shop):
    cross = shop.post(
        toolbar.TRAVEL_PATH, data={"shift": "+1d"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status_code == 403
    bad = shop.post(toolbar.TRAVEL_PATH, data={"shift": "+1y"})
    assert bad.status_code == 400 and bad.headers["x-content-type-options"] == "nosniff"


def test_forget_me_resets_the_demo_clock_too(shop):
    shop.post(toolbar.TRAVEL_PATH, data={"shift": "+7d"}, follow_redirects=False)
    forgot = shop.post("/_etalage/forget", data={}, follow_redirects=False)
    assert any(
        c.startswith(f"{toolbar.SHIFT_COOKIE}=;") for c in forgot.headers.get_list("set-cookie")
    )


def test_without_demo_mode_there_is_no_toolbar_and_no_time_travel():
    app = create_app(secret_keys=KEYS, clock=lambda: NOW, demo_mode=False)
    with TestClient(app, headers={"User-Agent": CHROME}) as client:
        assert "etalage-toolbar" not in client.get("/", headers=HTML).text
        assert client.post(toolbar.TRAVEL_PATH, data={"shift": "+1d"}).status_code == 405
