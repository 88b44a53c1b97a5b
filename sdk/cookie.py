"""Signed cookies: the compact profile under a byte budget, and the consent choice.

Keys are given newest first: the first signs, all verify, so a key is rotated by prepending the
new one. A cookie signed with an older key still decodes and is flagged for re-issue.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import (
    BadData,
    BadSignature,
    Signer,
    TimestampSigner,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)

from etalage.profile import Profile
from etalage.recency import MIN_INTEREST, HistoryPolicy, decayed_interest, is_relevant
from etalage.recent_profiles import DEFAULT_RECENT_PROFILES, RecentProfiles

logger = logging.getLogger("etalage")

DEFAULT_MAX_BYTES = 3800  # a browser keeps 4096 bytes per cookie, name and attributes included
# What reading a cookie value not signed by us (or not in our format) raises: `BadData` covers
# bad signatures, expiry and bad payloads (base64, zlib, JSON); a value that is not text
# (a lone surrogate) fails to encode before any of that; RecursionError in case a deeply nested
# payload escapes itsdangerous.
_UNREADABLE = (BadData, UnicodeEncodeError, RecursionError)


@dataclass(frozen=True)
class DecodedProfile:
    """The outcome of reading a profile cookie.

    `profile` is None when the cookie is absent, tampered with, expired or unreadable;
    `reissue` is True when the cookie must be written again (signed with an old key).
    """

    profile: Profile | None
    reissue: bool = False


def _dumps(data: object) -> str:
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (JSON input may carry "\ud800"): escape it
        text = json.dumps(data, separators=(",", ":"))
    return text


class _CompactJSON:
    """itsdangerous serializer protocol with compact separators."""

    @staticmethod
    def dumps(data: object) -> str:
        return _dumps(data)

    @staticmethod
    def loads(text: str | bytes) -> object:
        return json.loads(text)


class _KeyCaching:
    """Remembers derived keys: itsdangerous derives one (a SHA-1) for every sign and verify."""

    _derived: dict[bytes | None, bytes]

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        cache_key = secret_key.encode() if isinstance(secret_key, str) else secret_key
        derived = self._derived.get(cache_key)
        if derived is None:
            derived = super().derive_key(secret_key)  # type: ignore[misc]
            self._derived[cache_key] = derived
        return derived


class _CachingSigner(_KeyCaching, Signer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived = {}


class _CachingTimestampSigner(_KeyCaching, TimestampSigner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived = {}


class _OneSigner:
    """Serializer mixin: build the signer once instead of once per call."""

    _signers: dict[Any, Any]

    def make_signer(self, salt: str | bytes | None = None) -> Any:
        signers = self.__dict__.setdefault("_signers", {})
        signer = signers.get(salt)
        if signer is None:
            signer = signers[salt] = super().make_signer(salt)  # type: ignore[misc]
        return signer


class _TimedSerializer(_OneSigner, URLSafeTimedSerializer):
    default_signer = _CachingTimestampSigner


class _Serializer(_OneSigner, URLSafeSerializer):
    default_signer = _CachingSigner


def _check_keys(secret_keys: Sequence[str]) -> list[str]:
    keys = [key for key in secret_keys if key]
    if not keys:
        raise ValueError("give at least one non-empty secret key")
    return keys


class ProfileCodec:
    """Signs and reads the profile cookie (`itsdangerous`, timestamped, zlib when it helps).

    The last `recent` cookie values it wrote or verified are remembered with their profile: a
    visitor's next request carries the value written on the previous one, and reading it again
    (HMAC, base64, zlib, JSON, shape checks) would cost more than the rest of the request. The
    key is the whole signed value, so only values this codec signed or verified can hit, and
    the signing time is kept so an expired value is still refused.
    """

    def __init__(
        self,
        secret_keys: Sequence[str],
        *,
        salt: str = "etalage.profile",
        max_age: timedelta = timedelta(days=180),
        max_bytes: int = DEFAULT_MAX_BYTES,
        recent: int = DEFAULT_RECENT_PROFILES,
    ) -> None:
        keys = _check_keys(secret_keys)
        # itsdangerous signs with the *last* key of its list; ours is newest first.
        self._all = _TimedSerializer(list(reversed(keys)), salt=salt, serializer=_CompactJSON)
        self._current = _TimedSerializer(keys[0], salt=salt, serializer=_CompactJSON)
        self.max_age = max_age
        self.max_bytes = max_bytes
        # signed value -> (profile, (signing time, signed with an old key?))
        self._recent: RecentProfiles[tuple[int, bool]] = RecentProfiles(recent)

    def encode(self, profile: Profile, policy: HistoryPolicy, now: datetime) -> str:
        """The signed cookie value, at most `max_bytes` long: the least relevant entries go first."""
        signed_at = int(time.time())  # itsdangerous stamps this second or a later one
        value = self._current.dumps(profile.to_compact())
        if len(value) <= self.max_bytes:
            self._recent.put(value, profile.copy(), (signed_at, False))
            return value
        trimmed = profile.copy()  # evictions change its lists, never the caller's
        for evict in _evictions(trimmed, policy, now):
            while evict():
                value = self._current.dumps(trimmed.to_compact())
                if len(value) <= self.max_bytes:
                    return value
        logger.warning("etalage: profile still over the cookie budget after eviction; reset")
        bare = Profile(
            id=profile.id,
            visits=profile.visits,
            first_seen=profile.first_seen,
            last_seen=profile.last_seen,
            visit_started=profile.visit_started,
            prev_visit_seen=profile.prev_visit_seen,
            purchases=profile.purchases,
            purchase_total=profile.purchase_total,
            last_purchase=profile.last_purchase,
        )
        return self._current.dumps(bare.to_compact())

    def decode(self, value: str | None) -> DecodedProfile:
        """Read a cookie value; never raises (bad cookies yield ``DecodedProfile(None)``)."""
        if not value or len(value) > 2 * self.max_bytes:
            return DecodedProfile(None)
        max_age = int(self.max_age.total_seconds())
        known = self._recent.get(value)
        if known is not None:
            profile, (signed_at, reissue) = known
            if signed_at >= int(time.time()) - max_age:
                return DecodedProfile(profile, reissue)
            self._recent.discard(value)
            return DecodedProfile(None)
        try:
            data, signed_at = self._current.loads(value, max_age=max_age, return_timestamp=True)
            reissue = False
        except BadSignature:
            try:
                data, signed_at = self._all.loads(value, max_age=max_age, return_timestamp=True)
            except _UNREADABLE:
                return DecodedProfile(None)
            reissue = True
        except _UNREADABLE:  # e.g. bad base64 or zlib data under a valid signature
            return DecodedProfile(None)
        try:
            profile = Profile.from_compact(data)
        except ValueError:
            logger.info("etalage: profile cookie with an unknown shape ignored")
            return DecodedProfile(None)
        self._recent.put(value, profile.copy(), (int(signed_at.timestamp()), reissue))
        return DecodedProfile(profile, reissue)


def _evictions(profile: Profile, policy: HistoryPolicy, now: datetime) -> list[Callable[[], bool]]:
    """Eviction steps, least relevant first; each removes one item and says if it did."""

    def drop_stale() -> bool:
        before = (
            len(profile.searches),
            len(profile.views),
            len(profile.events),
            len(profile.interest),
        )
        profile.searches = [
            s
            for s in profile.searches
            if is_relevant(s.at, s.valid_until, policy.search_relevant_for, now)
        ]
        profile.views = [
            v
            for v in profile.views
            if is_relevant(v.at, v.valid_until, policy.view_relevant_for, now)
        ]
        profile.events = [
            e
            for e in profile.events
            if is_relevant(e.at, _horizon(e.data), policy.event_relevant_for, now)
        ]
        profile.interest = {
            topic: (score, at)
            for topic, (score, at) in profile.interest.items()
            if decayed_interest(score, at, now, policy.interest_half_life) >= MIN_INTEREST
        }
        after = (
            len(profile.searches),
            len(profile.views),
            len(profile.events),
            len(profile.interest),
        )
        return before != after

    def pop_oldest(kind: str, keep: int = 0) -> Callable[[], bool]:
        def step() -> bool:
            entries: list[object] = getattr(profile, kind)
            if len(entries) <= keep:
                return False
            entries.pop()
            return True

        return step

    def drop_weakest_interest() -> bool:
        if not profile.interest:
            return False
        weakest = min(
            profile.interest,
            key=lambda t: decayed_interest(*profile.interest[t], now, policy.interest_half_life),
        )
        del profile.interest[weakest]
        return True

    def drop_exposure() -> bool:
        if not profile.exposures:
            return False
        profile.exposures.pop(next(iter(profile.exposures)))
        return True

    def drop_oldest_dismissal() -> bool:
        if not profile.dismissed:
            return False
        del profile.dismissed[min(profile.dismissed, key=profile.dismissed.__getitem__)]
        return True

    def drop_largest_pref() -> bool:
        if not profile.prefs:
            return False
        del profile.prefs[max(profile.prefs, key=lambda k: len(_dumps(profile.prefs[k])))]
        return True

    return [
        drop_stale,
        pop_oldest("decisions"),
        pop_oldest("views"),
        pop_oldest("events"),
        drop_weakest_interest,
        pop_oldest("searches", keep=1),
        drop_exposure,
        pop_oldest("searches"),
        drop_oldest_dismissal,
        drop_largest_pref,
    ]


def _horizon(data: dict[str, Any]) -> int | None:
    """An event's own ``valid_until`` (epoch seconds), as `derive_attributes` reads it."""
    horizon = data.get("valid_until")
    return horizon if isinstance(horizon, int) and not isinstance(horizon, bool) else None


class ConsentCodec:
    """Signs and reads the consent cookie: ``True`` (yes), ``False`` (no) or ``None`` (unknown)."""

    def __init__(self, secret_keys: Sequence[str], *, salt: str = "etalage.consent") -> None:
        keys = _check_keys(secret_keys)
        self._current = _Serializer(keys[0], salt=salt)
        self._all = _Serializer(list(reversed(keys)), salt=salt)
        self._verdicts: dict[str, tuple[bool | None, bool]] = {}

    def encode(self, consent: bool) -> str:
        """The signed value for a yes or no."""
        return self._current.dumps(1 if consent else 0)

    def decode(self, value: str | None) -> bool | None:
        """The recorded choice, or None when absent, forged or unreadable."""
        return self.read(value)[0]

    def read(self, value: str | None) -> tuple[bool | None, bool]:
        """``(choice, reissue)``: `reissue` is True when an older key signed the cookie."""
        if not value or len(value) > 200:
            return None, False
        # A visitor sends the same consent value on every request and it carries no timestamp,
        # so its verdict can be remembered (the HMAC check costs more than the rest of reading).
        known = self._verdicts.get(value)
        if known is None:
            known = self._verify(value)
            if len(self._verdicts) >= 10_000:
                self._verdicts.clear()
            self._verdicts[value] = known
        return known

    def _verify(self, value: str) -> tuple[bool | None, bool]:
        reissue = False
        try:
            data = self._current.loads(value)
        except BadSignature:  # perhaps an older key; a forged cookie means "not asked"
            try:
                data = self._all.loads(value)
                reissue = True
            except _UNREADABLE:
                return None, False
        except _UNREADABLE:
            return None, False
        if data in (0, 1) and not isinstance(data, bool):
            return bool(data), reissue
        return None, False
