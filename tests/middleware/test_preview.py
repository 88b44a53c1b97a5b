"""Preview links for editors (issue 11, point 7): a signed, short-lived ``?etalage_preview=``
that forces chosen rules (or the canonical page) for one browser session, never honoured
unsigned, and whose answers are never cached, recorded or counted."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware
from etalage.middleware.preview import PreviewCodec
from etalage.signed import SignedCodec
from tests.support.clients import consent, profile_json, set_cookies
from tests.support.clocks import Clock
from tests.support.sinks import ListSink

from .site_fixture import DESKTOP, GOOGLEBOT, HOME, KEYS, upstream_app

PAGE = {"Accept": "text/html"}
COOKIE = "etalage_preview"



@pytest.fixture
def links(clock: Clock) -> PreviewCodec:
    """Makes preview values as ``etalage preview-link`` does, with the site's keys."""
    return PreviewCodec(KEYS, clock=clock)


def preview_cookie(response: Any) -> str | None:
    """The answer's Set-Cookie header for the preview session, if any."""
    found = [c for c in set_cookies(response) if c.startswith(COOKIE + "=")]
    return found[0] if found else None


def test_a_link_forces_its_rules_for_a_visitor_without_consent(client, links):
    token = links.dumps(rules=["continue-search", "greet"])
    response = client.get("/", params={"etalage_preview": token}, headers=PAGE)
    assert response.status_code == 200
    assert "<p class=continue>Continue your search for ''</p>" in response.text
    assert "<p class=greet>Hello" in response.text
    assert "<p>broken default</p>" in response.text  # slots not named keep their default
    assert "Default hero" not in response.text


def test_a_forced_rule_leaves_the_other_rules_of_its_slot_out(client, links):
    # A mobile visitor would get mobile-hero; the preview shows only what it names.
    token = links.dumps(rules=["greet"])
    response = client.get(
        "/", params={"etalage_preview": token}, headers={**PAGE, "User-Agent": DESKTOP}
    )
    assert "<h1>Default hero</h1>" in response.text
    assert "<p class=greet>" in response.text


def test_a_bot_keeps_the_canonical_page(client, links):
    token = links.dumps(rules=["continue-search"])
    response = client.get(
        "/", params={"etalage_preview": token}, headers={**PAGE, "User-Agent": GOOGLEBOT}
    )
    assert response.content == HOME
    assert preview_cookie(response) is None


def _forged(links: PreviewCodec, clock: Clock) -> str:
    return links.dumps(rules=["continue-search"])[:-2] + "xx"


def _other_key(links: PreviewCodec, clock: Clock) -> str:
    return PreviewCodec(["someone-else"], clock=clock).dumps(rules=["continue-search"])


def _other_salt(links: PreviewCodec, clock: Clock) -> str:
    # Signed with the site's key, but for another purpose (a consent value, say).
    codec = SignedCodec(KEYS, salt="etalage.consent", max_age=timedelta(days=1), clock=clock)
    return codec.dumps({"rules": ["continue-search"], "until": 2**40})


def _unsigned(links: PreviewCodec, clock: Clock) -> str:
    return "continue-search"


def _expired(links: PreviewCodec, clock: Clock) -> str:
    token = links.dumps(rules=["continue-search"], lifetime=timedelta(hours=1))
    clock.now += timedelta(hours=1, seconds=1)
    return token


@pytest.mark.parametrize("make", [_forged, _other_key, _other_salt, _unsigned, _expired])
def test_a_link_that_does_not_verify_is_ignored_and_logged(client, links, clock, caplog, make):
    token = make(links, clock)
    with caplog.at_level(logging.INFO, logger="etalage"):
        response = client.get("/", params={"etalage_preview": token}, headers=PAGE)
    assert response.status_code == 200
    assert "<h1>Default hero</h1>" in response.text
    assert "Continue your search" not in response.text
    assert preview_cookie(response) is None
    assert "no-store" not in response.headers["cache-control"]
    assert [r.message for r in caplog.records if "preview" in r.message] == [
        "etalage: preview link ignored: not signed by this site, or expired"
    ]


def test_the_session_cookie_carries_the_preview_to_the_next_page(client, links):
    first = client.get("/", params={"etalage_preview": links.dumps(rules=["greet"])}, headers=PAGE)
    cookie = preview_cookie(first)
    assert cookie is not None
    attributes = [part.strip() for part in cookie.split(";")[1:]]
    assert sorted(attributes) == ["HttpOnly", "Path=/", "SameSite=Lax"]  # no Max-Age: a session
    following = client.get("/", headers=PAGE)
    assert "<p class=greet>" in following.text
    assert preview_cookie(following) is None  # nothing to write again


def test_the_session_cookie_is_secure_on_https(app, links):
    client = TestClient(app, base_url="https://testserver", headers={"User-Agent": DESKTOP})
    response = client.get("/", params={"etalage_preview": links.dumps(rules=["greet"])}, headers=PAGE)
    assert "Secure" in (preview_cookie(response) or "")


def test_off_ends_the_preview(client, links):
    client.get("/", params={"etalage_preview": links.dumps(rules=["greet"])}, headers=PAGE)
    response = client.get("/", params={"etalage_preview": "off"}, headers=PAGE)
    assert "Max-Age=0" in (preview_cookie(response) or "")
    assert "<p class=greet>" not in response.text
    assert "<p class=greet>" not in client.get("/", headers=PAGE).text


def test_an_expired_session_ends_with_its_cookie(client, links, clock):
    token = links.dumps(rules=["greet"], lifetime=timedelta(minutes=30))
    client.get("/", params={"etalage_preview": token}, headers=PAGE)
    clock.now += timedelta(minutes=31)
    response = client.get("/", headers=PAGE)
    assert "<p class=greet>" not in response.text
    assert "Max-Age=0" in (preview_cookie(response) or "")


def test_a_canonical_preview_is_the_upstream_page(client, links):
    consent(client)
    client.get("/", params={"q": "tent"}, headers=PAGE)  # would show continue-search
    response = client.get("/", params={"etalage_preview": links.dumps(canonical=True)}, headers=PAGE)
    assert response.content == HOME
    assert response.headers["cache-control"] == "no-store, private"


@pytest.mark.parametrize("preview", [{"rules": ["greet"]}, {"canonical": True}])
def test_a_preview_answer_is_never_cached_nor_indexed(client, links, preview):
    response = client.get("/", params={"etalage_preview": links.dumps(**preview)}, headers=PAGE)
    assert response.headers["cache-control"] == "no-store, private"
    assert response.headers["x-robots-tag"] == "noindex"
    assert "etag" not in response.headers
    assert "last-modified" not in response.headers


def test_a_preview_is_never_answered_with_a_304(client, links):
    etag = client.get("/", headers=PAGE).headers["etag"]  # the normal page's tag
    client.get("/", params={"etalage_preview": links.dumps(rules=["topics"])}, headers=PAGE)
    for tag in (etag, '"upstream-1"', "*"):
        response = client.get("/", headers={**PAGE, "If-None-Match": tag})
        assert response.status_code == 200
        assert response.content


def test_a_preview_records_nothing(rules_path: Path, clock: Clock, links):
    sink = ListSink()
    app = EtalageMiddleware(
        upstream_app(), rules=rules_path, secret_keys=KEYS, clock=clock, event_sink=sink
    )
    client = TestClient(app, headers={"User-Agent": DESKTOP})
    consent(client)
    client.get("/", params={"q": "tent"}, headers=PAGE)
    before = profile_json(client)
    profile_cookie = client.cookies["etalage"]
    exposures = len(sink.events)
    clock.now += timedelta(hours=2)  # a later visit would count as one
    token = links.dumps(rules=["greet", "mobile-hero"])
    response = client.get("/", params={"etalage_preview": token, "q": "stove"}, headers=PAGE)
    assert "<p class=mobile>Compact hero</p>" in response.text
    following = client.get("/plain", headers=PAGE)
    assert [c.split("=")[0] for c in set_cookies(response)] == [COOKIE]
    assert set_cookies(following) == []  # the profile cookie is neither written nor deleted
    assert client.cookies["etalage"] == profile_cookie
    clock.now -= timedelta(hours=2)  # read back at the same moment (scores decay)
    assert profile_json(client) == before
    assert len(sink.events) == exposures


def test_unknown_rule_ids_are_ignored_and_logged(client, links, caplog):
    token = links.dumps(rules=["retired-rule", "greet"])
    with caplog.at_level(logging.INFO, logger="etalage"):
        response = client.get("/", params={"etalage_preview": token}, headers=PAGE)
        client.get("/", headers=PAGE)
    assert "<p class=greet>" in response.text
    logged = [r.message for r in caplog.records if "retired-rule" in r.message]
    assert logged == ["etalage: preview names no rule 'retired-rule', ignored"]


def test_app_code_deciding_under_a_preview_gets_the_forced_rules(rules_path, clock, links):
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def slots(request):
        decisions = request.scope["etalage"].decide(["hero", "greeting"])
        return JSONResponse({slot: d.rule.id if d.rule else None for slot, d in decisions.items()})

    app = EtalageMiddleware(
        Starlette(routes=[Route("/", slots)]), rules=rules_path, secret_keys=KEYS, clock=clock
    )
    client = TestClient(app, headers={"User-Agent": DESKTOP})
    token = links.dumps(rules=["continue-search"])
    response = client.get("/", params={"etalage_preview": token}, headers=PAGE)
    assert response.json() == {"hero": "continue-search", "greeting": None}
