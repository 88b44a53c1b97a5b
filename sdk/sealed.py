"""`Sealer`: a byte payload encrypted and authenticated (AES-GCM) into a cookie-safe value.

What a sealed value holds can be neither read nor changed without a key. One AES-256 key per
secret key and purpose, derived with HKDF-SHA256 (the purpose is the HKDF label, so no two
purposes, and no itsdangerous signer, share a key). Keys are given newest first: the first
seals, all open, and a value opened with an older key is read with ``reissue=True``.

A sealed value is ``base64url(version ‖ nonce ‖ AES-GCM(issued ‖ payload))`` without padding:
`version` (one byte, `VERSION`, also authenticated) tells this format from any later one, `nonce`
is 12 random bytes per seal, `issued` the sealing time from the injected clock (5 bytes, epoch
seconds). A value older than `max_age`, or dated in the future past `CLOCK_SKEW`, is refused.
With random nonces a key should seal fewer than 2**32 values: rotate it well before.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Sequence
from datetime import timedelta

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from etalage.signed import CLOCK_SKEW, Clock, Verified, check_secret_keys, utc_now

VERSION = 1
_HEADER = bytes([VERSION])
_NONCE = 12
_TAG = 16
_ISSUED = 5  # bytes of the sealing time: epoch seconds up to the year 36812
_OVERHEAD = 1 + _NONCE + _TAG + _ISSUED
_TO_URL = bytes.maketrans(b"+/", b"-_")
# "+" and "/" (and the JSON string's own '"' and "\\") become "." so that decoding refuses them:
# only the URL-safe alphabet reads.
_FROM_URL = bytes.maketrans(b'-_+/"\\', b"+/....")
# msgspec's base64 reader (a JSON string into bytes) is strict and 2.6 times as fast as binascii's.
_BASE64 = msgspec.json.Decoder(bytes)


def derive_key(secret_key: str, purpose: str) -> bytes:
    """The 32-byte key for `purpose` derived from `secret_key` (HKDF-SHA256, no salt)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode("utf-8"))
    return hkdf.derive(secret_key.encode("utf-8"))


def sealed_length(payload_length: int) -> int:
    """The length of the sealed text of a payload of `payload_length` bytes."""
    return ((payload_length + _OVERHEAD) * 4 + 2) // 3  # unpadded base64


class Sealer:
    """Seals payloads for one purpose and opens them (`open` never raises on bad text)."""

    def __init__(
        self,
        secret_keys: Sequence[str],
        *,
        purpose: str,
        max_age: timedelta,
        clock: Clock = utc_now,
    ) -> None:
        self.purpose = purpose
        self.max_age = max_age
        self._clock = clock
        self._max_age = int(max_age.total_seconds())
        self._skew = int(CLOCK_SKEW.total_seconds())
        self._ciphers = [AESGCM(derive_key(key, purpose)) for key in check_secret_keys(secret_keys)]

    def seal(self, payload: bytes) -> str:
        """`payload` sealed with the newest key, stamped with the clock's time."""
        nonce = os.urandom(_NONCE)
        issued = int(self._clock().timestamp()).to_bytes(_ISSUED, "big")
        sealed = self._ciphers[0].encrypt(nonce, issued + payload, _HEADER)
        text = binascii.b2a_base64(_HEADER + nonce + sealed, newline=False)
        return text.translate(_TO_URL).rstrip(b"=").decode("ascii")

    def open(self, text: str) -> Verified[bytes] | None:
        """The payload `text` seals, or None when it is not ours, tampered with, or expired."""
        raw = _unbase64(text)
        if raw is None or len(raw) < _OVERHEAD or raw[0] != VERSION:
            return None
        nonce, sealed = raw[1 : 1 + _NONCE], raw[1 + _NONCE :]
        for index, cipher in enumerate(self._ciphers):
            try:
                plain = cipher.decrypt(nonce, sealed, _HEADER)
            except InvalidTag:  # another key, or not ours at all
                continue
            age = int(self._clock().timestamp()) - int.from_bytes(plain[:_ISSUED], "big")
            if not -self._skew <= age <= self._max_age:
                return None
            return Verified(plain[_ISSUED:], reissue=index > 0)
        return None


def _unbase64(text: str) -> bytes | None:
    """Strict unpadded base64url (any other character refuses the text), or None."""
    if not text.isascii() or len(text) % 4 == 1:
        return None
    quoted = b'"' + text.encode("ascii").translate(_FROM_URL) + _PADDING[len(text) % 4]
    try:
        return _BASE64.decode(quoted)
    except msgspec.DecodeError:
        return None


_PADDING = (b'"', b'', b'=="', b'="')  # by the text's length modulo 4 (1 is refused)
