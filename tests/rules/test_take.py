"""``take: N`` slots: the N best winning rules, each with its own reason, holdout and variant."""

from __future__ import annotations

from datetime import UTC, datetime

from etalage.rules import parse_ruleset

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

RULES = """\
version: 1
site: {name: take-site}
slots:
  promos: {take: 3}
rules:
  - id: low
    slot: promos
    fragment: low.html
    priority: 1
  - id: high
    slot: promos
    fragment: high.html
    priority: 9
    reason: Top pick.
  - id: mobile-only
    slot: promos
    fragment: mobile.html
    priority: 5
    when: {device.type: mobile}
  - id: middle
    slot: promos
    fragment: middle.html
    priority: 5
  - id: never
    slot: promos
    fragment: never.html
    priority: 20
    when: {device.type: tablet}
  - id: hero
    slot: hero
    fragment: hero.html
  - id: hero-2
    slot: hero
    fragment: hero2.html
"""

DESKTOP = {"device.type": "desktop", "consent.personalization": True, "id": "visitor-1"}


def test_a_take_n_slot_gets_the_n_best_matching_rules_in_priority_order():
    decision = parse_ruleset(RULES).decide(DESKTOP, ["promos"], NOW)["promos"]
    assert [p.rule.id for p in decision.placements if p.rule] == ["high", "middle", "low"]
    assert [p.reason for p in decision.placements] == [
        "Top pick.",
        "shown to every visitor",
        "shown to every visitor",
    ]
    assert all(p.slot == "promos" for p in decision.placements)


def test_fewer_matching_rules_than_n_fill_fewer_places():
    ruleset = parse_ruleset(RULES.replace("take: 3", "take: 12"))
    decision = ruleset.decide(DESKTOP, ["promos"], NOW)["promos"]
    assert [p.rule.id for p in decision.placements if p.rule] == ["high", "middle", "low"]


def test_a_slot_without_take_still_gets_one_rule():
    decision = parse_ruleset(RULES).decide(DESKTOP, ["hero"], NOW)["hero"]
    assert decision.rule is not None and decision.rule.id == "hero"
    assert decision.more == ()


def test_the_global_holdout_shows_the_default_in_every_place():
    attrs = {**DESKTOP, "experiment.holdout": True}
    ruleset = parse_ruleset(
        RULES.replace(
            "    reason: Top pick.\n",
            "    reason: Top pick.\n    when: {visits.count: {$gte: 0}}\n",
        )
    )
    decision = ruleset.decide(attrs, ["promos"], NOW)["promos"]
    assert decision.rule is None and decision.holdout
    assert decision.candidate is not None and decision.candidate.id == "high"


def test_a_placement_held_out_by_its_own_rule_leaves_its_place_empty():
    held = "fragment: middle.html\n    priority: 5\n    holdout: 0.99\n"
    ruleset = parse_ruleset(RULES.replace("fragment: middle.html\n    priority: 5\n", held))
    decision = ruleset.decide(DESKTOP, ["promos"], NOW)["promos"]
    middle = decision.placements[1]
    assert (middle.rule, middle.candidate.id, middle.holdout_kind) == (None, "middle", "rule")
    assert [p.rule.id for p in decision.placements if p.rule] == ["high", "low"]


def test_the_global_holdout_leaves_out_later_placements_that_need_consent():
    text = RULES.replace(
        "    fragment: low.html\n", "    fragment: low.html\n    when: {visits.count: {$gte: 0}}\n"
    )
    attrs = {**DESKTOP, "experiment.holdout": True, "visits.count": 1}
    decision = parse_ruleset(text).decide(attrs, ["promos"], NOW)["promos"]
    assert [p.rule.id for p in decision.placements if p.rule] == ["high", "middle"]
