"""Recording a visitor's requests, views, searches, events, exposures and decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from etalage.history import (
    MAX_PATH_LENGTH,
    MAX_TERM_LENGTH,
    add_interest,
    record_decisions,
    record_event,
    record_exposure,
    record_request,
    record_search,
    record_view,
)
from etalage.profile import MAX_DECISION_PAGES, CartState, Profile
from etalage.recency import HistoryPolicy

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
POLICY = HistoryPolicy()


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def fresh(at: datetime = NOW) -> Profile:
    return Profile.new(at)


# --- visits -------------------------------------------------------------------------------


def test_the_first_request_counts_the_first_visit():
    visitor = fresh()
    record_request(visitor, POLICY, NOW)
    assert visitor.visits == 1
    assert visitor.visit_started == epoch(NOW)
    assert visitor.prev_visit_seen is None
    assert visitor.first_seen == visitor.last_seen == epoch(NOW)


def test_requests_within_the_gap_belong_to_one_visit():
    visitor = fresh()
    moment = NOW
    for _ in range(5):
        record_request(visitor, POLICY, moment)
        moment += timedelta(minutes=29)
    assert visitor.visits == 1
    assert visitor.visit_started == epoch(NOW)
    assert visitor.last_seen == epoch(NOW + timedelta(minutes=4 * 29))


def test_the_gap_is_measured_from_the_last_request():
    visitor = fresh()
    record_request(visitor, POLICY, NOW)
    record_request(visitor, POLICY, NOW + timedelta(minutes=30))
    assert visitor.visits == 1
    record_request(visitor, POLICY, NOW + timedelta(minutes=60, seconds=1))
    assert visitor.visits == 2


def test_a_new_visit_remembers_when_the_previous_one_was_last_seen():
    visitor = fresh()
    record_request(visitor, POLICY, NOW)
    record_request(visitor, POLICY, NOW + timedelta(minutes=20))
    next_day = NOW + timedelta(days=1)
    record_request(visitor, POLICY, next_day)
    assert visitor.visits == 2
    assert visitor.prev_visit_seen == epoch(NOW + timedelta(minutes=20))
    assert visitor.visit_started == epoch(next_day)
    assert visitor.first_seen == epoch(NOW)


def test_the_visit_gap_comes_from_the_policy():
    policy = HistoryPolicy(visit_gap=timedelta(minutes=5))
    visitor = fresh()
    record_request(visitor, policy, NOW)
    record_request(visitor, policy, NOW + timedelta(minutes=6))
    assert visitor.visits == 2


def test_a_clock_going_back_does_not_move_last_seen_back():
    visitor = fresh()
    record_request(visitor, POLICY, NOW)
    record_request(visitor, POLICY, NOW - timedelta(minutes=5))
    assert visitor.last_seen == epoch(NOW)
    assert visitor.visits == 1


def test_a_profile_without_first_seen_gets_one():
    visitor = Profile(id="v")
    record_request(visitor, POLICY, NOW)
    assert visitor.first_seen == epoch(NOW)
    assert visitor.visits == 1


# --- views and interest -------------------------------------------------------------------


def test_views_are_newest_first_and_one_per_path():
    visitor = fresh()
    record_view(visitor, POLICY, NOW, "/a")
    record_view(visitor, POLICY, NOW + timedelta(minutes=1), "/b")
    record_view(visitor, POLICY, NOW + timedelta(minutes=2), "/a")
    assert [v.path for v in visitor.views] == ["/a", "/b"]
    assert visitor.views[0].at == epoch(NOW + timedelta(minutes=2))


def test_views_are_bounded_by_view_keep():
    policy = HistoryPolicy(view_keep=3)
    visitor = fresh()
    for n in range(10):
        record_view(visitor, policy, NOW + timedelta(seconds=n), f"/p{n}")
    assert [v.path for v in visitor.views] == ["/p9", "/p8", "/p7"]


def test_a_view_keeps_its_topic_and_horizon():
    visitor = fresh()
    record_view(visitor, POLICY, NOW, "/sale", topic="  shoes ", valid_until=epoch(NOW) + 3600)
    view = visitor.views[0]
    assert (view.path, view.topic, view.valid_until) == ("/sale", "shoes", epoch(NOW) + 3600)


def test_long_paths_and_topics_are_cut():
    visitor = fresh()
    record_view(visitor, POLICY, NOW, "/" + "p" * 500, topic="t" * 100)
    assert len(visitor.views[0].path) == MAX_PATH_LENGTH
    assert visitor.views[0].topic == "t" * 40


def test_a_view_feeds_interest_in_its_topic():
    visitor = fresh()
    record_view(visitor, POLICY, NOW, "/a", topic="hiking")
    record_view(visitor, POLICY, NOW, "/b", topic="hiking")
    record_view(visitor, POLICY, NOW, "/c")
    assert visitor.interest == {"hiking": (2.0, epoch(NOW))}


def test_a_blank_topic_is_no_topic():
    visitor = fresh()
    record_view(visitor, POLICY, NOW, "/a", topic="   ")
    assert visitor.views[0].topic is None
    assert visitor.interest == {}


def test_interest_decays_before_more_is_added():
    visitor = fresh()
    policy = HistoryPolicy(interest_half_life=timedelta(days=10))
    add_interest(visitor, policy, NOW, "hiking", 2.0)
    later = NOW + timedelta(days=10)
    add_interest(visitor, policy, later, "hiking", 1.0)
    assert visitor.interest["hiking"] == (2.0, epoch(later))


def test_interest_keeps_only_the_strongest_topics():
    policy = HistoryPolicy(interest_keep=2)
    visitor = fresh()
    add_interest(visitor, policy, NOW, "strong", 5.0)
    add_interest(visitor, policy, NOW, "middle", 3.0)
    add_interest(visitor, policy, NOW, "weak", 4.0)
    assert set(visitor.interest) == {"strong", "weak"}


def test_a_fresh_topic_is_not_evicted_by_older_stronger_ones():
    policy = HistoryPolicy(interest_keep=2)
    visitor = fresh()
    add_interest(visitor, policy, NOW, "camping", 8.0)
    add_interest(visitor, policy, NOW, "hiking", 6.0)
    record_view(visitor, policy, NOW + timedelta(hours=1), "/kayak", topic="kayaking")
    assert set(visitor.interest) == {"camping", "kayaking"}


# --- searches -------------------------------------------------------------------------------


def test_searches_are_newest_first():
    visitor = fresh()
    record_search(visitor, POLICY, NOW, "tent")
    record_search(visitor, POLICY, NOW + timedelta(minutes=1), "boots")
    assert [s.term for s in visitor.searches] == ["boots", "tent"]


def test_repeating_a_search_in_another_case_moves_it_to_the_front():
    visitor = fresh()
    record_search(visitor, POLICY, NOW, "Tent")
    record_search(visitor, POLICY, NOW, "boots")
    later = NOW + timedelta(hours=1)
    record_search(visitor, POLICY, later, "TENT", valid_until=epoch(later) + 86400)
    assert [s.term for s in visitor.searches] == ["TENT", "boots"]
    assert visitor.searches[0].at == epoch(later)
    assert visitor.searches[0].valid_until == epoch(later) + 86400


def test_searches_are_bounded_by_search_keep():
    policy = HistoryPolicy(search_keep=2)
    visitor = fresh()
    for term in ("a", "b", "c", "d"):
        record_search(visitor, policy, NOW, term)
    assert [s.term for s in visitor.searches] == ["d", "c"]


def test_search_whitespace_is_normalised_and_blank_searches_ignored():
    visitor = fresh()
    record_search(visitor, POLICY, NOW, "  red \n  tent ")
    record_search(visitor, POLICY, NOW, " \t ")
    record_search(visitor, POLICY, NOW, "")
    assert [s.term for s in visitor.searches] == ["red tent"]


def test_long_search_terms_are_cut_without_a_trailing_space():
    visitor = fresh()
    record_search(visitor, POLICY, NOW, "x" * (MAX_TERM_LENGTH - 1) + " tail")
    assert visitor.searches[0].term == "x" * (MAX_TERM_LENGTH - 1)
    record_search(visitor, POLICY, NOW, "y" * 500)
    assert len(visitor.searches[0].term) == MAX_TERM_LENGTH


# --- events -------------------------------------------------------------------------------


def test_add_to_cart_updates_the_cart():
    visitor = fresh()
    record_event(visitor, POLICY, NOW, "add_to_cart", {"sku": "tent-2p", "price": 129.9})
    record_event(visitor, POLICY, NOW, "add_to_cart", {"price": "10.05", "qty": 2})
    assert visitor.cart == CartState(items=3, value=150.0, updated_at=epoch(NOW))
    assert [e.type for e in visitor.events] == ["add_to_cart", "add_to_cart"]
    assert visitor.events[1].data == {"sku": "tent-2p", "price": 129.9}


def test_a_purchase_counts_and_empties_the_cart():
    visitor = fresh()
    record_event(visitor, POLICY, NOW, "add_to_cart", {"price": 20})
    record_event(visitor, POLICY, NOW, "purchase", {})
    record_event(visitor, POLICY, NOW, "purchase", {"value": "5.5"})
    assert visitor.purchases == 2
    assert visitor.purchase_total == 25.5
    assert visitor.last_purchase == epoch(NOW)
    assert visitor.cart == CartState()


def test_dismiss_hides_a_rule_and_is_not_an_event():
    visitor = fresh()
    record_event(visitor, POLICY, NOW, "dismiss", {"rule": "newsletter-banner"})
    assert visitor.dismissed == {"newsletter-banner": epoch(NOW)}
    assert visitor.events == []


@pytest.mark.parametrize("data", [None, {}, {"rule": ""}, {"rule": 3}, {"rule": "r" * 65}])
def test_dismiss_without_a_rule_is_refused(data):
    visitor = fresh()
    with pytest.raises(ValueError, match="rule"):
        record_event(visitor, POLICY, NOW, "dismiss", data)
    assert visitor.dismissed == {}


@pytest.mark.parametrize(
    ("type_", "data", "field"),
    [
        ("add_to_cart", {"price": -1}, "price"),
        ("add_to_cart", {"price": "cheap"}, "price"),
        ("add_to_cart", {"price": [1]}, "price"),
        ("add_to_cart", {"price": True}, "price"),
        ("add_to_cart", {"price": "nan"}, "price"),
        ("add_to_cart", {"price": float("inf")}, "price"),
        ("add_to_cart", {"price": 1e12}, "price"),
        ("add_to_cart", {"price": 5, "qty": -2}, "qty"),
        ("add_to_cart", {"price": 5, "qty": "many"}, "qty"),
        ("purchase", {"value": -10}, "value"),
        ("purchase", {"value": "a lot"}, "value"),
    ],
)
def test_events_with_bad_numbers_are_refused_and_change_nothing(type_, data, field):
    visitor = fresh()
    record_event(visitor, POLICY, NOW, "add_to_cart", {"price": 10})
    before = (visitor.cart, visitor.purchases, visitor.purchase_total, list(visitor.events))
    with pytest.raises(ValueError, match=f"data.{field}"):
        record_event(visitor, POLICY, NOW, type_, data)
    assert (visitor.cart, visitor.purchases, visitor.purchase_total, visitor.events) == before


def test_a_custom_event_keeps_a_few_short_scalar_fields():
    visitor = fresh()
    data = {
        "video": "v" * 100,
        "seconds": 42,
        "nested": {"a": 1},
        "list": [1, 2],
        "ok": True,
        "k" * 50: "x",
    }
    record_event(visitor, POLICY, NOW, "video_play", data)
    event = visitor.events[0]
    assert event.type == "video_play"
    assert event.at == epoch(NOW)
    assert event.data == {"video": "v" * 60, "seconds": 42, "ok": True, "k" * 30: "x"}


def test_a_custom_event_drops_numbers_a_cookie_cannot_carry():
    visitor = fresh()
    data = {"big": 10**400, "nan": float("nan"), "inf": float("-inf"), "fine": 2.5, "n": -3}
    record_event(visitor, POLICY, NOW, "measure", data)
    assert visitor.events[0].data == {"fine": 2.5, "n": -3}


def test_events_are_newest_first_and_bounded_by_event_keep():
    policy = HistoryPolicy(event_keep=3)
    visitor = fresh()
    for n in range(6):
        record_event(visitor, policy, NOW + timedelta(seconds=n), "ping", {"n": n})
    assert [e.data["n"] for e in visitor.events] == [5, 4, 3]


# --- exposures and decisions --------------------------------------------------------------


def test_exposures_are_counted_per_rule():
    visitor = fresh()
    record_exposure(visitor, "hero-sale")
    record_exposure(visitor, "hero-sale")
    record_exposure(visitor, "banner")
    assert visitor.exposures == {"hero-sale": 2, "banner": 1}


def test_decisions_keep_the_last_pages_newest_first():
    visitor = fresh()
    for n in range(5):
        record_decisions(
            visitor, NOW + timedelta(seconds=n), f"/p{n}", {"hero": ("rule-a", "because")}
        )
    assert len(visitor.decisions) == MAX_DECISION_PAGES == 3
    assert [d["path"] for d in visitor.decisions] == ["/p4", "/p3", "/p2"]
    assert visitor.decisions[0] == {
        "path": "/p4",
        "at": epoch(NOW + timedelta(seconds=4)),
        "slots": {"hero": ["rule-a", "because"]},
    }


def test_revisiting_a_page_replaces_its_decisions():
    visitor = fresh()
    record_decisions(visitor, NOW, "/a", {"hero": ("one", None)})
    record_decisions(visitor, NOW, "/b", {"hero": (None, None)})
    record_decisions(visitor, NOW, "/a", {"hero": ("two", "why")})
    assert [d["path"] for d in visitor.decisions] == ["/a", "/b"]
    assert visitor.decisions[0]["slots"] == {"hero": ["two", "why"]}


def test_revisiting_a_long_path_replaces_its_decisions():
    visitor = fresh()
    path = "/" + "p" * 400
    record_decisions(visitor, NOW, path, {"hero": ("one", None)})
    record_decisions(visitor, NOW, path, {"hero": ("two", None)})
    assert len(visitor.decisions) == 1
    assert visitor.decisions[0]["slots"] == {"hero": ["two", None]}


def test_a_cart_update_sets_the_cart_as_it_now_is():
    profile = Profile(id="cart-visitor")
    record_event(profile, POLICY, NOW, "add_to_cart", {"price": 10, "qty": 3})
    record_event(profile, POLICY, NOW, "cart_update", {"items": 1, "value": "10"})
    assert profile.cart == CartState(1, 10.0, int(NOW.timestamp()))
    record_event(profile, POLICY, NOW, "cart_update", {"items": 0, "value": 0})
    assert profile.cart == CartState()
    with pytest.raises(ValueError, match="data.items"):
        record_event(profile, POLICY, NOW, "cart_update", {"items": "many"})
