"""Sealed values: AES-GCM with keys per purpose, rotation, the sealing time, a version byte."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etalage.sealed import VERSION, Sealer, derive_key, sealed_length
from etalage.signed import Verified

NEW, OLD = "new-secret", "old-secret"
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(days=30)
PAYLOAD = b'{"name":"Ada","email":"ada@example.org"}'


def at(moment: datetime):
    return lambda: moment


def sealer(keys=(NEW,), *, purpose: str = "test", now: datetime = NOW) -> Sealer:
    return Sealer(list(keys), purpose=purpose, max_age=MAX_AGE, clock=at(now))


def unbase64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("payload", [b"", b"x", PAYLOAD, bytes(range(256)) * 8])
def test_a_sealed_payload_opens(payload):
    assert sealer().open(sealer().seal(payload)) == Verified(payload, reissue=False)


def test_the_value_is_unpadded_base64url_starting_with_the_version_byte():
    value = sealer().seal(PAYLOAD)
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert unbase64(value)[0] == VERSION
    assert len(value) == sealed_length(len(PAYLOAD))


def test_the_payload_cannot_be_read_from_the_value():
    value = sealer().seal(PAYLOAD)
    for text in (b"Ada", b"example.org"):
        assert text not in unbase64(value) and text.decode() not in value


def test_each_seal_has_its_own_nonce():
    first, second = sealer().seal(PAYLOAD), sealer().seal(PAYLOAD)
    assert first != second
    assert unbase64(first)[1:13] != unbase64(second)[1:13]


# --- keys -----------------------------------------------------------------------------------


def test_the_newest_key_seals_and_an_older_one_still_opens_with_reissue():
    rotated = sealer([NEW, OLD])
    assert sealer([NEW]).open(rotated.seal(PAYLOAD)) == Verified(PAYLOAD)
    assert sealer([OLD]).open(rotated.seal(PAYLOAD)) is None
    assert rotated.open(sealer([OLD]).seal(PAYLOAD)) == Verified(PAYLOAD, reissue=True)


def test_a_retired_key_no_longer_opens():
    assert sealer([NEW]).open(sealer([OLD]).seal(PAYLOAD)) is None


@pytest.mark.parametrize("keys", [[], [""]])
def test_a_sealer_needs_a_key(keys):
    with pytest.raises(ValueError):
        Sealer(keys, purpose="test", max_age=MAX_AGE)


def test_each_purpose_has_its_own_key():
    assert (
        sealer(purpose="etalage.preview").open(sealer(purpose="etalage.profile").seal(b"x")) is None
    )
    assert derive_key(NEW, "etalage.profile") != derive_key(NEW, "etalage.preview")
    assert derive_key(NEW, "etalage.profile") != derive_key(OLD, "etalage.profile")
    assert len(derive_key(NEW, "etalage.profile")) == 32  # AES-256


# --- time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "read"),
    [(timedelta(0), True), (MAX_AGE, True), (MAX_AGE + timedelta(seconds=1), False)],
)
def test_a_sealed_value_expires_by_the_injected_clock(age, read):
    value = sealer().seal(PAYLOAD)
    assert (sealer(now=NOW + age).open(value) is not None) is read


@pytest.mark.parametrize(
    ("ahead", "read"),
    [(timedelta(seconds=60), True), (timedelta(seconds=61), False), (timedelta(days=2), False)],
)
def test_a_value_sealed_in_the_future_is_read_only_within_clock_skew(ahead, read):
    value = sealer(now=NOW + ahead).seal(PAYLOAD)
    assert (sealer().open(value) is not None) is read


def test_the_sealing_time_is_inside_the_sealed_part():
    """Moving the time would need the key: changing any byte after the nonce is refused."""
    raw = bytearray(unbase64(sealer().seal(PAYLOAD)))
    for position in range(13, len(raw)):
        changed = bytearray(raw)
        changed[position] ^= 0x80
        assert sealer().open(base64url(bytes(changed))) is None


# --- format and hostile text ------------------------------------------------------------------


def test_another_version_is_refused():
    raw = bytearray(unbase64(sealer().seal(PAYLOAD)))
    raw[0] = VERSION + 1
    assert sealer().open(base64url(bytes(raw))) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "A",
        "AQ",
        "AQID",
        "A" * 60,
        "AQ==" + "A" * 60,
        "+/" * 40,
        "Zoë" * 20,
        "\udcff" * 40,
        "a.b.c",
    ],
)
def test_text_not_sealed_by_us_is_none(text):
    assert sealer().open(text) is None


def test_a_value_in_standard_base64_is_refused():
    value = next(v for v in (sealer().seal(PAYLOAD) for _ in range(100)) if {"-", "_"} & set(v))
    assert sealer().open(value) is not None
    assert sealer().open(value.replace("-", "+").replace("_", "/")) is None


@settings(max_examples=300)
@given(st.text(max_size=600) | st.from_regex(r"A[A-Za-z0-9_-]{0,200}", fullmatch=True))
def test_opening_arbitrary_text_never_raises(text):
    assert sealer().open(text) is None


@settings(max_examples=200)
@given(position=st.integers(min_value=0), replacement=st.text(min_size=1, max_size=3))
def test_opening_a_mangled_value_never_raises(position, replacement):
    value = sealer().seal(PAYLOAD)
    position %= len(value)
    result = sealer().open(value[:position] + replacement + value[position + 1 :])
    assert result is None or result == Verified(PAYLOAD)
