"""The profile cookie, sealed under a byte budget, and the consent cookie, signed.

The profile is sealed (`etalage.sealed`: AES-GCM, so whoever sees the Cookie header can neither
read nor change it); its payload is one format byte and the MessagePack of the compact profile
(`Profile.to_msgpack`), raw (`_RAW`) or, when only that makes it fit the budget, deflated
(`_DEFLATED`). A value in the format written before sealing (itsdangerous, salt
``etalage.profile``, timestamped JSON, zlib) is still read (`Profile.from_compact`), with any of
the keys, and flagged for re-issue, so it is written again sealed.

Keys are given newest first: the first seals or signs, all open or verify, so a key is rotated
by prepending the new one; a cookie written with an older key is flagged for re-issue.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from etalage.profile import COUNT_DAYS, Profile
from etalage.recency import (
    MIN_INTEREST,
    HistoryPolicy,
    decayed_interest,
    event_horizon,
    is_relevant,
)
from etalage.sealed import Sealer, sealed_length
from etalage.signed import Clock, SignedCodec, utc_now

logger = logging.getLogger("etalage")

DEFAULT_MAX_BYTES = 3800  # a browser keeps 4096 bytes per cookie, name and attributes included

# The payload encoding, chosen by measurement (a full-history profile: 20 views, 8 searches, an
# event, 3 pages of decisions, a name; µs on the 2-core dev machine, best of 5; payload bytes):
#
#                          encode  decode  bytes | + zlib level 1: encode  decode  bytes
#   json.dumps / loads       20.5    12.2   1875 |                   31.2    17.8    603
#   msgspec JSON              2.2     5.7   1875 |                   12.8    11.1    603
#   msgspec MessagePack       1.8     5.5   1362 |                   14.0    10.5    548
#
# MessagePack is the smallest and the fastest. Reading it straight into the profile's msgspec
# Structs checks every content rule in C as it decodes (`Profile.from_msgpack`, ~10 µs; a dict
# checked in Python, `from_compact`, cost ~48), and writing packs the entries as they are kept
# (`to_msgpack`, ~3 µs). The whole codec reads a full history in ~20 µs, 8 of them unsealing
# (base64 ~5, AES-GCM under 1), and writes it in ~9 µs, 2068 characters (before the Structs:
# 60 µs and 15 µs). Deflating would add ~11 µs to every write to save ~1.1 KB, and a typical
# full history fits the budget raw: it is used only where it pays, when the raw profile would
# not fit, before any history is evicted.
_RAW = b"\x01"
_DEFLATED = b"\x02"
_MSGPACK = msgspec.msgpack.Encoder()  # sizes a preference when choosing which one to evict


@dataclass(frozen=True)
class DecodedProfile:
    """The outcome of reading a profile cookie.

    `profile` is None when the cookie is absent, tampered with, expired or unreadable;
    `reissue` is True when the cookie must be written again (an old key or an old format).
    """

    profile: Profile | None
    reissue: bool = False


class ProfileCodec:
    """Seals and opens the profile cookie, at most `max_bytes` long, valid for `max_age`.

    `salt` names the purpose: the sealing keys are derived from it (and the secret keys), and
    it is the salt the format before sealing was signed with. The sealing time comes from
    `clock`.
    """

    def __init__(
        self,
        secret_keys: Sequence[str],
        *,
        salt: str = "etalage.profile",
        max_age: timedelta = timedelta(days=180),
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Clock = utc_now,
    ) -> None:
        self.max_age = max_age
        self.max_bytes = max_bytes
        self._sealer = Sealer(secret_keys, purpose=salt, max_age=max_age, clock=clock)
        self._unsealed = SignedCodec(
            secret_keys, salt=salt, max_age=max_age, clock=clock, max_length=2 * max_bytes
        )

    def encode(self, profile: Profile, policy: HistoryPolicy, now: datetime) -> str:
        """The sealed cookie value, at most `max_bytes` long: the least relevant entries go first.

        A profile holding text UTF-8 cannot carry (a lone surrogate, which JSON can hold) keeps
        only what `_bare` keeps.
        """
        try:
            return self._sealer.seal(self._fitting_payload(profile, policy, now))
        except UnicodeEncodeError:
            logger.warning("etalage: profile holds text UTF-8 cannot carry; history dropped")
            return self._sealer.seal(self._payload(_bare(profile)))

    def decode(self, value: str | None) -> DecodedProfile:
        """Read a cookie value; never raises (bad cookies yield ``DecodedProfile(None)``)."""
        if not value or len(value) > 2 * self.max_bytes:
            return DecodedProfile(None)
        read: Callable[[Any], Profile]
        if "." in value:  # never in base64url: the format before sealing
            signed = self._unsealed.loads(value)
            if signed is None:
                return DecodedProfile(None)
            read, data, reissue = Profile.from_compact, signed.value, True
        else:
            sealed = self._sealer.open(value)
            data = None if sealed is None else _packed(sealed.value)
            if sealed is None or data is None:
                return DecodedProfile(None)
            read, reissue = Profile.from_msgpack, sealed.reissue
        try:
            return DecodedProfile(read(data), reissue)
        except ValueError:
            logger.info("etalage: profile cookie with an unknown shape ignored")
            return DecodedProfile(None)

    def _fitting_payload(self, profile: Profile, policy: HistoryPolicy, now: datetime) -> bytes:
        payload = self._payload(profile)
        if sealed_length(len(payload)) <= self.max_bytes:
            return payload
        trimmed = profile.copy()  # evictions change its lists, never the caller's
        for evict in _evictions(trimmed, policy, now):
            while evict():
                payload = self._payload(trimmed)
                if sealed_length(len(payload)) <= self.max_bytes:
                    return payload
        logger.warning("etalage: profile still over the cookie budget after eviction; reset")
        return self._payload(_bare(profile))

    def _payload(self, profile: Profile) -> bytes:
        packed = profile.to_msgpack()
        if sealed_length(1 + len(packed)) <= self.max_bytes:
            return _RAW + packed
        return _DEFLATED + zlib.compress(packed, 1, -15)


def _packed(payload: bytes) -> bytes | memoryview | None:
    """The MessagePack a sealed payload holds, or None for a format byte not known here."""
    if payload[:1] == _RAW:
        return memoryview(payload)[1:]
    if payload[:1] == _DEFLATED:
        try:
            return zlib.decompress(memoryview(payload)[1:], -15)
        except zlib.error:  # sealed by us: only a bug
            logger.error("etalage: a sealed profile payload could not be inflated")
    return None


def _bare(profile: Profile) -> Profile:
    """What a profile keeps when nothing else can be written: identity, visits and purchases."""
    return Profile(
        id=profile.id,
        visits=profile.visits,
        first_seen=profile.first_seen,
        last_seen=profile.last_seen,
        visit_started=profile.visit_started,
        prev_visit_seen=profile.prev_visit_seen,
        purchases=profile.purchases,
        purchase_total=profile.purchase_total,
        last_purchase=profile.last_purchase,
        visit_pages=profile.visit_pages,
    )


def _evictions(profile: Profile, policy: HistoryPolicy, now: datetime) -> list[Callable[[], bool]]:
    """Eviction steps, least relevant first; each removes one item and says if it did."""

    def drop_stale() -> bool:
        before = (
            len(profile.searches),
            len(profile.views),
            len(profile.events),
            len(profile.interest),
            len(profile.counts),
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
            if is_relevant(e.at, event_horizon(e.data), policy.event_relevant_for, now)
        ]
        profile.interest = {
            topic: (score, at)
            for topic, (score, at) in profile.interest.items()
            if decayed_interest(score, at, now, policy.interest_half_life) >= MIN_INTEREST
        }
        oldest_day = int(now.timestamp()) // 86400 - COUNT_DAYS
        profile.counts = {
            key: entry for key, entry in profile.counts.items() if entry.day > oldest_day
        }
        after = (
            len(profile.searches),
            len(profile.views),
            len(profile.events),
            len(profile.interest),
            len(profile.counts),
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

    def drop_least_recent_count() -> bool:
        if not profile.counts:
            return False
        del profile.counts[next(iter(profile.counts))]  # kept least recently counted first
        return True

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
        del profile.prefs[max(profile.prefs, key=lambda k: len(_MSGPACK.encode(profile.prefs[k])))]
        return True

    return [
        drop_stale,
        pop_oldest("decisions"),
        pop_oldest("views"),
        drop_least_recent_count,
        pop_oldest("events"),
        drop_weakest_interest,
        pop_oldest("searches", keep=1),
        drop_exposure,
        pop_oldest("searches"),
        drop_oldest_dismissal,
        drop_largest_pref,
    ]


MAX_CONSENT_VERDICTS = 4096  # distinct consent values remembered (a handful per key set)


class ConsentCodec:
    """Signs and reads the consent cookie: ``True`` (yes), ``False`` (no) or ``None`` (unknown).

    The value never expires (the cookie's own lifetime bounds it); `clock` is accepted like the
    other codecs' and unused.
    """

    def __init__(
        self, secret_keys: Sequence[str], *, salt: str = "etalage.consent", clock: Clock = utc_now
    ) -> None:
        self._signed = SignedCodec(secret_keys, salt=salt, clock=clock, max_length=200)
        # A consent value carries no time, so its verdict never changes: every request of a
        # visitor sends the same one, on every worker, and the HMAC check costs the most here.
        self._verdicts: dict[str, tuple[bool | None, bool]] = {}

    def encode(self, consent: bool) -> str:
        """The signed value for a yes or no."""
        return self._signed.dumps(1 if consent else 0)

    def decode(self, value: str | None) -> bool | None:
        """The recorded choice, or None when absent, forged or unreadable."""
        return self.read(value)[0]

    def read(self, value: str | None) -> tuple[bool | None, bool]:
        """``(choice, reissue)``: `reissue` is True when an older key signed the cookie."""
        if not value:
            return None, False
        verdict = self._verdicts.get(value)
        if verdict is None:
            verified = self._signed.loads(value)
            if verified is None or type(verified.value) is not int or verified.value not in (0, 1):
                verdict = (None, False)
            else:
                verdict = (verified.value == 1, verified.reissue)
            if len(value) <= self._signed.max_length:  # longer is refused unread: not kept
                if len(self._verdicts) >= MAX_CONSENT_VERDICTS:
                    self._verdicts.clear()
                self._verdicts[value] = verdict
        return verdict
