"""The catalogue of attribute paths: what each holds, and the typos it names."""

from __future__ import annotations

from datetime import date

import pytest

from etalage.rules import condition_paths
from etalage.rules.attributes import (
    BOOLEAN,
    LIST,
    NUMBER,
    TEXT,
    attribute,
    clauses,
    condition_warnings,
    reorder_warning,
)
from tests.rules.test_conformance import CONDITION_CASES


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("search.last", TEXT),
        ("search.recent", LIST),
        ("interest.hiking", NUMBER),
        ("interest.topics", LIST),
        ("prefs.channel", TEXT),
        ("prefs.interests", LIST),
        ("event.subscribe.count", NUMBER),
        ("event.add_to_cart.age_hours", NUMBER),
        ("request.query.q", TEXT),
        ("request.utm.source", TEXT),
        ("page.topic", TEXT),
        ("consent.personalization", BOOLEAN),
        ("segment.returning", BOOLEAN),
    ],
)
def test_known_paths_say_what_they_hold(path, expected):
    assert attribute(path, segments={"returning"}) == expected


@pytest.mark.parametrize(
    "path", ["serch.last", "interest", "prefs.", "event.subscribe", "segment.vip", "device"]
)
def test_paths_no_visitor_has_are_unknown(path):
    assert attribute(path, segments={"returning"}) is None


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"serch.last": {"$exists": True}}, "unknown attribute 'serch.last' (did you mean 'search.last'?)"),
        ({"intrest.hiking": {"$gt": 0.5}}, "unknown attribute 'intrest.hiking' (did you mean 'interest.hiking'?)"),
        ({"event.signup": 1}, "unknown attribute 'event.signup' (did you mean 'event.signup.count'?)"),
        ({"segment.vip": True}, "unknown attribute 'segment.vip'"),
        ({"device.type": "phone"}, "'phone' is never a value of device.type (mobile, tablet, desktop)"),
        ({"device.type": {"$in": ["tablet", "Mobile"]}}, "'Mobile' is never a value of device.type (mobile, tablet, desktop); did you mean 'mobile'?"),
        ({"lifecycle": {"$eq": "loyal"}}, "'loyal' is never a value of lifecycle (new, returning, customer, lapsed)"),
        ({"consent.personalization": "true"}, "'true' is never a value of consent.personalization (true, false)"),
        ({"device.bot": {"$ne": 1}}, "1 is never a value of device.bot (true, false)"),
        ({"time.hour": {"$in": [7, 24]}}, "24 is never a value of time.hour (0..23)"),
        ({"time.weekday": 7}, "7 is never a value of time.weekday (0..6)"),
        ({"visits.count": "2"}, "'2' is never a value of visits.count (a number)"),
        ({"time.date": date(2026, 12, 24)}, "2026-12-24 is never a value of time.date (an ISO date as text, e.g. '2026-12-24'); quote it, YAML reads it as a date"),
        ({"search.recent": "tent"}, "'tent' is never a value of search.recent (a list: test its items with $in, $all or $elemMatch)"),
        ({"$or": [{"device.type": "mobile"}, {"$not": {"device.type": {"$not": {"$eq": "phone"}}}}]}, "'phone' is never a value of device.type (mobile, tablet, desktop)"),
        ({"request.country": "de"}, "'de' is never a value of request.country (a two-letter country code in capitals, e.g. 'DE')"),
        ({"request.country": {"$in": ["DE", "Germany"]}}, "'Germany' is never a value of request.country (a two-letter country code in capitals, e.g. 'DE')"),
        ({"request.region": "DE-BY"}, "'DE-BY' is never a value of request.region (a region code in capitals, e.g. 'BY' (of DE-BY))"),
    ],
)  # fmt: skip
def test_a_test_that_can_never_hold_as_meant_is_named(condition, message):
    assert [text for _, text in condition_warnings(condition, {"returning"})] == [message]


@pytest.mark.parametrize(
    "condition",
    [
        {"device.type": {"$in": ["mobile", "tablet"]}, "time.hour": {"$gte": 18}},
        {"consent.personalization": {"$exists": False}},
        {"consent.personalization": None},  # null tests that the choice was not made
        {"search.recent": {"$in": ["tent"]}, "view.topics": {"$all": ["hiking"]}},
        {"time.hour": 7.0, "lifecycle": {"$nin": ["new"]}, "segment.returning": True},
        {"prefs.channel": "phone", "request.query.page": "2", "page.topic": "hiking"},
        {"request.country": {"$in": ["DE", "AT"]}, "request.region": {"$in": ["BY", "13"]}},
        {"request.country": {"$exists": False}, "request.region": None},
    ],
)
def test_tests_a_visitor_can_meet_give_no_warning(condition):
    assert condition_warnings(condition, {"returning"}) == []


def test_warnings_say_where_in_the_condition():
    condition = {"$and": [{"device.type": "mobile"}, {"$or": [{"serch.last": "x"}]}]}
    [(where, _)] = condition_warnings(condition)
    assert where == ("$and", 1, "$or", 0, "serch.last")


@pytest.mark.parametrize(
    ("by", "message"),
    [
        ("interest", None),
        ("interest.topics", None),
        ("prefs.interests", None),
        ("interest.top", None),  # one key, put first
        ("interests", "unknown attribute 'interests' (did you mean 'interest'?)"),
        ("view.topic", "unknown attribute 'view.topic' (did you mean 'view.topics'?)"),
        (
            "visits.count",
            "visits.count holds a number, not item keys: reorder by 'interest' or by an "
            "attribute holding a list (search.recent, view.recent, view.topics, "
            "interest.topics, prefs.interests)",
        ),
    ],
)
def test_reorder_needs_interest_or_a_list_of_item_keys(by, message):
    assert reorder_warning(by) == message


@pytest.mark.parametrize(("condition", "attributes", "expected", "groups"), CONDITION_CASES)
def test_clauses_cover_the_paths_a_condition_reads(condition, attributes, expected, groups):
    assert {path for _, path, _ in clauses(condition)} == condition_paths(condition)


# --- counts within windows and the current visit ------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "views.topic.hiking.7d",
        "views.path./trips/alps.html.1d",
        "searches.term.rain jacket.30d",
        "events.add_to_cart.14d",
        "visit.pages",
    ],
)
def test_counts_within_windows_are_numbers(path):
    assert attribute(path) == NUMBER


@pytest.mark.parametrize("path", ["visit.entry", "visit.referrer", "visit.utm_source"])
def test_facts_of_the_current_visit_are_text(path):
    assert attribute(path) == TEXT


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"veiws.topic.hiking.7d": {"$gte": 2}}, "unknown attribute 'veiws.topic.hiking.7d' (did you mean 'views.topic.hiking.7d'?)"),
        ({"views.topics.hiking.7d": {"$gte": 2}}, "unknown attribute 'views.topics.hiking.7d' (did you mean 'views.topic.hiking.7d'?)"),
        ({"event.add_to_cart.7d": {"$gte": 1}}, "unknown attribute 'event.add_to_cart.7d' (did you mean 'events.add_to_cart.7d'?)"),
        ({"searches.terms.tent.30d": 1}, "unknown attribute 'searches.terms.tent.30d' (did you mean 'searches.term.tent.30d'?)"),
        ({"views.topic.hiking": {"$gte": 2}}, "unknown attribute 'views.topic.hiking' (a count needs a window: did you mean 'views.topic.hiking.7d'?)"),
        ({"views.topic.hiking.45d": {"$gte": 2}}, "unknown attribute 'views.topic.hiking.45d' (a count's window is 1d to 30d, e.g. 'views.topic.hiking.30d')"),
        ({"views.path./trips.7h": 1}, "unknown attribute 'views.path./trips.7h' (a count's window is 1d to 30d, e.g. 'views.path./trips.7d')"),
        ({"visit.page": {"$gte": 3}}, "unknown attribute 'visit.page' (did you mean 'visit.pages'?)"),
        ({"views.topic.hiking.7d": "3"}, "'3' is never a value of views.topic.hiking.7d (a number)"),
    ],
)  # fmt: skip
def test_a_mistyped_count_or_visit_fact_is_named(condition, message):
    assert [text for _, text in condition_warnings(condition)] == [message]


def test_counts_and_visit_facts_a_visitor_can_meet_give_no_warning():
    condition = {
        "views.topic.hiking.7d": {"$gte": 3},
        "views.path./trips.1d": {"$lt": 1},
        "events.add_to_cart.30d": 0,
        "visit.pages": {"$gte": 2},
        "visit.referrer": {"$in": ["news.example"]},
        "visit.utm_source": "spring",
    }
    assert condition_warnings(condition) == []
