"""Which answers a shared cache (CDN, reverse proxy) may keep: upstream caching headers × kinds
of answer (issue 9, point 2).

An answer made for one visitor (personalized, or carrying an etalage Set-Cookie) and a crawler's
or prefetch's canonical page must not be kept by any shared cache, whatever header that cache
reads; a person's canonical answer (the same bytes for everyone) keeps the app's caching as is.
"""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware
from tests.support.clients import consent, set_cookies
from tests.support.clocks import Clock

from .site_fixture import DESKTOP, GOOGLEBOT, HOME, IPHONE, PLAIN, write_site

KEYS = ["cache-secret"]

#: Upstream caching headers, each as a CDN or proxy would read them.
UPSTREAM = {
    "public": {"Cache-Control": "public, max-age=600"},
    "s-maxage": {"Cache-Control": "max-age=60, s-maxage=3600"},
    "cdn-cache-control": {"Cache-Control": "public, max-age=60", "CDN-Cache-Control": "max-age=3600"},
    "cloudflare": {"Cloudflare-CDN-Cache-Control": "max-age=3600"},
    "vercel": {"Vercel-CDN-Cache-Control": "max-age=3600", "Cache-Control": "s-maxage=60"},
    "surrogate": {"Surrogate-Control": "max-age=3600", "Cache-Control": "max-age=60"},
    "akamai": {"Edge-Control": "max-age=3600"},
    "nginx": {"X-Accel-Expires": "3600"},
    "none": {},
    "no-store": {"Cache-Control": "no-store", "CDN-Cache-Control": "max-age=3600"},
}

#: Headers that a shared cache reads instead of, or before, Cache-Control.
CDN_HEADERS = (
    "cdn-cache-control",
    "cloudflare-cdn-cache-control",
    "vercel-cdn-cache-control",
    "surrogate-control",
    "edge-control",
    "x-accel-expires",
)


def shared_cache_may_keep(headers) -> bool:
    """Whether some CDN or proxy would keep this answer for other people."""
    if any(name in headers for name in CDN_HEADERS):
        return True
    directives = {d.strip().split("=")[0].lower() for d in headers.get("cache-control", "").split(",")}
    return not directives & {"private", "no-store"}  # none at all: heuristic caching


def make_client(tmp_path, upstream_headers, user_agent=DESKTOP) -> TestClient:
    async def page(request):
        body = HOME if request.url.path == "/" else PLAIN
        return Response(body, media_type="text/html; charset=utf-8", headers=upstream_headers)

    upstream = Starlette(routes=[Route("/", page), Route("/plain", page)])
    app = EtalageMiddleware(upstream, rules=write_site(tmp_path), secret_keys=KEYS, clock=Clock())
    return TestClient(app, headers={"User-Agent": user_agent})


@pytest.mark.parametrize("upstream", UPSTREAM)
def test_a_personalized_page_is_kept_by_no_shared_cache(tmp_path, upstream):
    client = make_client(tmp_path, UPSTREAM[upstream])
    consent(client)
    client.get("/?q=tent")
    response = client.get("/")
    assert "Continue your search for 'tent'" in response.text
    assert not shared_cache_may_keep(response.headers)
    assert "cookie" in response.headers["vary"].lower()
    if "no-store" in UPSTREAM[upstream].get("Cache-Control", ""):
        assert "no-store" in response.headers["cache-control"]


@pytest.mark.parametrize("upstream", UPSTREAM)
def test_an_answer_carrying_an_etalage_cookie_is_kept_by_no_shared_cache(tmp_path, upstream):
    client = make_client(tmp_path, UPSTREAM[upstream])
    consent(client)
    response = client.get("/plain")  # no slots: only the recorded view changes the cookie
    assert response.content == PLAIN
    assert [c for c in set_cookies(response) if c.startswith("etalage=")]
    assert not shared_cache_may_keep(response.headers)


@pytest.mark.parametrize("upstream", UPSTREAM)
def test_a_persons_canonical_answer_keeps_the_apps_caching(tmp_path, upstream):
    client = make_client(tmp_path, UPSTREAM[upstream])
    response = client.get("/plain")  # no consent asked yet, no slots: the same for everyone
    assert response.content == PLAIN
    assert not set_cookies(response)
    for name, value in UPSTREAM[upstream].items():
        assert response.headers[name] == value


@pytest.mark.parametrize("upstream", UPSTREAM)
@pytest.mark.parametrize(
    "request_headers",
    [{"User-Agent": GOOGLEBOT}, {"User-Agent": DESKTOP, "Sec-Purpose": "prefetch"}],
    ids=["crawler", "prefetch"],
)
def test_a_crawlers_or_prefetchs_page_is_not_handed_to_people(tmp_path, upstream, request_headers):
    client = make_client(tmp_path, UPSTREAM[upstream])
    response = client.get("/", headers=request_headers)
    assert response.content == HOME  # the canonical page, byte for byte
    assert not set_cookies(response)
    assert not shared_cache_may_keep(response.headers)
    kept = [d.strip() for d in UPSTREAM[upstream].get("Cache-Control", "").split(",") if d.strip()]
    browser_directives = [d for d in kept if d != "public" and not d.startswith("s-maxage")]
    directives = [d.strip() for d in response.headers["cache-control"].split(",")]
    assert directives == ["private", *browser_directives]


def test_a_crawlers_stylesheet_keeps_the_apps_caching(tmp_path):
    async def css(request):
        return Response(b"p{}", media_type="text/css", headers=UPSTREAM["cdn-cache-control"])

    upstream = Starlette(routes=[Route("/site.css", css)])
    app = EtalageMiddleware(upstream, rules=write_site(tmp_path), secret_keys=KEYS, clock=Clock())
    response = TestClient(app, headers={"User-Agent": GOOGLEBOT}).get("/site.css")
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["cdn-cache-control"] == "max-age=3600"


@pytest.mark.parametrize("upstream", UPSTREAM)
def test_a_page_whose_slots_all_kept_their_defaults_keeps_the_apps_caching(tmp_path, upstream):
    """A first-time desktop visitor: no rule applies (the mobile hero needs a phone, the rest
    needs history), so the page is the app's own for this request and stays cacheable, keyed on
    what could have changed it: the cookies and, since a rule reads device.type, the UA."""
    app_headers = {**UPSTREAM[upstream], "ETag": '"home-1"'}
    client = make_client(tmp_path, app_headers)
    response = client.get("/", headers={"Accept": "text/html"})
    assert response.content == HOME
    assert not set_cookies(response)
    for name, value in app_headers.items():
        assert response.headers[name] == value
    assert response.headers["vary"] == "Cookie, User-Agent"
    # The app's validator answers conditional requests (the middleware answers them itself).
    again = client.get("/", headers={"Accept": "text/html", "If-None-Match": '"home-1"'})
    assert again.status_code == 304 and again.headers["etag"] == '"home-1"'


def test_the_same_page_personalized_is_private_again(tmp_path):
    client = make_client(tmp_path, UPSTREAM["public"], user_agent=IPHONE)
    response = client.get("/", headers={"Accept": "text/html"})
    assert b"Compact hero" in response.content
    assert not shared_cache_may_keep(response.headers)
    assert response.headers["vary"] == "Cookie"
