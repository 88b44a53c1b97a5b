"""Cookie syntax (middleware/cookies.py) as case tables: reading the Cookie header, writing
Set-Cookie values with etalage's defaults."""

from __future__ import annotations

import pytest

from etalage.middleware.cookies import delete_cookie, parse_cookie_header, set_cookie


@pytest.mark.parametrize(
    ("headers", "cookies"),
    [
        pytest.param([], {}, id="none"),
        pytest.param([(b"cookie", b"a=1; b=2")], {"a": "1", "b": "2"}, id="two"),
        pytest.param([(b"cookie", b"a=1; a=2")], {"a": "1"}, id="first-value-wins"),
        pytest.param(
            [(b"cookie", b"a=1"), (b"cookie", b"a=3; b=2")],
            {"a": "1", "b": "2"},
            id="several-headers",
        ),
        pytest.param([(b"cookie", b' a = "x y" ')], {"a": "x y"}, id="spaces-and-quotes"),
        pytest.param([(b"cookie", b"novalue; =x; ; b=2")], {"b": "2"}, id="malformed-skipped"),
        pytest.param([(b"cookie", b"a=b=c")], {"a": "b=c"}, id="equals-in-value"),
        pytest.param([(b"cookie", b"a=\xe9")], {"a": "\xe9"}, id="latin-1"),
        pytest.param([(b"x-cookie", b"a=1"), (b"set-cookie", b"b=2")], {}, id="other-headers"),
    ],
)
def test_parse_cookie_header(headers, cookies):
    assert parse_cookie_header(headers) == cookies


@pytest.mark.parametrize(
    ("options", "header"),
    [
        pytest.param(
            {"max_age": 60, "secure": False},
            b"n=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax",
            id="defaults",
        ),
        pytest.param(
            {"max_age": 60, "secure": True},
            b"n=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure",
            id="secure",
        ),
        pytest.param(
            {"max_age": None, "secure": False, "http_only": False, "same_site": "Strict"},
            b"n=v; Path=/; SameSite=Strict",
            id="session-script-readable-strict",
        ),
        pytest.param(
            {"max_age": 0, "secure": False, "path": "/shop"},
            b"n=v; Path=/shop; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; "
            b"SameSite=Lax",
            id="max-age-0-deletes",
        ),
    ],
)
def test_set_cookie(options, header):
    assert set_cookie("n", "v", **options) == header


@pytest.mark.parametrize("secure", [False, True])
def test_delete_cookie_expires_it_with_the_same_flags(secure):
    assert delete_cookie("n", secure=secure) == set_cookie("n", "", max_age=0, secure=secure)
    assert b"Max-Age=0" in delete_cookie("n", secure=secure)
