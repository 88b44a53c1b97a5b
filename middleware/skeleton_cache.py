"""A bounded LRU of compiled page skeletons, so each version of a page is parsed once."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping

from etalage.errors import ConfigError
from etalage.middleware.skeleton import PageSkeleton, page_digest

logger = logging.getLogger("etalage")
MAX_REMEMBERED_WARNINGS = 1024


class SkeletonCache:
    """Compiled skeletons keyed by the upstream ETag (``etag:<value>``) or a content hash.

    A hit is only served when its source is byte-identical to the body, so two pages that
    share an ETag (e.g. same size and mtime) never get each other's skeleton, and only when it
    was compiled with the same slot selectors (a reloaded rule file may change them). A page keyed by
    its content is hashed once: the skeleton keeps that hash as its digest. Each warning of a
    newly compiled skeleton is logged, each distinct one once. Meant for one event loop: no awaits, no locks.
    """

    def __init__(self, max_entries: int = 256) -> None:
        if max_entries < 1:
            raise ConfigError(f"skeleton cache size must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, PageSkeleton] = OrderedDict()
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
        skeleton = self._entries.get(key)
        if skeleton is not None:
            self._entries.move_to_end(key)
        return skeleton

    def compile(
        self, body: bytes, etag: str | None, selectors: Mapping[str, str] | None = None
    ) -> PageSkeleton:
        """The skeleton of `body`, from the cache or compiled (and stored) on a miss.

        `selectors` are the rule file's ``site.slot_selectors`` (slot name -> CSS selector);
        a skeleton compiled with other selectors is compiled again.
        """
        selectors = selectors or None
        if etag:
            key = self.etag_key(etag)
            skeleton = self.get(key)
            if skeleton is None or skeleton.source == body:
                if skeleton is not None and _same(skeleton.selectors, selectors):
                    return skeleton
                return self._store(key, self._compile(body, None, selectors))
        digest = page_digest(body)
        key = _digest_key(digest)
        skeleton = self.get(key)
        if skeleton is None or skeleton.source != body or not _same(skeleton.selectors, selectors):
            skeleton = self._store(key, self._compile(body, digest, selectors))
        return skeleton

    def _store(self, key: str, skeleton: PageSkeleton) -> PageSkeleton:
        self._entries[key] = skeleton
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return skeleton

    def _compile(
        self, body: bytes, digest: bytes | None, selectors: Mapping[str, str] | None
    ) -> PageSkeleton:
        skeleton = PageSkeleton.compile(body, digest, selectors)
        for warning in skeleton.warnings:
            # A page rendered anew per request (a CSRF token) compiles every time: its
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
