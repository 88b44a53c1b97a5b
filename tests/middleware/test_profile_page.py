"""The visitor's own page (middleware/profile_page.py, profile_view.py, profile_wording.py):
what the site remembers and why, in words for a person, as HTML and as JSON."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from markupsafe import Markup

from etalage.errors import ConfigError
from etalage.middleware.profile_page import profile_report, render_profile_page
from etalage.middleware.profile_view import page_view
from etalage.middleware.profile_wording import Clock, evidence, experiment, humanize, slot_label
from etalage.middleware.settings import Settings, stylesheet_urls
from etalage.profile import CartState, Profile, SearchEntry, ViewEntry
from etalage.recency import HistoryPolicy
from etalage.request_facts import RequestFacts
from etalage.rules import parse_ruleset
from etalage.visitor import Visitor
from tests.support.clients import consent, profile_json

BERLIN = ZoneInfo("Europe/Berlin")
#: Thursday 3 December 2026, 10:00 in Berlin.
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script>&amp;'

RULES = """\
version: 1
site: {name: page-test, timezone: Europe/Berlin}
slots:
  hero: {label: Top of the home page}
history:
  search: {keep: 8, relevant_for: 14d}
  view: {keep: 20, relevant_for: 30d}
  interest: {half_life: 10d}
rules:
  - id: continue-search
    slot: hero
    fragment: hero.html
    when: {search.last: {$exists: true}}
    reason: You searched for this recently.
  - id: shelf
    slot: for-you
    variants:
      - {fragment: a.html, weight: 50}
      - {fragment: b.html, weight: 50}
    when: {interest.top: {$exists: true}}
    reason: You have been looking at this kind of gear lately.
  - id: phone
    slot: main-nav
    fragment: phone.html
    when: {device.type: mobile}
"""


@pytest.fixture(scope="module")
def ruleset():
    return parse_ruleset(RULES)


def at(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp())


def visitor_with(profile: Profile | None, ruleset, *, consent: bool | None = True) -> Visitor:
    facts = RequestFacts.from_scope(
        {"type": "http", "path": "/_etalage/profile", "headers": [(b"user-agent", b"Mozilla/5.0")]},
        ruleset.site.timezone,
        NOW,
    )
    return Visitor(facts=facts, now=NOW, consent=consent, profile=profile)


def searcher(term: str = "tent") -> Profile:
    """A visitor who searched for `term` two days ago and saw the hero adapted yesterday."""
    return Profile(
        id="visitor-1",
        visits=3,
        first_seen=at(20),
        last_seen=at(1),
        searches=[SearchEntry(term, at(2))],
        views=[ViewEntry("/product/hk-101.html", at(1), "hiking"), ViewEntry("/old", at(40))],
        interest={"hiking": (3.0, at(1))},
        cart=CartState(items=2, value=160.2, updated_at=at(1)),
        decisions=[
            {
                "path": "/",
                "at": at(1),
                "slots": {
                    "hero": ["continue-search", "You searched for this recently."],
                    "main-nav": [None, "no rule matched: default content"],
                },
            }
        ],
    )


def page_of(profile: Profile | None, ruleset, **options) -> str:
    report = profile_report(visitor_with(profile, ruleset, **options), ruleset)
    return render_profile_page(report, ruleset)


# --- words and dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "words"),
    [
        (NOW - timedelta(seconds=20), "just now"),
        (NOW - timedelta(minutes=5), "5 minutes ago"),
        (NOW - timedelta(hours=1), "one hour ago"),
        (NOW - timedelta(hours=9), "9 hours ago"),  # 01:00 in Berlin: the same day
        (NOW - timedelta(hours=11), "yesterday"),  # 23:00 in Berlin the day before
        (NOW - timedelta(days=2), "2 days ago"),
        (NOW - timedelta(days=30), "on 3 November"),
        (NOW - timedelta(days=400), "on 29 October 2025"),
    ],
)
def test_how_long_ago_is_said_in_words_in_the_site_time_zone(moment, words):
    assert Clock(NOW, BERLIN).ago(moment) == words


@pytest.mark.parametrize(
    ("moment", "words"),
    [
        (datetime(2026, 12, 2, 23, 30, tzinfo=UTC), "today at 00:30"),  # 3 December in Berlin
        (datetime(2026, 12, 2, 22, 30, tzinfo=UTC), "yesterday at 23:30"),
        (datetime(2026, 12, 4, 17, 0, tzinfo=UTC), "tomorrow at 18:00"),
        (datetime(2026, 12, 17, 9, 0, tzinfo=UTC), "on 17 December"),
        (datetime(2027, 1, 5, 9, 0, tzinfo=UTC), "on 5 January 2027"),
    ],
)
def test_a_moment_is_dated_in_the_site_time_zone(moment, words):
    assert Clock(NOW, BERLIN).when(moment) == words


def test_the_search_sentence_names_the_term_its_age_and_when_it_stops_counting(ruleset):
    report = profile_report(visitor_with(searcher(), ruleset), ruleset)
    sentences = evidence(
        {"search.last": {"$exists": True}},
        report["stored"],
        True,
        Clock(NOW, BERLIN),
        ruleset.history,
    )
    # Searched 1 December at 10:00 Berlin, relevant for 14 days.
    assert sentences == [
        "You searched for “tent” 2 days ago; we stop suggesting it on 15 December."
    ]


def test_a_search_about_a_date_stops_counting_after_that_date(ruleset):
    trip_end = int(datetime(2026, 12, 6, 23, 59, 59, tzinfo=BERLIN).timestamp())
    profile = Profile(id="v", searches=[SearchEntry("hiking", at(1), trip_end)])
    view = page_view(profile_report(visitor_with(profile, ruleset), ruleset), ruleset)
    [row] = view.searches
    assert row.cells == ["hiking", "yesterday", "6 December"]
    assert row.status == "Used until 6 December"


@pytest.mark.parametrize(
    ("paths", "sentence"),
    [
        ({"interest.top": {"$exists": True}}, "your interest in hiking is clear"),
        (
            {"cart.items": {"$gt": 0}},
            "Your cart holds 2 items worth 160.20, last changed yesterday.",
        ),
        (
            {"visits.count": {"$gte": 2}},
            "You have visited 3 times; the first visit was on 13 November.",
        ),
        ({"view.count": {"$gte": 1}}, "You viewed one page here, the latest yesterday"),
        ({"device.type": "mobile"}, "Chosen from the kind of device you are using now."),
    ],
)
def test_each_kind_of_condition_is_explained_with_the_visitors_own_data(ruleset, paths, sentence):
    report = profile_report(visitor_with(searcher(), ruleset), ruleset)
    [said] = evidence(paths, report["stored"], True, Clock(NOW, BERLIN), ruleset.history)
    assert sentence in said


def test_a_block_is_named_by_the_rule_file_label_else_by_its_slot_name_in_words(ruleset):
    page = page_of(searcher(), ruleset)
    assert "Top of the home page" in page
    assert "Main nav" in page and "main-nav:" not in page
    assert humanize("for-you") == "For you"


def test_the_page_says_things_in_words_not_debug_output(ruleset):
    page = page_of(searcher(), ruleset)
    assert not re.search(r"\d{4}-\d\d-\d\dT", page), "no ISO timestamps"
    assert "(s)" not in page
    assert "3.00" not in page and "160.2," not in page
    assert "You have visited 3 times" in page
    assert "Your cart holds 2 items worth 160.20" in page
    assert "<strong>Hiking</strong>: clear" in page


def test_the_technical_condition_is_behind_a_disclosure(ruleset):
    page = page_of(searcher(), ruleset)
    details = page[page.index('id="rule-continue-search"') :]
    details = details[details.index("<details>") : details.index("</details>")]
    assert "<summary>Technical details</summary>" in details
    assert "search.last" in details and "$exists" in details


def test_a_variant_is_said_in_words_and_the_recorded_form_kept_in_the_details():
    told = experiment("You have been looking at this kind of gear lately.; variant 2 of 2 (b.html)")
    assert told.reason == "You have been looking at this kind of gear lately."
    assert told.variant == (
        "We are comparing 2 versions of this block: you see version 2, and you keep seeing it "
        "on every visit."
    )


def test_a_held_out_block_says_the_visitor_sees_what_everyone_sees(ruleset):
    profile = searcher()
    profile.decisions[0]["slots"]["hero"] = [
        None,
        "holdout of rule 'continue-search': default content",
    ]
    view = page_view(profile_report(visitor_with(profile, ruleset), ruleset), ruleset)
    [choice] = view.pages[0].choices
    assert choice.held_out and choice.label == "Top of the home page"
    assert "comparison group" in choice.reason
    assert choice.condition is not None and "search.last" in choice.condition


def test_a_hostile_search_term_is_escaped_everywhere(ruleset):
    page = page_of(searcher(HOSTILE), ruleset)
    assert HOSTILE not in page
    assert "<script>" not in page
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;amp;"
    assert f'<td role="cell" data-label="Search">{escaped}</td>' in page
    assert f"You searched for “{escaped}” 2 days ago" in page


def test_sentences_are_markup_with_the_visitors_text_escaped(ruleset):
    report = profile_report(visitor_with(searcher(HOSTILE), ruleset), ruleset)
    [sentence] = evidence(
        {"search.last": 1}, report["stored"], True, Clock(NOW, BERLIN), ruleset.history
    )
    assert isinstance(sentence, Markup) and "<script>" not in sentence


@pytest.mark.parametrize(
    ("choice", "shown", "hidden"),
    [
        (True, ["Personalization is on.", "Turn personalization off"], ["Allow personalization"]),
        (False, ["Personalization is off.", "Allow personalization"], ["Turn personalization off"]),
        (None, ["Allow personalization", "Decline"], ["Turn personalization off"]),
    ],
)
def test_the_consent_buttons_offer_the_change_not_the_state_in_force(
    ruleset, choice, shown, hidden
):
    page = page_of(Profile.new(NOW) if choice else None, ruleset, consent=choice)
    for text in shown:
        assert text in page
    for text in hidden:
        assert text not in page


def test_the_page_has_landmarks_one_h1_and_ordered_headings(ruleset):
    page = page_of(searcher(), ruleset)
    assert page.count("<h1") == 1 and "<main" in page and "<nav" in page
    levels = [int(n) for n in re.findall(r"<h([1-6])", page)]
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))


def test_the_rule_jumped_to_can_take_focus(ruleset):
    page = page_of(searcher(), ruleset)
    assert 'id="rule-continue-search" tabindex="-1"' in page


def test_the_site_stylesheets_come_after_the_built_in_style(ruleset):
    report = profile_report(visitor_with(searcher(), ruleset), ruleset)
    page = render_profile_page(report, ruleset, stylesheets=("/static/a.css", "/s/b.css?v=2&x"))
    assert page.index("</style>") < page.index('<link rel="stylesheet" href="/static/a.css">')
    assert '<link rel="stylesheet" href="/s/b.css?v=2&amp;x">' in page


def test_an_unthemed_page_links_no_stylesheet(ruleset):
    assert "<link" not in page_of(searcher(), ruleset)


@pytest.mark.parametrize("urls", [("",), ('/a.css"><script>',), "/one-string.css"])
def test_a_bad_stylesheet_setting_fails_at_start_up(urls):
    with pytest.raises(ConfigError, match="profile_stylesheets"):
        Settings(profile_stylesheets=urls)


def test_one_stylesheet_or_several_are_accepted_by_the_keyword():
    assert stylesheet_urls("/a.css") == ("/a.css",)
    assert stylesheet_urls(["/a.css", "/b.css"]) == ("/a.css", "/b.css")
    assert stylesheet_urls(None) == ()


def test_without_a_rule_set_the_page_uses_utc_and_slot_names(ruleset):
    report = profile_report(visitor_with(searcher(), ruleset), ruleset)
    view = page_view(report)
    assert view.pages[0].choices[0].label == "Hero"
    assert HistoryPolicy().search_relevant_for == timedelta(days=14)


# --- through the middleware ----------------------------------------------------------------


def test_profile_page_lists_searches_and_the_reasons(client, clock):
    consent(client)
    client.get("/?q=tent")
    clock.now += timedelta(days=2)
    client.get("/")
    page = client.get("/_etalage/profile")
    assert page.headers["content-type"].startswith("text/html")
    assert "tent" in page.text
    assert 'id="rule-continue-search"' in page.text
    assert "You searched for this recently." in page.text
    # The clock starts on 1 December at 10:00 in Berlin, the site's zone.
    assert "You searched for “tent” 2 days ago; we stop suggesting it on 15 December." in page.text
    data = profile_json(client)
    slots = data["recent_decisions"][0]["slots"]
    [hero] = [s for s in slots if s["slot"] == "hero"]
    assert {"rule": "continue-search", "reason": "You searched for this recently."}.items() <= (
        hero.items()
    )


def test_download_my_data_is_the_json_export_as_an_attachment(client, clock):
    consent(client)
    client.get("/?q=tent")
    page = client.get("/_etalage/profile")
    assert 'href="/_etalage/export" download' in page.text
    download = client.get("/_etalage/export")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/json"
    assert (
        download.headers["content-disposition"] == 'attachment; filename="my-data-2026-12-01.json"'
    )
    assert download.headers["cache-control"] == "no-store"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert json.loads(download.text) == profile_json(client)
    assert [s["term"] for s in download.json()["stored"]["searches"]] == ["tent"]


def test_the_download_without_consent_holds_nothing_stored(client):
    download = client.get("/_etalage/export")
    assert download.status_code == 200 and download.json()["stored"] is None


def test_the_page_is_never_cached(client):
    consent(client)
    assert client.get("/_etalage/profile").headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("slot", "label"),
    [
        ("promos", "Offers for you"),
        ("promos#2", "Offers for you, block 2"),
        ("main-nav", "Main nav"),
        ("main-nav#3", "Main nav, block 3"),
        ("odd#x", "Odd"),
    ],
)
def test_a_take_n_slots_later_places_are_named_by_the_slot_and_their_place(slot, label):
    assert slot_label(slot, {"promos": "Offers for you"}) == label
