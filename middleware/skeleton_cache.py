"""A bounded LRU of compiled page skeletons, so each version of a page is parsed once, and the
last version of each page, so a page rendered anew per request is recompiled where it changed."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping

from etalage.errors import ConfigError
from etalage.lru import LRU
from etalage.middleware.recompile import Fallback, recompile
from etalage.middleware.skeleton import PageSkeleton, page_digest

logger = logging.getLogger("etalage")
MAX_REMEMBERED_WARNINGS = 1024


class SkeletonCache:
    """Compiled skeletons keyed by the upstream ETag (``etag:<value>``) or a content hash.

    A hit is only served when its source is byte-identical to the body, so two pages that
    share an ETag (e.g. same size and mtime) never get each other's skeleton, and only when it
    was compiled with the same slot selectors (a reloaded rule file may change them). Each
    warning of a newly compiled skeleton is logged, each distinct one once. Meant for one event
    loop: no awaits, no locks.

    Given a `page_key` (the request path), the last skeleton of that page is kept too (as many
    pages as `max_entries`): the same body again is a hit without hashing, and a body that
    changed where `recompile` can follow (a CSRF token, "3 items in cart") is
    recompiled from it. `recompiled` counts those, `fallbacks` the full compiles it left
    behind, by reason.
    """

    def __init__(self, max_entries: int = 256) -> None:
        if max_entries < 1:
            raise ConfigError(f"skeleton cache size must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self.recompiled = 0
        self.fallbacks: Counter[Fallback] = Counter()
        self._entries: LRU[str, PageSkeleton] = LRU(max_entries)
        self._last: LRU[str, PageSkeleton] = LRU(max_entries)  # page key -> its last one
        self._warned: set[str] = set()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    @staticmethod
    def content_key(body: bytes) -> str:
        """The cache key of a body without an ETag: its BLAKE2b digest."""
        return _digest_key(page_digest(body))

    @staticmethod
    def etag_key(etag: str) -> str:
        """The cache key of a body served with upstream ETag `etag`."""
        return "etag:" + etag

    def get(self, key: str) -> PageSkeleton | None:
        """The skeleton stored under `key` (now the most recently used), or None."""
        return self._entries.get(key)

    def compile(
        self,
        body: bytes,
        etag: str | None,
        selectors: Mapping[str, str] | None = None,
        *,
        page_key: str | None = None,
    ) -> PageSkeleton:
        """The skeleton of `body`, from the cache, recompiled or compiled (and stored).

        `selectors` are the rule file's ``site.slot_selectors`` (slot name -> CSS selector);
        a skeleton compiled with other selectors is compiled again. `page_key` names the page
        (its path) whose last version a changed body is recompiled from.
        """
        selectors = selectors or None
        if etag:
            key = self.etag_key(etag)
            skeleton = self.get(key)
            if skeleton is None or skeleton.source == body:
                if skeleton is None or not _same(skeleton.selectors, selectors):
                    skeleton = self._from_last(body, selectors, page_key)
                    skeleton = self._store(key, skeleton or self._compile(body, selectors))
                return self._remember(page_key, skeleton)
        skeleton = self._from_last(body, selectors, page_key)
        if skeleton is not None:
            return self._remember(page_key, skeleton)
        key = _digest_key(page_digest(body))
        skeleton = self.get(key)
        if skeleton is None or skeleton.source != body or not _same(skeleton.selectors, selectors):
            skeleton = self._store(key, self._compile(body, selectors))
        return self._remember(page_key, skeleton)

    def _from_last(
        self, body: bytes, selectors: Mapping[str, str] | None, page_key: str | None
    ) -> PageSkeleton | None:
        """The last skeleton of `page_key` if its source is `body`, else one recompiled from it
        if it can be; None without one (or with other selectors)."""
        if page_key is None:
            return None
        last = self._last.get(page_key)
        if last is None or not _same(last.selectors, selectors):
            return None
        if last.source == body:
            return last
        skeleton = recompile(last, body)
        if isinstance(skeleton, Fallback):
            self.fallbacks[skeleton] += 1
            return None
        self.recompiled += 1
        return skeleton

    def _remember(self, page_key: str | None, skeleton: PageSkeleton) -> PageSkeleton:
        if page_key is not None:
            self._last.put(page_key, skeleton)
        return skeleton

    def _store(self, key: str, skeleton: PageSkeleton) -> PageSkeleton:
        self._entries.put(key, skeleton)
        return skeleton

    def _compile(self, body: bytes, selectors: Mapping[str, str] | None) -> PageSkeleton:
        skeleton = PageSkeleton.compile(body, None, selectors)
        for warning in skeleton.warnings:
            # A page rendered anew per request (a CSRF token) may compile every time: its
            # warnings are said once, not on every request.
            if warning not in self._warned:
                if len(self._warned) >= MAX_REMEMBERED_WARNINGS:
                    self._warned.clear()
                self._warned.add(warning)
                logger.warning("page skeleton: %s", warning)
        return skeleton


def _same(kept: Mapping[str, str] | None, selectors: Mapping[str, str] | None) -> bool:
    """Whether a skeleton compiled with `kept` selectors serves `selectors` (one rule set's
    mapping is the same object on every request: no comparing then)."""
    return kept is selectors or kept == selectors


def _digest_key(digest: bytes) -> str:
    return "blake2b:" + digest.hex()
