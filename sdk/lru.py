"""`LRU`: the one bounded memory etalage keeps where a cache is needed.

It forgets the least recently used entry first. Compiled page skeletons, the last version of
each page and the profiles a store read recently are kept in one; memories of pure functions
use `functools.lru_cache`.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most `max_entries` entries (none when it is 0 or less); reading an entry with `get`
    or writing it with `put` makes it the most recently used, and a `put` beyond the bound
    forgets the least recently used ones. None is not a value it keeps (`get` says "not kept"
    with it). Meant for one thread or event loop: no locks."""

    __slots__ = ("max_entries", "_entries")

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        """Whether `key` is kept (without making it the most recently used)."""
        return key in self._entries

    def get(self, key: K) -> V | None:
        """The value kept under `key`, now the most recently used, or None."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Keep `value` under `key` as the most recently used entry."""
        if self.max_entries < 1:
            return
        entries = self._entries
        entries[key] = value
        entries.move_to_end(key)
        while len(entries) > self.max_entries:
            entries.popitem(last=False)

    def discard(self, key: K) -> None:
        """Forget `key`, if it is kept."""
        self._entries.pop(key, None)

    def keys(self) -> list[K]:
        """The keys kept, least recently used first."""
        return list(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
