"""`SignedCodec`: values that are not secret (consent, visitor id, links) signed, with key rotation.

Keys are given newest first: the first signs, all verify, so a key is rotated by prepending the
new one; a value verified by an older key is read with ``reissue=True`` so the caller writes it
again. With a `max_age` the value carries its signing time, read from the injected `clock` (never
from `time.time()`), and is refused once older than `max_age` or dated in the future (past a
minute of clock skew between servers). Reading never raises: a value not signed by us, expired,
or unreadable is None. The wire format is itsdangerous' URL-safe one (``URLSafeSerializer``,
``URLSafeTimedSerializer`` with a `max_age`), so values written before this module still read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from itsdangerous import BadPayload, BadSignature, Signer, TimestampSigner, URLSafeSerializer

Clock = Callable[[], datetime]  # the current time, timezone-aware
T = TypeVar("T")

CLOCK_SKEW = timedelta(minutes=1)  # how far in the future another server may date a value


def utc_now() -> datetime:
    """The default clock: the current time in UTC."""
    return datetime.now(UTC)


def check_secret_keys(secret_keys: Sequence[str]) -> list[str]:
    """The non-empty keys, newest first; `ValueError` when there is none."""
    keys = [key for key in secret_keys if key]
    if not keys:
        raise ValueError("give at least one non-empty secret key")
    return keys


@dataclass(frozen=True, slots=True)
class Verified(Generic[T]):
    """A value read back from a cookie; `reissue` is True when an older key wrote it."""

    value: T
    reissue: bool = False


class _ClockedSigner(TimestampSigner):
    """A `TimestampSigner` whose time comes from a clock (its documented `get_timestamp` hook)."""

    def __init__(self, secret_key: str, *, salt: str, clock: Clock) -> None:
        super().__init__(secret_key, salt=salt)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


class SignedCodec:
    """Signs JSON values under one salt (one salt per purpose) and verifies them.

    `max_length` bounds what is read at all: longer text is refused before any work.
    """

    def __init__(
        self,
        secret_keys: Sequence[str],
        *,
        salt: str,
        max_age: timedelta | None = None,
        clock: Clock = utc_now,
        max_length: int = 4096,
    ) -> None:
        keys = check_secret_keys(secret_keys)
        self.max_age = max_age
        self.max_length = max_length
        self._clock = clock
        # The payload encoding only (compact JSON, base64, zlib when shorter): signing is ours.
        self._payload = URLSafeSerializer(keys[0], salt=salt)
        # One signer per key, built once, newest first.
        self._signers: list[Signer] = [
            Signer(key, salt=salt)
            if max_age is None
            else _ClockedSigner(key, salt=salt, clock=clock)
            for key in keys
        ]

    def dumps(self, value: Any) -> str:
        """`value` (anything JSON can hold) signed with the newest key."""
        return self._signers[0].sign(self._payload.dump_payload(value)).decode("ascii")

    def loads(self, text: str | None) -> Verified[Any] | None:
        """The value `text` holds, or None when it is absent, forged, expired or unreadable."""
        if not text or len(text) > self.max_length or not text.isascii():
            return None  # what we sign is ASCII: other text cannot verify (nor be encoded)
        signed_at: datetime | None = None
        for index, signer in enumerate(self._signers):
            try:
                if isinstance(signer, TimestampSigner):
                    payload, signed_at = signer.unsign(text, return_timestamp=True)
                else:
                    payload = signer.unsign(text)
            except BadSignature:  # perhaps an older key
                continue
            if signed_at is not None and not self._fresh(signed_at):
                return None
            try:
                return Verified(self._payload.load_payload(payload), reissue=index > 0)
            except BadPayload:
                return None
        return None

    def _fresh(self, signed_at: datetime) -> bool:
        age = self._clock() - signed_at
        return -CLOCK_SKEW <= age and (self.max_age is None or age <= self.max_age)
