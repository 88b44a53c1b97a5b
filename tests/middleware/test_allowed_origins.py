"""Behind a proxy that rewrites Host: the site's public origins, declared, may post."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from etalage.errors import ConfigError
from etalage.middleware import EtalageMiddleware
from etalage.middleware.origin import is_same_origin, normalized_origins

from .site_fixture import DESKTOP, upstream_app, write_site

PUBLIC = "https://shop.example"


def post_consent(client: TestClient, **headers: str) -> int:
    answer = client.post(
        "/_etalage/consent",
        json={"personalization": True},
        headers={"Accept": "application/json", **headers},
    )
    return answer.status_code


def test_a_declared_public_origin_may_post_though_the_host_was_rewritten(tmp_path):
    app = EtalageMiddleware(
        upstream_app(), rules=write_site(tmp_path), secret_keys=["k"], allowed_origins=[PUBLIC]
    )
    client = TestClient(app, base_url="http://backend:8000", headers={"User-Agent": DESKTOP})
    assert post_consent(client, Origin=PUBLIC) == 200
    assert post_consent(client, Origin="https://SHOP.example/") == 200
    assert post_consent(client, Origin="https://evil.example") == 403
    assert post_consent(client, Origin="https://shop.example.evil.example") == 403


def test_without_allowed_origins_a_rewritten_host_refuses_the_origin(tmp_path):
    app = EtalageMiddleware(upstream_app(), rules=write_site(tmp_path), secret_keys=["k"])
    client = TestClient(app, base_url="http://backend:8000", headers={"User-Agent": DESKTOP})
    assert post_consent(client, Origin=PUBLIC) == 403


@pytest.mark.parametrize(
    ("headers", "same"),
    [
        ([(b"origin", b"https://shop.example"), (b"sec-fetch-site", b"cross-site")], True),
        ([(b"origin", b"https://other.example"), (b"sec-fetch-site", b"same-origin")], True),
        ([(b"origin", b"https://other.example"), (b"sec-fetch-site", b"cross-site")], False),
        ([(b"origin", b"null")], False),
    ],
)
def test_an_allowed_origin_passes_whatever_sec_fetch_site_says(headers, same):
    assert is_same_origin(headers, ("https://shop.example",)) is same


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        (["https://Shop.Example/"], ("https://shop.example",)),
        (["http://localhost:8000"], ("http://localhost:8000",)),
    ],
)
def test_origins_are_normalized(given, normalized):
    assert normalized_origins(given) == normalized


@pytest.mark.parametrize("bad", ["shop.example", "https://shop.example/path", "ftp://x", "http://[x"])
def test_something_that_is_no_origin_is_a_startup_error(bad):
    with pytest.raises(ConfigError, match="allowed_origins"):
        normalized_origins([bad])
