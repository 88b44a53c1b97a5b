"""Malformed input gets a clear 400 or the normal page, never a 500 (issue 9, point 3).

The test client re-raises any exception that escapes the app, so each case also shows that
nothing reached the server as a traceback.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from etalage.demo import create_app
from etalage.middleware import EtalageMiddleware
from tests.support.clients import consent
from tests.support.clocks import Clock

from .site_fixture import DESKTOP, upstream_app, write_site

KEYS = ["malformed-secret"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json", "Accept": "application/json"}


@pytest.fixture
def client(tmp_path):
    app = EtalageMiddleware(
        upstream_app(), rules=write_site(tmp_path), secret_keys=KEYS, clock=Clock()
    )
    with TestClient(app, headers={"User-Agent": DESKTOP}) as client:
        yield client


@pytest.fixture(scope="module")
def shop():
    with TestClient(create_app(secret_keys=KEYS), headers={"User-Agent": DESKTOP}) as client:
        yield client


def assert_plain_bad_request(response, reason: str) -> None:
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert reason in response.text


@pytest.mark.parametrize("endpoint", ["consent", "preferences", "event", "forget"])
@pytest.mark.parametrize("origin", ["http://[x", "http://[1]/", "https://[::1"])
def test_an_origin_that_is_no_url_is_refused_not_a_crash(client, endpoint, origin):
    response = client.post(
        f"/_etalage/{endpoint}", content=b"personalization=true", headers={"Origin": origin, **FORM}
    )
    assert response.status_code == 403
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/cart/add", "/checkout"])
def test_the_shops_forms_refuse_an_origin_that_is_no_url(shop, path):
    response = shop.post(path, content=b"sku=x", headers={"Origin": "http://[x", **FORM})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("next_value", "referer"),
    [("http://[1]/", None), (None, "http://[x"), ("http://[1]/", "http://[x/page")],
)
def test_a_next_or_referer_that_is_no_url_sends_the_form_home(client, next_value, referer):
    fields = {"personalization": "true"}
    if next_value is not None:
        fields["next"] = next_value
    headers = {"Referer": referer} if referer else {}
    response = client.post(
        "/_etalage/consent", data=fields, headers=headers, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_a_usable_referer_still_wins_over_a_next_that_is_no_url(client):
    response = client.post(
        "/_etalage/consent",
        data={"personalization": "true", "next": "http://[1]/"},
        headers={"Referer": "http://testserver/about?x=1"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/about?x=1"


@pytest.mark.parametrize("endpoint", ["consent", "preferences", "event"])
def test_deeply_nested_json_is_a_bad_request(client, endpoint):
    consent(client)
    response = client.post(f"/_etalage/{endpoint}", content=b"[" * 60_000, headers=JSON)
    assert_plain_bad_request(response, "nested too deeply")


def test_lone_surrogates_in_json_are_refused_not_a_500(client):
    consent(client)
    response = client.post(
        "/_etalage/preferences",
        content=b'{"name": "\\ud800"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "surrogate" in response.text
    assert client.get("/_etalage/profile").status_code == 200


def test_a_form_with_too_many_fields_is_a_bad_request(client):
    body = "&".join(f"f{n}=1" for n in range(500)).encode()
    response = client.post("/_etalage/preferences", content=body, headers=FORM)
    assert_plain_bad_request(response, "more than 100 fields")


def test_a_bad_request_that_echoes_input_cannot_be_sniffed_as_html(client):
    consent(client)
    hostile = "<script>alert(1)</script>"
    response = client.post(
        "/_etalage/event", json={"type": "dismiss", "data": {"rule": hostile}}, headers=JSON
    )
    assert_plain_bad_request(response, hostile)


@pytest.mark.parametrize("digits", ["²", "³¹", "1²", "9" * 40])
def test_unicode_digits_in_the_demo_clock_cookie_are_ignored(shop, digits):
    # Cookie headers are read as latin-1, where "²", "³" and "¹" are digits to str.isdigit.
    cookie = b"etalage_demo_shift=" + digits.encode("latin-1")
    response = shop.get("/", headers={"Accept": "text/html", "Cookie": cookie})
    assert response.status_code == 200
    assert "(+" not in response.text  # no time travel: the cookie was not a number of seconds


@pytest.mark.parametrize("qty", ["²", "٣", "1²", "99999999999999999999"])
def test_a_cart_quantity_that_is_no_small_number_adds_one_item(qty):
    from etalage.demo import catalog

    with TestClient(create_app(secret_keys=KEYS), headers={"User-Agent": DESKTOP}) as shop:
        sku = catalog.PRODUCTS[0].sku
        response = shop.post("/cart/add", data={"sku": sku, "qty": qty}, follow_redirects=False)
        assert response.status_code == 303
        cart = shop.get("/cart", headers={"Accept": "text/html"})
        assert cart.status_code == 200
        assert 'name="qty" value="1"' in cart.text


@pytest.mark.parametrize("path", ["/" + "a" * 300, "/" + "a" * 300 + ".html", "/static/" + "b" * 400])
def test_a_path_too_long_for_the_file_system_is_not_found(shop, path):
    response = shop.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 404


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1969-12-31"])
def test_a_search_date_at_the_ends_of_the_calendar_is_kept_readable(tmp_path, day):
    """West of UTC the end of 9999-12-31 is after the last moment a profile may hold."""
    rules = write_site(tmp_path)
    rules.write_text(
        rules.read_text().replace(
            "timezone: Europe/Berlin", "timezone: America/New_York, search_date_param: date"
        )
    )
    app = EtalageMiddleware(upstream_app(), rules=rules, secret_keys=KEYS, clock=Clock())
    with TestClient(app, headers={"User-Agent": DESKTOP}) as client:
        consent(client)
        assert client.get(f"/?q=tent&date={day}").status_code == 200
        stored = client.get("/_etalage/profile", headers={"Accept": "application/json"})
        assert stored.status_code == 200
        assert [s["term"] for s in stored.json()["stored"]["searches"]] == ["tent"]
        assert client.get("/_etalage/profile").status_code == 200
