"""Recency as data: relevance windows, horizons, decay, lifecycle and the policy's parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from etalage.history import record_event, record_request, record_search, record_view
from etalage.profile import CartState, EventEntry, Profile, SearchEntry, ViewEntry
from etalage.recency import (
    MIN_INTEREST,
    HistoryPolicy,
    decayed_interest,
    derive_attributes,
    is_relevant,
    lifecycle,
    parse_duration,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
POLICY = HistoryPolicy()


def ago(**delta: float) -> int:
    return int((NOW - timedelta(**delta)).timestamp())


def end_of_day(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, 23, 59, 59, tzinfo=BERLIN).timestamp())


def profile(**fields) -> Profile:
    return Profile(id="visitor-1", **fields)


# --- horizons and relevance windows -------------------------------------------------------


def test_a_search_for_a_march_date_made_in_february_is_not_offered_in_may():
    policy = HistoryPolicy(search_relevant_for=timedelta(days=365))
    visitor = profile()
    february = datetime(2026, 2, 12, 9, 0, tzinfo=UTC)
    record_search(visitor, policy, february, "Lisbon hotel", valid_until=end_of_day(2026, 3, 14))

    in_march = derive_attributes(visitor, policy, datetime(2026, 3, 1, tzinfo=UTC))
    in_may = derive_attributes(visitor, policy, datetime(2026, 5, 2, tzinfo=UTC))

    assert in_march["search.last"] == "Lisbon hotel"
    assert "search.last" not in in_may
    assert in_may["search.recent"] == []
    assert in_may["search.count"] == 0


def test_a_horizon_counts_up_to_its_last_second():
    horizon = end_of_day(2026, 3, 14)
    window = timedelta(days=365)
    at = horizon - 86400
    assert is_relevant(at, horizon, window, datetime.fromtimestamp(horizon, UTC))
    assert not is_relevant(at, horizon, window, datetime.fromtimestamp(horizon + 1, UTC))


def test_a_search_older_than_relevant_for_disappears():
    policy = HistoryPolicy(search_relevant_for=timedelta(days=14))
    visitor = profile(
        searches=[SearchEntry("boots", ago(days=13)), SearchEntry("tent", ago(days=15))]
    )
    attrs = derive_attributes(visitor, policy, NOW)
    assert attrs["search.recent"] == ["boots"]
    assert attrs["search.count"] == 1
    assert attrs["search.last"] == "boots"


def test_the_last_search_goes_once_its_window_has_passed():
    visitor = profile(searches=[SearchEntry("tent", ago(days=14, seconds=1))])
    attrs = derive_attributes(visitor, POLICY, NOW)
    assert "search.last" not in attrs
    assert "search.last.age_days" not in attrs
    assert attrs["search.recent"] == []


def test_the_window_is_inclusive():
    visitor = profile(searches=[SearchEntry("tent", ago(days=14))])
    assert derive_attributes(visitor, POLICY, NOW)["search.last"] == "tent"


def test_the_most_recent_relevant_search_wins():
    visitor = profile()
    record_search(visitor, POLICY, NOW - timedelta(days=3), "tent")
    record_search(visitor, POLICY, NOW - timedelta(days=1), "sleeping bag")
    attrs = derive_attributes(visitor, POLICY, NOW)
    assert attrs["search.last"] == "sleeping bag"
    assert attrs["search.recent"] == ["sleeping bag", "tent"]
    assert attrs["search.last.age_days"] == 1.0
    assert attrs["search.last.age_hours"] == 24.0


def test_an_expired_newer_search_gives_way_to_an_older_relevant_one():
    visitor = profile()
    record_search(visitor, POLICY, NOW - timedelta(days=5), "tent")
    record_search(
        visitor,
        POLICY,
        NOW - timedelta(days=2),
        "concert tickets",
        valid_until=ago(days=1),
    )
    attrs = derive_attributes(visitor, POLICY, NOW)
    assert attrs["search.last"] == "tent"
    assert attrs["search.recent"] == ["tent"]
    assert attrs["search.last.age_days"] == 5.0


def test_search_last_valid_until_is_the_horizons_date_in_the_site_zone():
    horizon = int(datetime(2026, 5, 20, 0, 30, tzinfo=BERLIN).timestamp())
    visitor = profile(searches=[SearchEntry("tent", ago(days=1), horizon)])
    assert derive_attributes(visitor, POLICY, NOW, timezone=BERLIN)["search.last.valid_until"] == (
        "2026-05-20"
    )
    assert derive_attributes(visitor, POLICY, NOW)["search.last.valid_until"] == "2026-05-19"


def test_search_last_valid_until_is_absent_without_a_horizon():
    visitor = profile(searches=[SearchEntry("tent", ago(days=1))])
    attrs = derive_attributes(visitor, POLICY, NOW)
    assert attrs["search.last"] == "tent"
    assert "search.last.valid_until" not in attrs


def test_a_horizon_beyond_what_a_date_can_show_does_not_break_the_attributes():
    visitor = profile(searches=[SearchEntry("tent", ago(days=1), 2**53)])
    attrs = derive_attributes(visitor, POLICY, NOW)
    assert attrs["search.last"] == "tent"
    assert "search.last.valid_until" not in attrs


def test_repeated_terms_appear_once_in_search_recent():
    visitor = profile(
        searches=[SearchEntry("tent", ago(hours=1)), SearchEntry("tent", ago(hours=2))]
    )
    attrs = derive_attributes(visitor, POLICY, NOW)
    assert attrs["search.recent"] == ["tent"]
    assert attrs["search.count"] == 2


def test_views_respect_their_window_and_horizon():
    visitor = profile(
        views=[
            ViewEntry("/sale", ago(days=1), "shoes", valid_until=ago(hours=1)),
            ViewEntry("/tent", ago(days=2), "camping"),
            ViewEntry("/old", ago(days=31), "hiking"),
        ]
    )
    attrs = derive_attributes(visitor, POLICY, NOW)
    assert attrs["view.recent"] == ["/tent"]
    assert attrs["view.count"] == 1
    assert attrs["view.last"] == "/tent"
    assert attrs["view.last.topic"] == "camping"
    assert attrs["view.last.age_days"] == 2.0
    assert attrs["view.topics"] == ["camping"]


def test_no_views_leave_view_last_absent():
    attrs = derive_attributes(profile(), POLICY, NOW)
    assert attrs["view.count"] == 0
    assert attrs["view.recent"] == []
    assert "view.last" not in attrs
    assert "view.last.topic" not in attrs


def test_attributes_follow_the_injected_clock():
    visitor = profile(searches=[SearchEntry("tent", ago(days=2))])
    assert derive_attributes(visitor, POLICY, NOW)["search.last.age_days"] == 2.0
    later = derive_attributes(visitor, POLICY, NOW + timedelta(days=3))
    assert later["search.last.age_days"] == 5.0
    assert "search.last" not in derive_attributes(visitor, POLICY, NOW + timedelta(days=13))


# --- interest ---------------------------------------------------------------------------


def test_interest_halves_after_one_half_life():
    half_life = timedelta(days=10)
    at = ago(days=10)
    assert decayed_interest(1.0, at, NOW, half_life) == pytest.approx(0.5)
    assert decayed_interest(4.0, at, NOW + timedelta(days=10), half_life) == pytest.approx(1.0)
    assert decayed_interest(3.0, int(NOW.timestamp()), NOW, half_life) == 3.0


def test_interest_attribute_halves_after_one_half_life():
    policy = HistoryPolicy(interest_half_life=timedelta(days=10))
    visitor = profile(interest={"hiking": (2.0, ago(days=10)), "camping": (1.0, ago(days=20))})
    attrs = derive_attributes(visitor, policy, NOW)
    assert attrs["interest.hiking"] == pytest.approx(1.0)
    assert attrs["interest.camping"] == pytest.approx(0.25)


def test_interest_top_and_topics_rank_by_decayed_score():
    visitor = profile(interest={"camping": (4.0, ago(days=30)), "hiking": (1.0, ago(days=0))})
    attrs = derive_attributes(visitor, POLICY, NOW)
    assert attrs["interest.top"] == "hiking"
    assert attrs["interest.topics"] == ["hiking", "camping"]


def test_interest_top_is_absent_without_interest():
    attrs = derive_attributes(profile(), POLICY, NOW)
    assert "interest.top" not in attrs
    assert attrs["interest.topics"] == []


def test_interest_decayed_below_the_threshold_is_not_an_interest():
    visitor = profile(interest={"hiking": (1.0, ago(days=40))})
    attrs = derive_attributes(visitor, POLICY, NOW)
    assert attrs["interest.hiking"] < MIN_INTEREST
    assert "interest.top" not in attrs
    assert attrs["interest.topics"] == []


def test_a_topic_named_top_does_not_pose_as_interest_top():
    visitor = profile(interest={"top": (1.0, ago(days=40))})
    attrs = derive_attributes(visitor, POLICY, NOW)
    assert "interest.top" not in attrs


def test_viewing_a_topic_feeds_its_interest():
    visitor = profile()
    record_view(visitor, POLICY, NOW - timedelta(days=10), "/a", topic="hiking")
    record_view(visitor, POLICY, NOW, "/b", topic="hiking")
    assert derive_attributes(visitor, POLICY, NOW)["interest.hiking"] == pytest.approx(1.5)


# --- visits and lifecycle -----------------------------------------------------------------


def test_a_fresh_visitor_is_new():
    visitor = Profile.new(NOW)
    record_request(visitor, POLICY, NOW)
    attrs = derive_attributes(visitor, POLICY, NOW)
    assert attrs["lifecycle"] == "new"
    assert attrs["visits.count"] == 1
    assert attrs["visits.first_seen_days"] == 0.0


def test_a_second_visit_makes_a_returning_visitor():
    visitor = Profile.new(NOW - timedelta(days=3))
    record_request(visitor, POLICY, NOW - timedelta(days=3))
    record_request(visitor, POLICY, NOW)
    assert lifecycle(visitor, POLICY, NOW) == "returning"


def test_a_purchase_makes_a_customer():
    visitor = Profile.new(NOW)
    record_request(visitor, POLICY, NOW)
    record_event(visitor, POLICY, NOW, "purchase", {"value": 30})
    assert lifecycle(visitor, POLICY, NOW) == "customer"


def test_a_visitor_back_after_more_than_lapsed_after_is_lapsed():
    policy = HistoryPolicy(lapsed_after=timedelta(days=60))
    visitor = Profile.new(NOW - timedelta(days=90))
    record_request(visitor, policy, NOW - timedelta(days=90))
    record_request(visitor, policy, NOW - timedelta(days=61))

    assert derive_attributes(visitor, policy, NOW)["lifecycle"] == "lapsed"
    record_request(visitor, policy, NOW)
    assert derive_attributes(visitor, policy, NOW)["lifecycle"] == "lapsed"
    assert derive_attributes(visitor, policy, NOW + timedelta(minutes=5))["lifecycle"] == "lapsed"


def test_a_lapsed_customer_is_lapsed():
    visitor = profile(visits=3, purchases=1, last_seen=ago(days=61))
    assert lifecycle(visitor, POLICY, NOW) == "lapsed"


def test_a_visitor_back_within_lapsed_after_is_returning():
    policy = HistoryPolicy(lapsed_after=timedelta(days=60))
    visitor = Profile.new(NOW - timedelta(days=59))
    record_request(visitor, policy, NOW - timedelta(days=59))
    record_request(visitor, policy, NOW)
    assert lifecycle(visitor, policy, NOW) == "returning"


def test_the_visit_after_a_lapsed_one_is_returning_again():
    visitor = Profile.new(NOW - timedelta(days=90))
    record_request(visitor, POLICY, NOW - timedelta(days=90))
    record_request(visitor, POLICY, NOW - timedelta(days=2))
    record_request(visitor, POLICY, NOW)
    assert lifecycle(visitor, POLICY, NOW) == "returning"


def test_last_seen_days_counts_from_the_previous_visit():
    visitor = Profile.new(NOW - timedelta(days=40))
    record_request(visitor, POLICY, NOW - timedelta(days=40))
    record_request(visitor, POLICY, NOW - timedelta(days=30))

    before = derive_attributes(visitor, POLICY, NOW)
    record_request(visitor, POLICY, NOW)
    after = derive_attributes(visitor, POLICY, NOW)

    assert before["visits.last_seen_days"] == 30.0
    assert after["visits.last_seen_days"] == 30.0
    assert after["visits.first_seen_days"] == 40.0


def test_last_seen_days_is_absent_during_a_first_visit():
    start = NOW - timedelta(minutes=10)
    visitor = Profile.new(start)
    record_request(visitor, POLICY, start)
    record_request(visitor, POLICY, NOW)
    later = NOW + timedelta(microseconds=600_000)
    assert "visits.last_seen_days" not in derive_attributes(visitor, POLICY, later)


# --- cart, purchases, prefs, events -------------------------------------------------------


def test_cart_purchase_and_pref_attributes():
    visitor = profile(
        cart=CartState(items=2, value=59.8, updated_at=ago(hours=6)),
        purchases=2,
        purchase_total=120.456,
        last_purchase=ago(days=3),
        prefs={"name": "Ada", "channel": "email"},
    )
    attrs = derive_attributes(visitor, POLICY, NOW)
    assert attrs["cart.items"] == 2
    assert attrs["cart.value"] == 59.8
    assert attrs["cart.age_hours"] == 6.0
    assert attrs["cart.age_days"] == 0.25
    assert attrs["purchases.count"] == 2
    assert attrs["purchases.total"] == 120.46
    assert attrs["purchases.last_days"] == 3.0
    assert attrs["prefs.name"] == "Ada"
    assert attrs["prefs.channel"] == "email"


def test_an_empty_cart_has_no_age():
    attrs = derive_attributes(profile(), POLICY, NOW)
    assert attrs["cart.items"] == 0
    assert "cart.age_hours" not in attrs
    assert "purchases.last_days" not in attrs


def test_only_relevant_events_are_counted_and_the_newest_sets_the_age():
    visitor = profile(
        events=[
            EventEntry("video_play", ago(hours=2)),
            EventEntry("video_play", ago(hours=30)),
            EventEntry("video_play", ago(days=8)),
            EventEntry("webinar", ago(hours=1), {"valid_until": ago(minutes=1)}),
        ]
    )
    attrs = derive_attributes(visitor, POLICY, NOW)
    assert attrs["event.video_play.count"] == 2
    assert attrs["event.video_play.age_hours"] == 2.0
    assert "event.webinar.count" not in attrs


# --- durations and the policy -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14d", timedelta(days=14)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("30min", timedelta(minutes=30)),
        ("2w", timedelta(weeks=2)),
        ("90s", timedelta(seconds=90)),
        (" 1.5d ", timedelta(hours=36)),
        (3600, timedelta(hours=1)),
        (0.5, timedelta(milliseconds=500)),
    ],
)
def test_parse_duration_accepts(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "14",
        "d",
        "14 days",
        "14y",
        "-3d",
        "0d",
        "0",
        0,
        -5,
        True,
        False,
        None,
        "1e3d",
        float("nan"),
        float("inf"),
        "99999999999d",
    ],
)
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(text)


def test_policy_from_mapping_reads_every_section():
    policy = HistoryPolicy.from_mapping(
        {
            "search": {"keep": 5, "relevant_for": "7d"},
            "view": {"keep": 30, "relevant_for": "2w"},
            "event": {"keep": 4, "relevant_for": "12h"},
            "interest": {"half_life": "3d", "keep": 6},
            "visit": {"gap": "45m", "lapsed_after": "90d"},
        }
    )
    assert policy == HistoryPolicy(
        search_keep=5,
        search_relevant_for=timedelta(days=7),
        view_keep=30,
        view_relevant_for=timedelta(weeks=2),
        event_keep=4,
        event_relevant_for=timedelta(hours=12),
        interest_half_life=timedelta(days=3),
        interest_keep=6,
        visit_gap=timedelta(minutes=45),
        lapsed_after=timedelta(days=90),
    )


def test_policy_from_an_empty_mapping_is_the_default():
    assert HistoryPolicy.from_mapping({}) == HistoryPolicy()


@pytest.mark.parametrize(
    ("mapping", "prefix"),
    [
        ({"search": {"keep": 0}}, "search.keep: "),
        ({"search": {"keep": 101}}, "search.keep: "),
        ({"search": {"keep": "8"}}, "search.keep: "),
        ({"search": {"keep": True}}, "search.keep: "),
        ({"view": {"relevant_for": "soon"}}, "view.relevant_for: "),
        ({"interest": {"half_life": "0d"}}, "interest.half_life: "),
        ({"visit": {"gap": -1}}, "visit.gap: "),
        ({"visit": {"lapsed_after": float("inf")}}, "visit.lapsed_after: "),
        ({"event": {"kept": 3}}, "event.kept: "),
        ({"interest": {"relevant_for": "3d"}}, "interest.relevant_for: "),
        ({"searches": {"keep": 3}}, "searches: "),
        ({"search": [1, 2]}, "search: "),
        ({"search": None}, "search: "),
    ],
)
def test_policy_errors_name_the_section_and_key(mapping, prefix):
    with pytest.raises(ValueError) as caught:
        HistoryPolicy.from_mapping(mapping)
    assert str(caught.value).startswith(prefix)
