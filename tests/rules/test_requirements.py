"""`condition_requirements`: what a condition needs to be true, checked against evaluating it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from etalage.rules.conditions import Requirements, compile_condition, condition_requirements

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


# --- whenever the analysis says "skip", the predicate is false ------------------------------

KEYS = ["a", "b", "c.d"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-3, 3),
    st.just(float("nan")),
    st.sampled_from(["x", "y", "1", "", "X"]),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))
OPERATORS = st.one_of(
    st.tuples(st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]), SCALARS),
    st.tuples(
        st.sampled_from(["$in", "$nin", "$ini", "$nini", "$all"]), st.lists(VALUES, max_size=3)
    ),
    st.tuples(st.just("$exists"), st.booleans()),
    st.tuples(st.just("$type"), st.sampled_from(["string", "number", "null", "array"])),
    st.tuples(st.just("$size"), st.integers(0, 2)),
    st.tuples(st.just("$regex"), st.sampled_from(["^x", "1$", "("])),
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


@settings(max_examples=300, deadline=None)
@given(LEAVES, FLAT)
def test_requirements_exclude_often_enough_to_be_worth_it(
    condition: dict[str, Any], attributes: dict[str, Any]
) -> None:
    # A single plain equality on a missing attribute is always excluded.
    needs = condition_requirements({**condition, "z": "needed"}, GROUPS)
    assert needs.excludes(attributes) is True
