"""Counts within windows, the facts of the current visit and ``take: N`` slots, through the
real app: what a visitor does changes the page they get next."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from etalage.cookie import ProfileCodec
from etalage.middleware import EtalageMiddleware
from tests.support.clients import consent
from tests.support.clocks import Clock
from tests.support.sinks import ListSink

from .site_fixture import DESKTOP

KEYS = ["counts-secret"]

RULES = """\
version: 1
site: {name: counts-site, timezone: Europe/Berlin}
slots:
  promos: {label: Offers for you, take: 2}
rules:
  - id: keen-hiker
    slot: hero
    fragment: keen.html
    when: {views.topic.hiking.7d: {$gte: 3}}
    reason: You looked at hiking a few times this week.
  - id: from-newsletter
    slot: banner
    fragment: newsletter.html
    when: {visit.utm_source: spring, visit.pages: {$gte: 2}}
  - id: came-from-news
    slot: referrer
    fragment: referrer.html
    when: {visit.referrer: news.example}
  - id: promo-boots
    slot: promos
    fragment: boots.html
    priority: 30
    when: {views.path./boots.30d: {$gte: 1}}
  - id: promo-tents
    slot: promos
    fragment: tents.html
    priority: 20
  - id: promo-stoves
    slot: promos
    fragment: stoves.html
    priority: 10
"""

FRAGMENTS = {
    "keen.html": "<p class=keen>Hiking again? {{ visitor['views.topic.hiking.7d'] }} views</p>",
    "newsletter.html": "<p class=news>Welcome from our {{ visitor['visit.utm_source'] }} mail</p>",
    "referrer.html": "<p class=ref>Hello, reader of {{ visitor['visit.referrer'] }}</p>",
    "boots.html": "<li>Boots</li>",
    "tents.html": "<li>Tents</li>",
    "stoves.html": "<li>Stoves</li>",
}


def page(topic: str) -> str:
    return (
        f'<!doctype html><html><head><meta name="etalage:topic" content="{topic}"></head><body>'
        '<div data-slot="hero">Default hero</div>'
        '<div data-slot="banner">Default banner</div>'
        '<div data-slot="referrer">Default referrer</div>'
        '<ul data-slot="promos"><li>Our picks</li></ul>'
        "</body></html>"
    )


@pytest.fixture
def sink() -> ListSink:
    return ListSink()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(tmp_path: Path, clock: Clock, sink: ListSink) -> TestClient:
    rules = tmp_path / "site.yaml"
    rules.write_text(RULES)
    for name, text in FRAGMENTS.items():
        (tmp_path / "fragments").mkdir(exist_ok=True)
        (tmp_path / "fragments" / name).write_text(text)
    upstream = Starlette(
        routes=[
            Route("/trips", lambda request: HTMLResponse(page("hiking"))),
            Route("/boots", lambda request: HTMLResponse(page("gear"))),
            Route("/", lambda request: HTMLResponse(page("home"))),
        ]
    )
    app = EtalageMiddleware(upstream, rules=rules, secret_keys=KEYS, clock=clock, event_sink=sink)
    return TestClient(app, headers={"User-Agent": DESKTOP, "Host": "shop.example"})


# --- counts within windows ------------------------------------------------------------------


def test_a_count_rule_shows_once_a_topic_was_viewed_often_enough(client, clock):
    consent(client)
    for _ in range(2):
        assert "class=keen" not in client.get("/trips").text
        clock.now += timedelta(days=1)
    shown = client.get("/trips").text  # the third view within 7 days
    assert "<p class=keen>Hiking again? 3 views</p>" in shown
    assert "Default hero" not in shown


def test_views_older_than_the_window_stop_counting(client, clock):
    consent(client)
    for _ in range(3):
        client.get("/trips")
        clock.now += timedelta(days=3)  # views on days 0, 3 and 6, then day 9
    assert "class=keen" not in client.get("/").text  # day 9: only the views of days 3 and 6


def test_without_consent_nothing_is_counted(client):
    for _ in range(4):
        assert "class=keen" not in client.get("/trips").text
    assert client.cookies.get("etalage") is None


def test_the_cookie_counts_only_what_the_rules_read(client):
    consent(client)
    client.get("/trips")
    client.get("/boots", params={"q": "tent"})  # a page of topic "gear", and a search
    profile = ProfileCodec(KEYS).decode(client.cookies["etalage"]).profile
    assert profile is not None
    assert profile.searches[0].term == "tent"  # remembered as a search, but not counted
    assert set(profile.counts) == {"t:hiking", "p:/boots"}


# --- the current visit ----------------------------------------------------------------------


def test_the_visit_remembers_the_source_of_its_first_request(client, clock):
    consent(client)
    first = client.get("/", params={"utm_source": "spring"})
    assert "class=news" not in first.text  # one page so far
    clock.now += timedelta(minutes=5)
    second = client.get("/trips")  # no utm_source here: the visit's first request had it
    assert "<p class=news>Welcome from our spring mail</p>" in second.text
    clock.now += timedelta(hours=1)  # a new visit, from nowhere in particular
    assert "class=news" not in client.get("/trips").text


def test_the_visit_keeps_the_host_of_an_external_referrer_only(client, clock):
    consent(client)
    shown = client.get("/", headers={"Referer": "https://news.example/article?id=7"}).text
    assert "<p class=ref>Hello, reader of news.example</p>" in shown
    clock.now += timedelta(minutes=1)
    assert "class=ref" in client.get("/trips", headers={"Referer": "http://shop.example/"}).text
    clock.now += timedelta(hours=1)  # a new visit begun by a link within the site
    assert "class=ref" not in client.get("/", headers={"Referer": "http://shop.example/"}).text


# --- take: N --------------------------------------------------------------------------------


def test_a_take_n_slot_shows_the_n_best_winners_in_priority_order(client):
    consent(client)
    first = client.get("/").text
    assert '<ul data-slot="promos"><li>Tents</li><li>Stoves</li></ul>' in first
    client.get("/boots")  # now promo-boots (priority 30) matches too
    again = client.get("/").text
    assert '<ul data-slot="promos"><li>Boots</li><li>Tents</li></ul>' in again


def test_every_block_of_a_take_n_slot_is_an_exposure_with_its_why(client, sink):
    consent(client)
    client.get("/")
    shown = [e["rule"] for e in sink.events if e["type"] == "exposure" and e["slot"] == "promos"]
    assert shown == ["promo-tents", "promo-stoves"]
    profile = ProfileCodec(KEYS).decode(client.cookies["etalage"]).profile
    assert profile is not None
    assert profile.exposures["promo-tents"] == profile.exposures["promo-stoves"] == 1
    slots = profile.decisions[0]["slots"]
    assert slots["promos"][0] == "promo-tents"
    assert slots["promos#2"][0] == "promo-stoves"


def test_a_take_n_slot_without_consent_shows_the_contextual_winners(client):
    page_html = client.get("/").text
    assert '<ul data-slot="promos"><li>Tents</li><li>Stoves</li></ul>' in page_html
