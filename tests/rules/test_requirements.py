"""`condition_requirements`: what a condition needs to be true, checked against evaluating it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from etalage.rules.conditions import compile_condition
from etalage.rules.requirements import Interval, Requirements, condition_requirements

# --- the analysis, case by case -----------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "present", "one_of"),
    [
        pytest.param({}, set(), {}, id="empty"),
        pytest.param({"a": "x"}, {"a"}, {"a": {"x"}}, id="plain-equality"),
        pytest.param({"a": None}, set(), {"a": {None}}, id="null-equality-needs-absence"),
        pytest.param({"a": {"$exists": True}}, {"a"}, {}, id="exists"),
        pytest.param({"a": {"$exists": False}}, set(), {}, id="exists-false"),
        pytest.param({"a": {"$ne": 3}}, set(), {}, id="ne-number-passes-missing"),
        pytest.param({"a": {"$ne": "x"}}, {"a"}, {}, id="ne-string-fails-missing"),
        pytest.param({"a": {"$nin": ["x"]}}, set(), {}, id="nin-passes-missing"),
        pytest.param({"a": {"$lt": 3}}, set(), {}, id="missing-is-zero-for-numbers"),
        pytest.param({"a": {"$gt": 3}}, {"a"}, {}, id="gt"),
        pytest.param({"a": {"$in": ["x", 1]}}, {"a"}, {"a": {"x", 1}}, id="in"),
        pytest.param({"a": {"$in": ["x", None]}}, set(), {"a": {"x", None}}, id="in-with-null"),
        pytest.param({"a": {"$in": [["x"]]}}, {"a"}, {}, id="in-of-lists-gives-no-value-set"),
        pytest.param({"a": {"$ini": ["X"]}}, {"a"}, {}, id="case-insensitive-gives-no-value-set"),
        pytest.param(
            {"a": {"$in": ["x", "y"]}, "$and": [{"a": {"$in": ["y", "z"]}}]},
            {"a"},
            {"a": {"y"}},
            id="and-intersects",
        ),
        pytest.param(
            {"$or": [{"a": "x", "b": 1}, {"a": "y"}]}, {"a"}, {"a": {"x", "y"}}, id="or-joins"
        ),
        pytest.param({"$or": [{"a": "x"}, {"b": "y"}]}, set(), {}, id="or-of-different-paths"),
        pytest.param({"$or": []}, set(), {}, id="empty-or-is-true"),
        pytest.param({"$nor": [{"a": {"$exists": False}}]}, set(), {}, id="nor-adds-nothing"),
        pytest.param({"$not": {"a": "x"}}, set(), {}, id="not-adds-nothing"),
        pytest.param({"a": {"$not": {"$eq": "x"}}}, set(), {}, id="field-not"),
        pytest.param({"a": {"$size": 0}}, {"a"}, {}, id="size-needs-an-array"),
        pytest.param({"id": {"$inGroup": "staff"}}, {"id"}, {}, id="in-group"),
        pytest.param({"id": {"$notInGroup": "staff"}}, set(), {}, id="not-in-group"),
    ],
)
def test_requirements_of_each_shape(
    condition: dict[str, Any], present: set[str], one_of: dict[str, set[Any]]
) -> None:
    needs = condition_requirements(condition, {"staff": ["ann"]})
    assert needs.present == frozenset(present)
    assert {path: set(values) for path, values in needs.one_of.items()} == one_of


def test_excludes_reads_dotted_paths_like_conditions_do() -> None:
    needs = condition_requirements({"search.last": "tent"})
    assert needs.excludes({}) is True
    assert needs.excludes({"search.last": "boots"}) is True
    assert needs.excludes({"search.last": "tent"}) is False
    assert needs.excludes({"search": {"last": "tent"}}) is False  # walks nested objects
    assert needs.excludes({"search.last": ["tent"]}) is False  # arrays: unknown, evaluate


def test_no_requirements_exclude_nothing() -> None:
    assert Requirements().excludes({}) is False
    assert condition_requirements(None).excludes({}) is False


INF = float("inf")


@pytest.mark.parametrize(
    ("condition", "ranges"),
    [
        pytest.param({"a": {"$gt": 3}}, {"a": Interval(3, INF, low_open=True)}, id="gt"),
        pytest.param({"a": {"$lte": 3}}, {"a": Interval(-INF, 3)}, id="lte"),
        pytest.param(
            {"a": {"$gte": 1, "$lt": 5}}, {"a": Interval(1, 5, high_open=True)}, id="between"
        ),
        pytest.param({"a": 2.5}, {"a": Interval(2.5, 2.5)}, id="equal-number"),
        pytest.param({"a": {"$eq": 2}}, {"a": Interval(2, 2)}, id="eq"),
        pytest.param(
            {"a": {"$gt": 1}, "$and": [{"a": {"$gt": 4}}]},
            {"a": Interval(4, INF, low_open=True)},
            id="and-narrows",
        ),
        pytest.param(
            {"$or": [{"a": {"$lt": 1}}, {"a": {"$gt": 4}}]}, {"a": Interval()}, id="or-spans"
        ),
        pytest.param({"a": {"$ne": 3}}, {}, id="ne-gives-no-interval"),
        pytest.param({"a": {"$gt": "3"}}, {}, id="text-argument-gives-no-interval"),
        pytest.param({"a": {"$gt": True}}, {}, id="boolean-argument-gives-no-interval"),
        pytest.param({"a": True}, {}, id="equal-boolean-gives-no-interval"),
        pytest.param({"a": {"$gt": float("nan")}}, {}, id="nan-argument-gives-no-interval"),
    ],
)
def test_ranges_of_each_shape(condition: dict[str, Any], ranges: dict[str, Interval]) -> None:
    assert dict(condition_requirements(condition).ranges) == ranges


@pytest.mark.parametrize(
    ("pattern", "prefixes"),
    [
        pytest.param("^/tents/", {"/tents/"}, id="literal"),
        pytest.param("^/tents(/|$)", {"/tents"}, id="group-after-the-literal"),
        pytest.param("^/tents?", {"/tent"}, id="quantifier-takes-the-last-character"),
        pytest.param("^/tent.*", {"/tent"}, id="dot"),
        pytest.param("^/a[|]b", {"/a"}, id="bar-in-a-class"),
        pytest.param("^/a|/b", set(), id="alternation-at-the-top"),
        pytest.param("^(/a)", set(), id="group-first"),
        pytest.param("^/a(?=x)", set(), id="lookahead"),
        pytest.param("/tents", set(), id="unanchored"),
        pytest.param("^", set(), id="anchor-alone"),
    ],
)
def test_prefixes_of_regular_expressions(pattern: str, prefixes: set[str]) -> None:
    needs = condition_requirements({"p": {"$regex": pattern}})
    assert set(needs.prefixes.get("p", ())) == prefixes


def test_prefixes_of_or_branches_join() -> None:
    needs = condition_requirements({"$or": [{"p": {"$regex": "^/a"}}, {"p": {"$regex": "^/b/"}}]})
    assert needs.prefixes == {"p": {"/a", "/b/"}}


def test_or_branches_become_alternatives() -> None:
    needs = condition_requirements({"c": 1, "$or": [{"a": "x"}, {"b": {"$gt": 2}}]})
    assert needs.one_of == {"c": {1}}
    assert [dict(alt.one_of) for alt in needs.alternatives] == [{"c": {1}, "a": {"x"}}, {"c": {1}}]
    assert [dict(alt.ranges) for alt in needs.alternatives] == [
        {"c": Interval(1, 1)},
        {"c": Interval(1, 1), "b": Interval(2, INF, low_open=True)},
    ]
    assert needs.excludes({"c": 1, "a": "y", "b": 1}) is True
    assert needs.excludes({"c": 1, "a": "y", "b": 3}) is False


def test_too_many_alternatives_join_into_one() -> None:
    branches = [{"a": value} for value in range(9)]
    needs = condition_requirements({"$or": branches})
    assert needs.alternatives == ()
    assert needs.one_of == {"a": frozenset(range(9))}
    assert needs.exact is False


@pytest.mark.parametrize(
    ("condition", "exact"),
    [
        pytest.param({}, True, id="empty"),
        pytest.param({"a": "x", "b": {"$in": [1, 2]}}, True, id="equality-and-in"),
        pytest.param({"a": {"$exists": True, "$lt": 7}}, True, id="exists-and-number"),
        pytest.param({"a": {"$regex": "^/tents/"}}, True, id="literal-prefix"),
        pytest.param({"$and": [{"a": 1}, {"b": {"$gte": 2}}]}, True, id="and"),
        pytest.param({"a": {"$regex": "^/tents(/|$)"}}, False, id="prefix-and-more"),
        pytest.param({"a": {"$exists": False}}, False, id="exists-false"),
        pytest.param({"a": {"$ne": 1}}, False, id="ne"),
        pytest.param({"a": {"$gt": "3"}}, False, id="text-order"),
        pytest.param({"a": float("nan")}, False, id="nan-equality"),
        pytest.param({"a": ["x"]}, False, id="list-equality"),
        pytest.param({"$not": {"a": 1}}, False, id="not"),
        pytest.param({"$nor": [{"a": 1}]}, False, id="nor"),
        pytest.param({"$and": {"a": 1}}, False, id="malformed-and"),
        pytest.param(
            {"a": {"$regex": "^x"}, "$and": [{"a": {"$regex": "^xy"}}]},
            False,
            id="two-prefixes-of-one-path",
        ),
    ],
)
def test_exact_requirements(condition: dict[str, Any], exact: bool) -> None:
    assert condition_requirements(condition).exact is exact


def test_exact_requirements_hold_only_for_the_kinds_of_values_they_read() -> None:
    needs = condition_requirements({"n": {"$gt": 3}, "t": {"$regex": "^ab"}, "s": "x"})
    assert needs.holds({"n": 4, "t": "abc", "s": "x"}) is True
    assert needs.holds({"n": 3, "t": "abc", "s": "x"}) is False  # fails
    assert needs.holds({"n": "4", "t": "abc", "s": "x"}) is False  # text: the condition decides
    assert needs.holds({"n": 4, "t": ["abc"], "s": "x"}) is False
    assert needs.holds({"n": 4, "t": "abc", "s": ["x"]}) is False


# --- whenever the analysis says "skip", the predicate is false ------------------------------

KEYS = ["a", "b", "c.d"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-3, 3),
    st.sampled_from([float("nan"), float("inf"), float("-inf")]),
    st.sampled_from(["x", "y", "1", "", "X", "xy", "xz"]),
)
PATTERNS = st.sampled_from(["^x", "^xy", "^xy?", "^x(y|z)", "^x|y", "^x.", "1$", "^", "("])
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))
OPERATORS = st.one_of(
    st.tuples(st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]), SCALARS),
    st.tuples(
        st.sampled_from(["$in", "$nin", "$ini", "$nini", "$all"]), st.lists(VALUES, max_size=3)
    ),
    st.tuples(st.just("$exists"), st.booleans()),
    st.tuples(st.just("$type"), st.sampled_from(["string", "number", "null", "array"])),
    st.tuples(st.just("$size"), st.integers(0, 2)),
    st.tuples(st.just("$regex"), PATTERNS),
    st.tuples(st.just("$not"), st.builds(lambda v: {"$in": v}, st.lists(SCALARS, max_size=2))),
    st.tuples(st.sampled_from(["$inGroup", "$notInGroup"]), st.sampled_from(["g", "none"])),
    st.tuples(st.just("$elemMatch"), st.builds(lambda v: {"$eq": v}, SCALARS)),
)
FIELD_TESTS = st.one_of(VALUES, st.lists(OPERATORS, min_size=1, max_size=3).map(dict))
LEAVES = st.dictionaries(st.sampled_from(KEYS), FIELD_TESTS, min_size=1, max_size=3)
CONDITIONS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.builds(lambda items: {"$and": items}, st.lists(inner, max_size=3)),
        st.builds(lambda items: {"$or": items}, st.lists(inner, max_size=3)),
        st.builds(lambda items: {"$nor": items}, st.lists(inner, max_size=2)),
        st.builds(lambda item: {"$not": item}, inner),
        st.builds(lambda a, b: {**a, **b}, inner, LEAVES),
    ),
    max_leaves=8,
)
FLAT = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=3)
NESTED = st.builds(lambda flat, d: {**flat, "c": {"d": d}}, FLAT, VALUES)
ATTRIBUTES = st.one_of(FLAT, NESTED)
GROUPS = {"g": ["x", 1, None]}


@settings(max_examples=800, deadline=None)
@given(CONDITIONS, ATTRIBUTES)
@example({"a": None}, {"a": None})
@example({"$or": [{"a": "x"}, {"a": 1}]}, {"a": True})
@example({"a": {"$in": ["x"]}}, {"a": ["x"]})
@example({"c.d": "x"}, {"c": {"d": "x"}})
def test_a_condition_the_requirements_exclude_is_false(
    condition: dict[str, Any], attributes: dict[str, Any]
) -> None:
    needs = condition_requirements(condition, GROUPS)
    if needs.excludes(attributes):
        assert compile_condition(condition, GROUPS)(attributes) is False


@settings(max_examples=800, deadline=None)
@given(CONDITIONS, ATTRIBUTES)
@example({"a": {"$lt": 3}}, {"a": float("nan")})
@example({"a": {"$in": [None, "x"]}, "b": {"$exists": True}}, {"b": None})
@example({"a": {"$regex": "^xy"}}, {"a": "xy"})
@example({"$or": [{"a": "x"}, {"b": {"$gt": 1}}]}, {"a": "y", "b": 2})
def test_a_condition_the_requirements_hold_for_is_true(
    condition: dict[str, Any], attributes: dict[str, Any]
) -> None:
    needs = condition_requirements(condition, GROUPS)
    if needs.holds(attributes):
        assert compile_condition(condition, GROUPS)(attributes) is True


@settings(max_examples=300, deadline=None)
@given(LEAVES, FLAT)
def test_requirements_exclude_often_enough_to_be_worth_it(
    condition: dict[str, Any], attributes: dict[str, Any]
) -> None:
    # A single plain equality on a missing attribute is always excluded.
    needs = condition_requirements({**condition, "z": "needed"}, GROUPS)
    assert needs.excludes(attributes) is True
