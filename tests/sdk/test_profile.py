"""`Profile` and its compact form: lossless round trip, and `ValueError` for anything else."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etalage.history import (
    add_interest,
    record_decisions,
    record_event,
    record_exposure,
    record_request,
    record_search,
    record_view,
)
from etalage.middleware.profile_page import profile_report, render_profile_page
from etalage.profile import (
    MAX_DECISION_PAGES,
    MAX_MOMENT,
    MAX_SAFE_INT,
    MAX_TEXT_LENGTH,
    CartState,
    EventEntry,
    Profile,
    SearchEntry,
    ViewEntry,
)
from etalage.recency import HistoryPolicy, derive_attributes
from etalage.request_facts import RequestFacts
from etalage.rules import parse_ruleset
from etalage.visitor import Visitor

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
AT = int(NOW.timestamp())

short_text = st.text(max_size=20)
moments = st.integers(min_value=0, max_value=2**34)
optional_moments = st.none() | moments
amounts = st.floats(min_value=0, max_value=1e9)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INT, max_value=MAX_SAFE_INT)
    | st.floats(allow_nan=False, allow_infinity=False)
    | short_text
)
json_values = st.recursive(
    scalars,
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
    st.sampled_from([10**400, -(10**400), 2**53 + 1, 2**63, -1, MAX_MOMENT + 1, 2**52]),
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

# What the app stores: preferences as the preferences endpoint writes them, event data as
# `history.record_event` keeps it, decisions as `history.record_decisions` writes them.
preferences = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=60),
        "email": st.text(max_size=120),
        "channel": st.sampled_from(["email", "sms", "post"]),
        "interests": st.lists(st.text(max_size=30), max_size=12),
    },
)
decision_pages = st.fixed_dictionaries(
    {
        "path": st.text(max_size=200),
        "at": moments,
        "slots": st.dictionaries(
            short_text,
            st.tuples(st.none() | short_text, st.none() | short_text).map(list),
            max_size=3,
        ),
    }
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
    interest=st.dictionaries(short_text, st.tuples(amounts, moments), max_size=4),
    cart=st.builds(CartState, st.integers(min_value=0, max_value=1000), amounts, optional_moments),
    purchases=st.integers(min_value=0, max_value=1000),
    purchase_total=amounts,
    last_purchase=optional_moments,
    prefs=preferences,
    exposures=st.dictionaries(short_text, st.integers(min_value=0, max_value=100), max_size=3),
    dismissed=st.dictionaries(short_text, moments, max_size=3),
    events=st.lists(
        st.builds(
            EventEntry, short_text, moments, st.dictionaries(short_text, scalars, max_size=3)
        ),
        max_size=4,
    ),
    decisions=st.lists(decision_pages, max_size=MAX_DECISION_PAGES),
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
    decisions = [
        {"path": f"/p{n}", "at": AT, "slots": {"hero": [None, "default"]}}
        for n in range(MAX_DECISION_PAGES + 2)
    ]
    profile = Profile.from_compact({"i": "v", "k": decisions})
    assert profile.decisions == decisions[:MAX_DECISION_PAGES]


BAD_SHAPES = [
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
]


@pytest.mark.parametrize("data", BAD_SHAPES)
def test_from_compact_rejects_bad_shapes_with_value_error(data):
    with pytest.raises(ValueError, match="not a compact profile"):
        Profile.from_compact(data)


POLICY = HistoryPolicy()
GOOD_PAGE = {"path": "/", "at": AT, "slots": {"hero": ["continue-search", "because"]}}


MALFORMED_CONTENTS = [
    # preferences: text, and `interests` a list of text; nothing else
    {"r": {"name": 5}},
    {"r": {"name": None}},
    {"r": {"name": ["Ada"]}},
    {"r": {"email": ["ada@example.org"]}},
    {"r": {"interests": "x"}},
    {"r": {"interests": [1]}},
    {"r": {"interests": [["hiking"]]}},
    {"r": {"name": {"first": "Ada"}}},
    {"r": {"other": {"nested": {"deep": [1]}}}},
    {"r": {"other": True}},
    {"r": {"name": "x" * (MAX_TEXT_LENGTH + 1)}},
    {"r": {"k" * 300: "x"}},
    # moments: whole seconds from 1970 to the end of year 9999
    {"l": 2**52},
    {"f": -1},
    {"lp": MAX_MOMENT + 1},
    {"f": 1.5},
    {"s": [["tent", 2**52]]},
    {"s": [["tent", AT, -1]]},
    {"w": [["/a", AT, None, 2**52]]},
    {"d": {"greet": 2**52}},
    {"d": {"greet": -5}},
    {"e": [["ping", 2**52]]},
    {"c": [1, 2.0, -1]},
    {"n": {"hiking": [1.0, 2**52]}},
    # decisions: exactly what record_decisions writes
    {"k": [{**GOOD_PAGE, "at": 2**52}]},
    {"k": [{**GOOD_PAGE, "at": "today"}]},
    {"k": [{**GOOD_PAGE, "path": 7}]},
    {"k": [{**GOOD_PAGE, "slots": ["hero"]}]},
    {"k": [{**GOOD_PAGE, "slots": {"hero": "continue-search"}}]},
    {"k": [{**GOOD_PAGE, "slots": {"hero": ["continue-search"]}}]},
    {"k": [{**GOOD_PAGE, "slots": {"hero": ["continue-search", "because", "more"]}}]},
    {"k": [{**GOOD_PAGE, "slots": {"hero": [7, "because"]}}]},
    {"k": [{**GOOD_PAGE, "slots": {"hero": [{"id": "x"}, "because"]}}]},
    {"k": [{**GOOD_PAGE, "slots": {"hero": ["continue-search", ["because"]]}}]},
    {"k": [{**GOOD_PAGE, "slots": {"hero": ["r" * 257, "because"]}}]},
    {"k": [{"at": AT, "slots": {}}]},
    {"k": [{**GOOD_PAGE, "extra": 1}]},
    {"k": [GOOD_PAGE, {}]},
    # event data: named JSON scalars only
    {"e": [["ping", AT, {"a": {"b": 1}}]]},
    {"e": [["ping", AT, {"a": [1, 2]}]]},
    {"e": [["ping", AT, {"a": float("nan")}]]},
    {"e": [["ping", AT, {"a": 2**60}]]},
    {"e": [["ping", AT, None]]},
    {"e": [[7, AT]]},
    # scores, counts and money: finite, never negative
    {"n": {"hiking": ["high", AT]}},
    {"n": {"hiking": [-1.0, AT]}},
    {"n": {"hiking": [True, AT]}},
    {"c": [1, "12.50"]},
    {"c": [-1, 2.0]},
    {"c": [1, -2.0]},
    {"c": [1, float("inf")]},
    {"c": []},
    {"c": [5]},
    {"p": [1, -5.0]},
    {"p": [-1, 5.0]},
    {"x": {"greet": 0.5}},
    {"x": {"greet": -1}},
    {"v": -1},
]


@pytest.mark.parametrize("contents", MALFORMED_CONTENTS)
def test_from_compact_rejects_malformed_contents_with_value_error(contents):
    with pytest.raises(ValueError, match="not a compact profile"):
        Profile.from_compact({"i": "visitor-1", **contents})


# -- MessagePack (the cookie) and JSON (the profile store): the same form, checked as it is read --


@settings(deadline=None, max_examples=200)
@given(profiles)
def test_the_msgpack_and_json_forms_round_trip(profile):
    assert Profile.from_msgpack(profile.to_msgpack()) == profile
    assert Profile.from_json(profile.to_json()) == profile


@settings(deadline=None, max_examples=100)
@given(profiles)
def test_the_compact_form_as_the_version_before_wrote_it_is_read(profile):
    """What cookies sealed and the store saved before: `to_compact` as MessagePack, and as
    `json.dumps` wrote it (ASCII escapes; unset trailing entry fields left out)."""
    compact = profile.to_compact()
    assert Profile.from_msgpack(msgspec.msgpack.encode(compact)) == profile
    assert Profile.from_json(json.dumps(compact, separators=(",", ":")).encode()) == profile


def as_msgpack(data: object) -> bytes | None:
    """`data` as MessagePack, or None when MessagePack cannot hold it (an integer past 64 bits)."""
    try:
        return msgspec.msgpack.encode(data)
    except OverflowError:
        return None


@pytest.mark.parametrize(
    "data", [*BAD_SHAPES, *({"i": "visitor-1", **contents} for contents in MALFORMED_CONTENTS)]
)
def test_the_msgpack_and_json_forms_refuse_what_from_compact_refuses(data):
    packed = as_msgpack(data)
    if packed is not None:
        with pytest.raises(ValueError, match="not a compact profile"):
            Profile.from_msgpack(packed)
    with pytest.raises(ValueError, match="not a compact profile"):
        Profile.from_json(json.dumps(data))  # NaN and infinity as Python writes them, too


# "Zo###" stands for "Zo\ud800" (five bytes each, as MessagePack's length prefix needs); it is put
# in as each form carries a lone surrogate.
LONE_SURROGATE = {
    "id": {"i": "Zo###"},
    "preference": {"i": "v", "r": {"name": "Zo###"}},
    "interests": {"i": "v", "r": {"interests": ["Zo###"]}},
    "search term": {"i": "v", "s": [["Zo###", AT]]},
    "topic": {"i": "v", "w": [["/a", AT, "Zo###"]]},
    "event data": {"i": "v", "e": [["ping", AT, {"a": "Zo###"}]]},
    "decision reason": {"i": "v", "k": [{**GOOD_PAGE, "slots": {"hero": [None, "Zo###"]}}]},
}


def with_lone_surrogate(form: str, data: dict) -> Profile:
    """`data` read from `form`, with a lone surrogate where it says "Zo###"."""
    escaped = json.dumps(data).replace("Zo###", "Zo\\ud800")  # JSON can hold it
    as_bytes = (b"Zo###", "Zo\ud800".encode("utf-8", "surrogatepass"))  # no UTF-8 reader takes it
    if form == "Python data":
        return Profile.from_compact(json.loads(escaped))
    if form == "escaped JSON":
        return Profile.from_json(escaped)
    if form == "JSON bytes":
        return Profile.from_json(json.dumps(data).encode().replace(*as_bytes))
    return Profile.from_msgpack(msgspec.msgpack.encode(data).replace(*as_bytes))


@pytest.mark.parametrize("form", ["Python data", "escaped JSON", "JSON bytes", "MessagePack"])
@pytest.mark.parametrize("data", LONE_SURROGATE.values(), ids=LONE_SURROGATE.keys())
def test_text_utf8_cannot_carry_is_refused_in_every_form(form, data):
    with pytest.raises(ValueError, match="not a compact profile"):
        with_lone_surrogate(form, data)


def test_the_msgpack_and_json_forms_ignore_a_key_this_version_does_not_write():
    data = {"i": "visitor-1", "v": 2, "z": {"future": [1]}}
    assert Profile.from_msgpack(msgspec.msgpack.encode(data)).visits == 2
    assert Profile.from_json(json.dumps(data)).visits == 2


def test_the_msgpack_and_json_forms_read_only_the_last_decision_pages():
    decisions = [
        {"path": f"/p{n}", "at": AT, "slots": {"hero": [None, "default"]}}
        for n in range(MAX_DECISION_PAGES + 2)
    ]
    data = {"i": "v", "k": decisions}
    assert Profile.from_msgpack(msgspec.msgpack.encode(data)).decisions == decisions[:3]
    assert Profile.from_json(json.dumps(data)).decisions == decisions[:3]


def test_the_compact_form_holds_lists_as_json_gives_them():
    profile = Profile(
        id="v",
        interest={"hiking": (1.5, AT)},
        cart=CartState(2, 30.0),
        purchases=1,
        purchase_total=2.5,
        events=[EventEntry("ping", AT)],
    )
    compact = profile.to_compact()
    assert compact == through_json(compact)  # no tuples
    assert (compact["n"], compact["c"], compact["p"]) == (
        {"hiking": [1.5, AT]},
        [2, 30.0],
        [1, 2.5],
    )
    assert compact["e"] == [["ping", AT]]


@pytest.mark.parametrize(
    "entry",
    [SearchEntry("tent", AT), ViewEntry("/a", AT), EventEntry("ping", AT), CartState()],
    ids=lambda entry: type(entry).__name__,
)
def test_history_entries_are_immutable(entry):
    with pytest.raises(AttributeError):
        setattr(entry, type(entry).__struct_fields__[0], None)


def test_the_last_second_datetime_can_show_is_a_valid_moment():
    profile = Profile.from_compact({"i": "v", "f": 0, "l": MAX_MOMENT})
    assert (profile.first_seen, profile.last_seen) == (0, MAX_MOMENT)


def test_decisions_as_record_decisions_writes_them_are_read():
    profile = Profile(id="v")
    record_decisions(profile, NOW, "/a", {"hero": ("continue-search", "why"), "nav": (None, None)})
    again = Profile.from_compact(through_json(profile.to_compact()))
    assert again.decisions == profile.decisions


# -- profiles the app records round-trip ----------------------------------------------------

prices = st.floats(min_value=0, max_value=1e9, exclude_max=True)  # what record_event accepts

steps = st.one_of(
    st.tuples(st.just("view"), st.text(max_size=250), st.none() | st.text(max_size=50)),
    st.tuples(st.just("search"), st.text(max_size=100), st.none() | st.integers(0, MAX_MOMENT)),
    st.tuples(st.just("interest"), st.text(max_size=40), st.floats(0, 100)),
    st.tuples(
        st.just("event"),
        st.sampled_from(["video_play", "newsletter_signup"]),
        st.dictionaries(st.text(max_size=40), scalars | json_values, max_size=8),
    ),
    st.tuples(st.just("add_to_cart"), prices, st.integers(0, 10**6)),
    st.tuples(st.just("purchase"), prices, st.none()),
    st.tuples(st.just("dismiss"), st.text(min_size=1, max_size=64), st.none()),
    st.tuples(st.just("expose"), st.text(max_size=64), st.none()),
    st.tuples(st.just("pref"), st.sampled_from(["name", "email", "level"]), st.text(max_size=120)),
    st.tuples(st.just("interests"), st.lists(st.text(max_size=30), max_size=12), st.none()),
    st.tuples(
        st.just("decide"),
        st.text(max_size=250),
        st.dictionaries(
            short_text, st.tuples(st.none() | short_text, st.text(max_size=200)), max_size=4
        ),
    ),
)


@settings(deadline=None, max_examples=150)
@given(st.lists(st.tuples(st.integers(0, 40 * 86400), steps), min_size=1, max_size=30))
def test_profiles_recorded_by_the_history_functions_round_trip(history):
    moment = NOW
    profile = Profile.new(moment)
    for pause, (kind, first, second) in history:
        moment += timedelta(seconds=pause)
        record_request(profile, POLICY, moment)
        if kind == "view":
            record_view(profile, POLICY, moment, first, topic=second)
        elif kind == "search":
            record_search(profile, POLICY, moment, first, valid_until=second)
        elif kind == "interest":
            add_interest(profile, POLICY, moment, first, second)
        elif kind == "event":
            record_event(profile, POLICY, moment, first, second)
        elif kind == "add_to_cart":
            record_event(profile, POLICY, moment, kind, {"price": first, "qty": second})
        elif kind == "purchase":
            record_event(profile, POLICY, moment, kind, {"value": first})
        elif kind == "dismiss":
            record_event(profile, POLICY, moment, kind, {"rule": first})
        elif kind == "expose":
            record_exposure(profile, first)
        elif kind == "pref":
            profile.prefs[first] = second
        elif kind == "interests":
            profile.prefs["interests"] = first
        elif kind == "decide":
            record_decisions(profile, moment, first, second)
    assert Profile.from_compact(through_json(profile.to_compact())) == profile


# -- whatever is read can be shown and decided on -------------------------------------------

RULES = """\
version: 1
site: {name: hostile, timezone: Pacific/Kiritimati}
rules:
  - id: continue-search
    slot: hero
    fragment: hero.html
    when: {search.last: {$exists: true}}
    reason: You searched for this recently.
  - id: greet
    slot: greeting
    fragment: greeting.html
    when: {prefs.name: {$exists: true}, prefs.interests: {$in: [hiking]}}
    dismissible: true
  - id: big-cart
    slot: cart
    fragment: cart.html
    when: {cart.value: {$gt: 100}, event.video_play.count: {$gte: 1}, interest.top: hiking}
    max_exposures: 3
  - id: mobile
    slot: hero
    fragment: mobile.html
    when: {device.type: mobile}
"""
RULESET = parse_ruleset(RULES)
FACTS = RequestFacts.from_scope(
    {"type": "http", "path": "/_etalage/profile", "headers": [(b"user-agent", b"Mozilla/5.0")]},
    RULESET.site.timezone,
    NOW,
)

# Leaves a hostile value may end in: out-of-range moments, non-finite and negative numbers,
# booleans where numbers belong, text where lists belong, long text.
hostile_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([-1, 0, AT, MAX_MOMENT, MAX_MOMENT + 1, 2**52, 2**53 + 1, 10**400]),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["continue-search", "greet", "big-cart", "hiking", "x" * 5000, "Zo\ud800"]),
)
hostile = st.recursive(
    hostile_leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(["path", "at", "slots"]), children)
    ),
    max_leaves=16,
)


def either(good: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly `good`, now and then a hostile JSON value in its place."""
    return st.sampled_from(range(8)).flatmap(lambda n: hostile if n == 0 else good)


def entries(*fields: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(either(st.tuples(*map(either, fields)).map(list)), max_size=3)


texts = st.text(max_size=30) | st.sampled_from(["Zo\ud800ë", "\udc80"])  # JSON can hold these
names = texts | st.sampled_from(["continue-search", "greet", "big-cart", "hiking", "top"])
hostile_pages = st.fixed_dictionaries(
    {
        "path": either(texts),
        "at": either(moments),
        "slots": either(
            st.dictionaries(
                names,
                either(st.tuples(either(st.none() | names), either(st.none() | texts)).map(list)),
                max_size=3,
            )
        ),
    }
)
hostile_profiles = st.fixed_dictionaries(
    {"i": either(st.just("visitor-1"))},
    optional={
        **{key: either(moments) for key in ("v", "f", "l", "vs", "pv", "lp")},
        "s": entries(texts, moments, moments),
        "w": entries(texts, moments, st.none() | names, moments),
        "n": either(
            st.dictionaries(names, either(st.tuples(either(amounts), either(moments)).map(list)))
        ),
        "c": either(st.tuples(either(moments), either(amounts), either(moments)).map(list)),
        "p": either(st.tuples(either(moments), either(amounts)).map(list)),
        "r": either(
            st.dictionaries(
                st.sampled_from(["name", "email", "interests", "level"]) | texts,
                either(texts | st.lists(either(texts), max_size=3)),
                max_size=4,
            )
        ),
        "x": either(st.dictionaries(names, either(moments), max_size=3)),
        "d": either(st.dictionaries(names, either(moments), max_size=3)),
        "e": entries(names, moments, st.dictionaries(texts, hostile_leaves | hostile, max_size=3)),
        "k": either(st.lists(either(hostile_pages), max_size=4)),
    },
)


@settings(deadline=None, max_examples=300)
@given(hostile_profiles)
def test_a_profile_read_from_hostile_json_can_be_shown_and_decided_on(data):
    try:
        profile = Profile.from_compact(through_json(data))
    except ValueError:
        return
    derive_attributes(profile, RULESET.history, NOW, timezone=RULESET.site.timezone)
    visitor = Visitor(facts=FACTS, now=NOW, consent=True, profile=profile)
    report = profile_report(visitor, RULESET)
    render_profile_page(report).encode("utf-8")
    json.dumps(report, ensure_ascii=False, allow_nan=False).encode("utf-8")  # as JSONResponse
    assert Profile.from_compact(through_json(profile.to_compact())) == profile


@pytest.mark.parametrize("topic", ["top", "topics"])
def test_a_topic_named_like_a_derived_attribute_is_shown_with_its_score(topic):
    profile = Profile(id="v", interest={"hiking": (2.0, AT), topic: (1.0, AT)})
    report = profile_report(Visitor(facts=FACTS, now=NOW, consent=True, profile=profile), RULESET)
    assert report["stored"]["interests"] == [
        {"topic": "hiking", "score": 2.0},
        {"topic": topic, "score": 1.0},
    ]
    render_profile_page(report)


def test_a_key_this_version_does_not_write_is_ignored():
    """A newer worker may add a key during a rolling deploy: the older one keeps the profile."""
    profile = Profile.from_compact({"i": "visitor-1", "v": 2, "z": {"future": [1]}})
    assert profile.visits == 2
