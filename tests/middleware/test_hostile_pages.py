"""Whatever HTML the upstream app sends, the visitor gets a page and never a 500, and each version
of a page gets the skeleton compiling it gives."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.responses import Response
from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware
from etalage.middleware.skeleton import PageSkeleton
from etalage.middleware.skeleton_cache import SkeletonCache

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


@settings(max_examples=150)
@given(page=_HTMLISH, edits=st.lists(st.tuples(st.integers(0), st.binary(max_size=4)), max_size=5))
def test_generated_html_changing_per_request_gets_the_skeleton_compiling_it_gives(page, edits):
    """Versions of one page through the skeleton cache under one page key, each recompiled
    from the last one or compiled: the same skeleton and digest a compile of it gives."""
    cache = SkeletonCache()
    for at, replacement in [(0, b""), *edits]:
        at %= len(page) + 1
        page = page[:at] + replacement + page[at + len(replacement) :]
        skeleton, compiled = cache.compile(page, None, page_key="/"), PageSkeleton.compile(page)
        assert skeleton.source == page
        assert (skeleton.chunks, skeleton.slots) == (compiled.chunks, compiled.slots)
        assert (skeleton.facts, skeleton.warnings) == (compiled.facts, compiled.warnings)
        assert skeleton.digest == compiled.digest
