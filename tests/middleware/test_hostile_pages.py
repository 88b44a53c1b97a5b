"""Whatever HTML the upstream app sends, the visitor gets a page and never a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from starlette.responses import Response
from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware

from .site_fixture import IPHONE, write_site
from .test_skeleton import _HTMLISH

_current: dict[str, bytes] = {}


async def _upstream(scope, receive, send):
    await Response(_current["page"], media_type="text/html")(scope, receive, send)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    rules = write_site(tmp_path_factory.mktemp("hostile"))
    return TestClient(
        EtalageMiddleware(_upstream, rules=rules, secret_keys=["k"]), raise_server_exceptions=True
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page=_HTMLISH)
def test_generated_html_always_gets_a_page(client, page):
    _current["page"] = b'<div data-slot="hero">x</div>' + page
    response = client.get("/", headers={"User-Agent": IPHONE})
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.content.endswith(page)
