"""How `VisitorLoader` (middleware/visitors.py) reads a request's visitor: a cookie it cannot
read is a fresh visitor (never an error), cookies of an older key or format are read and
re-issued, Global Privacy Control means no until the visitor says yes, and bots and prefetches
are nobody (the canonical page, no cookie)."""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from starlette.testclient import TestClient

from etalage.cookie import ConsentCodec, ProfileCodec
from etalage.history import record_search
from etalage.profile import Profile
from tests.support.clients import consent, profile_json, set_cookies

from .site_fixture import GOOGLEBOT, HOME, KEYS

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
