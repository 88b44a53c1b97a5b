"""The profile cookie (sealed, under a byte budget; the format before sealing still read) and
the consent cookie: bad cookies, expiry, key rotation."""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
import zlib
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner, URLSafeSerializer, URLSafeTimedSerializer

from etalage.cookie import DEFAULT_MAX_BYTES, ConsentCodec, DecodedProfile, ProfileCodec
from etalage.history import (
    record_decisions,
    record_event,
    record_exposure,
    record_request,
    record_search,
    record_view,
)
from etalage.middleware.cookies import set_cookie
from etalage.profile import EventEntry, Profile, SearchEntry, ViewEntry
from etalage.recency import MIN_INTEREST, HistoryPolicy, decayed_interest, is_relevant
from etalage.sealed import Sealer

SECRET = "current-secret"
OLD_SECRET = "retired-secret"
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
POLICY = HistoryPolicy()
MAX_AGE = timedelta(days=180)
RULE_IDS = ["hero-sale", "newsletter", "continue-search", "cross-sell", "b" * 64]


def ago(**delta: float) -> int:
    return int((NOW - timedelta(**delta)).timestamp())


def at(moment: datetime):
    """A clock standing still at `moment`."""
    return lambda: moment


def codec(keys: list[str] | None = None, *, now: datetime = NOW, **settings) -> ProfileCodec:
    """A profile codec whose clock reads `now`."""
    return ProfileCodec(keys or [SECRET], clock=at(now), **settings)


def sample_profile() -> Profile:
    profile = Profile.new(NOW - timedelta(days=3))
    record_request(profile, POLICY, NOW - timedelta(days=3))
    record_request(profile, POLICY, NOW)
    record_search(profile, POLICY, NOW, "tent", valid_until=ago(days=-30))
    record_view(profile, POLICY, NOW, "/products/tent", topic="camping")
    record_event(profile, POLICY, NOW, "add_to_cart", {"sku": "tent", "price": 129.0})
    record_exposure(profile, "hero-sale")
    profile.prefs["name"] = "Zoë"
    return profile


def signed_at(moment: datetime, data: object, secret: str = SECRET) -> str:
    """A profile cookie in the format before sealing, signed by `secret` as if at `moment`."""

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(moment.timestamp())

    serializer = URLSafeTimedSerializer(secret, salt="etalage.profile", signer=Signer)
    return serializer.dumps(data)


def sealed(payload: bytes, *, secret: str = SECRET, moment: datetime = NOW) -> str:
    """`payload` sealed as the profile codec seals (its own format byte included)."""
    sealer = Sealer([secret], purpose="etalage.profile", max_age=MAX_AGE, clock=at(moment))
    return sealer.seal(payload)


def payload_of(value: str) -> bytes:
    """What the profile codec sealed into `value`."""
    opened = Sealer([SECRET], purpose="etalage.profile", max_age=MAX_AGE, clock=at(NOW)).open(value)
    assert opened is not None
    return opened.value


def header(value: str) -> bytes:
    return b"Set-Cookie: " + set_cookie(
        "etalage", value, max_age=int(MAX_AGE.total_seconds()), secure=True
    )


# --- round trip and bad cookies -------------------------------------------------------------


def round_trips(profile: Profile) -> tuple[Profile | None, Profile | None]:
    """`profile` encoded, then read back by the writing codec and by another one with the same
    key (another worker)."""
    writer = codec()
    value = writer.encode(profile, POLICY, NOW)
    return writer.decode(value).profile, codec().decode(value).profile


def test_encode_then_decode_gives_the_profile_back():
    profile = sample_profile()
    assert round_trips(profile) == (profile, profile)
    writer = codec()
    assert writer.decode(writer.encode(profile, POLICY, NOW)) == DecodedProfile(profile, False)


def test_text_utf8_cannot_carry_is_never_read_back():
    """No page, header or JSON answer can carry a lone surrogate: the profile keeps only what
    it keeps over budget (identity, visits, purchases), and writing it does not fail."""
    profile = Profile(id="v", visits=3, prefs={"name": "Zo\ud800ë"})
    value = codec().encode(profile, POLICY, NOW)
    assert codec().decode(value) == DecodedProfile(Profile(id="v", visits=3))


def test_the_value_is_cookie_safe():
    value = codec().encode(sample_profile(), POLICY, NOW)
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert set(value) <= allowed


@settings(deadline=None, max_examples=100)
@given(
    st.builds(
        Profile,
        id=st.text(min_size=1, max_size=64),
        visits=st.integers(min_value=0, max_value=10**6),
        searches=st.lists(
            st.builds(SearchEntry, st.text(max_size=40), st.integers(0, 2**34)), max_size=3
        ),
        views=st.lists(
            st.builds(ViewEntry, st.text(max_size=40), st.integers(0, 2**34)), max_size=3
        ),
        prefs=st.dictionaries(st.text(max_size=10), st.text(max_size=40), max_size=3),
    )
)
def test_small_profiles_round_trip_unchanged(profile):
    assert round_trips(profile) == (profile, profile)


def test_each_decoded_profile_is_the_callers_own():
    writer = codec()
    value = writer.encode(sample_profile(), POLICY, NOW)
    first = writer.decode(value).profile
    assert first is not None
    record_search(first, POLICY, NOW, "stove")
    first.prefs["name"] = "Eve"
    first.exposures["hero-sale"] = 9
    assert writer.decode(value).profile == sample_profile_with_id(first.id)


def test_nested_data_of_a_decoded_profile_is_its_own():
    writer = codec()
    profile = sample_profile()
    profile.prefs["interests"] = ["hiking"]
    record_decisions(profile, NOW, "/", {"hero": ("hero-sale", "because")})
    value = writer.encode(profile, POLICY, NOW)
    first = writer.decode(value).profile
    assert first is not None
    first.prefs["interests"].append("water")
    first.events[0].data["sku"] = "changed"
    record_decisions(first, NOW, "/", {"hero": (None, "replaced")})
    assert writer.decode(value).profile == profile


def sample_profile_with_id(visitor_id: str) -> Profile:
    profile = sample_profile()
    profile.id = visitor_id
    return profile


def test_a_missing_cookie_is_no_profile():
    assert codec().decode(None) == DecodedProfile(None)
    assert codec().decode("") == DecodedProfile(None)


@pytest.mark.parametrize(
    "position", [0, 1, 12, 13, 30, -17, -1], ids=lambda p: {0: "format", 1: "nonce"}.get(p, p)
)
def test_a_tampered_value_is_refused(position):
    """The format byte, the nonce, the sealing time, the profile and the tag are authenticated."""
    raw = bytearray(unbase64(codec().encode(sample_profile(), POLICY, NOW)))
    raw[position] ^= 0x01
    assert codec().decode(base64url(bytes(raw))) == DecodedProfile(None)


def test_a_profile_spliced_under_another_nonce_and_tag_is_refused():
    mine = unbase64(codec().encode(Profile(id="mine"), POLICY, NOW))
    theirs = unbase64(codec().encode(Profile(id="them"), POLICY, NOW))
    assert len(mine) == len(theirs)
    forged = mine[:13] + theirs[13:-16] + mine[-16:]  # my nonce and tag, their ciphertext
    assert codec().decode(base64url(forged)) == DecodedProfile(None)


def unbase64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_tampered_signature_of_the_format_before_sealing_is_refused():
    value = signed_at(NOW, sample_profile().to_compact())
    payload, _, signature = value.rpartition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert codec().decode(f"{payload}.{flipped}") == DecodedProfile(None)


def test_a_profile_swapped_into_a_valid_signature_of_the_format_before_sealing_is_refused():
    mine = signed_at(NOW, Profile(id="mine", visits=1).to_compact())
    theirs = signed_at(NOW, Profile(id="theirs", visits=99).to_compact())
    their_payload = theirs.rsplit(".", 2)[0]
    my_timestamp, my_signature = mine.rsplit(".", 2)[1:]
    forged = f"{their_payload}.{my_timestamp}.{my_signature}"
    assert codec().decode(forged) == DecodedProfile(None)


@pytest.mark.parametrize("cut", [1, 5, 20, -1, -10])
def test_a_truncated_cookie_is_refused(cut):
    value = codec().encode(sample_profile(), POLICY, NOW)
    assert codec().decode(value[:cut]) == DecodedProfile(None)


def test_a_cookie_sealed_with_a_foreign_key_is_refused():
    value = codec(["someone-elses-secret"]).encode(sample_profile(), POLICY, NOW)
    assert codec().decode(value) == DecodedProfile(None)


def test_a_value_sealed_for_another_purpose_is_refused():
    value = ProfileCodec([SECRET], salt="etalage.preview", clock=at(NOW)).encode(
        sample_profile(), POLICY, NOW
    )
    assert codec().decode(value) == DecodedProfile(None)


def test_a_consent_cookie_is_not_a_profile_cookie():
    value = ConsentCodec([SECRET]).encode(True)
    assert codec().decode(value) == DecodedProfile(None)


@pytest.mark.parametrize(
    ("age", "read"),
    [(timedelta(0), True), (timedelta(days=30), True), (timedelta(days=30, seconds=1), False)],
)
def test_a_cookie_expires_by_the_injected_clock(age, read):
    profile = sample_profile()
    value = codec(max_age=timedelta(days=30)).encode(profile, POLICY, NOW)
    decoded = codec(now=NOW + age, max_age=timedelta(days=30)).decode(value)
    assert decoded == (DecodedProfile(profile) if read else DecodedProfile(None))


def test_a_cookie_sealed_in_the_future_is_refused():
    value = codec(now=NOW + timedelta(days=2)).encode(sample_profile(), POLICY, NOW)
    assert codec().decode(value) == DecodedProfile(None)


def test_a_cookie_sealed_moments_ahead_by_another_server_is_read():
    """Servers' clocks differ a little: a minute ahead is skew, not a forgery."""
    profile = sample_profile()
    value = codec(now=NOW + timedelta(seconds=30)).encode(profile, POLICY, NOW)
    assert codec().decode(value) == DecodedProfile(profile)


def test_an_expired_cookie_in_the_format_before_sealing_is_refused():
    thirty_days = codec(max_age=timedelta(days=30))
    data = sample_profile().to_compact()
    assert thirty_days.decode(signed_at(NOW - timedelta(days=29), data)).profile
    assert thirty_days.decode(signed_at(NOW - timedelta(days=31), data)) == DecodedProfile(None)


def test_an_expired_cookie_signed_with_an_old_key_is_refused():
    rotated = codec([SECRET, OLD_SECRET], max_age=timedelta(days=30))
    value = signed_at(NOW - timedelta(days=31), sample_profile().to_compact(), OLD_SECRET)
    assert rotated.decode(value) == DecodedProfile(None)


def test_a_cookie_signed_in_the_future_is_refused():
    value = signed_at(NOW + timedelta(days=2), sample_profile().to_compact())
    assert codec().decode(value) == DecodedProfile(None)


SHAPES = [[1, 2], "profile", None, {"i": ""}, {"i": "v", "v": "x"}, {"i": "v", "r": {"name": 5}}]


@pytest.mark.parametrize("data", SHAPES)
def test_a_signed_cookie_of_an_unknown_shape_is_refused(data):
    assert codec().decode(signed_at(NOW, data)) == DecodedProfile(None)


@pytest.mark.parametrize("data", SHAPES)
def test_a_sealed_cookie_of_an_unknown_shape_is_refused(data):
    value = sealed(b"\x01" + msgspec.msgpack.encode(data))
    assert codec().decode(value) == DecodedProfile(None)


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x01", b"\x01\xc1", b"\x02not deflate", b"\x09" + msgspec.msgpack.encode({"i": "v"})],
    ids=["empty", "nothing packed", "bad MessagePack", "bad deflate", "unknown format"],
)
def test_a_sealed_payload_not_in_a_known_format_is_refused(payload):
    assert codec().decode(sealed(payload)) == DecodedProfile(None)


@pytest.mark.parametrize(
    "value",
    [
        "not-a-cookie",
        "a.b.c",
        "....",
        ".",
        "\x00\xff\xfe",
        "\udcff\udcfe.abc.def",
        "\udcffAAAA",
        "Zoë.é.ü",
        "eyJ.AAAA.BBBB",
        ".eJw.AAAA.BBBB",
        '"quoted"',
        "A",
        "AQ",
        "A" * 64,
        "AQ+/" * 20,
        "AQ==" * 20,
        "Ag" + "A" * 62,
    ],
)
def test_garbage_is_no_profile(value):
    assert codec().decode(value) == DecodedProfile(None)


def test_an_oversized_cookie_is_refused_before_it_is_read():
    generous = codec(max_bytes=100_000)
    digests = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(400)]
    profile = Profile(id="v", prefs={"digests": digests})
    value = generous.encode(profile, POLICY, NOW)
    assert len(value) > 2 * DEFAULT_MAX_BYTES
    assert generous.decode(value).profile == profile
    assert codec().decode(value) == DecodedProfile(None)


@settings(deadline=None, max_examples=200)
@given(st.text(max_size=9000))
def test_decoding_arbitrary_text_never_raises(value):
    assert codec().decode(value) == DecodedProfile(None)


@settings(deadline=None, max_examples=200)
@given(st.from_regex(r"[A-Za-z0-9_-]{40,400}", fullmatch=True))
def test_decoding_arbitrary_base64_never_raises(value):
    assert codec().decode(value) == DecodedProfile(None)


@settings(deadline=None, max_examples=200)
@given(position=st.integers(min_value=0), replacement=st.text(min_size=1, max_size=3))
def test_decoding_a_mangled_cookie_never_raises(position, replacement):
    profile = sample_profile()
    value = codec().encode(profile, POLICY, NOW)
    position %= len(value)
    mangled = value[:position] + replacement + value[position + 1 :]
    decoded = codec().decode(mangled)
    assert decoded.profile is None or decoded.profile == profile


def test_codecs_need_a_key():
    with pytest.raises(ValueError):
        ProfileCodec([])
    with pytest.raises(ValueError):
        ProfileCodec([""])
    with pytest.raises(ValueError):
        ConsentCodec([])


# --- sealed: what the Cookie header shows -----------------------------------------------------


STATED = {"name": "Ada Lovelace", "email": "ada@example.org"}
SEARCHED = "pregnancy test"


def readable_without_a_key(value: str) -> bytes:
    """All that base64, zlib and raw deflate make of `value` and of its dot-separated parts."""
    found = [value.encode()]
    for part in [value, *value.split(".")]:
        try:
            blob = unbase64(part)
        except (binascii.Error, ValueError):
            continue
        found.append(blob)
        for wbits in (15, -15):
            for start in range(len(blob)):
                try:
                    found.append(zlib.decompressobj(wbits).decompress(blob[start:]))
                except zlib.error:
                    continue
    return b"\n".join(found)


def test_the_format_before_sealing_showed_the_profile_to_anyone():
    """What the next test guards against (and that its reader would find it)."""
    profile = sample_profile()
    profile.prefs.update(STATED)
    record_search(profile, POLICY, NOW, SEARCHED)
    shown = readable_without_a_key(signed_at(NOW, profile.to_compact()))
    assert STATED["name"].encode() in shown
    assert SEARCHED.encode() in shown


@pytest.mark.parametrize(
    ("max_bytes", "format"), [(DEFAULT_MAX_BYTES, 1), (1000, 2)], ids=["raw", "deflated"]
)
def test_a_sealed_cookie_shows_no_name_email_or_search_term(max_bytes, format):
    profile = full_history()
    profile.prefs.update(STATED)
    record_search(profile, POLICY, NOW, SEARCHED)
    value = codec(max_bytes=max_bytes).encode(profile, POLICY, NOW)
    assert payload_of(value)[0] == format
    assert codec(max_bytes=max_bytes).decode(value) == DecodedProfile(profile)
    shown = readable_without_a_key(value)
    for secret in (*STATED.values(), SEARCHED, "search term", "/product/", "hiking"):
        assert secret.encode() not in shown


def full_history() -> Profile:
    """A visitor of 40 days: every history kind at its bound (as in benchmarks/bench_apps.py)."""
    profile = Profile.new(NOW - timedelta(days=40))
    topics = ["hiking", "camping", "climbing", "water"]
    for n in range(60):
        moment = NOW - timedelta(days=40) + timedelta(hours=16 * n)
        record_request(profile, POLICY, moment)
        record_view(profile, POLICY, moment, f"/product/item-{n % 25}.html", topic=topics[n % 4])
        if n % 3 == 0:
            record_search(profile, POLICY, moment, f"search term {n}")
    record_event(profile, POLICY, NOW - timedelta(days=2), "add_to_cart", {"sku": "t", "qty": 1})
    record_decisions(profile, NOW, "/", {"hero": ("continue-search", "you searched")})
    profile.prefs.update({"name": "Ada", "channel": "chat", "level": "expert"})
    return profile


def test_a_profile_within_the_history_bounds_is_sealed_without_compression():
    """Deflating would cost more time than the whole rest of writing the cookie."""
    value = codec().encode(full_history(), POLICY, NOW)
    assert payload_of(value)[0] == 1
    assert len(value) <= DEFAULT_MAX_BYTES


def test_a_profile_that_fits_only_deflated_is_deflated_before_anything_is_evicted():
    profile = full_history()
    raw = codec(max_bytes=100_000).encode(profile, POLICY, NOW)
    small = codec(max_bytes=len(raw) // 2)
    value = small.encode(profile, POLICY, NOW)
    assert payload_of(value)[0] == 2
    assert len(value) <= len(raw) // 2
    assert small.decode(value) == DecodedProfile(profile)


@pytest.mark.parametrize("deflated", [False, True], ids=["raw", "deflated"])
def test_a_cookie_sealed_by_the_version_before_is_read(deflated):
    """It sealed the MessagePack of `to_compact` (unset trailing entry fields left out)."""
    profile = full_history()
    packed = msgspec.msgpack.encode(profile.to_compact())
    payload = b"\x02" + zlib.compress(packed, 1, -15) if deflated else b"\x01" + packed
    assert codec().decode(sealed(payload)) == DecodedProfile(profile)


def test_the_sealed_payload_is_the_compact_form():
    """What an older worker reads during a rolling deploy: the keys and positional entries
    of `to_compact` (msgspec writes unset trailing entry fields as null, which it reads)."""
    profile = full_history()
    data = msgspec.msgpack.decode(payload_of(codec().encode(profile, POLICY, NOW))[1:])
    assert data.keys() == profile.to_compact().keys()
    assert Profile.from_compact(data) == profile


def test_a_sealed_profile_holding_text_utf8_cannot_carry_is_refused():
    packed = msgspec.msgpack.encode({"i": "v", "r": {"name": "Zo###"}})
    lone = packed.replace(b"Zo###", "Zo\ud800".encode("utf-8", "surrogatepass"))
    assert codec().decode(sealed(b"\x01" + lone)) == DecodedProfile(None)


def test_sealing_the_same_profile_twice_gives_two_values():
    """A fresh nonce per seal: equal profiles cannot be told equal from their cookies."""
    profile = sample_profile()
    first, second = (codec().encode(profile, POLICY, NOW) for _ in range(2))
    assert first != second
    assert codec().decode(first) == codec().decode(second) == DecodedProfile(profile)


def test_the_sealing_time_comes_from_the_injected_clock():
    value = codec(now=NOW - timedelta(days=180)).encode(sample_profile(), POLICY, NOW)
    assert codec().decode(value).profile is not None
    assert codec(now=NOW + timedelta(seconds=1)).decode(value) == DecodedProfile(None)


# --- the format before sealing --------------------------------------------------------------


@pytest.mark.parametrize("deflated", [False, True], ids=["short", "zlib-compressed"])
def test_a_cookie_in_the_format_before_sealing_is_read_and_flagged_for_reissue(deflated):
    profile = sample_profile() if deflated else Profile(id="visitor-1", visits=1)
    value = signed_at(NOW, profile.to_compact())
    assert value.startswith(".") == deflated  # itsdangerous deflates when that is shorter
    assert codec().decode(value) == DecodedProfile(profile, reissue=True)


def test_a_cookie_in_the_format_before_sealing_is_reissued_sealed():
    profile = sample_profile()
    reader = codec()
    reissued = reader.encode(
        reader.decode(signed_at(NOW, profile.to_compact())).profile, POLICY, NOW
    )
    assert "." not in reissued
    assert payload_of(reissued)[0] == 1
    assert reader.decode(reissued) == DecodedProfile(profile, reissue=False)


@pytest.mark.parametrize("keys", [[SECRET], [OLD_SECRET, SECRET], [SECRET, OLD_SECRET]])
def test_a_cookie_in_the_format_before_sealing_is_read_with_any_of_the_keys(keys):
    profile = sample_profile()
    value = signed_at(NOW, profile.to_compact(), secret=SECRET)
    assert codec(keys).decode(value) == DecodedProfile(profile, reissue=True)


def test_a_cookie_in_the_format_before_sealing_with_a_retired_key_is_refused():
    value = signed_at(NOW, sample_profile().to_compact(), secret=OLD_SECRET)
    assert codec().decode(value) == DecodedProfile(None)


def test_a_cookie_in_the_format_before_sealing_nested_too_deep_is_no_profile():
    class Nested:  # what `json.dumps` could never write: far deeper than the parser recurses
        @staticmethod
        def dumps(data: object) -> str:
            return "[" * 3000

    signer = URLSafeTimedSerializer(SECRET, salt="etalage.profile", serializer=Nested)
    assert codec().decode(signer.dumps(None)) == DecodedProfile(None)


# --- key rotation -------------------------------------------------------------------------


def test_a_cookie_sealed_with_an_old_key_is_read_and_flagged_for_reissue():
    profile = sample_profile()
    old_value = codec([OLD_SECRET]).encode(profile, POLICY, NOW)
    rotated = codec([SECRET, OLD_SECRET])
    assert rotated.decode(old_value) == DecodedProfile(profile, reissue=True)


def test_a_cookie_sealed_with_the_current_key_is_not_reissued():
    profile = sample_profile()
    rotated = codec([SECRET, OLD_SECRET])
    assert rotated.decode(rotated.encode(profile, POLICY, NOW)) == DecodedProfile(profile, False)


def test_the_first_key_seals():
    profile = sample_profile()
    value = codec([SECRET, OLD_SECRET]).encode(profile, POLICY, NOW)
    assert codec([SECRET]).decode(value) == DecodedProfile(profile, False)
    assert codec([OLD_SECRET]).decode(value) == DecodedProfile(None)


def test_a_retired_key_no_longer_opens():
    value = codec([OLD_SECRET]).encode(sample_profile(), POLICY, NOW)
    assert codec([SECRET]).decode(value) == DecodedProfile(None)


# --- consent --------------------------------------------------------------------------------


@pytest.mark.parametrize("choice", [True, False])
def test_consent_round_trips(choice):
    consent = ConsentCodec([SECRET])
    assert consent.decode(consent.encode(choice)) is choice


@pytest.mark.parametrize("value", [None, "", "1", "yes", "true", "a" * 300, "\udcff"])
def test_consent_is_unknown_without_a_valid_cookie(value):
    assert ConsentCodec([SECRET]).decode(value) is None


def test_an_over_long_consent_value_is_refused_and_not_remembered():
    consent = ConsentCodec([SECRET])
    for n in range(10):
        assert consent.read("a" * 300 + str(n)) == (None, False)
    assert len(consent._verdicts) == 0
    assert consent.read(consent.encode(True)) == (True, False)
    assert len(consent._verdicts) == 1


def test_forged_consent_is_unknown():
    forged = ConsentCodec(["attacker"]).encode(True)
    assert ConsentCodec([SECRET]).decode(forged) is None


def test_a_tampered_consent_cookie_is_unknown():
    consent = ConsentCodec([SECRET])
    value = consent.encode(False)
    payload, _, signature = value.rpartition(".")
    assert consent.decode(consent.encode(True).rpartition(".")[0] + "." + signature) is None
    assert consent.decode(payload + ".") is None


@pytest.mark.parametrize("data", [2, True, "1", [1], {"yes": 1}, None])
def test_a_signed_consent_other_than_yes_or_no_is_unknown(data):
    value = URLSafeSerializer(SECRET, salt="etalage.consent").dumps(data)
    assert ConsentCodec([SECRET]).decode(value) is None


@pytest.mark.parametrize("choice", [True, False])
def test_consent_written_before_the_signed_value_codec_still_counts(choice):
    value = URLSafeSerializer(SECRET, salt="etalage.consent").dumps(int(choice))
    assert ConsentCodec([SECRET]).read(value) == (choice, False)


def test_consent_signed_with_an_old_key_still_counts_and_is_reissued():
    value = ConsentCodec([OLD_SECRET]).encode(True)
    assert ConsentCodec([SECRET, OLD_SECRET]).read(value) == (True, True)


def test_a_profile_cookie_is_not_consent():
    value = codec().encode(Profile(id="v", visits=1), POLICY, NOW)
    assert ConsentCodec([SECRET]).decode(value) is None


# --- the byte budget ------------------------------------------------------------------------


def noise(seed: int, length: int) -> str:
    """Text zlib cannot shrink, so that a few entries really fill the budget."""
    rng = random.Random(seed)
    return "".join(chr(rng.randrange(0x100, 0x800)) for _ in range(length))


def stuffed_profile(views: int = 60, path_length: int = 100) -> Profile:
    profile = Profile(id="visitor-1", visits=3, first_seen=ago(days=40), last_seen=ago())
    profile.views = [
        ViewEntry(f"/p{n:03d}/" + noise(n, path_length), ago(minutes=n), "topic")
        for n in range(views)
    ]
    return profile


def test_a_profile_under_budget_is_not_trimmed_even_when_stale():
    codec = ProfileCodec([SECRET])
    profile = Profile(id="v", searches=[SearchEntry("old", ago(days=200))])
    assert ProfileCodec([SECRET]).decode(codec.encode(profile, POLICY, NOW)).profile == profile


def test_an_irrelevant_old_search_is_evicted_before_a_fresh_one():
    codec = ProfileCodec([SECRET])
    profile = stuffed_profile()
    profile.searches = [SearchEntry("fresh", ago(days=1)), SearchEntry("old", ago(days=20))]
    decoded = ProfileCodec([SECRET]).decode(codec.encode(profile, POLICY, NOW)).profile
    assert decoded is not None
    assert [s.term for s in decoded.searches] == ["fresh"]


def fits(profile: Profile) -> bool:
    codec = ProfileCodec([SECRET])
    return ProfileCodec([SECRET]).decode(codec.encode(profile, POLICY, NOW)).profile == profile


def brimful() -> Profile:
    """A profile with as many fresh views as the budget takes."""
    views = 1
    while fits(stuffed_profile(views + 1, path_length=40)):
        views += 1
    return stuffed_profile(views, path_length=40)


def test_a_search_past_its_horizon_is_evicted_before_views():
    profile = brimful()
    profile.searches = [SearchEntry(noise(1001, 80), ago(days=2), valid_until=ago(days=1))]
    assert not fits(profile)
    codec = ProfileCodec([SECRET])
    decoded = ProfileCodec([SECRET]).decode(codec.encode(profile, POLICY, NOW)).profile
    assert decoded is not None
    assert decoded.searches == []
    assert decoded.views == profile.views


def test_an_event_past_its_own_horizon_is_evicted_as_stale():
    profile = brimful()
    profile.events = [
        EventEntry("webinar", ago(hours=3), {"valid_until": ago(hours=1), "t": noise(1002, 60)})
    ]
    assert not fits(profile)
    codec = ProfileCodec([SECRET])
    decoded = ProfileCodec([SECRET]).decode(codec.encode(profile, POLICY, NOW)).profile
    assert decoded is not None
    assert decoded.events == []
    assert decoded.views == profile.views


def test_weak_interest_is_evicted_as_stale():
    profile = brimful()
    profile.interest = {noise(2000 + n, 40): (1.0, ago(days=60)) for n in range(3)}
    assert not fits(profile)
    codec = ProfileCodec([SECRET])
    decoded = ProfileCodec([SECRET]).decode(codec.encode(profile, POLICY, NOW)).profile
    assert decoded is not None
    assert decoded.interest == {}
    assert decoded.views == profile.views


def test_the_oldest_views_go_first_and_searches_outlast_views():
    codec = ProfileCodec([SECRET])
    profile = stuffed_profile()
    profile.searches = [SearchEntry(f"term {n}", ago(hours=n)) for n in range(5)]
    value = codec.encode(profile, POLICY, NOW)
    decoded = codec.decode(value).profile
    assert decoded is not None
    assert len(value) <= DEFAULT_MAX_BYTES
    assert decoded.searches == profile.searches
    assert 0 < len(decoded.views) < len(profile.views)
    assert decoded.views == profile.views[: len(decoded.views)]


def test_past_decisions_go_before_history():
    codec = ProfileCodec([SECRET])
    profile = stuffed_profile(views=10)
    profile.decisions = [
        {"path": f"/page-{n}", "at": ago(), "slots": {"hero": ["rule", noise(3000 + n, 300)]}}
        for n in range(3)
    ]
    decoded = ProfileCodec([SECRET]).decode(codec.encode(profile, POLICY, NOW)).profile
    assert decoded is not None
    assert decoded.views == profile.views
    assert decoded.decisions == profile.decisions[: len(decoded.decisions)]
    assert len(decoded.decisions) < 3


def test_the_oldest_dismissals_go_before_stated_preferences():
    codec = ProfileCodec([SECRET])
    prefs = {"name": "Zoë", "email": "zoe@example.org", "interests": ["hiking", "camping"]}
    profile = Profile(
        id="visitor-1",
        prefs=dict(prefs),
        dismissed={f"rule-{n:03d}-" + noise(5000 + n, 30): ago(minutes=n) for n in range(100)},
    )
    value = codec.encode(profile, POLICY, NOW)
    assert len(value) <= DEFAULT_MAX_BYTES
    decoded = codec.decode(value).profile
    assert decoded is not None
    assert decoded.prefs == prefs
    newest = sorted(profile.dismissed, key=profile.dismissed.__getitem__, reverse=True)
    assert set(decoded.dismissed) == set(newest[: len(decoded.dismissed)])
    assert 0 < len(decoded.dismissed) < 100


def test_an_oversized_profile_keeps_identity_and_purchases():
    codec = ProfileCodec([SECRET])
    profile = Profile(
        id="visitor-1",
        visits=7,
        first_seen=ago(days=100),
        last_seen=ago(),
        purchases=2,
        purchase_total=99.5,
        last_purchase=ago(days=3),
        prefs={f"k{n}": noise(4000 + n, 200) for n in range(20)},
        exposures={noise(6000 + n, 30): n for n in range(50)},
    )
    value = codec.encode(profile, POLICY, NOW)
    assert len(value) <= DEFAULT_MAX_BYTES
    decoded = codec.decode(value).profile
    assert decoded is not None
    assert (decoded.id, decoded.visits, decoded.first_seen) == ("visitor-1", 7, ago(days=100))
    assert (decoded.purchases, decoded.purchase_total) == (2, 99.5)
    assert decoded.last_purchase == ago(days=3)


def test_a_small_budget_still_gives_a_readable_cookie():
    codec = ProfileCodec([SECRET], max_bytes=200)
    profile = sample_profile()
    decoded = ProfileCodec([SECRET]).decode(codec.encode(profile, POLICY, NOW)).profile
    assert decoded is not None
    assert (decoded.id, decoded.visits) == (profile.id, profile.visits)


BUDGET_POLICY = HistoryPolicy(search_keep=40, view_keep=40, event_keep=20, interest_keep=20)
# Text a profile can hold (`st.text` leaves lone surrogates out; `characters` with a range does
# not): a profile holding one has its own test above.
long_text = st.text(min_size=1, max_size=300) | st.text(
    st.characters(min_codepoint=0x80, exclude_categories=("Cs",)), min_size=40, max_size=300
)
steps = st.one_of(
    st.tuples(st.just("search"), long_text, st.none() | st.integers(-5, 60)),
    st.tuples(st.just("view"), long_text, st.none() | st.text(max_size=60)),
    st.tuples(st.just("many searches"), st.integers(0, 2**32), st.integers(1, 40)),
    st.tuples(st.just("many views"), st.integers(0, 2**32), st.integers(1, 40)),
    st.tuples(
        st.just("event"),
        st.sampled_from(["video_play", "newsletter_signup", "compare"]),
        st.dictionaries(st.text(max_size=40), st.text(max_size=100), max_size=8),
    ),
    st.tuples(st.just("cart"), st.floats(min_value=0, max_value=1e6), st.integers(1, 9)),
    st.tuples(st.just("purchase"), st.floats(min_value=0, max_value=1e6), st.none()),
    st.tuples(st.just("pref"), st.sampled_from(["name", "email"]), st.text(max_size=60)),
    st.tuples(st.just("pref"), st.just("channel"), st.sampled_from(["email", "sms", "post"])),
    st.tuples(st.just("interests"), st.lists(st.text(max_size=30), max_size=12), st.none()),
    st.tuples(st.just("expose"), st.sampled_from(RULE_IDS), st.none()),
    st.tuples(st.just("dismiss"), st.sampled_from(RULE_IDS), st.none()),
    st.tuples(st.just("decide"), st.text(max_size=200), st.text(max_size=200)),
)
pauses = st.sampled_from([0, 60, 3600]) | st.integers(0, 4 * 86400)
histories = st.lists(st.tuples(pauses, steps), min_size=1, max_size=120)


def replay(history: list) -> tuple[Profile, datetime]:
    moment = NOW - timedelta(days=365)
    profile = Profile.new(moment)
    for advance, (kind, first, second) in history:
        moment += timedelta(seconds=advance)
        record_request(profile, BUDGET_POLICY, moment)
        if kind == "search":
            horizon = None if second is None else int(moment.timestamp()) + second * 86400
            record_search(profile, BUDGET_POLICY, moment, first, valid_until=horizon)
        elif kind == "view":
            record_view(profile, BUDGET_POLICY, moment, "/" + first, topic=second)
        elif kind == "many searches":
            for n in range(second):
                record_search(profile, BUDGET_POLICY, moment, noise(first + n, 80))
        elif kind == "many views":
            for n in range(second):
                path = "/" + noise(first + n, 150)
                record_view(profile, BUDGET_POLICY, moment, path, topic=noise(first - n, 30))
        elif kind == "event":
            record_event(profile, BUDGET_POLICY, moment, first, second)
        elif kind == "cart":
            record_event(
                profile, BUDGET_POLICY, moment, "add_to_cart", {"price": first, "qty": second}
            )
        elif kind == "purchase":
            record_event(profile, BUDGET_POLICY, moment, "purchase", {"value": first})
        elif kind == "pref":
            profile.prefs[first] = second
        elif kind == "interests":
            profile.prefs["interests"] = first
        elif kind == "expose":
            record_exposure(profile, first)
        elif kind == "dismiss":
            record_event(profile, BUDGET_POLICY, moment, "dismiss", {"rule": first})
        elif kind == "decide":
            record_decisions(profile, moment, first, {"hero": ("continue-search", second)})
    return profile, moment


def relevant_searches(profile: Profile, now: datetime) -> list[SearchEntry]:
    window = BUDGET_POLICY.search_relevant_for
    return [s for s in profile.searches if is_relevant(s.at, s.valid_until, window, now)]


def relevant_views(profile: Profile, now: datetime) -> list[ViewEntry]:
    window = BUDGET_POLICY.view_relevant_for
    return [v for v in profile.views if is_relevant(v.at, v.valid_until, window, now)]


def only_relevant(profile: Profile, now: datetime) -> bool:
    events_window = BUDGET_POLICY.event_relevant_for
    half_life = BUDGET_POLICY.interest_half_life
    return (
        profile.searches == relevant_searches(profile, now)
        and profile.views == relevant_views(profile, now)
        and all(is_relevant(e.at, None, events_window, now) for e in profile.events)
        and all(
            decayed_interest(score, at, now, half_life) >= MIN_INTEREST
            for score, at in profile.interest.values()
        )
    )


@settings(deadline=None, max_examples=100)
@given(histories)
def test_every_set_cookie_stays_under_4096_bytes_and_keeps_what_matters(history):
    profile, now = replay(history)
    codec = ProfileCodec([SECRET])
    value = codec.encode(profile, BUDGET_POLICY, now)
    assert len(header(value)) < 4096

    decoded = codec.decode(value).profile
    assert decoded is not None
    assert (decoded.id, decoded.visits, decoded.purchases) == (
        profile.id,
        profile.visits,
        profile.purchases,
    )
    event("fits" if decoded == profile else "evicted")
    if decoded == profile:
        return
    assert only_relevant(decoded, now)
    relevant = relevant_searches(profile, now)
    assert decoded.searches == relevant[: len(decoded.searches)]
    if relevant:
        assert decoded.searches[0] == relevant[0]
    views = relevant_views(profile, now)
    assert decoded.views == views[: len(decoded.views)]
    if decoded.views != views:
        assert decoded.decisions == []
