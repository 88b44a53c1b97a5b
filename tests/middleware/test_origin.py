"""`is_same_origin` (middleware/origin.py) as a case table: which state-changing requests count
as coming from the site's own pages."""

from __future__ import annotations

import pytest

from etalage.middleware.origin import is_same_origin, local_path

HOST = (b"host", b"shop.example")


@pytest.mark.parametrize(
    ("headers", "same"),
    [
        pytest.param([HOST], True, id="no-browser-headers"),
        pytest.param([HOST, (b"sec-fetch-site", b"same-origin")], True, id="fetch-same-origin"),
        pytest.param([HOST, (b"sec-fetch-site", b"none")], True, id="fetch-none-user-started"),
        pytest.param([HOST, (b"sec-fetch-site", b"same-site")], False, id="fetch-same-site"),
        pytest.param([HOST, (b"sec-fetch-site", b"cross-site")], False, id="fetch-cross-site"),
        pytest.param(
            [HOST, (b"sec-fetch-site", b"same-origin"), (b"origin", b"https://proxy.example")],
            True,
            id="fetch-site-decides-over-origin",
        ),
        pytest.param(
            [HOST, (b"sec-fetch-site", b"cross-site"), (b"origin", b"https://shop.example")],
            False,
            id="fetch-site-refuses-despite-origin",
        ),
        pytest.param([HOST, (b"origin", b"https://shop.example")], True, id="origin-https"),
        pytest.param([HOST, (b"origin", b"http://SHOP.example")], True, id="origin-host-case"),
        pytest.param([HOST, (b"origin", b"https://evil.example")], False, id="origin-other-host"),
        pytest.param([HOST, (b"origin", b"ftp://shop.example")], False, id="origin-other-scheme"),
        pytest.param([HOST, (b"origin", b"null")], False, id="origin-null"),
        pytest.param([HOST, (b"origin", b"http://[x")], False, id="origin-not-a-url"),
        pytest.param([(b"origin", b"https://shop.example")], False, id="origin-without-host"),
    ],
)
def test_is_same_origin(headers, same):
    assert is_same_origin(headers) is same


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/trips.html?x=1", "/trips.html?x=1"),
        ("http://shop.test/cart", "/cart"),
        ("http://SHOP.test/cart", "/cart"),
        ("http://evil.test/cart", None),
        ("//evil.test/cart", None),
        ("/\\evil.test", None),
        ("http://shop.test//evil.test/", None),
        ("http://[x", None),
        ("cart", None),
    ],
)
def test_local_path_sends_a_browser_back_only_within_the_site(url, path):
    assert local_path(url, "shop.test") == path
