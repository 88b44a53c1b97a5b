"""`RedisProfileStore`: profiles kept server-side, the cookie holding only a signed visitor id.

History is then no longer bound by the cookie's size, and it follows a visitor across devices
once the site's own login vouches for them (`RequestState.identify` with the account id, never a
value the visitor merely typed): profiles merge on identify.
Redis down or slow (past `timeout`; the URL's ``socket_timeout`` query parameter overrides it)
raises `StoreUnavailable`; the middleware then serves the
request with defaults and logs once per outage, never a 5xx.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from etalage.errors import EtalageError
from etalage.profile import Profile
from etalage.recency import HistoryPolicy
from etalage.recent_profiles import DEFAULT_RECENT_PROFILES, RecentProfiles
from etalage.signed import Clock, SignedCodec, utc_now

logger = logging.getLogger("etalage")

MAX_PENDING_DELETES = 100_000  # ids of profiles to delete once the store answers again


class StoreUnavailable(EtalageError):
    """The profile store did not answer in time."""


class VisitorIdCodec:
    """Signs the visitor id the cookie holds when profiles live in a store (keys newest first)."""

    _ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

    def __init__(
        self,
        secret_keys: Sequence[str],
        *,
        max_age: timedelta,
        salt: str = "etalage.id",
        clock: Clock = utc_now,
    ) -> None:
        self._signed = SignedCodec(
            secret_keys, salt=salt, max_age=max_age, clock=clock, max_length=300
        )

    def encode(self, visitor_id: str) -> str:
        """The signed cookie value for `visitor_id`."""
        return self._signed.dumps(visitor_id)

    def decode(self, value: str | None) -> tuple[str | None, bool]:
        """``(visitor id, re-issue?)``; ``(None, False)`` for anything not signed by us."""
        verified = self._signed.loads(value)
        if verified is None or not isinstance(verified.value, str):
            return None, False
        if not self._ID.match(verified.value):
            return None, False
        return verified.value, verified.reissue


class ProfileStore(Protocol):
    """Where profiles live server-side (the cookie then holds a signed visitor id).

    Every method raises `StoreUnavailable` when the store does not answer in time.
    """

    async def load(self, visitor_id: str) -> Profile | None:
        """The stored profile of `visitor_id`, or None when unknown or unreadable."""

    async def save(self, profile: Profile) -> None:
        """Store `profile` under its id."""

    async def delete(self, visitor_id: str) -> None:
        """Remove a stored profile ("no" and "forget me")."""

    async def identify(
        self, profile: Profile, identity: str, policy: HistoryPolicy, now: datetime
    ) -> Profile:
        """Attach a verified `identity` to `profile`, merging with the one known for it."""

    async def close(self) -> None:
        """Release connections."""


class RedisProfileStore:
    """Profiles as JSON under ``<prefix>profile:<id>`` with a TTL; identities map to ids.

    The JSON is the compact form (`Profile.to_json`), read and checked in one pass
    (`Profile.from_json`); a value that is not one is no profile.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl: timedelta = timedelta(days=180),
        timeout: float = 0.25,
        prefix: str = "etalage:",
        recent: int = DEFAULT_RECENT_PROFILES,
        retry_after: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        import redis.asyncio as aioredis

        self.url = url
        self.ttl = int(ttl.total_seconds())
        self.prefix = prefix
        self._redis = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False
        )
        self._down = False
        # After a failure the store is left alone for `retry_after` seconds: a slow Redis
        # would otherwise cost every request the full timeout.
        self.retry_after = retry_after
        self._monotonic = monotonic
        self._failed_at = -math.inf
        self._pending_deletes: set[str] = set()
        # visitor id -> (profile, the JSON it was saved as or read from)
        self._recent: RecentProfiles[bytes] = RecentProfiles(recent)

    def _key(self, visitor_id: str) -> str:
        return f"{self.prefix}profile:{visitor_id}"

    def _identity_key(self, identity: str) -> str:
        digest = hashlib.sha256(identity.strip().lower().encode("utf-8")).hexdigest()
        return f"{self.prefix}identity:{digest}"

    async def load(self, visitor_id: str) -> Profile | None:
        """The stored profile of `visitor_id` (None when unknown, unreadable, or waiting to be
        deleted)."""
        if visitor_id in self._pending_deletes:
            return None
        raw = await self._call("GET", self._key(visitor_id))
        if raw is None:
            self._recent.discard(visitor_id)
            return None
        raw = raw.encode() if isinstance(raw, str) else bytes(raw)  # a URL may ask for text
        known = self._recent.get(visitor_id)
        if known is not None and known[1] == raw:  # the very JSON last seen: skip parsing it
            return known[0]
        try:
            profile = Profile.from_json(raw)
        except ValueError:  # not JSON, or not our profile
            logger.warning("stored profile %s unreadable, starting afresh", visitor_id)
            return None
        self._recent.put(visitor_id, profile.copy(), raw)
        return profile

    async def save(self, profile: Profile) -> None:
        """Store the profile, refreshing its TTL (one holding text UTF-8 cannot carry, a lone
        surrogate, is not stored: what was stored before stays)."""
        try:
            data = profile.to_json()
        except UnicodeEncodeError:
            logger.warning("profile %s holds text UTF-8 cannot carry; not saved", profile.id)
            return
        saved = profile.copy()  # the profile as serialized: app code may change it meanwhile
        await self._call("SET", self._key(profile.id), data, "EX", self.ttl)
        self._recent.put(saved.id, saved, data)

    async def delete(self, visitor_id: str) -> None:
        """Remove a stored profile (forget-me, or consent withdrawn).

        When the store does not answer, the deletion is kept and carried out as soon as it
        answers again ("no" means no, outage or not); `StoreUnavailable` still tells the
        caller it has not happened yet.
        """
        self._recent.discard(visitor_id)
        try:
            await self._call("DEL", self._key(visitor_id))
        except StoreUnavailable:
            if len(self._pending_deletes) < MAX_PENDING_DELETES:
                self._pending_deletes.add(visitor_id)
            else:
                logger.error(
                    "profile store: too many deletions waiting; profile %s is left to expire "
                    "with its TTL",
                    visitor_id,
                )
            raise

    async def identify(
        self, profile: Profile, identity: str, policy: HistoryPolicy, now: datetime
    ) -> Profile:
        """Attach `identity` to a profile; merge with the profile already known for it."""
        key = self._identity_key(identity)
        known_id = await self._call("GET", key)
        if known_id is not None:
            known_id = known_id.decode() if isinstance(known_id, bytes) else str(known_id)
        if known_id and known_id != profile.id:
            known = await self.load(known_id)
            if known is not None:
                merged = merge_profiles(known, profile, policy, now)
                await self.save(merged)
                await self.delete(profile.id)
                await self._call("SET", key, merged.id, "EX", self.ttl)
                return merged
        await self._call("SET", key, profile.id, "EX", self.ttl)
        return profile

    async def _call(self, *args: Any) -> Any:
        import redis

        if self._down and self._monotonic() - self._failed_at < self.retry_after:
            raise StoreUnavailable("the store failed moments ago; retrying shortly")
        try:
            if self._pending_deletes:  # before anything else can read those profiles again
                await self._delete_pending()
            result = await self._redis.execute_command(*args)  # type: ignore[no-untyped-call]
        except (redis.RedisError, OSError, TimeoutError) as exc:
            self._failed_at = self._monotonic()
            if not self._down:
                self._down = True
                logger.error("profile store %s unavailable, serving defaults: %s", self.url, exc)
                # Pooled connections to a restarted server are all stale: drop them at once
                # rather than meeting them one by one as a string of new "outages".
                with contextlib.suppress(Exception):
                    await self._redis.connection_pool.disconnect()
            raise StoreUnavailable(str(exc)) from None
        if self._down:
            self._down = False
            logger.warning("profile store %s is back", self.url)
        return result

    async def _delete_pending(self) -> None:
        """Carry out the deletions asked for while the store was down (errors propagate; the
        ids stay pending until Redis confirms)."""
        pending = sorted(self._pending_deletes)
        await self._redis.execute_command(  # type: ignore[no-untyped-call]
            "DEL", *(self._key(visitor_id) for visitor_id in pending)
        )
        self._pending_deletes.difference_update(pending)
        logger.warning("profile store: %d deletion(s) asked during the outage done", len(pending))

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()


def merge_profiles(into: Profile, other: Profile, policy: HistoryPolicy, now: datetime) -> Profile:
    """Merge `other` into `into` (the identified profile keeps its id); bounds are re-applied."""
    from etalage.recency import decayed_interest

    into.visits += other.visits
    into.first_seen = _min(into.first_seen, other.first_seen)
    into.last_seen = _max(into.last_seen, other.last_seen)
    into.searches = _newest(
        into.searches + other.searches, policy.search_keep, key=lambda e: e.term
    )
    into.views = _newest(into.views + other.views, policy.view_keep, key=lambda e: e.path)
    into.events = _newest(into.events + other.events, policy.event_keep, key=None)
    half_life = policy.interest_half_life
    moment = int(now.timestamp())
    scores: dict[str, float] = {}
    for source in (into.interest, other.interest):
        for topic, (score, at) in source.items():
            scores[topic] = scores.get(topic, 0.0) + decayed_interest(score, at, now, half_life)
    top = sorted(scores.items(), key=lambda item: -item[1])[: policy.interest_keep]
    into.interest = {topic: (round(score, 4), moment) for topic, score in top}
    into.purchases += other.purchases
    into.purchase_total += other.purchase_total
    into.last_purchase = _max(into.last_purchase, other.last_purchase)
    if other.cart.items and (into.cart.updated_at or 0) < (other.cart.updated_at or 0):
        into.cart = other.cart
    into.prefs = {**other.prefs, **into.prefs}
    for rule, count in other.exposures.items():
        into.exposures[rule] = into.exposures.get(rule, 0) + count
    for rule, at in other.dismissed.items():
        into.dismissed[rule] = max(at, into.dismissed.get(rule, 0))
    return into


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _newest(entries: list[Any], keep: int, key: Any) -> list[Any]:
    ordered = sorted(entries, key=lambda e: -e.at)
    if key is None:
        return ordered[:keep]
    seen: set[Any] = set()
    unique = []
    for entry in ordered:
        if key(entry) not in seen:
            seen.add(key(entry))
            unique.append(entry)
    return unique[:keep]
