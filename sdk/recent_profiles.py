"""`RecentProfiles`: a bounded memory of profiles recently written or read, to skip re-reading.

A visitor's next request reads back what their previous answer saved to the profile store.
Parsing that JSON again costs more than most of the request, so the store remembers, per
visitor id, the profile and the JSON it was read from; a hit hands out a copy, so a request's
changes never reach the remembered profile. (The cookie codec keeps no such memory: behind a
load balancer the next request mostly reaches another worker, where it could not hit.)
"""

from __future__ import annotations

from typing import Generic, TypeVar

from etalage.lru import LRU
from etalage.profile import Profile

Meta = TypeVar("Meta")

DEFAULT_RECENT_PROFILES = 1024


class RecentProfiles(Generic[Meta]):
    """An LRU of at most `max_entries` ``key -> (profile, meta)`` (0 turns it off)."""

    def __init__(self, max_entries: int) -> None:
        self._entries: LRU[str, tuple[Profile, Meta]] = LRU(max_entries)

    @property
    def max_entries(self) -> int:
        """How many profiles it remembers at most."""
        return self._entries.max_entries

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[str]:
        """The remembered keys, least recently used first."""
        return self._entries.keys()

    def get(self, key: str) -> tuple[Profile, Meta] | None:
        """A copy of the profile remembered under `key`, with its meta, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        return entry[0].copy(), entry[1]

    def put(self, key: str, profile: Profile, meta: Meta) -> None:
        """Remember `profile` under `key`; it is ours from now on (pass a copy of a profile the
        caller goes on changing)."""
        self._entries.put(key, (profile, meta))

    def discard(self, key: str) -> None:
        """Forget `key`."""
        self._entries.discard(key)
