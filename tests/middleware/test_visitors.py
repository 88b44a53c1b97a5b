"""How `VisitorLoader` (middleware/visitors.py) reads a request's visitor: a cookie it cannot
read is a fresh visitor (never an error), cookies of an older key or format are read and
re-issued, Global Privacy Control means no until the visitor says yes, bots and prefetches
are nobody (the canonical page, no cookie), and a country comes from a trusted edge only."""

from __future__ import annotations

import json

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from starlette.testclient import TestClient

from etalage.cookie import ConsentCodec, ProfileCodec
from etalage.errors import ConfigError
from etalage.history import record_search
from etalage.middleware import EtalageMiddleware
from etalage.profile import Profile
from tests.support.clients import consent, profile_json, set_cookies

from .site_fixture import GOOGLEBOT, HOME, KEYS, upstream_app, write_site

#: A profile cookie signed by someone else's key, in the format before sealing.
FOREIGN = URLSafeTimedSerializer("someone-else", salt="etalage.profile").dumps({"id": "x"})

# -- cookies it cannot read, or reads from an older key or format ------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "a.b.c",
        ".eJyrVspUslIK.awVp5Q.bad",
        "x" * 9000,
        pytest.param(FOREIGN, id="foreign-key"),
    ],
)
def test_tampered_cookie_gets_a_fresh_visitor_and_a_normal_page(client, value):
    consent(client)
    client.cookies.set("etalage", value)
    response = client.get("/")
    assert response.status_code == 200
    assert "Default hero" in response.text
    assert any(c.startswith("etalage=") for c in set_cookies(response))


def test_cookie_signed_with_an_old_key_is_accepted_and_reissued(app, clock):
    old = ProfileCodec(["old-secret"], clock=clock)
    ruleset = app.ruleset
    profile = Profile.new(clock.now)
    record_search(profile, ruleset.history, clock.now, "tent")
    client = TestClient(app)
    client.cookies.set("etalage", old.encode(profile, ruleset.history, clock.now))
    client.cookies.set("etalage_consent", ConsentCodec(["old-secret"]).encode(True))
    response = client.get("/")
    assert "Continue your search for 'tent'" in response.text
    [cookie] = [c for c in set_cookies(response) if c.startswith("etalage=")]
    reissued = ProfileCodec(["new-secret"]).decode(cookie.split(";")[0].split("=", 1)[1])
    assert reissued.profile is not None and not reissued.reissue
    [choice] = [c for c in set_cookies(response) if c.startswith("etalage_consent=")]
    value = choice.split(";")[0].split("=", 1)[1]
    assert ConsentCodec(["new-secret"]).read(value) == (True, False)
    assert "HttpOnly" in choice and "SameSite=Lax" in choice


def test_cookie_in_the_format_before_sealing_is_accepted_and_reissued_sealed(app, clock):
    profile = Profile.new(clock.now)
    record_search(profile, app.ruleset.history, clock.now, "tent")

    class SignedThen(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock.now.timestamp())

    signer = URLSafeTimedSerializer("old-secret", salt="etalage.profile", signer=SignedThen)
    client = TestClient(app)
    client.cookies.set("etalage", signer.dumps(profile.to_compact()))
    client.cookies.set("etalage_consent", ConsentCodec(KEYS).encode(True))
    response = client.get("/")
    assert "Continue your search for 'tent'" in response.text
    [cookie] = [c for c in set_cookies(response) if c.startswith("etalage=")]
    value = cookie.split(";")[0].split("=", 1)[1]
    assert "." not in value and "tent" not in value  # sealed now
    reissued = ProfileCodec(["new-secret"]).decode(value)
    assert reissued.profile is not None and not reissued.reissue
    assert (reissued.profile.id, reissued.profile.searches) == (profile.id, profile.searches)


# -- consent signals ---------------------------------------------------------------------------


def test_gpc_counts_as_no_until_explicit_consent(client):
    response = client.get("/?q=tent", headers={"Sec-GPC": "1"})
    assert set_cookies(response) == []
    profile = client.get(
        "/_etalage/profile", headers={"Accept": "application/json", "Sec-GPC": "1"}
    ).json()
    assert profile["consent"] == {"personalization": None, "gpc": True}
    assert profile["stored"] is None
    consent(client)
    client.get("/?q=tent", headers={"Sec-GPC": "1"})
    assert "Continue your search" in client.get("/", headers={"Sec-GPC": "1"}).text


# -- bots and prefetch -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{"User-Agent": GOOGLEBOT}, {"Sec-Purpose": "prefetch"}, {"Purpose": "prefetch"}],
)
def test_bots_and_prefetches_get_the_canonical_page_and_no_cookie(client, headers):
    consent(client)
    client.get("/?q=tent")
    response = client.get("/?q=boots", headers=headers)
    assert response.content == HOME
    assert set_cookies(response) == []
    assert [s["term"] for s in profile_json(client)["stored"]["searches"]] == ["tent"]


# -- country from a trusted edge ---------------------------------------------------------------

GERMAN_HERO = """\
  - id: german-hero
    slot: hero
    fragment: hero/german.html
    when: {request.country: DE}
    priority: 20
"""


def edge_client(tmp_path, clock, trusted_edge: str | None) -> TestClient:
    """The test site plus a hero for visitors in Germany, behind `trusted_edge`."""
    rules = write_site(tmp_path)
    rules.write_text(rules.read_text().replace("rules:\n", "rules:\n" + GERMAN_HERO, 1))
    (tmp_path / "fragments" / "hero" / "german.html").write_text("<p class=de>Hallo!</p>")
    app = EtalageMiddleware(
        upstream_app(), rules=rules, secret_keys=KEYS, clock=clock, trusted_edge=trusted_edge
    )
    return TestClient(app)


def test_a_country_rule_applies_without_consent_behind_a_trusted_edge(tmp_path, clock):
    client = edge_client(tmp_path, clock, "cloudflare")
    response = client.get("/", headers={"CF-IPCountry": "DE"})
    assert "<p class=de>Hallo!</p>" in response.text
    assert "Default hero" not in response.text
    assert set_cookies(response) == []
    assert "Default hero" in client.get("/", headers={"CF-IPCountry": "AT"}).text


@pytest.mark.parametrize("trusted_edge", [None, "vercel"])
def test_a_country_header_of_an_untrusted_edge_changes_nothing(tmp_path, clock, trusted_edge):
    client = edge_client(tmp_path, clock, trusted_edge)
    response = client.get("/", headers={"CF-IPCountry": "DE"})
    assert "Default hero" in response.text
    assert "Hallo!" not in response.text


def test_the_country_is_never_stored_in_the_profile(tmp_path, clock):
    client = edge_client(tmp_path, clock, "cloudflare")
    consent(client)
    geo = {"CF-IPCountry": "DE", "cf-region-code": "BY"}
    assert "Hallo!" in client.get("/?q=tent", headers=geo).text
    stored = profile_json(client)["stored"]
    assert stored is not None and stored["searches"]
    text = json.dumps(stored)
    assert "country" not in text and "region" not in text
    assert '"DE"' not in text and '"BY"' not in text
    # The cookie itself: the rule's id and "matched request.country" are recorded as the
    # decision behind the page (as for any rule), the country never.
    cookie = ProfileCodec(KEYS, clock=clock).decode(client.cookies.get("etalage"))
    assert cookie.profile is not None
    compact = json.dumps(cookie.profile.to_compact())
    assert '"DE"' not in compact and '"BY"' not in compact


def test_an_unknown_trusted_edge_is_refused_at_start_up(tmp_path):
    with pytest.raises(ConfigError, match="cloudflare, cloudfront, fastly, vercel.*'akamai'"):
        EtalageMiddleware(
            upstream_app(), rules=write_site(tmp_path), secret_keys=KEYS, trusted_edge="akamai"
        )


# -- assets and JSON calls: the visitor is built only when something reads it -----------------


@pytest.fixture
def recorded(rules_path, clock):
    """A consenting visitor's client who searched for a tent, and the `RequestState` of every
    request it makes (with ``?read`` the app reads its visitor, into `read`)."""
    seen = []

    async def recording(scope, receive, send):
        await upstream(scope, receive, send)
        seen.append(scope["etalage"])
        if scope["query_string"] == b"read":
            visitor = scope["etalage"].visitor
            read.append((visitor.consent, visitor.personalization_allowed, visitor.profile))

    read: list = []

    upstream = upstream_app()
    app = EtalageMiddleware(recording, rules=rules_path, secret_keys=KEYS, clock=clock)
    client = TestClient(app)
    consent(client)
    client.get("/?q=tent", headers={"Accept": "text/html"})
    return client, seen, read


def test_an_asset_request_of_a_consenting_visitor_builds_no_visitor(recorded):
    client, seen, read = recorded
    response = client.get("/asset.css", headers={"Accept": "text/css,*/*;q=0.1"})
    assert response.status_code == 200 and not set_cookies(response)
    assert [state.visitor_built for state in seen[-2:]] == [True, False]
    with pytest.raises(RuntimeError, match="the request is over"):
        seen[-1].visitor  # noqa: B018 - released with its answer
    # App code that asks for it gets the visitor as a page would have had it.
    client.get("/asset.css?read", headers={"Accept": "text/css,*/*;q=0.1"})
    [(consent, allowed, profile)] = read
    assert consent is True and allowed
    assert profile is not None and profile.searches[0].term == "tent"


def test_an_asset_request_with_a_left_over_profile_cookie_deletes_it(recorded):
    client, seen, _ = recorded
    client.cookies.delete("etalage_consent")  # no yes any more: the profile cookie must go
    response = client.get("/asset.css")
    assert seen[-1].visitor_built
    assert [c for c in set_cookies(response) if c.startswith("etalage=") and "Max-Age=0" in c]
