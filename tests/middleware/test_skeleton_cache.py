"""SkeletonCache: bounded LRU of compiled pages, keyed by ETag or content, warnings logged once;
the last version of each page, recompiled when it changes."""

from __future__ import annotations

import logging

import pytest

from etalage.errors import ConfigError
from etalage.middleware.recompile import Fallback
from etalage.middleware.skeleton import PageSkeleton, page_digest
from etalage.middleware.skeleton_cache import SkeletonCache


def page(n: int) -> bytes:
    return b"<div data-slot=s%d>default</div>" % n


def test_compile_returns_the_cached_skeleton_for_the_same_content() -> None:
    cache = SkeletonCache()
    first = cache.compile(page(1), None)
    assert cache.compile(page(1), None) is first
    assert cache.compile(page(2), None) is not first
    assert first.slot_names == frozenset({"s1"})


def test_content_is_keyed_by_its_blake2b_hash() -> None:
    cache = SkeletonCache()
    skeleton = cache.compile(page(1), None)
    assert cache.get(SkeletonCache.content_key(page(1))) is skeleton
    assert SkeletonCache.content_key(page(1)).startswith("blake2b:")
    assert SkeletonCache.content_key(page(1)) != SkeletonCache.content_key(page(2))


@pytest.mark.parametrize("etag", [None, '"v1"'])
def test_the_skeleton_digest_is_the_compiled_one_whatever_the_key(etag: str | None) -> None:
    skeleton = SkeletonCache().compile(page(1), etag)
    assert skeleton.digest == PageSkeleton.compile(page(1)).digest
    assert SkeletonCache.content_key(page(1)) == "blake2b:" + page_digest(page(1)).hex()


def test_a_body_with_an_etag_is_keyed_by_the_etag() -> None:
    cache = SkeletonCache()
    skeleton = cache.compile(page(1), '"v1"')
    assert cache.get('etag:"v1"') is skeleton
    assert cache.get(SkeletonCache.content_key(page(1))) is None
    assert cache.compile(page(1), '"v1"') is skeleton


def test_a_reused_etag_never_serves_another_pages_skeleton() -> None:
    cache = SkeletonCache()
    cache.compile(page(1), '"same"')
    other = cache.compile(page(2), '"same"')
    assert other.slot_names == frozenset({"s2"})
    assert cache.compile(page(2), '"same"') is other


def test_least_recently_used_entry_is_evicted_first() -> None:
    cache = SkeletonCache(max_entries=2)
    cache.compile(page(1), "a")
    cache.compile(page(2), "b")
    assert cache.get("etag:a") is not None  # a is now more recent than b
    cache.compile(page(3), "c")
    assert len(cache) == 2
    assert "etag:b" not in cache
    assert "etag:a" in cache and "etag:c" in cache


def test_get_of_an_unknown_key_is_none() -> None:
    assert SkeletonCache().get("etag:nope") is None


@pytest.mark.parametrize("size", [0, -1])
def test_cache_size_below_one_is_a_config_error(size: int) -> None:
    with pytest.raises(ConfigError):
        SkeletonCache(size)


@pytest.mark.parametrize("etag", [None, '"e"'])
def test_warnings_of_a_new_skeleton_are_logged_once(
    etag: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    cache = SkeletonCache()
    broken = b"<p>\n<div data-slot=hero>\n<img data-slot=pic>"
    with caplog.at_level(logging.WARNING, logger="etalage"):
        for _ in range(3):
            cache.compile(broken, etag)
    messages = [record.getMessage() for record in caplog.records if record.name == "etalage"]
    assert messages == [
        "page skeleton: unclosed slot 'hero' at line 2",
        "page skeleton: void element <img> cannot be slot 'pic' at line 3",
    ]


def test_a_page_rendered_anew_per_request_logs_its_warnings_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = SkeletonCache()
    with caplog.at_level(logging.WARNING, logger="etalage"):
        for token in range(5):  # a CSRF token makes every body new: every one compiles
            cache.compile(b'<meta name="csrf" content="%d"><div data-slot=hero>' % token, None)
    messages = [record.getMessage() for record in caplog.records if record.name == "etalage"]
    assert messages == ["page skeleton: unclosed slot 'hero' at line 1"]


# -- selector slots: compiled once per page version and set of selectors ---------------------

SELECTOR_PAGE = b"<main>\n<div class=hero>default</div>\n<div class=hero>second</div></main>"


@pytest.mark.parametrize("etag", [None, '"v1"'])
def test_a_page_with_selectors_is_compiled_once_per_version(
    etag: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etalage.middleware import skeleton as skeleton_module

    calls: list[bytes] = []
    real = skeleton_module.find_selector_elements
    monkeypatch.setattr(
        skeleton_module,
        "find_selector_elements",
        lambda body, selectors: calls.append(body) or real(body, selectors),
    )
    cache, selectors = SkeletonCache(), {"hero": ".hero"}
    first = cache.compile(SELECTOR_PAGE, etag, selectors)
    for _ in range(3):
        assert cache.compile(SELECTOR_PAGE, etag, selectors) is first
    assert cache.compile(SELECTOR_PAGE, etag, dict(selectors)) is first  # an equal mapping
    assert first.slot_names == frozenset({"hero"}) and len(calls) == 1


@pytest.mark.parametrize("etag", [None, '"v1"'])
def test_other_selectors_compile_the_page_again(etag: str | None) -> None:
    cache = SkeletonCache()
    plain = cache.compile(SELECTOR_PAGE, etag)
    assert plain.slot_names == frozenset()
    hero = cache.compile(SELECTOR_PAGE, etag, {"hero": ".hero"})
    assert hero.slot_names == frozenset({"hero"})
    assert cache.compile(SELECTOR_PAGE, etag, {"main": "main"}).slot_names == frozenset({"main"})
    assert cache.compile(SELECTOR_PAGE, etag, {}).slot_names == frozenset()
    assert len(cache) == 1


def test_a_selector_matching_several_elements_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = SkeletonCache()
    with caplog.at_level(logging.WARNING, logger="etalage"):
        for token in range(3):  # even when every body is new
            cache.compile(SELECTOR_PAGE + b"<!-- %d -->" % token, None, {"hero": ".hero"})
    messages = [record.getMessage() for record in caplog.records if record.name == "etalage"]
    assert messages == [
        "page skeleton: selector '.hero' of slot 'hero' matches 2 elements; the first (line 2) is the slot"
    ]


# -- a page rendered anew per request: recompiled from its last version ----------------------


def rendered(token: int, items: int = 1) -> bytes:
    """A page as a site renders it per request: a CSRF token, the items in the cart."""
    return (
        b'<head><meta name="csrf" content="%032x"></head>\n<p class=cart>%d items</p>\n'
        b"<div data-slot=hero>default</div>" % (token, items)
    )


def test_a_page_rendered_anew_per_request_is_recompiled_from_its_last_version() -> None:
    cache = SkeletonCache()
    first = cache.compile(rendered(0), None, page_key="/")
    for token in range(1, 6):
        skeleton = cache.compile(rendered(token, token * 3), None, page_key="/")
        assert skeleton.source == rendered(token, token * 3)
        assert skeleton.chunks == PageSkeleton.compile(rendered(token, token * 3)).chunks
        assert skeleton.slots is first.slots
    assert (cache.recompiled, cache.fallbacks) == (5, {})
    assert len(cache) == 1  # recompiled versions are not hashed into the LRU


def test_the_last_version_of_a_page_is_a_hit_without_hashing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from etalage.middleware import skeleton_cache

    cache = SkeletonCache()
    first = cache.compile(rendered(1), None, page_key="/")
    hashed: list[bytes] = []
    monkeypatch.setattr(skeleton_cache, "page_digest", lambda body: hashed.append(body) or b"")
    assert cache.compile(rendered(1), None, page_key="/") is first
    assert hashed == []


def test_a_change_a_recompile_cannot_follow_is_compiled_and_counted() -> None:
    cache = SkeletonCache()
    cache.compile(rendered(1), None, page_key="/")
    changed = rendered(1).replace(b">default<", b">other<")  # inside the slot
    skeleton = cache.compile(changed, None, page_key="/")
    assert skeleton.slots[0].inner == b"other"
    assert (cache.recompiled, cache.fallbacks) == (0, {Fallback.IN_SLOT: 1})
    assert cache.compile(changed, None, page_key="/") is skeleton  # now its last version


def test_each_page_key_has_its_own_last_version_and_their_number_is_bounded() -> None:
    cache = SkeletonCache(max_entries=2)
    for key in ("/a", "/b", "/c"):  # "/a" is the least recently used one: forgotten
        cache.compile(rendered(0) + key.encode(), None, page_key=key)
    for key in ("/b", "/c", "/a"):
        cache.compile(rendered(1) + key.encode(), None, page_key=key)
    assert (cache.recompiled, cache.fallbacks) == (2, {})  # "/a" was compiled in full


@pytest.mark.parametrize("etag", ['"v1"', '"v2"'])
def test_a_new_body_with_an_etag_is_recompiled_and_kept_under_it(etag: str) -> None:
    cache = SkeletonCache()
    cache.compile(rendered(1), '"v0"', page_key="/")
    skeleton = cache.compile(rendered(2), etag, page_key="/")
    assert cache.recompiled == 1
    assert cache.get(SkeletonCache.etag_key(etag)) is skeleton


def test_a_page_under_other_selectors_is_compiled_again() -> None:
    cache = SkeletonCache()
    cache.compile(rendered(1), None, {"hero": ".hero"}, page_key="/")
    skeleton = cache.compile(rendered(2), None, {"cart": ".cart"}, page_key="/")
    assert skeleton.slot_names == frozenset({"hero", "cart"})
    assert (cache.recompiled, cache.fallbacks) == (0, {})


def test_a_page_read_by_its_selectors_is_compiled_again_and_counted() -> None:
    cache, selectors = SkeletonCache(), {"cart": ".cart"}
    cache.compile(rendered(1), None, selectors, page_key="/")
    skeleton = cache.compile(rendered(2), None, selectors, page_key="/")
    assert skeleton.slot_names == frozenset({"hero", "cart"})
    assert cache.fallbacks == {Fallback.SELECTORS: 1}


def test_a_page_has_the_same_digest_whenever_it_comes_back() -> None:
    cache = SkeletonCache()
    first = cache.compile(rendered(1), None, page_key="/").digest
    second = cache.compile(rendered(2), None, page_key="/").digest
    again = cache.compile(rendered(1), None, page_key="/").digest  # recompiled from the second
    assert cache.recompiled == 2
    assert first == again == PageSkeleton.compile(rendered(1)).digest
    assert second not in (first, PageSkeleton.compile(rendered(1)).digest)


def test_a_recompiled_page_does_not_log_its_warnings_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = SkeletonCache()
    with caplog.at_level(logging.WARNING, logger="etalage"):
        for token in range(3):
            cache.compile(rendered(token) + b"\n<img data-slot=pic>", None, page_key="/")
    messages = [record.getMessage() for record in caplog.records if record.name == "etalage"]
    assert messages == ["page skeleton: void element <img> cannot be slot 'pic' at line 4"]
    assert cache.recompiled == 2
