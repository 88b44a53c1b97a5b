"""The signed-value codec: rotation, expiry by the injected clock, one result, never raising."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import Signer, TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer

from etalage.signed import SignedCodec, Verified, check_secret_keys

NEW, OLD = "new-secret", "old-secret"
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TIMED = {"max_age": timedelta(days=30)}
UNTIMED: dict[str, timedelta] = {}


def at(moment: datetime):
    return lambda: moment


def signed(keys=(NEW,), *, now: datetime = NOW, salt: str = "test", **settings) -> SignedCodec:
    return SignedCodec(list(keys), salt=salt, clock=at(now), **settings)


both = pytest.mark.parametrize("timing", [TIMED, UNTIMED], ids=["timed", "untimed"])


@both
@pytest.mark.parametrize("value", [1, 0, "visitor-0001", ["a", 2], {"k": None}, "Zoë"])
def test_a_signed_value_reads_back(timing, value):
    codec = signed(**timing)
    assert codec.loads(codec.dumps(value)) == Verified(value, reissue=False)


def test_the_result_is_a_frozen_value():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Verified(1).reissue = True  # type: ignore[misc]


@both
def test_the_newest_key_signs_and_an_older_one_still_verifies_with_reissue(timing):
    rotated = signed([NEW, OLD], **timing)
    assert signed([NEW], **timing).loads(rotated.dumps("x")) == Verified("x")
    assert signed([OLD], **timing).loads(rotated.dumps("x")) is None
    assert rotated.loads(signed([OLD], **timing).dumps("x")) == Verified("x", reissue=True)


@both
def test_a_retired_key_no_longer_verifies(timing):
    assert signed([NEW], **timing).loads(signed([OLD], **timing).dumps("x")) is None


@both
@pytest.mark.parametrize("keys", [[], [""], ["", ""]])
def test_a_codec_needs_a_key(timing, keys):
    with pytest.raises(ValueError):
        SignedCodec(keys, salt="test", **timing)


def test_empty_keys_are_left_out():
    assert check_secret_keys(["", NEW, "", OLD]) == [NEW, OLD]


@both
def test_another_purpose_cannot_read_the_value(timing):
    value = signed(salt="etalage.consent", **timing).dumps(1)
    assert signed(salt="etalage.id", **timing).loads(value) is None


@both
def test_a_tampered_value_is_refused(timing):
    codec = signed(**timing)
    value = codec.dumps("visitor-0001")
    payload, _, signature = value.rpartition(".")
    other = codec.dumps("visitor-0002").rpartition(".")[0]
    assert codec.loads(f"{other}.{signature}") is None
    assert codec.loads(f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}") is None
    assert codec.loads(payload) is None


@both
@pytest.mark.parametrize("text", [None, "", "a.b", "....", "Zoë.é", "\udcff.x", "x" * 5000])
def test_text_not_signed_by_us_is_none(timing, text):
    assert signed(**timing).loads(text) is None


def test_text_longer_than_max_length_is_refused_unread():
    digest = hashlib.sha256(b"visitor").hexdigest()  # nothing zlib could shorten
    value = signed().dumps(digest)
    assert len(value) > 50
    assert signed(max_length=50).loads(value) is None
    assert signed().loads(value) == Verified(digest)


@both
def test_a_bad_payload_under_a_good_signature_is_none(timing):
    signer = TimestampSigner(NEW, salt="test") if timing else Signer(NEW, salt="test")
    for payload in (b"!!not base64", b"bm90IGpzb24", b".eJwBAAD__w"):  # not JSON; bad zlib
        assert signed(**timing).loads(signer.sign(payload).decode()) is None


# --- time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "read"),
    [(timedelta(0), True), (timedelta(days=30), True), (timedelta(days=30, seconds=1), False)],
)
def test_a_timed_value_expires_by_the_injected_clock(age, read):
    value = signed(**TIMED).dumps("x")
    assert (signed(now=NOW + age, **TIMED).loads(value) is not None) is read


def test_an_expired_value_signed_with_an_old_key_is_refused():
    value = signed([OLD], **TIMED).dumps("x")
    assert signed([NEW, OLD], now=NOW + 31 * DAY, **TIMED).loads(value) is None


@pytest.mark.parametrize(
    ("ahead", "read"),
    [(timedelta(seconds=59), True), (timedelta(minutes=2), False), (2 * DAY, False)],
)
def test_a_value_dated_in_the_future_is_read_only_within_clock_skew(ahead, read):
    value = signed(now=NOW + ahead, **TIMED).dumps("x")
    assert (signed(**TIMED).loads(value) is not None) is read


def test_the_signing_time_comes_from_the_injected_clock():
    value = signed(**TIMED).dumps("x")
    reader = URLSafeTimedSerializer(NEW, salt="test")
    assert reader.loads(value, return_timestamp=True) == ("x", NOW)


def test_an_untimed_value_never_expires():
    value = signed().dumps(1)
    assert signed(now=NOW + 3650 * DAY).loads(value) == Verified(1)


def test_an_untimed_value_is_not_read_as_a_timed_one_nor_the_other_way():
    assert signed(**TIMED).loads(signed().dumps("x")) is None
    assert signed().loads(signed(**TIMED).dumps("x")) is None


# --- the wire format: what itsdangerous wrote before this codec still reads ---------------------


def test_values_itsdangerous_signed_read_back():
    assert signed().loads(URLSafeSerializer(NEW, salt="test").dumps(1)) == Verified(1)

    class SignedNow(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(NOW.timestamp())

    timed = URLSafeTimedSerializer(NEW, salt="test", signer=SignedNow)
    assert signed(**TIMED).loads(timed.dumps("visitor-0001")) == Verified("visitor-0001")
    compressed = timed.dumps(["repeat"] * 50)
    assert compressed.startswith(".")  # itsdangerous deflated it
    assert signed(**TIMED).loads(compressed) == Verified(["repeat"] * 50)


def test_itsdangerous_reads_what_the_codec_signs():
    assert URLSafeSerializer(NEW, salt="test").loads(signed().dumps(1)) == 1
    timed = URLSafeTimedSerializer(NEW, salt="test")
    assert timed.loads(signed(now=datetime.now(UTC), **TIMED).dumps("x")) == "x"


# --- hostile text ---------------------------------------------------------------------------


@settings(max_examples=200)
@given(st.text(max_size=600))
def test_reading_arbitrary_text_never_raises(text):
    for timing in (TIMED, UNTIMED):
        assert signed(**timing).loads(text) is None


@settings(max_examples=200)
@given(position=st.integers(min_value=0), replacement=st.text(min_size=1, max_size=3))
def test_reading_a_mangled_value_never_raises(position, replacement):
    codec = signed(**TIMED)
    value = codec.dumps({"id": "visitor-0001"})
    position %= len(value)
    result = codec.loads(value[:position] + replacement + value[position + 1 :])
    assert result is None or result == Verified({"id": "visitor-0001"})
