"""What `ProfileWriter` (middleware/writing.py) puts on an answer: the profile and consent
cookies with their flags, when they are (re)issued, when they are deleted, and what an asset
answer carries."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.support.clients import consent, set_cookies


def test_without_consent_nothing_is_stored(client):
    response = client.get("/?q=tent")
    assert set_cookies(response) == []
    assert "etalage" not in client.cookies


def test_profile_cookie_is_httponly_lax_and_path_root(client):
    response = consent(client)
    cookies = set_cookies(response)
    profile_cookie = next(c for c in cookies if c.startswith("etalage="))
    assert "HttpOnly" in profile_cookie
    assert "SameSite=Lax" in profile_cookie
    assert "Path=/" in profile_cookie
    assert "Secure" not in profile_cookie


def test_cookie_is_secure_on_https(app):
    client = TestClient(app, base_url="https://testserver")
    response = consent(client)
    assert all("Secure" in c for c in set_cookies(response))


# -- when the profile cookie is (re)issued ---------------------------------------------------


def test_asset_requests_do_not_reissue_the_cookie(client):
    consent(client)
    client.get("/")
    assert set_cookies(client.get("/style.css")) == []


def test_a_fresh_profile_waits_for_a_page_not_an_asset(client):
    consent(client)
    client.cookies.delete("etalage")  # consent given, profile cookie gone (expired, say)
    assert set_cookies(client.get("/asset.css")) == []
    assert [c for c in set_cookies(client.get("/")) if c.startswith("etalage=")]


def test_a_cookie_on_a_publicly_cacheable_page_makes_the_answer_private(client):
    consent(client)
    client.cookies.delete("etalage")
    response = client.get("/about")
    assert [c for c in set_cookies(response) if c.startswith("etalage=")]
    directives = [d.strip() for d in response.headers["cache-control"].split(",")]
    assert "private" in directives and "public" not in directives and "max-age=600" in directives


def test_an_event_recorded_by_app_code_sets_the_cookie_on_a_private_answer(client):
    consent(client)
    response = client.post("/buy")
    assert response.json() == {"recorded": True}
    assert [c for c in set_cookies(response) if c.startswith("etalage=")]
    assert "private" in response.headers["cache-control"]


# -- deletions -------------------------------------------------------------------------------


def test_a_profile_cookie_without_consent_is_deleted_even_on_an_asset(client):
    client.cookies.set("etalage", "left-over-value")
    response = client.get("/asset.css")
    (deleted,) = [c for c in set_cookies(response) if c.startswith("etalage=")]
    assert "Max-Age=0" in deleted
    assert response.headers["cache-control"] == "private, max-age=31536000"


def test_deny_deletes_the_profile_cookie(client):
    consent(client)
    client.get("/?q=tent")
    response = consent(client, granted=False)
    deleted = [c for c in set_cookies(response) if c.startswith("etalage=")]
    assert deleted and "Max-Age=0" in deleted[0]
    assert "Continue your search" not in client.get("/").text
