"""The middleware mounted on real frameworks and served by a real uvicorn process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware
from tests.support.ports import free_port, wait_for_port

from .site_fixture import CSS, DESKTOP, HOME, IPHONE, write_site

KEYS = ["framework-secret"]


def test_fastapi_app_with_add_middleware(tmp_path):
    rules = write_site(tmp_path)
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    def home() -> bytes:
        return HOME.decode()

    @app.get("/api")
    def api() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/who")
    def who(request: __import__("fastapi").Request) -> dict[str, object]:
        state = request.scope["etalage"]
        return {"consent": state.visitor.consent, "device": state.visitor.facts.device_type}

    app.add_middleware(EtalageMiddleware, rules=rules, secret_keys=KEYS)
    client = TestClient(app)
    assert "Compact hero" in client.get("/", headers={"User-Agent": IPHONE}).text
    assert "Default hero" in client.get("/", headers={"User-Agent": DESKTOP}).text
    assert client.get("/api").json() == {"ok": True}
    assert client.get("/who", headers={"User-Agent": IPHONE}).json() == {
        "consent": None,
        "device": "mobile",
    }


def test_static_files_app_wrapped_in_the_middleware(tmp_path):
    rules = write_site(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_bytes(HOME)
    (site / "style.css").write_bytes(CSS)
    app = Starlette(routes=[Mount("/", StaticFiles(directory=site, html=True))])
    client = TestClient(EtalageMiddleware(app, rules=rules, secret_keys=KEYS))
    page = client.get("/", headers={"User-Agent": IPHONE})
    assert "Compact hero" in page.text
    assert page.headers["cache-control"].startswith("private")
    assert "last-modified" not in page.headers
    css = client.get("/style.css")
    assert css.content == CSS
    assert "etag" in css.headers  # assets keep StaticFiles' own validators
    ranged = client.get("/index.html", headers={"Range": "bytes=0-9", "User-Agent": IPHONE})
    assert ranged.status_code == 206
    assert ranged.content == HOME[:10]


def test_gzip_outside_the_middleware_compresses_the_personalized_page(tmp_path):
    rules = write_site(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_bytes(HOME + b" " * 2000)
    app = Starlette(routes=[Mount("/", StaticFiles(directory=site, html=True))])
    wrapped = GZipMiddleware(EtalageMiddleware(app, rules=rules, secret_keys=KEYS))
    response = TestClient(wrapped).get(
        "/", headers={"User-Agent": IPHONE, "Accept-Encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"
    assert "Compact hero" in response.text


@pytest.fixture(scope="module")
def served_site(tmp_path_factory):
    """`etalage serve` in its own process on a free port, as a user would start it."""
    root = tmp_path_factory.mktemp("served")
    rules = write_site(root)
    site = root / "site"
    site.mkdir()
    (site / "index.html").write_bytes(HOME)
    (site / "style.css").write_bytes(CSS)
    port = free_port()
    log = root / "serve.log"
    env = {**os.environ, "ETALAGE_SECRET_KEYS": "served-secret"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "etalage.cli", "serve", str(site), "--rules", str(rules),
             "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_port(port, process=process)
        yield f"http://127.0.0.1:{port}", site, log
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_real_uvicorn_serves_personalized_pages_over_http(served_site):
    base, _, log = served_site
    with httpx.Client(base_url=base, headers={"User-Agent": DESKTOP}, timeout=10) as client:
        phone = client.get("/", headers={"User-Agent": IPHONE})
        assert phone.status_code == 200, Path(log).read_text()
        assert "Compact hero" in phone.text
        assert phone.headers["vary"] == "Cookie"
        assert "etalage;dur=" in phone.headers["server-timing"]
        assert client.get("/style.css").content == CSS
        granted = client.post(
            "/_etalage/consent", data={"personalization": "true"}, headers={"Origin": base}
        )
        assert granted.status_code in (200, 303)
        client.get("/?q=lantern", headers={"User-Agent": DESKTOP})
        assert "Continue your search for 'lantern'" in client.get("/").text


def test_real_uvicorn_rejects_cross_site_consent(served_site):
    base, _, _ = served_site
    response = httpx.post(
        base + "/_etalage/consent",
        data={"personalization": "true"},
        headers={"Origin": "https://evil.example", "User-Agent": DESKTOP},
        timeout=10,
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_served_page_edits_are_picked_up_without_restart(served_site):
    base, site, _ = served_site
    page = site / "about.html"
    page.write_text('<html><body><div data-slot="hero">first</div></body></html>')
    assert "first" in httpx.get(base + "/about.html", timeout=10).text
    page.write_text('<html><body><div data-slot="hero">second edition</div></body></html>')
    os.utime(page, (page.stat().st_atime, page.stat().st_mtime + 5))
    deadline = time.monotonic() + 10  # pages are re-checked at most once a second
    text = ""
    while "second edition" not in text and time.monotonic() < deadline:
        text = httpx.get(base + "/about.html", timeout=10).text
    assert "second edition" in text


def test_serve_says_where_it_listens(served_site):
    base, _, log = served_site
    assert f"listening on {base}/" in Path(log).read_text()
