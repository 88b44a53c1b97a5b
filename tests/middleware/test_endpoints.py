"""The visitor's own URLs under the prefix (middleware/endpoints.py): consent, preferences,
event and forget; 404 and 405; same-origin posts only; form posts redirected back to a local
page."""

from __future__ import annotations

import pytest

from tests.support.clients import consent

# -- what each endpoint does -----------------------------------------------------------------


def test_preferences_drive_the_greeting(client):
    consent(client)
    client.post("/_etalage/preferences", data={"name": "Ada", "channel": "chat"})
    assert "<p class=greet>Hello Ada</p>" in client.get("/").text


def test_preferences_need_consent(client):
    response = client.post("/_etalage/preferences", data={"name": "Ada"})
    assert response.status_code == 409


def test_bad_event_is_a_400(client):
    consent(client)
    response = client.post("/_etalage/event", json={"type": "BAD TYPE"})
    assert response.status_code == 400


def test_forget_wipes_everything(client):
    consent(client)
    client.get("/?q=tent")
    response = client.post("/_etalage/forget", headers={"Accept": "application/json"})
    assert response.json() == {"forgotten": True}
    assert "etalage" not in client.cookies
    assert "etalage_consent" not in client.cookies
    assert "Continue your search" not in client.get("/").text


def test_unknown_endpoint_is_404_and_wrong_method_405(client):
    assert client.get("/_etalage/nothing").status_code == 404
    assert client.get("/_etalage/consent").status_code == 405


# -- same origin only --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},
        {"Origin": "null"},
    ],
)
def test_cross_site_posts_are_refused(client, headers):
    for path in ("consent", "preferences", "event", "forget"):
        response = client.post(
            f"/_etalage/{path}", data={"personalization": "true"}, headers=headers
        )
        assert response.status_code == 403


@pytest.mark.parametrize(
    "origin",
    [
        "http://testserver",
        # Behind a proxy that forwards under its own host name, the browser's Origin is the
        # public one: the browser-attested Sec-Fetch-Site still lets the site's own form in.
        "https://shop.example",
    ],
)
def test_same_origin_post_is_accepted(client, origin):
    response = client.post(
        "/_etalage/consent",
        data={"personalization": "true"},
        headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"},
        follow_redirects=False,
    )
    assert response.status_code == 303


# -- form posts --------------------------------------------------------------------------------


def test_form_post_redirects_back_to_a_local_page_only(client):
    response = client.post(
        "/_etalage/consent",
        data={"personalization": "true", "next": "https://evil.example/x"},
        headers={"Referer": "http://testserver/products/tent?x=1"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/products/tent?x=1"
