"""`etalage.rules.conditions`: lookup, compile-once evaluation, validation and paths read."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etalage.rules.conditions import (
    _compile_condition,
    compile_condition,
    condition_paths,
    evaluate_condition,
    validate_condition,
)

# --- attribute lookup -----------------------------------------------------------------------


def test_flat_dotted_key_wins_over_nested_objects() -> None:
    predicate = compile_condition({"search.last.age_days": {"$lt": 7}})
    attributes = {"search.last.age_days": 3, "search": {"last": {"age_days": 30}}}
    assert predicate(attributes) is True


def test_dotted_path_walks_nested_objects_when_no_flat_key_exists() -> None:
    predicate = compile_condition({"search.last.age_days": {"$lt": 7}})
    assert predicate({"search": {"last": {"age_days": 3}}}) is True
    assert predicate({"search": {"last": {"age_days": 30}}}) is False


def test_flat_key_holding_none_is_used_rather_than_walking() -> None:
    predicate = compile_condition({"interest.top": {"$exists": False}})
    assert predicate({"interest.top": None, "interest": {"top": "hiking"}}) is True


def test_one_compiled_predicate_evaluates_many_attribute_sets() -> None:
    predicate = compile_condition({"visits.count": {"$gte": 2}, "device.type": "mobile"})
    verdicts = [
        predicate({"visits.count": count, "device.type": device})
        for count in (0, 1, 2, 5)
        for device in ("mobile", "desktop")
    ]
    assert verdicts == [False, False, False, False, True, False, True, False]


def test_compiling_does_not_keep_reading_the_condition_dict() -> None:
    condition: dict[str, Any] = {"visits.count": {"$gte": 2}}
    predicate = compile_condition(condition)
    condition["visits.count"]["$gte"] = 100
    assert predicate({"visits.count": 3}) is True


def test_saved_groups_are_bound_at_compile_time() -> None:
    predicate = compile_condition({"id": {"$inGroup": "staff"}}, {"staff": ["ann", "bob"]})
    assert predicate({"id": "bob"}) is True
    assert predicate({"id": "eve"}) is False


def test_evaluate_condition_agrees_with_compiled_predicate() -> None:
    condition = {"$or": [{"cart.items": {"$gt": 0}}, {"lifecycle": "customer"}]}
    for attributes in ({"cart.items": 2}, {"lifecycle": "customer"}, {"lifecycle": "new"}, {}):
        expected = compile_condition(condition)(attributes)
        assert evaluate_condition(condition, attributes) is expected


# --- malformed input evaluates to False, never raises -----------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        {"name": {"$regex": "/???***[)"}},
        {"name": {"$regexi": "("}},
        {"name": {"$regex": 42}},
        {"$or": "not-a-list"},
        {"$and": {"name": "x"}},
        {"tags": {"$elemMatch": 3}},
        {"tags": {"$in": "abc"}},
        {"tags": {"$all": "abc"}},
        {"name": {"$inGroup": ["not", "a", "string"]}},
        {"name": {"$gte ": 1}},
        {"name": {"$type": ["string"]}},
    ],
    ids=repr,
)
def test_malformed_condition_is_false_and_never_raises(condition: dict[str, Any]) -> None:
    predicate = compile_condition(condition)
    for value in ("hello", 3, None, ["hello"], {"a": 1}):
        assert predicate({"name": value, "tags": value}) is False


@pytest.mark.parametrize(
    ("condition", "attributes", "expected"),
    [
        ({"tags": {"$in": [["nested"], "x"]}}, {"tags": [["nested"]]}, True),
        ({"tags": {"$in": ["x"]}}, {"tags": [{"un": "hashable"}, "x"]}, True),
        ({"tags": {"$in": ["x"]}}, {"tags": {"un": "hashable"}}, False),
        ({"search.recent": {"$in": ["tent"]}}, {"search.recent": ("stove", "tent")}, True),
    ],
    ids=["unhashable-option", "unhashable-element", "unhashable-value", "tuple-is-array"],
)
def test_membership_handles_unhashable_and_tuple_values(
    condition: dict[str, Any], attributes: dict[str, Any], expected: bool
) -> None:
    assert compile_condition(condition)(attributes) is expected


@pytest.mark.parametrize(
    ("condition", "attributes", "expected"),
    [
        ({"n": {"$gt": 5}}, {"n": "8"}, True),
        ({"n": {"$lt": "10"}}, {"n": 8}, True),
        ({"n": {"$gt": 5}}, {"n": "eight"}, False),
        ({"n": {"$ne": 5}}, {"n": "eight"}, False),
        ({"n": {"$lt": 5}}, {}, True),
        ({"n": {"$gt": "a"}}, {}, False),
        ({"n": {"$eq": False}}, {}, False),
        ({"n": {"$gte": 1}}, {"n": True}, True),
    ],
    ids=repr,
)
def test_ordering_coerces_like_growthbook(
    condition: dict[str, Any], attributes: dict[str, Any], expected: bool
) -> None:
    assert compile_condition(condition)(attributes) is expected


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ({"visits.count": {"$gte ": 2}}, ("visits.count", "unknown operator '$gte '")),
        ({"tags": {"$in": "hiking"}}, ("tags", "$in needs a list, got string")),
        ({"q": {"$regex": "("}}, ("q", "$regex: invalid regular expression")),
        ({"q": {"$regex": 5}}, ("q", "$regex needs a string, got number")),
        ({"q": {"$exists": "yes"}}, ("q", "$exists needs true or false")),
        ({"$or": {"a": 1}}, ("$or", "$or needs a list of conditions, got object")),
        ({"$and": ["a"]}, ("$and.0", "a condition must be a mapping, got string")),
        ({"tags": {"$size": "3"}}, ("tags", "$size needs a whole number")),
        ({"tags": {"$size": {"$gtt": 3}}}, ("tags.$size", "unknown operator '$gtt'")),
        ({"a": {"$type": "text"}}, ("a", "$type needs one of")),
        ({"a": {"$gt": [1]}}, ("a", "$gt needs a number or a string, got array")),
        ({"a": {"$gt": 1, "b": 2}}, ("a", "operators $gt mixed with plain keys")),
        ({"$nor": [{"a": {"$not": {"$foo": 1}}}]}, ("$nor.0.a.$not", "unknown operator '$foo'")),
        ({"h": {"$elemMatch": {"n": {"$rx": "a"}}}}, ("h.$elemMatch.n", "unknown operator")),
        ({"a": {"$inGroup": 3}}, ("a", "$inGroup needs a group id string")),
        (["a"], ("", "a condition must be a mapping, got array")),
    ],
    ids=repr,
)
def test_validate_condition_names_the_path_and_problem(
    condition: Any, problem: tuple[str, str]
) -> None:
    problems = validate_condition(condition)
    assert len(problems) == 1
    path, message = problems[0]
    assert path == problem[0]
    assert message.startswith(problem[1])


@pytest.mark.parametrize(
    "condition",
    [
        {},
        {"device.type": "mobile"},
        {"visits.count": {"$gte": 2, "$lt": 10}},
        {"$or": [{"a": {"$in": [1, 2]}}, {"$not": {"b": {"$exists": True}}}]},
        {"tags": {"$size": {"$gt": 1}}, "v": {"$vgte": "1.2.0"}},
        {"h": {"$elemMatch": {"name": {"$regexi": "^ping"}}}},
        {"tags": {"$alli": ["a", {"$regex": "b"}]}},
        {"obj": {"plain": "literal"}},
        {"$groups": {"$elemMatch": {"$eq": "a"}}},
    ],
    ids=repr,
)
def test_valid_conditions_have_no_problems(condition: dict[str, Any]) -> None:
    assert validate_condition(condition) == []


def test_validate_reports_every_problem() -> None:
    problems = validate_condition({"a": {"$foo": 1}, "b": {"$in": 2}, "c": {"$bar": 3}})
    assert [path for path, _ in problems] == ["a", "b", "c"]


# --- paths read -----------------------------------------------------------------------------


def test_condition_paths_follow_logical_operators_but_not_elem_match() -> None:
    condition = {
        "device.type": "mobile",
        "$or": [{"visits.count": {"$gt": 1}}, {"$and": [{"cart.items": {"$gt": 0}}]}],
        "$nor": [{"segment.returning": True}],
        "$not": {"request.utm.source": "ads"},
        "orders": {"$elemMatch": {"total": {"$gt": 10}}},
    }
    assert condition_paths(condition) == {
        "device.type",
        "visits.count",
        "cart.items",
        "segment.returning",
        "request.utm.source",
        "orders",
    }


def test_condition_paths_of_empty_condition_is_empty() -> None:
    assert condition_paths({}) == frozenset()


# --- agreement with the growthbook package ----------------------------------------------------

KEYS = ["a", "b", "c"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-20, 20),
    st.floats(-20, 20, allow_nan=False),
    st.text(alphabet="abAB019.-v", max_size=6),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=4))
ATTRIBUTES = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=3)
VERSIONS = st.text(alphabet="0123456789.-v+ab", max_size=8)
OPERATORS = st.one_of(
    st.tuples(st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]), SCALARS),
    st.tuples(
        st.sampled_from(["$in", "$nin", "$ini", "$nini", "$all", "$alli"]),
        st.lists(SCALARS, max_size=3),
    ),
    st.tuples(st.sampled_from(["$veq", "$vne", "$vgt", "$vgte", "$vlt", "$vlte"]), VERSIONS),
    st.tuples(
        st.sampled_from(["$regex", "$regexi"]), st.sampled_from(["^a", "b$", "[0-9]", "A|1", "("])
    ),
    st.tuples(st.just("$exists"), st.booleans()),
    st.tuples(
        st.just("$type"),
        st.sampled_from(["string", "number", "boolean", "null", "array", "object"]),
    ),
    st.tuples(
        st.just("$size"),
        st.one_of(st.integers(0, 3), st.builds(lambda n: {"$gt": n}, st.integers(0, 3))),
    ),
    st.tuples(st.just("$elemMatch"), st.builds(lambda v: {"$eq": v}, SCALARS)),
    st.tuples(st.just("$not"), st.builds(lambda v: {"$eq": v}, SCALARS)),
)
FIELD_TESTS = st.one_of(VALUES, st.lists(OPERATORS, min_size=1, max_size=2).map(dict))
LEAVES = st.dictionaries(st.sampled_from(KEYS), FIELD_TESTS, min_size=1, max_size=2)
CONDITIONS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.builds(lambda items: {"$and": items}, st.lists(inner, max_size=3)),
        st.builds(lambda items: {"$or": items}, st.lists(inner, max_size=3)),
        st.builds(lambda items: {"$nor": items}, st.lists(inner, max_size=3)),
        st.builds(lambda item: {"$not": item}, inner),
    ),
    max_leaves=5,
)


@settings(max_examples=400, deadline=None)
@given(CONDITIONS, ATTRIBUTES)
def test_compiled_conditions_agree_with_growthbook(
    condition: dict[str, Any], attributes: dict[str, Any]
) -> None:
    growthbook = pytest.importorskip("growthbook.core")
    expected = growthbook.evalCondition(attributes, condition, {})
    assert compile_condition(condition)(attributes) is expected


# --- generated predicates ---------------------------------------------------------------------

HOSTILE_TEXT = [
    "__import__('os').system('true')",
    "a'] or True #",
    'x"); return True\n#',
    "\\n    return True",
    "{}",
    "_c1",
    "v",
]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_paths_and_values_are_data_never_code(text: str) -> None:
    condition = {text: text, "a." + text: {"$in": [text]}, "b": {"$regex": "^" + re.escape(text)}}
    predicate = compile_condition(condition)
    assert predicate({text: text, "a." + text: text, "b": text}) is True
    assert predicate({text: text + "!", "a." + text: text, "b": text}) is False
    assert predicate({}) is False


def test_conditions_of_one_shape_keep_their_own_values() -> None:
    young = compile_condition({"age": {"$lt": 18}, "country": {"$in": ["DE", "AT"]}})
    old = compile_condition({"age": {"$lt": 99}, "country": {"$in": ["US"]}})
    assert young({"age": 17, "country": "AT"}) is True
    assert old({"age": 17, "country": "AT"}) is False
    assert old({"age": 50, "country": "US"}) is True
    assert young({"age": 50, "country": "US"}) is False


SHAPES = [
    {"a": {"$elemMatch": {"b": {"$regex": "^x"}}}},
    {"a": {"$elemMatch": {"$gt": 1, "$lt": 3}}},
    {"a": {"$elemMatch": {"$eq": "x"}}},
    {"a": {"$elemMatch": {"$eq": "1"}}},
    {"a": {"$size": 2}, "b": {"$type": "number"}},
    {"a": {"$ini": ["X", "y"]}, "b": {"$nini": ["Z"]}},
    {"a": {"$vgt": "1.2.0"}, "b": {"$vlte": "2.0.0-beta"}},
    {"$nor": [], "a": 1},
    {"$or": [], "a": 1},
    {"$not": 5, "a": 1},
    {"$and": "not a list"},
    {"$or": [{"a": 1}, "not a condition"]},
]
VALUE_SAMPLES = [
    None,
    0,
    1,
    2,
    2.5,
    True,
    "x",
    "X",
    "1",
    "xy",
    "1.3.0",
    [],
    ["x"],
    ["X", 1],
    [1, 2],
    [{"b": "xa"}],
    [["x"]],
    {"b": "x"},
]


@pytest.mark.parametrize("condition", SHAPES)
def test_generated_predicates_equal_the_closure_compiler_on_every_value(
    condition: dict[str, Any],
) -> None:
    generated = compile_condition(condition)
    closures = _compile_condition(condition, {})  # the reference the generator must equal
    for a in VALUE_SAMPLES:
        for b in VALUE_SAMPLES[:8]:
            attributes = {"a": a, "b": b}
            assert generated(attributes) is closures(attributes), attributes


@pytest.mark.parametrize("condition", SHAPES[:7])
def test_generated_predicates_agree_with_growthbook_on_every_value(
    condition: dict[str, Any],
) -> None:
    growthbook = pytest.importorskip("growthbook.core")
    predicate = compile_condition(condition)
    for a in VALUE_SAMPLES:
        for b in VALUE_SAMPLES[:8]:
            attributes = {"a": a, "b": b}
            assert predicate(attributes) is growthbook.evalCondition(attributes, condition, {})


def test_a_long_version_a_visitor_sends_is_compared_and_not_remembered() -> None:
    from etalage.rules import conditions

    newer = compile_condition({"app": {"$vgt": "1.2.0"}})
    long_version = "2." + "0." * 200 + "1"
    conditions._PADDED.clear()
    assert newer({"app": long_version}) is True
    assert newer({"app": "1.10.0"}) is True
    assert newer({"app": "1.1.9"}) is False
    assert long_version not in conditions._PADDED
    assert "1.10.0" in conditions._PADDED
