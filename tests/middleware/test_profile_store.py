"""Profiles in a real Redis: the cookie holds a signed id, history follows an identified visitor."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import redis
from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware
from etalage.profile import Profile
from etalage.store import RedisProfileStore, StoreUnavailable, VisitorIdCodec
from tests.support.clients import consent, profile_json, set_cookies
from tests.support.clocks import Clock, Monotonic
from tests.support.redis_server import RedisServer

from .site_fixture import DESKTOP, upstream_app, write_site

KEYS = ["store-secret"]


@pytest.fixture
def make_client(tmp_path):
    rules = write_site(tmp_path)
    opened = []

    def make(
        url: str, timeout: float = 5.0, retry_after: float = 0.0, monotonic: Monotonic | None = None
    ) -> TestClient:
        # A generous timeout: a loaded test machine must not look like a Redis outage.
        store = RedisProfileStore(
            url, timeout=timeout, retry_after=retry_after, monotonic=monotonic or Monotonic()
        )
        app = EtalageMiddleware(
            upstream_app(), rules=rules, secret_keys=KEYS, clock=Clock(), profile_store=store
        )
        client = TestClient(app, headers={"User-Agent": DESKTOP}).__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def stored_ids(url: str) -> list[str]:
    with redis.Redis.from_url(url) as r:
        return sorted(k.decode().rsplit(":", 1)[1] for k in r.scan_iter("etalage:profile:*"))


def test_cookie_holds_only_a_signed_id_and_history_lives_in_redis(make_client, redis_server):
    client = make_client(redis_server.url)
    consent(client)
    client.get("/?q=tent")
    cookie = client.cookies["etalage"]
    visitor_id, _ = VisitorIdCodec(KEYS, max_age=timedelta(days=1)).decode(cookie)
    assert visitor_id is not None and len(cookie) < 100
    assert visitor_id in stored_ids(redis_server.url)
    assert "Continue your search for 'tent'" in client.get("/").text


def test_the_id_cookie_is_set_once_not_on_every_answer(make_client, redis_server):
    client = make_client(redis_server.url)
    consent(client)
    first = client.get("/?q=tent")
    again = client.get("/?q=stove")
    assert not [c for c in set_cookies(first) + set_cookies(again) if c.startswith("etalage=")]
    assert "'stove'" in client.get("/").text


def test_a_login_merges_the_anonymous_history_into_the_known_profile(make_client, redis_server):
    laptop, phone = make_client(redis_server.url), make_client(redis_server.url)
    consent(laptop)
    laptop.get("/?q=headlamp")
    assert laptop.post("/login?account=ana", follow_redirects=False).status_code == 303
    consent(phone)
    phone.get("/?q=stove")  # anonymous on the phone, before the login
    assert "'headlamp'" not in phone.get("/").text
    assert phone.post("/login?account=ana", follow_redirects=False).status_code == 303
    terms = {entry["term"] for entry in profile_json(phone)["stored"]["searches"]}
    assert terms == {"headlamp", "stove"}
    # The cookies carry their signing time, so compare the ids they sign, not the raw values.
    codec = VisitorIdCodec(KEYS, max_age=timedelta(days=1))
    laptop_id, _ = codec.decode(laptop.cookies["etalage"])
    phone_id, _ = codec.decode(phone.cookies["etalage"])
    assert laptop_id is not None and laptop_id == phone_id
    laptop.get("/?q=lantern")  # both devices now add to the one profile
    assert "Continue your search for 'lantern'" in phone.get("/").text


def test_a_typed_email_is_a_contact_preference_not_an_identity(make_client, redis_server):
    """Typing someone else's address must not hand over their profile (issue 9, point 1)."""
    victim, attacker = make_client(redis_server.url), make_client(redis_server.url)
    consent(victim)
    victim.get("/?q=engagement%20ring")
    stated = {"email": "victoria@example.org", "name": "Victoria"}
    assert victim.post("/_etalage/preferences", json=stated).status_code == 200
    victim_id = profile_json(victim)["stored"]["id"]

    consent(attacker)
    answer = attacker.post("/_etalage/preferences", json={"email": " VICTORIA@example.org"})
    assert answer.status_code == 200
    assert answer.json()["prefs"] == {"email": "VICTORIA@example.org"}
    seen = attacker.get("/").text
    assert "Victoria" not in seen and "engagement ring" not in seen
    mine = profile_json(attacker)["stored"]
    assert mine["id"] != victim_id
    assert mine["searches"] == [] and mine["prefs"] == {"email": "VICTORIA@example.org"}
    # The victim's later browsing stays theirs, and "forget me" forgets only the attacker.
    victim.get("/?q=flowers")
    assert "flowers" not in attacker.get("/").text
    attacker.post("/_etalage/forget", json={})
    assert victim_id in stored_ids(redis_server.url)
    assert "Continue your search for 'flowers'" in victim.get("/").text
    assert "Hello Victoria" in victim.get("/").text


def test_forget_and_decline_delete_the_stored_profile(make_client, redis_server):
    client = make_client(redis_server.url)
    consent(client)
    client.get("/?q=tent")
    before = set(stored_ids(redis_server.url))
    visitor_id = client.get("/_etalage/profile", headers={"Accept": "application/json"}).json()[
        "stored"
    ]["id"]
    assert visitor_id in before
    consent(client, granted=False)
    assert visitor_id not in stored_ids(redis_server.url)
    consent(client)
    client.get("/?q=tent")
    [new_id] = set(stored_ids(redis_server.url)) - before
    client.post("/_etalage/forget", json={})
    assert new_id not in stored_ids(redis_server.url)


def test_redis_outage_serves_defaults_logs_once_and_recovers(make_client, caplog):
    with RedisServer() as server:
        client = make_client(server.url)
        consent(client)
        client.get("/?q=tent")
        assert "Continue your search" in client.get("/").text
        server.stop()
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="etalage"):
            pages = [client.get("/") for _ in range(5)]
        assert all(p.status_code == 200 for p in pages)
        assert all("Default hero" in p.text for p in pages)
        outage_lines = [r for r in caplog.records if "unavailable" in r.getMessage()]
        assert len(outage_lines) == 1
        form = client.post("/_etalage/preferences", data={"name": "Bo"}, follow_redirects=False)
        assert form.status_code == 503  # a form post too: no redirect pretending it worked
        refused = client.post("/_etalage/preferences", json={"name": "Bo"})
        assert refused.status_code == 503 and "your profile was not updated" in refused.text
        event = client.post("/_etalage/event", json={"type": "add_to_cart", "data": {"price": 1}})
        assert event.status_code == 503
        server.start()  # an empty Redis: the visitor keeps the id and starts a new history
        client.get("/?q=lamp")
        assert "Continue your search for 'lamp'" in client.get("/").text


def test_a_profile_changed_by_another_worker_is_read_afresh(redis_server):
    """Each store remembers the JSON it last saved or read; a change elsewhere must win."""
    import asyncio

    from etalage.history import record_search
    from etalage.recency import HistoryPolicy

    policy, now = HistoryPolicy(), datetime(2026, 5, 10, 12, tzinfo=UTC)

    async def scenario() -> None:
        one, two = RedisProfileStore(redis_server.url), RedisProfileStore(redis_server.url)
        try:
            profile = Profile(id="visitor-0001")
            record_search(profile, policy, now, "tent")
            await one.save(profile)
            mine = await one.load(profile.id)
            assert mine is not None and [s.term for s in mine.searches] == ["tent"]
            mine.prefs["name"] = "not saved"  # a request's change that is never saved
            theirs = await two.load(profile.id)
            assert theirs is not None
            record_search(theirs, policy, now, "stove")
            await two.save(theirs)
            again = await one.load(profile.id)
            assert again is not None and [s.term for s in again.searches] == ["stove", "tent"]
            assert "name" not in again.prefs
            await two.delete(profile.id)
            assert await one.load(profile.id) is None
        finally:
            await one.close()
            await two.close()

    asyncio.run(scenario())


def test_a_store_url_asking_for_text_replies_still_loads_profiles(redis_server):
    import asyncio

    async def scenario() -> None:
        store = RedisProfileStore(redis_server.url + "?decode_responses=true")
        try:
            profile = Profile(id="visitor-0002", prefs={"name": "Ana"})
            await store.save(profile)
            first, again = await store.load(profile.id), await store.load(profile.id)
            assert first == profile and again == profile
            fresh = RedisProfileStore(redis_server.url + "?decode_responses=true")
            assert await fresh.load(profile.id) == profile
            await fresh.close()
        finally:
            await store.close()

    asyncio.run(scenario())


def test_after_a_failure_the_store_is_left_alone_for_a_moment(make_client):
    monotonic = Monotonic()
    with RedisServer() as server:
        client = make_client(server.url, retry_after=2.0, monotonic=monotonic)
        consent(client)
        server.stop()
        assert client.get("/").status_code == 200  # the failure that opens the pause
        server.start()
        with redis.Redis.from_url(server.url) as counter:

            def commands() -> int:
                return int(counter.info("stats")["total_commands_processed"])

            before = commands()
            assert client.get("/").status_code == 200
            # Not asked within the pause (a slow Redis costs the following requests nothing);
            # the one command counted is this test's own INFO.
            assert commands() == before + 1
            monotonic.now += 1.9
            assert client.get("/").status_code == 200
            assert commands() == before + 2  # still within the pause: only this INFO again
            monotonic.now += 0.2
            client.get("/?q=lamp")
            assert commands() > before + 3
        assert "Continue your search for 'lamp'" in client.get("/").text


def test_no_during_an_outage_deletes_the_stored_profile_once_redis_answers(make_client):
    import os
    import signal

    with RedisServer() as server:
        assert server.process is not None
        client = make_client(server.url, timeout=0.3)
        consent(client)
        client.get("/?q=tent")
        (visitor_id,) = stored_ids(server.url)
        os.kill(server.process.pid, signal.SIGSTOP)  # hangs: every command times out
        try:
            response = client.post("/_etalage/consent", json={"personalization": False})
            assert response.status_code == 200
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        assert stored_ids(server.url) == [visitor_id]  # not yet: the store did not answer
        client.cookies.clear()  # another visitor of the same server process
        consent(client)
        client.get("/")  # the store's next answer carries out the pending deletion
        assert visitor_id not in stored_ids(server.url)


def test_a_login_on_a_redirect_answer_hands_out_the_merged_id(make_client, redis_server):
    laptop, phone = make_client(redis_server.url), make_client(redis_server.url)
    consent(laptop)
    laptop.get("/?q=headlamp")
    assert laptop.post("/login", follow_redirects=False).status_code == 303
    consent(phone)
    answer = phone.post("/login", follow_redirects=False)
    assert answer.status_code == 303
    assert [c for c in set_cookies(answer) if c.startswith("etalage=")]
    assert "Continue your search for 'headlamp'" in phone.get("/").text


def test_a_profile_waiting_to_be_deleted_is_never_read_again(redis_server):
    import asyncio
    import os
    import signal

    async def scenario(server: RedisServer) -> None:
        assert server.process is not None
        store = RedisProfileStore(server.url, timeout=0.3, retry_after=0.0)
        try:
            await store.save(Profile(id="visitor-0003", prefs={"name": "Ana"}))
            os.kill(server.process.pid, signal.SIGSTOP)
            try:
                with pytest.raises(StoreUnavailable):
                    await store.delete("visitor-0003")
            finally:
                os.kill(server.process.pid, signal.SIGCONT)
            assert await store.load("visitor-0003") is None  # not read back meanwhile
            assert await store.load("visitor-0004") is None  # the next command: DEL first
            assert stored_ids(server.url) == []
        finally:
            await store.close()

    with RedisServer() as server:
        asyncio.run(scenario(server))


def test_a_profile_saved_by_the_version_before_is_read(redis_server):
    """It saved `json.dumps` of `to_compact` (ASCII escapes, unset trailing fields left out)."""
    import asyncio
    import json

    from etalage.history import record_decisions, record_event, record_search, record_view
    from etalage.recency import HistoryPolicy

    policy, now = HistoryPolicy(), datetime(2026, 5, 10, 12, tzinfo=UTC)
    profile = Profile(id="visitor-0005", visits=2, prefs={"name": "Zoë", "interests": ["x"]})
    record_search(profile, policy, now, "tent")
    record_view(profile, policy, now, "/a", topic="camping")
    record_event(profile, policy, now, "add_to_cart", {"price": 12.5})
    record_decisions(profile, now, "/", {"hero": ("continue-search", "because")})
    before = json.JSONEncoder(separators=(",", ":")).encode(profile.to_compact()).encode()
    with redis.Redis.from_url(redis_server.url) as r:
        r.set("etalage:profile:visitor-0005", before)

    async def load() -> Profile | None:
        store = RedisProfileStore(redis_server.url, timeout=5.0)
        try:
            return await store.load("visitor-0005")
        finally:
            await store.close()

    assert asyncio.run(load()) == profile


def test_the_stored_json_is_the_compact_form(redis_server):
    import asyncio
    import json

    profile = Profile(id="visitor-0006", visits=1, prefs={"name": "Ana"})

    async def save() -> None:
        store = RedisProfileStore(redis_server.url, timeout=5.0)
        try:
            await store.save(profile)
        finally:
            await store.close()

    asyncio.run(save())
    with redis.Redis.from_url(redis_server.url) as r:
        stored = r.get("etalage:profile:visitor-0006")
    assert json.loads(stored) == profile.to_compact()


def test_a_profile_holding_text_utf8_cannot_carry_is_not_saved(redis_server, caplog):
    """A lone surrogate (app code may put one in) could never be read back: what was stored
    before stays, and saving does not fail."""
    import asyncio

    async def scenario() -> Profile | None:
        store = RedisProfileStore(redis_server.url, timeout=5.0)
        fresh = RedisProfileStore(redis_server.url, timeout=5.0)  # another worker
        try:
            await store.save(Profile(id="visitor-0007", prefs={"name": "Ana"}))
            await store.save(Profile(id="visitor-0007", prefs={"name": "Zo\ud800"}))
            return await fresh.load("visitor-0007")
        finally:
            await store.close()
            await fresh.close()

    with caplog.at_level(logging.WARNING, logger="etalage"):
        assert asyncio.run(scenario()) == Profile(id="visitor-0007", prefs={"name": "Ana"})
    assert "visitor-0007 holds text UTF-8 cannot carry" in caplog.text
