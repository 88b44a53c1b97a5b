"""`PagePersonalizer` (middleware/personalize.py): a page in, the visitor's page out — slots
filled with fragments or reordered, input escaped, the view and search recorded, the headers
of a personalized answer (private, Vary, variant ETag, 304), fragment errors degraded."""

from __future__ import annotations

import logging
from datetime import timedelta

from starlette.responses import Response
from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware, personalize
from tests.support.clients import consent, profile_json, set_cookies

from .site_fixture import HOME, IPHONE, KEYS

# -- slots and fragments ---------------------------------------------------------------------


def test_contextual_rule_runs_without_consent(client):
    response = client.get("/", headers={"User-Agent": IPHONE})
    assert '<div data-slot="hero"><p class=mobile>Compact hero</p></div>' in response.text
    assert set_cookies(response) == []


def test_no_winning_rule_returns_the_upstream_bytes(client):
    response = client.get("/")
    assert response.content == HOME


def test_consent_then_search_offers_it_back(client):
    consent(client)
    client.get("/?q=tent")
    response = client.get("/")
    assert "Continue your search for 'tent'" in response.text
    assert 'href="/_etalage/profile#rule-continue-search"' in response.text


def test_search_terms_are_escaped(client):
    consent(client)
    client.get("/", params={"q": "<script>alert(1)</script><img src=x onerror=alert(2)>"})
    text = client.get("/").text
    assert "<script>alert(1)" not in text
    assert "<img src=x" not in text
    assert "&lt;script&gt;" in text


def test_recent_search_expires_after_its_relevance_window(client, clock):
    consent(client)
    client.get("/?q=tent")
    clock.now += timedelta(days=13)
    assert "Continue your search" in client.get("/").text
    clock.now += timedelta(days=2)
    assert "Continue your search" not in client.get("/").text


def test_reorder_by_interest(client):
    consent(client)
    response = client.get("/")  # the page's topic is hiking
    assert '<a data-item="hiking">Hiking</a> <a data-item="camping">Camping</a>' in response.text


def test_head_records_nothing_about_the_visitor(client):
    consent(client)
    client.head("/?q=tent")
    profile = profile_json(client)
    assert profile["stored"]["searches"] == [] and profile["stored"]["views"] == []


# -- headers, ETags and 304 ------------------------------------------------------------------


def test_personalized_answer_headers(client):
    response = client.get("/", headers={"User-Agent": IPHONE})
    headers = response.headers
    assert headers["content-length"] == str(len(response.content))
    assert headers["cache-control"] == "private, no-cache"
    assert headers["vary"] == "Cookie"
    assert headers["etag"].startswith('W/"et-')
    assert headers["etag"] != '"upstream-1"'
    assert "last-modified" not in headers
    assert headers["server-timing"].startswith("etalage;dur=")


def test_etag_differs_per_variant(client):
    mobile = client.get("/", headers={"User-Agent": IPHONE}).headers["etag"]
    desktop = client.get("/").headers["etag"]
    assert mobile != desktop


def test_if_none_match_gives_304_only_for_the_same_personalized_result(client):
    etag = client.get("/", headers={"User-Agent": IPHONE}).headers["etag"]
    same = client.get("/", headers={"User-Agent": IPHONE, "If-None-Match": etag})
    assert same.status_code == 304
    assert same.content == b""
    other = client.get("/", headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_stricter_upstream_no_store_is_kept(rules_path, clock):
    async def page(scope, receive, send):
        await Response(HOME, media_type="text/html", headers={"Cache-Control": "no-store"})(
            scope, receive, send
        )

    client = TestClient(EtalageMiddleware(page, rules=rules_path, secret_keys=KEYS, clock=clock))
    response = client.get("/", headers={"User-Agent": IPHONE})
    assert response.headers["cache-control"] == "private, no-cache, no-store"


# -- failures degrade to defaults ------------------------------------------------------------


def test_fragment_error_serves_the_default_and_logs_once(client, caplog):
    with caplog.at_level(logging.ERROR, logger="etalage"):
        first = client.get("/")
        client.get("/")
    assert '<div data-slot="broken"><p>broken default</p></div>' in first.text
    errors = [r for r in caplog.records if "broken" in r.getMessage()]
    assert len(errors) == 1


def test_failures_logged_once_are_remembered_within_a_bound(app, caplog, monkeypatch):
    """A failure's message may hold what a visitor sent: the memory of what was logged stays
    bounded, whatever visitors send."""
    monkeypatch.setattr(personalize, "MAX_REMEMBERED_LOGS", 4)
    with caplog.at_level(logging.ERROR, logger="etalage"):
        for n in range(10):
            app.pages._log_once("broken", f"cannot render the term {n}")
        app.pages._log_once("broken", "cannot render the term 9")
    assert len(app.pages._logged) <= 4
    assert len([r for r in caplog.records if "cannot render" in r.getMessage()]) == 10


# -- pages rendered anew per request -----------------------------------------------------------


def test_a_page_rendered_anew_per_request_is_recompiled_from_its_last_version(rules_path, clock):
    tokens = iter(f"{n:032x}" for n in range(100))

    async def rendering(scope, receive, send):
        token = next(tokens).encode()
        body = HOME.replace(b"</head>", b'<meta name="csrf" content="' + token + b'"></head>')
        await Response(body, media_type="text/html")(scope, receive, send)

    app = EtalageMiddleware(rendering, rules=rules_path, secret_keys=KEYS, clock=clock)
    client = TestClient(app)
    pages = [client.get("/", headers={"User-Agent": IPHONE}) for _ in range(4)]
    skeletons = app.pages.skeletons
    assert skeletons.recompiled == 3 and not skeletons.fallbacks
    for number, page in enumerate(pages):
        assert f'content="{number:032x}"' in page.text  # each answer is its own page
        assert '<div data-slot="hero"><p class=mobile>Compact hero</p></div>' in page.text
    assert len({page.headers["etag"] for page in pages}) == 4
