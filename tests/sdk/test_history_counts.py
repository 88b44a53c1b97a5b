"""Counts within windows (``views.topic.hiking.7d``) and the facts of the current visit:
recorded into the profile, derived at a moment, bounded and read back from older cookies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from etalage.history import count_key, record_event, record_request, record_search, record_view
from etalage.profile import COUNT_DAYS, DayCounts, Profile
from etalage.recency import (
    MAX_COUNTED,
    HistoryPolicy,
    count_within,
    derive_attributes,
    parse_count_path,
    window_counts,
)

# A Sunday noon (UTC); day buckets are UTC days, so "today" began 12 hours ago.
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
TODAY = int(NOW.timestamp()) // 86400
EVERYTHING = HistoryPolicy(counted=None)


def visitor() -> Profile:
    return Profile(id="visitor-1")


def view(profile: Profile, at: datetime, path: str = "/trips", topic: str | None = "hiking"):
    record_request(profile, EVERYTHING, at)
    record_view(profile, EVERYTHING, at, path, topic=topic)


# --- parsing the attribute names ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "key", "days"),
    [
        ("views.topic.hiking.7d", "t:hiking", 7),
        ("views.path./trips.1d", "p:/trips", 1),
        ("views.path./trips/alps.html.30d", "p:/trips/alps.html", 30),
        ("searches.term.tent.30d", "s:tent", 30),
        ("searches.term.Rain  Jacket.7d", "s:rain jacket", 7),
        ("events.add_to_cart.7d", "e:add_to_cart", 7),
        ("events.add_to_cart.14d", "e:add_to_cart", 14),
    ],
)
def test_a_count_attribute_names_what_it_counts_and_over_how_many_days(path, key, days):
    parsed = parse_count_path(path)
    assert parsed is not None
    assert (parsed.key, parsed.days) == (key, days)


@pytest.mark.parametrize(
    "path",
    [
        "views.topic.hiking",  # no window
        "views.topic.hiking.31d",  # counts reach back 30 days
        "views.topic.hiking.0d",
        "views.topic.hiking.7h",
        "views.topic..7d",  # no topic
        "views.topic.7d",
        "view.topic.hiking.7d",
        "event.add_to_cart.count",
    ],
)
def test_other_paths_are_no_count_attributes(path):
    assert parse_count_path(path) is None


# --- recording day counts -------------------------------------------------------------------


def test_repeated_views_of_one_path_are_counted_per_day():
    profile = visitor()
    for hours in (50, 49, 2, 1):  # two views two days ago, two today
        view(profile, NOW - timedelta(hours=hours))
    assert len(profile.views) == 1  # the view history keeps one entry per path ...
    assert profile.counts[count_key("path", "/trips")] == DayCounts(TODAY, (2, 0, 2))
    assert profile.counts[count_key("topic", "hiking")] == DayCounts(TODAY, (2, 0, 2))


def test_searches_are_counted_whatever_their_case_and_spacing():
    profile = visitor()
    for term in ("Tent", "tent", "  TENT "):
        record_search(profile, EVERYTHING, NOW, term)
    assert profile.counts == {"s:tent": DayCounts(TODAY, (3,))}


def test_events_are_counted_by_type_beyond_the_events_kept():
    profile = visitor()
    policy = HistoryPolicy(counted=None, event_keep=2)
    for minutes in range(5):
        record_event(profile, policy, NOW - timedelta(minutes=minutes), "newsletter_open")
    assert len(profile.events) == 2
    assert profile.counts == {"e:newsletter_open": DayCounts(TODAY, (5,))}


def test_only_what_the_policy_counts_is_counted():
    profile = visitor()
    policy = HistoryPolicy(counted=frozenset({"t:hiking"}))
    record_view(profile, policy, NOW, "/trips", topic="hiking")
    record_view(profile, policy, NOW, "/tents", topic="camping")
    record_search(profile, policy, NOW, "tent")
    assert profile.counts == {"t:hiking": DayCounts(TODAY, (1,))}


def test_the_default_policy_counts_nothing():
    profile = visitor()
    record_view(profile, HistoryPolicy(), NOW, "/trips", topic="hiking")
    assert profile.counts == {}


def test_a_count_no_longer_asked_for_is_dropped_at_the_next_count():
    profile = visitor()
    record_view(profile, EVERYTHING, NOW, "/trips", topic="hiking")
    record_view(
        profile, HistoryPolicy(counted=frozenset({"t:camping"})), NOW, "/x", topic="camping"
    )
    assert profile.counts == {"t:camping": DayCounts(TODAY, (1,))}


def test_counts_reach_back_thirty_days_and_no_further():
    profile = visitor()
    view(profile, NOW - timedelta(days=29))
    view(profile, NOW)
    entry = profile.counts["t:hiking"]
    assert entry.counts == (1,) + (0,) * 28 + (1,)
    assert len(entry.counts) == COUNT_DAYS
    view(profile, NOW + timedelta(days=1))  # the day 29 days back falls out
    assert profile.counts["t:hiking"] == DayCounts(TODAY + 1, (1, 1))


def test_a_thing_not_counted_for_thirty_days_is_forgotten():
    profile = visitor()
    view(profile, NOW - timedelta(days=30), path="/old", topic=None)
    view(profile, NOW, path="/new", topic=None)
    assert list(profile.counts) == ["p:/new"]


def test_a_clock_set_back_counts_on_the_earlier_day():
    profile = visitor()
    view(profile, NOW)
    view(profile, NOW - timedelta(days=2))  # the demo's time travel
    assert profile.counts["t:hiking"] == DayCounts(TODAY, (1, 0, 1))


def test_counting_everything_keeps_the_most_recent_of_each_kind():
    profile = visitor()
    for n in range(MAX_COUNTED + 3):
        view(profile, NOW + timedelta(minutes=n), path=f"/p{n}", topic="hiking")
    paths = [key for key in profile.counts if key.startswith("p:")]
    assert paths == [f"p:/p{n}" for n in range(3, MAX_COUNTED + 3)]
    assert "t:hiking" in profile.counts  # another kind keeps its own bound


# --- deriving counts within windows ---------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "expected"),
    [(1, 2), (2, 2), (3, 5), (7, 5), (8, 6), (30, 6)],
)
def test_a_window_of_n_days_counts_today_and_the_days_before(days, expected):
    entry = DayCounts(TODAY, (2, 0, 3, 0, 0, 0, 0, 1))  # 2 today, 3 two days ago, 1 a week ago
    assert count_within(entry, days, TODAY) == expected


def test_a_window_starts_at_midnight_utc():
    profile = visitor()
    midnight = datetime(2026, 5, 10, tzinfo=UTC)
    view(profile, midnight - timedelta(seconds=1))  # Saturday, the last second
    view(profile, midnight)  # Sunday, the first second
    counts = window_counts(profile, NOW, ["views.topic.hiking.1d", "views.topic.hiking.2d"])
    assert counts == {"views.topic.hiking.1d": 1, "views.topic.hiking.2d": 2}


def test_days_without_a_new_count_move_the_window_on():
    profile = visitor()
    view(profile, NOW - timedelta(days=6))
    later = window_counts(profile, NOW + timedelta(days=1), ["views.topic.hiking.7d"])
    assert window_counts(profile, NOW, ["views.topic.hiking.7d"]) == {"views.topic.hiking.7d": 1}
    assert later == {"views.topic.hiking.7d": 0}


def test_counts_after_the_moment_asked_about_are_not_counted():
    entry = DayCounts(TODAY + 2, (4, 0, 1))  # a later newest day (a clock set back)
    assert count_within(entry, 1, TODAY) == 1
    assert count_within(entry, 1, TODAY - 5) == 0


def test_derive_gives_every_count_the_rules_read_and_nothing_else():
    profile = visitor()
    view(profile, NOW - timedelta(days=3))
    view(profile, NOW)
    record_search(profile, EVERYTHING, NOW, "Tent")
    read = {
        "views.topic.hiking.7d",
        "views.topic.hiking.1d",
        "views.path./trips.7d",
        "searches.term.tent.30d",
        "searches.term.stove.30d",
        "events.purchase.7d",
        "interest.hiking",
    }
    attrs = derive_attributes(profile, EVERYTHING, NOW, counts=read)
    counts = {key: value for key, value in attrs.items() if key.startswith(("views.", "searches."))}
    assert counts == {
        "views.topic.hiking.7d": 2,
        "views.topic.hiking.1d": 1,
        "views.path./trips.7d": 2,
        "searches.term.tent.30d": 1,
        "searches.term.stove.30d": 0,  # read by a rule, never counted: 0, so $lt tests hold
    }
    assert attrs["events.purchase.7d"] == 0


def test_derive_with_no_count_read_derives_none():
    profile = visitor()
    view(profile, NOW)
    attrs = derive_attributes(profile, EVERYTHING, NOW, counts=())
    assert not any(key.startswith("views.") for key in attrs)


def test_derive_without_a_rule_set_gives_the_standard_windows():
    profile = visitor()
    view(profile, NOW - timedelta(days=3), topic=None)
    attrs = derive_attributes(profile, EVERYTHING, NOW)
    assert {k: v for k, v in attrs.items() if k.startswith("views.")} == {
        "views.path./trips.1d": 0,
        "views.path./trips.7d": 1,
        "views.path./trips.30d": 1,
    }


# --- the current visit ----------------------------------------------------------------------


def test_the_request_that_starts_a_visit_sets_its_facts():
    profile = visitor()
    record_request(
        profile, EVERYTHING, NOW, entry="/trips", referrer="News.Example", utm_source="spring"
    )
    record_view(profile, EVERYTHING, NOW, "/trips")
    later = NOW + timedelta(minutes=5)
    record_request(profile, EVERYTHING, later, entry="/tents", referrer="other.example")
    record_view(profile, EVERYTHING, later, "/tents")
    record_view(profile, EVERYTHING, later, "/trips")
    facts = {
        k: v for k, v in derive_attributes(profile, EVERYTHING, later).items() if "visit." in k
    }
    assert facts == {
        "visit.pages": 3,
        "visit.entry": "/trips",
        "visit.referrer": "news.example",
        "visit.utm_source": "spring",
    }


def test_a_new_visit_starts_its_facts_afresh():
    profile = visitor()
    record_request(profile, EVERYTHING, NOW, entry="/trips", referrer="news.example")
    record_view(profile, EVERYTHING, NOW, "/trips")
    later = NOW + timedelta(hours=2)
    record_request(profile, EVERYTHING, later, entry="/tents")
    record_view(profile, EVERYTHING, later, "/tents")
    attrs = derive_attributes(profile, EVERYTHING, later)
    assert (attrs["visit.pages"], attrs["visit.entry"]) == (1, "/tents")
    assert "visit.referrer" not in attrs and "visit.utm_source" not in attrs


def test_no_visit_facts_once_the_gap_has_passed():
    profile = visitor()
    record_request(profile, EVERYTHING, NOW, entry="/trips")
    record_view(profile, EVERYTHING, NOW, "/trips")
    attrs = derive_attributes(profile, EVERYTHING, NOW + timedelta(minutes=31))
    assert not any(key.startswith("visit.") for key in attrs)


def test_visit_facts_keep_no_more_than_a_host_and_a_short_source():
    profile = visitor()
    record_request(profile, EVERYTHING, NOW, referrer="x" * 300, utm_source=" spring \n sale " * 20)
    assert profile.visit_referrer is not None and len(profile.visit_referrer) == 100
    assert profile.visit_utm_source is not None and len(profile.visit_utm_source) <= 60
    assert profile.visit_utm_source.startswith("spring sale spring")


# --- the wire form --------------------------------------------------------------------------


def test_counts_and_visit_facts_survive_every_wire_form():
    profile = visitor()
    record_request(
        profile, EVERYTHING, NOW, entry="/trips", referrer="news.example", utm_source="s"
    )
    view(profile, NOW)
    record_search(profile, EVERYTHING, NOW, "tent")
    compact = profile.to_compact()
    assert compact["t"] == {
        "p:/trips": [TODAY, [1]],
        "t:hiking": [TODAY, [1]],
        "s:tent": [TODAY, [1]],
    }
    assert (compact["vp"], compact["ve"], compact["vr"], compact["vu"]) == (
        1,
        "/trips",
        "news.example",
        "s",
    )
    for read in (
        Profile.from_compact(compact),
        Profile.from_msgpack(profile.to_msgpack()),
        Profile.from_json(profile.to_json()),
    ):
        assert read == profile


def test_a_cookie_from_before_counts_and_visit_facts_still_reads():
    older = {"i": "visitor-1", "v": 2, "l": int(NOW.timestamp()), "vs": int(NOW.timestamp())}
    profile = Profile.from_compact(older)
    assert (profile.counts, profile.visit_pages, profile.visit_entry) == ({}, 0, None)
    attrs = derive_attributes(profile, EVERYTHING, NOW, counts={"views.topic.hiking.7d"})
    assert attrs["visit.pages"] == 0
    assert "visit.entry" not in attrs
    assert attrs["views.topic.hiking.7d"] == 0
    record_view(profile, EVERYTHING, NOW, "/trips", topic="hiking")  # and records on
    assert profile.visit_pages == 1


@pytest.mark.parametrize(
    "counts",
    [
        {"t:hiking": [TODAY, [1] * (COUNT_DAYS + 1)]},  # more days than kept
        {"t:hiking": [-1, [1]]},
        {"t:hiking": [TODAY, [-1]]},
        {"t:hiking": [TODAY]},
        {"t:hiking": {"day": TODAY}},
    ],
)
def test_a_malformed_count_is_refused_like_any_bad_profile(counts):
    with pytest.raises(ValueError, match="not a compact profile"):
        Profile.from_compact({"i": "visitor-1", "t": counts})
