"""`Ruleset.decide` through its rule index decides exactly as evaluating every rule would."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etalage.rules import Ruleset, parse_ruleset
from etalage.rules.model import Decision, Rule

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SLOTS = ("hero", "promo", "side")
KEYS = ["device.type", "visits.count", "search.last", "interest.top", "segment.regular", "x"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(0, 3),
    st.sampled_from([1.5, float("nan"), float("inf"), float("-inf")]),
    st.sampled_from(["mobile", "tent", "tents", "te", "a", "1"]),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=2))
ORDERED = st.one_of(
    st.integers(0, 3),
    st.sampled_from([1.5, float("inf"), float("-inf")]),
    st.sampled_from(["tent", "a", "1"]),
)
PATTERNS = st.sampled_from(["^te", "^tent", "^tents", "^tent(s|$)", "^te?", "^a|t", "nt$"])
OPERATORS = st.one_of(
    st.tuples(st.sampled_from(["$eq", "$ne"]), SCALARS),
    st.tuples(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), ORDERED),
    st.tuples(st.sampled_from(["$in", "$nin"]), st.lists(SCALARS, max_size=3)),
    st.tuples(st.just("$exists"), st.booleans()),
    st.tuples(st.just("$regex"), PATTERNS),
)
FIELD_TESTS = st.one_of(VALUES, st.lists(OPERATORS, min_size=1, max_size=2).map(dict))
LEAVES = st.dictionaries(st.sampled_from(KEYS), FIELD_TESTS, min_size=1, max_size=2)
CONDITIONS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.builds(lambda items: {"$and": items}, st.lists(inner, max_size=2)),
        st.builds(lambda items: {"$or": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda items: {"$nor": items}, st.lists(inner, max_size=2)),
        st.builds(lambda item: {"$not": item}, inner),
    ),
    max_leaves=4,
)
RULES = st.lists(
    st.fixed_dictionaries(
        {
            "slot": st.sampled_from(SLOTS),
            "priority": st.integers(0, 3),
            "when": st.one_of(st.none(), CONDITIONS),
            "start": st.sampled_from([None, "2026-06-01T00:00", "2026-06-15T12:00"]),
            "end": st.sampled_from([None, "2026-06-15T12:00", "2026-07-01T00:00"]),
            "max_exposures": st.sampled_from([None, 1]),
            "dismissible": st.booleans(),
        }
    ),
    min_size=1,
    max_size=12,
)
ATTRIBUTES = st.one_of(
    st.dictionaries(st.sampled_from([*KEYS, "cart.items"]), VALUES, max_size=5),
    st.builds(  # nested objects: conditions walk into them, the index must step aside
        lambda flat, top: {**flat, "interest": {"top": top}},
        st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=3),
        VALUES,
    ),
)


TAKE = {"hero": 1, "promo": 2, "side": 1}


def rule_file(rules: list[dict[str, Any]]) -> str:
    document: dict[str, Any] = {
        "version": 1,
        "site": {"name": "shop", "timezone": "UTC"},
        "slots": {"promo": {"take": TAKE["promo"]}},
        "segments": {"regular": {"visits.count": {"$gte": 2}}},
        "rules": [],
    }
    for index, raw in enumerate(rules):
        rule = {"id": f"r{index}", "slot": raw["slot"], "fragment": f"{raw['slot']}/{index}.html"}
        rule["priority"] = raw["priority"]
        if raw["start"] and raw["end"] and raw["end"] <= raw["start"]:
            raw = {**raw, "end": None}
        for key in ("when", "start", "end", "max_exposures"):
            if raw[key] is not None:
                rule[key] = raw[key]
        if raw["dismissible"]:
            rule["dismissible"] = True
        document["rules"].append(rule)
    return json.dumps(document)


def reference_decide(
    ruleset: Ruleset, attributes: dict[str, Any], exposures: dict[str, int], dismissed: set[str]
) -> dict[str, list[str]]:
    """Every rule of every slot, in priority order, evaluated until the slot is full."""
    attrs = ruleset.with_segments(attributes, SLOTS)
    consent = attrs.get("consent.personalization") is True
    winners: dict[str, list[str]] = {}
    for slot in SLOTS:
        winners[slot] = []
        for rule in ruleset.rules_for(slot):
            if rule.needs_consent and not consent:
                continue
            if not rule.is_scheduled_at(NOW) or (rule.dismissible and rule.id in dismissed):
                continue
            if rule.max_exposures is not None and exposures.get(rule.id, 0) >= rule.max_exposures:
                continue
            if rule.predicate(attrs):
                winners[slot].append(rule.id)
                if len(winners[slot]) == TAKE[slot]:
                    break
    return winners


@settings(max_examples=300, deadline=None)
@given(
    RULES,
    st.lists(ATTRIBUTES, min_size=1, max_size=4),
    st.booleans(),
    st.sets(st.sampled_from([f"r{i}" for i in range(12)])),
)
def test_indexed_decisions_equal_evaluating_every_rule(
    rules: list[dict[str, Any]],
    visitors: list[dict[str, Any]],
    consent: bool,
    seen: set[str],
) -> None:
    ruleset = parse_ruleset(rule_file(rules), "rules.yaml")
    exposures = {rule_id: 1 for rule_id in seen}
    for attributes in visitors:
        attributes = {**attributes, "consent.personalization": consent}
        attributes["experiment.holdout"] = False
        decisions = ruleset.decide(attributes, SLOTS, NOW, exposures=exposures, dismissed=seen)
        got = {
            slot: [p.rule.id for p in decision.placements if p.rule]
            for slot, decision in decisions.items()
        }
        assert got == reference_decide(ruleset, attributes, exposures, seen)
        assert list(decisions) == list(SLOTS)


def counting(ruleset: Ruleset) -> tuple[Ruleset, list[str]]:
    """The same rule set with predicates that record which rules were evaluated."""
    calls: list[str] = []

    def spy(rule: Rule) -> Rule:
        inner = rule.predicate

        def predicate(attributes: Any) -> bool:
            calls.append(rule.id)
            return inner(attributes)

        return replace(rule, predicate=predicate)

    return replace(ruleset, rules=tuple(spy(rule) for rule in ruleset.rules)), calls


INDEXED = """\
version: 1
site: {name: shop}
segments:
  mobile: {device.type: mobile}
rules:
  - {id: cart, slot: hero, fragment: a.html, priority: 9, when: {cart.age_hours: {$gt: 0}}}
  - {id: utm, slot: hero, fragment: a.html, priority: 8, when: {request.utm.source: {$exists: true}}}
  - {id: phone, slot: hero, fragment: a.html, priority: 7, when: {segment.mobile: true}}
  - {id: tablet, slot: hero, fragment: a.html, priority: 6, when: {device.type: tablet}}
  - {id: term, slot: hero, fragment: a.html, priority: 5, when: {search.last: {$in: [tent, bag]}}}
  - {id: late, slot: hero, fragment: a.html, priority: 4, when: {time.hour: {$gte: 18}}}
  - {id: tents, slot: hero, fragment: a.html, priority: 3, when: {request.path: {$regex: "^/tents/"}}}
  - {id: either, slot: hero, fragment: a.html, priority: 2, when: {$or: [{search.last: boots}, {view.last: /boots}]}}
  - {id: odd, slot: hero, fragment: a.html, priority: 1, when: {request.path: {$regex: "[0-9]$"}}}
  - {id: fallback, slot: hero, fragment: b.html}
"""

DESKTOP = {"consent.personalization": True, "device.type": "desktop", "time.hour": 9}


def decide_counting(attrs: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The hero's winning rule for `attrs` and the rules whose predicates were evaluated."""
    ruleset, calls = counting(parse_ruleset(INDEXED, "rules.yaml"))
    decision = ruleset.decide(attrs, ["hero"], NOW)["hero"]
    return (decision.rule.id if decision.rule else None), calls


def test_rules_whose_attributes_rule_them_out_are_not_evaluated() -> None:
    attrs = {**DESKTOP, "search.last": "sleeping bag", "request.path": "/boots/trail-4"}
    assert decide_counting(attrs) == ("odd", ["odd"])  # only the unanchored pattern ran


@pytest.mark.parametrize(
    ("attrs", "winner"),
    [
        pytest.param({"cart.age_hours": 2}, "cart", id="number-above-a-bound"),
        pytest.param({"request.utm.source": "news"}, "utm", id="present"),
        pytest.param({"device.type": "mobile"}, "phone", id="segment"),
        pytest.param({"search.last": "tent"}, "term", id="one-of-a-list"),
        pytest.param({"time.hour": 18}, "late", id="number-on-the-bound"),
        pytest.param({"request.path": "/tents/alpine"}, "tents", id="literal-prefix"),
        pytest.param({"view.last": "/boots"}, "either", id="second-branch-of-an-or"),
        pytest.param({}, "fallback", id="no-condition"),
    ],
)
def test_rules_the_index_decides_win_without_being_evaluated(
    attrs: dict[str, Any], winner: str
) -> None:
    assert decide_counting({**DESKTOP, **attrs}) == (winner, [])


@pytest.mark.parametrize(
    ("attrs", "winner", "evaluated"),
    [
        pytest.param({"time.hour": "20"}, "late", ["late"], id="text-for-a-number"),
        pytest.param({"time.hour": True}, None, ["late"], id="boolean-for-a-number"),
        pytest.param({"search.last": ["tent"]}, "term", ["term"], id="list-for-a-value"),
        pytest.param({"request.path": 7}, None, ["tents", "odd"], id="number-for-a-text"),
    ],
)
def test_values_of_another_type_are_evaluated(
    attrs: dict[str, Any], winner: str | None, evaluated: list[str]
) -> None:
    attrs = {**DESKTOP, **attrs}
    if winner is None:
        # These values fail the tested rules; the fallback still wins, unevaluated.
        assert decide_counting(attrs) == ("fallback", evaluated)
    else:
        assert decide_counting(attrs) == (winner, evaluated)


@pytest.mark.parametrize("value", [float("nan"), None], ids=["nan", "none-as-a-value"])
def test_nan_and_none_values_fail_number_tests_unevaluated(value: float | None) -> None:
    attrs = {**DESKTOP, "time.hour": value, "cart.age_hours": value}
    assert decide_counting(attrs) == ("fallback", [])


def test_nested_attributes_turn_the_index_off() -> None:
    ruleset, calls = counting(parse_ruleset(INDEXED, "rules.yaml"))
    attrs = {"consent.personalization": True, "request": {"utm": {"source": "news"}}}
    decision = ruleset.decide(attrs, ["hero"], NOW)["hero"]
    assert decision.rule is not None and decision.rule.id == "utm"
    assert calls == ["cart", "utm"]


RANGES = """\
version: 1
site: {name: shop}
rules:
  - {id: few, slot: s, fragment: a.html, priority: 5, when: {visits.count: {$gte: 2, $lt: 5}}}
  - {id: exactly-five, slot: s, fragment: a.html, priority: 4, when: {visits.count: 5}}
  - {id: many, slot: s, fragment: a.html, priority: 3, when: {visits.count: {$gt: 5}}}
  - {id: none-yet, slot: s, fragment: a.html, priority: 2, when: {visits.count: {$lte: 0}}}
  - {id: tiny, slot: s, fragment: a.html, priority: 1, when: {visits.count: {$gt: -.inf, $lt: 0.5}}}
"""


@pytest.mark.parametrize(
    ("count", "winner"),
    [
        (-float("inf"), "none-yet"),
        (-1, "none-yet"),
        (0, "none-yet"),
        (0.25, "tiny"),
        (1, None),
        (2, "few"),
        (4.5, "few"),
        (5, "exactly-five"),
        (5.0, "exactly-five"),
        (6, "many"),
        (float("inf"), "many"),
        (float("nan"), None),
    ],
)
def test_a_number_tested_against_several_bounds(count: float, winner: str | None) -> None:
    ruleset, calls = counting(parse_ruleset(RANGES, "rules.yaml"))
    attrs = {"consent.personalization": True, "visits.count": count}
    decision = ruleset.decide(attrs, ["s"], NOW)["s"]
    assert (decision.rule.id if decision.rule else None) == winner
    assert calls == []


def test_a_winning_rule_without_draws_gets_the_same_decision_each_time() -> None:
    ruleset = parse_ruleset(INDEXED, "rules.yaml")
    first = ruleset.decide({"time.hour": 20}, ["hero"], NOW)["hero"]
    second = ruleset.decide({"time.hour": 21}, ["hero"], NOW)["hero"]
    assert first is second
    assert first == Decision("hero", first.rule, "matched time.hour", candidate=first.rule)


BRANCHES = """\
version: 1
site: {name: shop}
rules:
  - {id: patterns, slot: s, fragment: a.html, priority: 2, when: {$or: [{a: {$regex: "x$"}}, {b: {$regex: "y$"}}]}}
  - {id: fallback, slot: s, fragment: b.html}
"""


def test_a_rule_with_several_alternatives_left_is_evaluated_once() -> None:
    ruleset, calls = counting(parse_ruleset(BRANCHES, "rules.yaml"))
    attrs = {"consent.personalization": True, "a": "no", "b": "no"}
    decision = ruleset.decide(attrs, ["s"], NOW)["s"]
    assert decision.rule is not None and decision.rule.id == "fallback"
    assert calls == ["patterns"]
