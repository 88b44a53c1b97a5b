"""`Profile` and its compact form: lossless round trip, and `ValueError` for anything else."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etalage.profile import (
    MAX_DECISION_PAGES,
    MAX_SAFE_INT,
    CartState,
    EventEntry,
    Profile,
    SearchEntry,
    ViewEntry,
)
from etalage.recency import HistoryPolicy, derive_attributes

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)

short_text = st.text(max_size=20)
moments = st.integers(min_value=0, max_value=2**34)
optional_moments = st.none() | moments
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
amounts = st.floats(min_value=0, max_value=1e9)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INT, max_value=MAX_SAFE_INT)
    | finite_floats
    | short_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(short_text, children, max_size=4)
    ),
    max_leaves=12,
)
# Anything `json.loads` can return, including what our own encoder never writes.
any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=70),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=4), children, max_size=5)
    ),
    max_leaves=20,
)
odd_numbers = st.one_of(
    st.sampled_from([10**400, -(10**400), 2**53 + 1, 2**63, -1]),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)
odd_entries = st.tuples(short_text, odd_numbers, odd_numbers).map(list) | st.lists(
    odd_numbers | short_text, max_size=5
)
# Compact profiles whose parts have roughly the right shape and odd contents.
near_profiles = st.fixed_dictionaries(
    {"i": st.just("visitor-1")},
    optional={
        **{key: odd_numbers for key in ("v", "f", "l", "vs", "pv", "lp")},
        **{key: st.lists(odd_entries, max_size=3) for key in ("s", "w", "e")},
        "n": st.dictionaries(short_text, st.lists(odd_numbers, min_size=2, max_size=2)),
        "c": st.lists(odd_numbers, max_size=3),
        "p": st.lists(odd_numbers, min_size=2, max_size=2),
        "r": st.dictionaries(short_text, any_json, max_size=3),
        "x": st.dictionaries(short_text, odd_numbers, max_size=3),
        "d": st.dictionaries(short_text, odd_numbers, max_size=3),
        "k": st.lists(any_json, max_size=4),
    },
)

profiles = st.builds(
    Profile,
    id=st.text(min_size=1, max_size=64),
    visits=st.integers(min_value=0, max_value=10**6),
    first_seen=optional_moments,
    last_seen=optional_moments,
    visit_started=optional_moments,
    prev_visit_seen=optional_moments,
    searches=st.lists(st.builds(SearchEntry, short_text, moments, optional_moments), max_size=4),
    views=st.lists(
        st.builds(ViewEntry, short_text, moments, st.none() | short_text, optional_moments),
        max_size=4,
    ),
    interest=st.dictionaries(short_text, st.tuples(finite_floats, moments), max_size=4),
    cart=st.builds(CartState, st.integers(min_value=0, max_value=1000), amounts, optional_moments),
    purchases=st.integers(min_value=0, max_value=1000),
    purchase_total=amounts,
    last_purchase=optional_moments,
    prefs=st.dictionaries(short_text, json_values, max_size=3),
    exposures=st.dictionaries(short_text, st.integers(min_value=0, max_value=100), max_size=3),
    dismissed=st.dictionaries(short_text, moments, max_size=3),
    events=st.lists(
        st.builds(
            EventEntry, short_text, moments, st.dictionaries(short_text, json_values, max_size=3)
        ),
        max_size=4,
    ),
    decisions=st.lists(
        st.dictionaries(short_text, json_values, max_size=3), max_size=MAX_DECISION_PAGES
    ),
)


def through_json(data: object) -> object:
    return json.loads(json.dumps(data))


@settings(deadline=None, max_examples=200)
@given(profiles)
def test_compact_form_round_trips_through_json(profile):
    assert Profile.from_compact(through_json(profile.to_compact())) == profile


@settings(deadline=None, max_examples=200)
@given(any_json)
def test_from_compact_raises_only_value_error_on_arbitrary_json(data):
    try:
        Profile.from_compact(data)
    except ValueError:
        pass


@settings(deadline=None, max_examples=200)
@given(near_profiles)
def test_from_compact_raises_only_value_error_on_odd_contents(data):
    try:
        Profile.from_compact(data)
    except ValueError:
        pass


@settings(deadline=None, max_examples=200)
@given(near_profiles)
def test_a_profile_read_from_odd_contents_is_usable(data):
    try:
        profile = Profile.from_compact(data)
    except ValueError:
        return
    derive_attributes(profile, HistoryPolicy(), NOW)
    again = Profile.from_compact(through_json(profile.to_compact()))
    assert json.dumps(again.to_compact()) == json.dumps(profile.to_compact())  # NaN != NaN


def test_new_profiles_get_distinct_ids_and_are_first_seen_now():
    first, second = Profile.new(NOW), Profile.new(NOW)
    assert first.id != second.id
    assert 0 < len(first.id) <= 64
    assert first.first_seen == first.last_seen == int(NOW.timestamp())
    assert first.visits == 0


def test_empty_parts_cost_no_bytes():
    assert Profile(id="v").to_compact() == {"i": "v", "v": 0}


def test_unset_trailing_fields_are_left_out():
    profile = Profile(
        id="v",
        searches=[SearchEntry("tent", 100)],
        views=[ViewEntry("/a", 100), ViewEntry("/b", 100, None, 200)],
    )
    compact = profile.to_compact()
    assert compact["s"] == [["tent", 100]]
    assert compact["w"] == [["/a", 100], ["/b", 100, None, 200]]


def test_a_cart_value_without_items_survives():
    profile = Profile(id="v", cart=CartState(items=0, value=12.5))
    assert Profile.from_compact(profile.to_compact()).cart == CartState(items=0, value=12.5)


def test_a_purchase_total_without_purchases_survives():
    profile = Profile(id="v", purchase_total=12.5)
    assert Profile.from_compact(profile.to_compact()).purchase_total == 12.5


def test_only_the_last_decision_pages_are_read():
    decisions = [{"path": f"/p{n}"} for n in range(MAX_DECISION_PAGES + 2)]
    profile = Profile.from_compact({"i": "v", "k": decisions})
    assert profile.decisions == decisions[:MAX_DECISION_PAGES]


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "profile",
        {},
        {"i": ""},
        {"i": "x" * 65},
        {"i": 7},
        {"i": "v", "v": "3"},
        {"i": "v", "v": True},
        {"i": "v", "v": 1.5},
        {"i": "v", "v": 2**60},
        {"i": "v", "f": 10**400},
        {"i": "v", "s": "tent"},
        {"i": "v", "s": [["tent"]]},
        {"i": "v", "s": [["tent", 1, 2, 3]]},
        {"i": "v", "s": [[1, 1]]},
        {"i": "v", "w": [["/a", 1, 5]]},
        {"i": "v", "n": {"hiking": [1.0]}},
        {"i": "v", "n": {"hiking": [10**400, 1]}},
        {"i": "v", "n": {"hiking": [float("nan"), 1]}},
        {"i": "v", "n": {"hiking": [float("inf"), 1]}},
        {"i": "v", "n": []},
        {"i": "v", "c": [1, 2, 3, 4]},
        {"i": "v", "c": [1, 10**400]},
        {"i": "v", "p": [1]},
        {"i": "v", "p": [1, "many"]},
        {"i": "v", "r": ["name"]},
        {"i": "v", "x": {"rule": "3"}},
        {"i": "v", "d": {"rule": None}},
        {"i": "v", "e": [["ping"]]},
        {"i": "v", "e": [["ping", 1, [1]]]},
        {"i": "v", "k": [1]},
        {"i": "v", "k": {}},
    ],
)
def test_from_compact_rejects_bad_shapes_with_value_error(data):
    with pytest.raises(ValueError, match="not a compact profile"):
        Profile.from_compact(data)
