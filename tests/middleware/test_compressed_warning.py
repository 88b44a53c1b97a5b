"""No silent no-op: compressed HTML reaching etalage is logged once, naming the fix."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware

from .site_fixture import HOME, IPHONE, write_site


def test_gzip_inside_etalage_is_reported_once_with_the_fix(tmp_path, caplog):
    async def home(request):
        return HTMLResponse(HOME * 20)  # large enough for GZip to compress

    app = Starlette(routes=[Route("/", home)])
    app.add_middleware(GZipMiddleware)
    app.add_middleware(EtalageMiddleware, rules=write_site(tmp_path), secret_keys=["k"])
    client = TestClient(app, headers={"User-Agent": IPHONE, "Accept-Encoding": "gzip"})
    with caplog.at_level(logging.WARNING, logger="etalage"):
        for _ in range(3):
            response = client.get("/")
            assert response.status_code == 200
            assert b"Compact hero" not in response.content  # passed through, not personalized
    warnings = [r.getMessage() for r in caplog.records if "compressed" in r.getMessage()]
    assert len(warnings) == 1
    assert "after EtalageMiddleware" in warnings[0]
