"""Header merging for personalized and cookie-carrying answers, as case tables."""

from __future__ import annotations

import pytest

from etalage.middleware.headers import (
    canonical_headers,
    etag_matches,
    merge_vary,
    personalized_headers,
    private_cache_control,
    shared_caches_excluded,
    targets_shared_caches,
    variant_etag,
    vary_for,
)


@pytest.mark.parametrize(
    ("upstream", "merged"),
    [
        (None, "Cookie"),
        ("", "Cookie"),
        ("Accept-Encoding", "Accept-Encoding, Cookie"),
        ("accept-encoding, cookie", "accept-encoding, cookie"),
        ("Accept-Encoding,Accept-Language", "Accept-Encoding, Accept-Language, Cookie"),
        ("*", "*"),
        ("COOKIE", "COOKIE"),
        (" , Origin ,", "Origin, Cookie"),
    ],
)
def test_merge_vary(upstream, merged):
    assert merge_vary(upstream) == merged


@pytest.mark.parametrize(
    ("upstream", "private"),
    [
        (None, "private, no-cache"),
        ("public, max-age=600", "private, no-cache"),
        ("s-maxage=60", "private, no-cache"),
        ("no-store", "private, no-cache, no-store"),
        ("private, NO-STORE", "private, no-cache, no-store"),
        ("max-age=0, must-revalidate", "private, no-cache"),
    ],
)
def test_private_cache_control(upstream, private):
    assert private_cache_control(upstream) == private


@pytest.mark.parametrize(
    ("headers", "cache_control"),
    [
        ([], "private"),
        ([(b"cache-control", b"public, max-age=600")], "private, max-age=600"),
        ([(b"Cache-Control", b"max-age=60, s-maxage=3600")], "private, max-age=60"),
        ([(b"cache-control", b"no-store")], "private, no-store"),
        ([(b"cache-control", b"private, no-cache")], "private, no-cache"),
        ([(b"cache-control", b"public"), (b"cache-control", b"max-age=5")], "private, max-age=5"),
        ([(b"cache-control", b"PUBLIC, S-MAXAGE=9, immutable")], "private, immutable"),
    ],
)
def test_shared_caches_excluded_makes_cache_control_private(headers, cache_control):
    out = shared_caches_excluded([(b"content-type", b"text/css"), *headers])
    assert [v for k, v in out if k == b"cache-control"] == [cache_control.encode()]
    assert (b"content-type", b"text/css") in out


@pytest.mark.parametrize(
    ("name", "for_shared_caches"),
    [
        (b"cdn-cache-control", True),
        (b"cloudflare-cdn-cache-control", True),
        (b"vercel-cdn-cache-control", True),
        (b"surrogate-control", True),
        (b"edge-control", True),
        (b"x-accel-expires", True),
        (b"expires", False),
        (b"surrogate-key", False),
        (b"vary", False),
    ],
)
def test_headers_only_shared_caches_read(name, for_shared_caches):
    assert targets_shared_caches(name) is for_shared_caches
    dropped = shared_caches_excluded([(name, b"max-age=60")])
    assert ((name, b"max-age=60") not in dropped) is for_shared_caches


def test_personalized_headers_replace_what_described_the_upstream_page():
    upstream = [
        (b"content-type", b"text/html"),
        (b"content-length", b"10"),
        (b"etag", b'"up"'),
        (b"last-modified", b"Mon, 01 Jan 2024 00:00:00 GMT"),
        (b"cache-control", b"public, max-age=600"),
        (b"vary", b"Accept-Encoding"),
        (b"vary", b"Accept-Language"),
        (b"cdn-cache-control", b"max-age=3600"),
        (b"x-frame-options", b"DENY"),
    ]
    out = personalized_headers(upstream, body_length=42, etag='W/"et-1"', duration_ms=0.5)
    assert dict(out) == {
        b"content-type": b"text/html",
        b"x-frame-options": b"DENY",
        b"content-length": b"42",
        b"etag": b'W/"et-1"',
        b"cache-control": b"private, no-cache",
        b"vary": b"Accept-Encoding, Accept-Language, Cookie",
        b"server-timing": b"etalage;dur=0.50",
    }
    assert len(out) == len(dict(out))


@pytest.mark.parametrize(
    ("if_none_match", "matches"),
    [
        (None, False),
        ("", False),
        ('W/"et-1"', True),
        ('"et-1"', True),
        ('"other", W/"et-1"', True),
        ("*", True),
        ('"et-2"', False),
    ],
)
def test_etag_matches_by_weak_comparison(if_none_match, matches):
    assert etag_matches(if_none_match, 'W/"et-1"') is matches


def test_variant_etag_changes_with_any_part():
    base = variant_etag(b"page", {"hero": b"<p>a</p>"})
    assert base == variant_etag(b"page", {"hero": b"<p>a</p>"})
    assert base != variant_etag(b"page2", {"hero": b"<p>a</p>"})
    assert base != variant_etag(b"page", {"hero": b"<p>b</p>"})
    assert base != variant_etag(b"page", {"hero2": b"<p>a</p>"})
    assert base != variant_etag(b"page", {"hero": b"<p>a</p>"}, b"footer")
    # the lengths are hashed too: moving bytes between slots changes the tag
    assert variant_etag(b"p", {"a": b"xy", "b": b""}) != variant_etag(b"p", {"a": b"x", "b": b"y"})


@pytest.mark.parametrize(
    ("attributes", "vary"),
    [
        ((), ("Cookie",)),
        (("search.last", "request.path", "request.query.q", "page.topic"), ("Cookie",)),
        (("device.type", "device.os"), ("Cookie", "User-Agent")),
        (("consent.personalization",), ("Cookie", "Sec-GPC")),
        (("request.locale", "request.referrer_host"), ("Cookie", "Accept-Language", "Referer")),
        (("request.country",), ("Cookie", "CF-IPCountry", "CF-Region-Code")),
        (("request.region", "request.country"), ("Cookie", "CF-IPCountry", "CF-Region-Code")),
        (("time.hour", "devices.x"), ("Cookie",)),
    ],
)
def test_vary_for_names_the_headers_behind_the_attributes_rules_read(attributes, vary):
    assert vary_for(attributes, ("CF-IPCountry", "CF-Region-Code")) == vary


@pytest.mark.parametrize(
    ("upstream", "vary"),
    [
        ([], "Cookie, User-Agent"),
        ([(b"vary", b"Accept-Encoding")], "Accept-Encoding, Cookie, User-Agent"),
        ([(b"Vary", b"user-agent"), (b"vary", b"Cookie")], "user-agent, Cookie"),
        ([(b"vary", b"*")], "*"),
    ],
)
def test_a_canonical_answer_keeps_the_apps_caching_and_varies_on_what_could_change_it(
    upstream, vary
):
    app_headers = [
        (b"content-type", b"text/html"),
        (b"cache-control", b"public, max-age=600"),
        (b"etag", b'"v1"'),
        (b"cdn-cache-control", b"max-age=3600"),
        *upstream,
    ]
    out = canonical_headers(app_headers, ("Cookie", "User-Agent"))
    assert out[:4] == app_headers[:4]
    assert [v for n, v in out if n.lower() == b"vary"] == [vary.encode()]
