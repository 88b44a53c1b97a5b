"""A profile signed with our key (cookie) or found under our key (store) but holding malformed
contents is no profile: the visitor gets a fresh one and the normal pages, never a 500."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
import redis
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from starlette.testclient import TestClient

from etalage.cookie import ConsentCodec, ProfileCodec
from etalage.middleware import EtalageMiddleware
from etalage.sealed import Sealer
from etalage.store import RedisProfileStore, VisitorIdCodec

from .site_fixture import DESKTOP, upstream_app, write_site

KEYS = ["new-secret", "old-secret"]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
AT = int(NOW.timestamp())
PAGE = {"path": "/", "at": AT, "slots": {"hero": ["continue-search", "because"]}}

MALFORMED = {
    "number as name": {"r": {"name": 5}},
    "text as interests": {"r": {"interests": "x"}},
    "nested preference": {"r": {"name": {"first": {"deep": ["x"]}}}},
    "moment past year 9999": {"l": 2**52},
    "negative moment": {"f": -1},
    "search at past year 9999": {"s": [["tent", 2**52]]},
    "horizon past year 9999": {"s": [["tent", AT, 2**52]]},
    "dismissed at past year 9999": {"d": {"greet": 2**52}},
    "decision at past year 9999": {"k": [{**PAGE, "at": 2**52}]},
    "decision slots as a list": {"k": [{**PAGE, "slots": ["hero"]}]},
    "decision slot without a reason": {"k": [{**PAGE, "slots": {"hero": ["continue-search"]}}]},
    "decision slot as text": {"k": [{**PAGE, "slots": {"hero": "continue-search"}}]},
    "decision without a path": {"k": [{"at": AT, "slots": {}}]},
    "decision with a numeric rule": {"k": [{**PAGE, "slots": {"hero": [7, "because"]}}]},
    "nested event data": {"e": [["video_play", AT, {"a": {"b": [1, {"c": None}]}}]]},
    "text as interest score": {"n": {"hiking": ["high", AT]}},
    "negative interest score": {"n": {"hiking": [-1.0, AT]}},
    "text as cart value": {"c": [1, "12.50"]},
    "negative purchase total": {"p": [1, -5.0]},
    "fractional exposure count": {"x": {"greet": 0.5}},
}


class _SignedNow(TimestampSigner):
    def get_timestamp(self) -> int:
        return AT


def signed(data: object) -> str:
    """A profile cookie value signed with our current key at `NOW`, in the format before
    sealing (still read): the contents reach `Profile.from_compact` as they are."""
    serializer = URLSafeTimedSerializer(
        KEYS[0], salt="etalage.profile", serializer=json, signer=_SignedNow
    )
    return serializer.dumps(data)


def sealed(data: object) -> str:
    """A profile cookie value sealed with our current key at `NOW`, as the codec seals one: the
    contents reach `Profile.from_msgpack` as they are."""
    sealer = Sealer(KEYS, purpose="etalage.profile", max_age=timedelta(days=180), clock=lambda: NOW)
    return sealer.seal(b"\x01" + msgspec.msgpack.encode(data))


WRITERS = pytest.mark.parametrize("write", [signed, sealed], ids=["before sealing", "sealed"])


def compact(contents: dict) -> dict:
    return {"i": "visitor-0001", "v": 3, "f": AT, "l": AT, **contents}


@pytest.fixture
def client(tmp_path):
    app = EtalageMiddleware(
        upstream_app(), rules=write_site(tmp_path), secret_keys=KEYS, clock=lambda: NOW
    )
    client = TestClient(app, headers={"User-Agent": DESKTOP})
    client.cookies.set("etalage_consent", ConsentCodec(KEYS).encode(True))
    return client


@WRITERS
def test_the_signing_used_here_is_what_the_codec_reads(write):
    well_formed = compact({"s": [["tent", AT]], "r": {"name": "Ada"}, "k": [PAGE]})
    decoded = ProfileCodec(KEYS, clock=lambda: NOW).decode(write(well_formed))
    assert decoded.profile is not None
    assert decoded.profile.prefs == {"name": "Ada"}


@WRITERS
@pytest.mark.parametrize("contents", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_contents_are_no_profile(write, contents):
    assert ProfileCodec(KEYS, clock=lambda: NOW).decode(write(compact(contents))).profile is None


@pytest.mark.parametrize("contents", MALFORMED.values(), ids=MALFORMED.keys())
def test_the_profile_page_treats_malformed_contents_as_no_profile(client, contents):
    client.cookies.set("etalage", signed(compact(contents)))
    page = client.get("/_etalage/profile", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    data = client.get("/_etalage/profile", headers={"Accept": "application/json"})
    assert data.status_code == 200
    stored = data.json()["stored"]
    assert stored["id"] != "visitor-0001"
    assert (stored["visits"], stored["searches"], stored["prefs"]) == (0, [], {})
    assert data.json()["recent_decisions"] == []


@WRITERS
@pytest.mark.parametrize("contents", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_page_with_malformed_contents_gets_the_default_content(client, write, contents):
    client.cookies.set("etalage", write(compact(contents)))
    response = client.get("/")
    assert response.status_code == 200
    assert "Default hero" in response.text
    assert "Hello" not in response.text


@pytest.mark.parametrize(
    "contents",
    [
        {"s": [["Zo\ud800", AT]]},
        {"w": [["/Zo\udfff", AT]]},
        {"n": {"Zo\ud800": [1.0, AT]}},
        {"r": {"name": "Zo\ud800", "interests": ["x"]}},
        {"e": [["ping", AT, {"a": "Zo\ud800"}]]},
        {"k": [{"path": "/", "at": AT, "slots": {"hero": [None, "Zo\ud800"]}}]},
    ],
)
def test_stored_text_utf8_cannot_carry_is_no_profile(client, contents):
    """JSON can hold a lone surrogate; no page or JSON answer can send it back."""
    client.cookies.set("etalage", signed(compact(contents)))
    page = client.get("/_etalage/profile", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Zo" not in page.text
    data = client.get("/_etalage/profile", headers={"Accept": "application/json"})
    assert data.status_code == 200
    assert data.json()["stored"]["searches"] == [] and data.json()["stored"]["prefs"] == {}
    assert client.get("/").status_code == 200


def test_a_signed_cookie_nested_too_deep_for_json_is_no_profile():
    class Nested:  # what `json.dumps` could never write: far deeper than the parser recurses
        @staticmethod
        def dumps(data: object) -> str:
            return "[" * 100_000

    value = URLSafeTimedSerializer(KEYS[0], salt="etalage.profile", serializer=Nested).dumps(None)
    assert ProfileCodec(KEYS).decode(value).profile is None


# -- a foreign value in the profile store ----------------------------------------------------

FOREIGN = {
    "nested too deep": b"[" * 100_000,
    "not JSON": b"\x80\x81 not json",
    "JSON of another shape": b'{"user": "visitor-0001"}',
    **{name: json.dumps(compact(contents)).encode() for name, contents in MALFORMED.items()},
    "lone surrogate, escaped": json.dumps(compact({"r": {"name": "Zo\ud800"}})).encode(),
    "lone surrogate, as bytes": json.dumps(
        compact({"r": {"name": "Zo\ud800"}}), ensure_ascii=False
    ).encode("utf-8", "surrogatepass"),
}


@pytest.mark.parametrize("raw", FOREIGN.values(), ids=FOREIGN.keys())
def test_a_foreign_value_in_the_store_is_no_profile(redis_server, caplog, raw):
    with redis.Redis.from_url(redis_server.url) as r:
        r.set("etalage:profile:visitor-0001", raw)

    async def load() -> object:
        store = RedisProfileStore(redis_server.url, timeout=5.0)
        try:
            return await store.load("visitor-0001")
        finally:
            await store.close()

    with caplog.at_level(logging.WARNING, logger="etalage"):
        assert asyncio.run(load()) is None
    assert "stored profile visitor-0001 unreadable" in caplog.text


def test_the_profile_page_and_a_page_answer_over_a_foreign_stored_value(redis_server, tmp_path):
    with redis.Redis.from_url(redis_server.url) as r:
        r.set("etalage:profile:visitor-0001", FOREIGN["nested too deep"])
    store = RedisProfileStore(redis_server.url, timeout=5.0)
    app = EtalageMiddleware(
        upstream_app(),
        rules=write_site(tmp_path),
        secret_keys=KEYS,
        clock=lambda: NOW,
        profile_store=store,
    )
    with TestClient(app, headers={"User-Agent": DESKTOP}) as client:
        client.cookies.set("etalage_consent", ConsentCodec(KEYS).encode(True))
        ids = VisitorIdCodec(KEYS, max_age=timedelta(days=180), clock=lambda: NOW)
        visitor_id = ids.encode("visitor-0001")
        client.cookies.set("etalage", visitor_id)
        for accept in ("text/html", "application/json"):
            assert client.get("/_etalage/profile", headers={"Accept": accept}).status_code == 200
        response = client.get("/")
        assert response.status_code == 200
        assert "Default hero" in response.text
