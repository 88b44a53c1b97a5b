"""A small site used by the middleware tests: rules, fragments and an ASGI app."""

from __future__ import annotations

import gzip
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

RULES = """\
version: 1
site: {name: test-site, search_param: q, timezone: Europe/Berlin}
history:
  search: {keep: 8, relevant_for: 14d}
rules:
  - id: mobile-hero
    slot: hero
    fragment: hero/mobile.html
    when: {device.type: mobile}
    priority: 1
  - id: continue-search
    slot: hero
    fragment: hero/continue.html
    when: {search.last: {$exists: true}}
    priority: 10
    reason: You searched for this recently.
  - id: greet
    slot: greeting
    fragment: greeting.html
    when: {prefs.name: {$exists: true}}
    dismissible: true
  - id: broken
    slot: broken
    fragment: broken.html
  - id: topics
    slot: nav
    reorder: {by: interest}
"""

FRAGMENTS = {
    "hero/mobile.html": "<p class=mobile>Compact hero</p>",
    "hero/continue.html": (
        "<p class=continue>Continue your search for '{{ visitor['search.last'] }}'</p>"
        '<a class=why href="{{ why_url }}">Why this?</a>'
    ),
    "greeting.html": "<p class=greet>Hello {{ visitor.name }}</p>",
    "broken.html": "{{ 1 / 0 }}",
}

HOME = (
    b"<!doctype html>\r\n<html><head><title>Home</title>"
    b'<meta name="etalage:topic" content="hiking"></head>\n<body>\n'
    b'<div data-slot="hero"><h1>Default hero</h1></div>\n'
    b'<div data-slot="greeting"></div>\n'
    b'<div data-slot="broken"><p>broken default</p></div>\n'
    b'<nav data-slot="nav"><a data-item="camping">Camping</a> <a data-item="hiking">Hiking</a></nav>\n'
    b"</body></html>\n"
)
PLAIN = b"<!doctype html><html><body><p>No slots here \xc3\xa9</p></body></html>"
CSS = b"body { color: red }\n"

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
DESKTOP = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

#: The secret keys of the `app` fixture (tests/middleware/conftest.py), newest first.
KEYS = ["new-secret", "old-secret"]


def write_site(root: Path) -> Path:
    """Write the rule file and fragments under `root`; return the rule file's path."""
    rules = root / "rules.yaml"
    rules.write_text(RULES)
    for name, text in FRAGMENTS.items():
        path = root / "fragments" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return rules


async def home(request):
    return Response(
        HOME,
        media_type="text/html; charset=utf-8",
        headers={
            "ETag": '"upstream-1"',
            "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
            "Cache-Control": "public, max-age=600",
        },
    )


async def plain(request):
    return Response(PLAIN, media_type="text/html; charset=utf-8", headers={"ETag": '"p1"'})


async def about(request):
    """A page without slots that a shared cache may keep for ten minutes."""
    return Response(
        PLAIN, media_type="text/html; charset=utf-8", headers={"Cache-Control": "public, max-age=600"}
    )


async def long_lived_css(request):
    return Response(
        CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=31536000"}
    )


async def data(request):
    return JSONResponse({"ok": True})


async def css(request):
    return Response(CSS, media_type="text/css")


async def stream(request):
    async def chunks():
        for n in range(3):
            yield f"chunk {n}\n".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


async def gzipped(request):
    body = gzip.compress(b"<html><body><div data-slot=hero>compressed</div></body></html>")
    return Response(body, media_type="text/html", headers={"Content-Encoding": "gzip"})


async def missing(request):
    return HTMLResponse("<div data-slot=hero>gone</div>", status_code=404)


async def events(request):
    state = request.scope["etalage"]
    recorded = state.record_event("add_to_cart", {"sku": "tent-1", "price": 10.0, "qty": 2})
    return JSONResponse({"recorded": recorded})


async def login(request):
    """A site login (the test's word is its proof): ties the visitor to the account id from
    the query (default ``account-42``), then redirects (profile store only)."""
    await request.scope["etalage"].identify(request.query_params.get("account", "account-42"))
    return RedirectResponse("/", status_code=303)


def upstream_app() -> Starlette:
    """The wrapped app: HTML pages, JSON, CSS, streaming, gzip'd and error answers."""
    return Starlette(
        routes=[
            Route("/", home),
            Route("/plain", plain),
            Route("/about", about),
            Route("/asset.css", long_lived_css),
            Route("/data", data),
            Route("/style.css", css),
            Route("/stream", stream),
            Route("/gz", gzipped),
            Route("/missing", missing),
            Route("/buy", events, methods=["POST"]),
            Route("/login", login, methods=["POST"]),
        ]
    )
