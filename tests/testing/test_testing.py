"""`etalage.testing` (sdk/testing.py): a visitor pinned in or out of the holdout, a profile with a
history at a given moment, the cookies a browser would carry for it, and a client that browses
as a person and starts as that visitor."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from etalage.cookie import ConsentCodec, ProfileCodec
from etalage.demo import RULES, create_app
from etalage.middleware import EtalageMiddleware
from etalage.rules import load_ruleset, parse_ruleset
from etalage.testing import (
    BROWSER_USER_AGENT,
    START,
    EtalageClient,
    ManualClock,
    profile_cookies,
    profile_with,
    visitor_id,
)
from tests.middleware.site_fixture import KEYS, upstream_app, write_site
from tests.support.clients import profile_json, set_cookies

DEMO_RULES = load_ruleset(RULES)
ID = r"[A-Za-z0-9_-]{8,64}"


def rules_with_holdout(share: float, name: str = "another-site") -> str:
    return f"version: 1\nsite: {{name: {name}}}\nholdout: {share}\nrules: []\n"


# -- visitor_id: a pinned id in or out of the holdout -------------------------------------------


@pytest.mark.parametrize("holdout", [True, False])
@pytest.mark.parametrize(
    "ruleset",
    [
        pytest.param(DEMO_RULES, id="demo-10%"),
        pytest.param(parse_ruleset(rules_with_holdout(0.5)), id="another-50%"),
        pytest.param(parse_ruleset(rules_with_holdout(0.97)), id="another-97%"),
        pytest.param(parse_ruleset(rules_with_holdout(0.01, "tiny")), id="tiny-1%"),
    ],
)
def test_visitor_id_lands_in_the_asked_group_and_is_a_valid_id(ruleset, holdout):
    pinned = visitor_id(ruleset, holdout=holdout)
    assert ruleset.in_holdout(pinned) is holdout
    assert pinned.startswith("test-visitor-")
    assert re.fullmatch(ID, pinned)


def test_visitor_id_is_the_same_every_time_for_the_same_rule_set():
    again = load_ruleset(RULES)
    assert visitor_id(DEMO_RULES, holdout=True) == visitor_id(again, holdout=True)
    assert visitor_id(DEMO_RULES, holdout=False) == visitor_id(again, holdout=False)


def test_visitor_id_depends_on_the_site_seed():
    ins = {
        visitor_id(parse_ruleset(rules_with_holdout(0.1, f"s{n}")), holdout=True) for n in range(8)
    }
    assert len(ins) > 1


def test_visitor_id_in_a_holdout_of_zero_is_a_clear_error():
    no_holdout = parse_ruleset(rules_with_holdout(0))
    assert no_holdout.in_holdout(visitor_id(no_holdout, holdout=False)) is False
    with pytest.raises(ValueError, match="no holdout"):
        visitor_id(no_holdout, holdout=True)


def test_visitor_id_out_of_a_holdout_of_one_is_a_clear_error():
    everyone = parse_ruleset(rules_with_holdout(1))
    assert everyone.in_holdout(visitor_id(everyone, holdout=True)) is True
    with pytest.raises(ValueError, match="every consenting visitor"):
        visitor_id(everyone, holdout=False)


# -- profile_with: a history as the middleware records it ---------------------------------------


def test_profile_with_dates_each_entry_by_its_age_newest_first():
    now = START
    profile = profile_with(
        now,
        visitor_id="visitor-0042",
        searches=[("tent", "2d"), ("stove", timedelta(hours=3))],
        views=[("/product/hk-101.html", "3d", "hiking"), ("/about.html", "1h")],
    )
    moment = int(now.timestamp())
    assert profile.id == "visitor-0042"
    assert [(s.term, moment - s.at) for s in profile.searches] == [
        ("stove", 3 * 3600),
        ("tent", 2 * 86400),
    ]
    assert [(v.path, v.topic, moment - v.at) for v in profile.views] == [
        ("/about.html", None, 3600),
        ("/product/hk-101.html", "hiking", 3 * 86400),
    ]
    assert profile.interest == {"hiking": (1.0, moment - 3 * 86400)}
    assert profile.first_seen == moment - 3 * 86400 and profile.last_seen == moment - 3600
    assert profile.visits == 4  # each entry on its own visit: they are hours or days apart


def test_profile_with_records_events_through_the_history_rules():
    profile = profile_with(
        START,
        events=[("add_to_cart", "2d", {"sku": "cp-203", "price": 49.0}), ("purchase", "1d")],
        interests={"water": 2.5},
        prefs={"name": "Anna", "interests": ["water"]},
    )
    assert (profile.purchases, profile.purchase_total) == (1, 49.0)
    assert profile.cart.items == 0  # a purchase empties the cart
    assert profile.interest == {"water": (2.5, int(START.timestamp()))}
    assert profile.prefs == {"name": "Anna", "interests": ["water"]}


def test_profile_with_no_history_is_a_fresh_profile_at_now():
    profile = profile_with(START)
    moment = int(START.timestamp())
    assert (profile.visits, profile.first_seen, profile.last_seen) == (0, moment, moment)
    assert profile.searches == [] and profile.views == [] and profile.events == []


@pytest.mark.parametrize(
    ("age", "error"),
    [(-timedelta(days=1), ValueError), ("soon", ValueError), (2, TypeError)],
)
def test_profile_with_refuses_an_age_it_cannot_read(age, error):
    with pytest.raises(error):
        profile_with(START, searches=[("tent", age)])


def test_the_helpers_refuse_a_naive_datetime():
    with pytest.raises(ValueError, match="timezone-aware"):
        profile_with(datetime(2026, 12, 1, 9, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 12, 1, 9, 0))


# -- profile_cookies: what a browser carries ----------------------------------------------------


def test_profile_cookies_are_read_by_the_codecs_the_middleware_uses():
    profile = profile_with(START, visitor_id="visitor-0042", searches=[("tent", "2d")])
    cookies = profile_cookies(KEYS, profile, now=START)
    assert set(cookies) == {"etalage", "etalage_consent"}
    assert ConsentCodec(KEYS).decode(cookies["etalage_consent"]) is True
    read = ProfileCodec(KEYS[1:] + KEYS[:1], clock=lambda: START).decode(cookies["etalage"])
    assert read.profile == profile
    assert read.reissue  # sealed with the first key, the newest


def test_profile_cookies_are_dated_by_now():
    cookies = profile_cookies(KEYS, now=START)
    codec = ProfileCodec(KEYS, max_age=timedelta(days=180), clock=ManualClock(START))
    codec_later = ProfileCodec(KEYS, clock=lambda: START + timedelta(days=181))
    assert codec.decode(cookies["etalage"]).profile is not None
    assert codec_later.decode(cookies["etalage"]).profile is None  # past max_age


def test_profile_cookies_take_the_cookie_names_and_a_comma_separated_key_list():
    cookies = profile_cookies(
        "new-secret,old-secret", now=START, cookie_name="p", consent_cookie_name="c"
    )
    assert set(cookies) == {"p", "c"}
    assert ProfileCodec(KEYS).decode(cookies["p"]).profile is not None


@pytest.mark.parametrize("holdout", [True, False])
def test_profile_cookies_pin_the_visitor_in_the_asked_group(holdout):
    profile = profile_with(START, searches=[("tent", "2d")])
    cookies = profile_cookies(KEYS, profile, now=START, ruleset=DEMO_RULES, holdout=holdout)
    carried = ProfileCodec(KEYS, clock=lambda: START).decode(cookies["etalage"]).profile
    assert carried is not None
    assert DEMO_RULES.in_holdout(carried.id) is holdout
    assert carried.searches == profile.searches
    if DEMO_RULES.in_holdout(profile.id) is holdout:
        assert carried.id == profile.id  # already in the group: the id is kept


def test_profile_cookies_replace_an_id_in_the_wrong_group_and_leave_the_profile_alone():
    inside = visitor_id(DEMO_RULES, holdout=True)
    profile = profile_with(START, visitor_id=inside)
    cookies = profile_cookies(KEYS, profile, now=START, ruleset=DEMO_RULES)
    carried = ProfileCodec(KEYS, clock=lambda: START).decode(cookies["etalage"]).profile
    assert carried is not None and carried.id == visitor_id(DEMO_RULES, holdout=False)
    assert profile.id == inside


def test_profile_cookies_without_consent_carry_only_the_no():
    cookies = profile_cookies(KEYS, now=START, consent=False)
    assert list(cookies) == ["etalage_consent"]
    assert ConsentCodec(KEYS).decode(cookies["etalage_consent"]) is False
    with pytest.raises(ValueError, match="only kept with consent"):
        profile_cookies(KEYS, profile_with(START), now=START, consent=False)


def test_profile_cookies_refuse_what_the_middleware_would_not_read():
    with pytest.raises(ValueError, match="holdout=True needs the ruleset"):
        profile_cookies(KEYS, now=START, holdout=True)
    with pytest.raises(ValueError, match="would not read this profile back"):
        profile_cookies(KEYS, profile_with(START, prefs={"name": ["not", "text"]}), now=START)
    with pytest.raises(ValueError, match="secret key"):
        profile_cookies("", now=START)


# -- through the middleware: the test site and the demo shop ------------------------------------


@pytest.fixture
def site_app(tmp_path: Path, etalage_clock: ManualClock) -> EtalageMiddleware:
    """tests/middleware's site (continue-search while the search is within 14 days)."""
    rules = write_site(tmp_path)
    return EtalageMiddleware(upstream_app(), rules=rules, secret_keys=KEYS, clock=etalage_clock)


@pytest.mark.parametrize(("age", "shown"), [("2d", True), ("13d", True), ("15d", False)])
def test_cookies_for_a_search_some_days_ago_decide_the_hero(site_app, etalage_clock, age, shown):
    client = TestClient(site_app, headers={"User-Agent": BROWSER_USER_AGENT})
    profile = profile_with(etalage_clock.now, searches=[("tent", age)])
    client.cookies.update(profile_cookies(KEYS, profile, now=etalage_clock.now))
    page = client.get("/").text
    assert ("Continue your search for 'tent'" in page) is shown
    assert ("Default hero" in page) is not shown


def test_the_search_fades_when_the_pinned_clock_moves_on(site_app, etalage_clock, etalage_client):
    client = etalage_client(site_app, secret_keys=KEYS)
    client.start(profile_with(etalage_clock.now, searches=[("tent", "2d")]))
    assert "Continue your search for 'tent'" in client.get("/").text
    etalage_clock.advance("13d")  # 15 days after the search, past relevant_for: 14d
    assert "Default hero" in client.get("/").text


@pytest.mark.parametrize("holdout", [False, True])
def test_the_demo_shows_the_search_only_outside_the_holdout(etalage_clock, holdout):
    client = EtalageClient(
        create_app(secret_keys=["demo-key"], clock=etalage_clock),
        secret_keys=["demo-key"],
        clock=etalage_clock,
    )
    client.start(profile_with(etalage_clock.now, searches=[("tent", "2d")]), holdout=holdout)
    page = client.get("/").text
    assert ("Continue your search for “tent”" in page) is not holdout
    assert profile_json(client)["holdout"] is holdout


def test_the_demo_offers_a_search_with_a_trip_date_as_that_trip(etalage_clock):
    client = EtalageClient(
        create_app(secret_keys=["demo-key"], clock=etalage_clock),
        secret_keys=["demo-key"],
        clock=etalage_clock,
    )
    trip = datetime(2026, 12, 20, 22, 59, 59, tzinfo=UTC)
    client.start(profile_with(etalage_clock.now, searches=[("hut trek", "1d", trip)]))
    assert "Coming up on 20 December 2026" in client.get("/").text


# -- EtalageClient ------------------------------------------------------------------------------


def test_client_browses_as_a_person_not_as_a_bot(site_app):
    bot = TestClient(site_app, headers={"User-Agent": "python-httpx/0.28"})
    person = EtalageClient(site_app, secret_keys=KEYS)
    profile = profile_with(START, searches=[("tent", "2d")])
    for client in (bot, person):
        client.cookies.update(profile_cookies(KEYS, profile, now=START))
    assert "Default hero" in bot.get("/").text  # a bot gets the canonical page
    assert "Continue your search for 'tent'" in person.get("/").text
    assert person.headers["user-agent"] == BROWSER_USER_AGENT


def test_client_start_returns_the_profile_the_cookie_carries(site_app, etalage_clock):
    client = EtalageClient(site_app, secret_keys=KEYS, clock=etalage_clock)
    started = client.start(profile_with(etalage_clock.now, prefs={"name": "Ada"}))
    report = profile_json(client)
    assert report["holdout"] is False
    assert started.prefs == {"name": "Ada"}
    assert "Hello Ada" in client.get("/").text


def test_client_start_replaces_the_cookies_an_earlier_answer_set(site_app, etalage_clock):
    client = EtalageClient(site_app, secret_keys=KEYS, clock=etalage_clock)
    client.start(profile_with(etalage_clock.now, searches=[("tent", "1d")]))
    assert any(c.startswith("etalage=") for c in set_cookies(client.get("/")))
    client.start(profile_with(etalage_clock.now, searches=[("kayak", "1d")]))
    assert "Continue your search for 'kayak'" in client.get("/").text


def test_client_start_cookies_are_replaced_by_the_sites_answers(site_app, etalage_clock):
    client = EtalageClient(site_app, secret_keys=KEYS, clock=etalage_clock)
    client.start(profile_with(etalage_clock.now, searches=[("tent", "1d")]))
    client.get("/?q=kayak")  # the answer carries the profile with the new search
    assert len([c for c in client.cookies.jar if c.name == "etalage"]) == 1
    assert "Continue your search for 'kayak'" in client.get("/").text


def test_client_decline_is_a_visitor_who_said_no(site_app, etalage_clock):
    client = EtalageClient(site_app, secret_keys=KEYS, clock=etalage_clock)
    client.start(profile_with(etalage_clock.now, searches=[("tent", "1d")]))
    client.decline()
    response = client.get("/?q=kayak")
    assert "Default hero" in response.text
    assert "etalage" not in client.cookies
    assert profile_json(client)["consent"]["personalization"] is False


def test_client_of_a_wrapped_app_needs_the_rules(tmp_path):
    with pytest.raises(ValueError, match="give rules="):
        EtalageClient(upstream_app(), secret_keys=KEYS)
    client = EtalageClient(upstream_app(), secret_keys=KEYS, rules=write_site(tmp_path))
    assert client.ruleset.site.name == "test-site"


def test_client_takes_the_cookie_names_of_the_middleware(tmp_path, etalage_clock):
    app = EtalageMiddleware(
        upstream_app(),
        rules=write_site(tmp_path),
        secret_keys=KEYS,
        clock=etalage_clock,
        cookie_name="shop_profile",
        consent_cookie_name="shop_consent",
    )
    client = EtalageClient(app, secret_keys=KEYS, clock=etalage_clock)
    client.start(profile_with(etalage_clock.now, searches=[("tent", "1d")]))
    assert {"shop_profile", "shop_consent"} <= set(client.cookies)
    assert "Continue your search for 'tent'" in client.get("/").text


def test_client_start_refuses_a_middleware_that_keeps_profiles_in_a_store(tmp_path):
    app = EtalageMiddleware(
        upstream_app(),
        rules=write_site(tmp_path),
        secret_keys=KEYS,
        profile_store="redis://127.0.0.1:9/0",  # never reached: nothing is loaded or saved
    )
    with pytest.raises(ValueError, match="profile store"):
        EtalageClient(app, secret_keys=KEYS).start()


def test_manual_clock_stands_still_until_moved():
    clock = ManualClock()
    assert clock() == START
    assert clock.advance("15d") == START + timedelta(days=15) == clock()
    clock.now = START
    assert clock() == START
