"""`Ruleset.decide`: priorities, schedules, caps, dismissal, consent gating, segments, holdout."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from etalage.rules import parse_ruleset

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)

RULES = """\
version: 1
site: {name: shop, timezone: Europe/Berlin}
segments:
  returning: {visits.count: {$gte: 2}}
  mobile: {device.type: mobile}
rules:
  - id: generic-hero
    slot: hero
    fragment: hero/generic.html
    priority: 0
  - id: returning-hero
    slot: hero
    fragment: hero/returning.html
    when: {segment.returning: true}
    priority: 5
  - id: search-hero
    slot: hero
    fragment: hero/search.html
    when: {search.last: {$exists: true}}
    priority: 10
  - id: tie-first
    slot: promo
    fragment: promo/a.html
    when: {segment.mobile: true}
    priority: 1
  - id: tie-second
    slot: promo
    fragment: promo/b.html
    when: {device.type: mobile}
    priority: 1
  - id: advent
    slot: banner
    fragment: banner/advent.html
    start: 2026-12-01T00:00
    end: 2026-12-24T00:00
  - id: recall
    slot: recall
    fragment: recall/cart.html
    when: {cart.items: {$gt: 0}}
    max_exposures: 2
    dismissible: true
"""


@pytest.fixture(scope="module")
def ruleset():
    return parse_ruleset(RULES, "rules.yaml")


def decide(ruleset, attrs, slots, now=NOW, **kwargs):
    return ruleset.decide(attrs, slots, now, **kwargs)


def consenting(**attrs):
    return {"consent.personalization": True, "experiment.holdout": False, **attrs}


def test_highest_priority_matching_rule_wins(ruleset):
    attrs = consenting(**{"visits.count": 3, "search.last": "tent"})
    assert decide(ruleset, attrs, ["hero"])["hero"].rule.id == "search-hero"


def test_lower_priority_rule_wins_when_higher_ones_do_not_match(ruleset):
    attrs = consenting(**{"visits.count": 3})
    assert decide(ruleset, attrs, ["hero"])["hero"].rule.id == "returning-hero"


def test_ties_are_broken_by_file_order(ruleset):
    attrs = {"device.type": "mobile"}
    assert decide(ruleset, attrs, ["promo"])["promo"].rule.id == "tie-first"


def test_without_consent_only_contextual_rules_run(ruleset):
    attrs = {"visits.count": 3, "search.last": "tent", "consent.personalization": False}
    decision = decide(ruleset, attrs, ["hero"])["hero"]
    assert decision.rule.id == "generic-hero"


def test_only_true_counts_as_consent(ruleset):
    attrs = {"visits.count": 3, "consent.personalization": "yes"}
    assert decide(ruleset, attrs, ["hero"])["hero"].rule.id == "generic-hero"


def test_only_slots_on_the_page_are_decided(ruleset):
    decisions = decide(ruleset, consenting(), ["hero", "unknown-slot"])
    assert set(decisions) == {"hero", "unknown-slot"}
    assert decisions["unknown-slot"].rule is None


@pytest.mark.parametrize(
    ("now", "shown"),
    [
        (datetime(2026, 11, 30, 22, 59, tzinfo=UTC), False),  # 23:59 in Berlin
        (datetime(2026, 11, 30, 23, 0, tzinfo=UTC), True),  # midnight in Berlin
        (datetime(2026, 12, 23, 22, 59, tzinfo=UTC), True),
        (datetime(2026, 12, 23, 23, 0, tzinfo=UTC), False),
    ],
)
def test_schedules_are_in_the_site_time_zone(ruleset, now, shown):
    decision = decide(ruleset, {}, ["banner"], now=now)["banner"]
    assert (decision.rule is not None) is shown


@pytest.mark.parametrize(
    ("now", "shown"), [(datetime(2026, 11, 30, 23, 59), False), (datetime(2026, 12, 1), True)]
)
def test_a_naive_moment_is_read_in_the_site_time_zone(ruleset, now, shown):
    decision = decide(ruleset, {}, ["banner"], now=now)["banner"]
    assert (decision.rule is not None) is shown


def test_frequency_cap_stops_a_rule_after_max_exposures(ruleset):
    attrs = consenting(**{"cart.items": 2})
    assert decide(ruleset, attrs, ["recall"], exposures={"recall": 1})["recall"].rule
    assert decide(ruleset, attrs, ["recall"], exposures={"recall": 2})["recall"].rule is None


def test_dismissed_rule_is_not_shown_again(ruleset):
    attrs = consenting(**{"cart.items": 2})
    assert decide(ruleset, attrs, ["recall"], dismissed={"recall"})["recall"].rule is None


def test_holdout_visitor_gets_defaults_and_the_would_be_rule(ruleset):
    attrs = consenting(**{"search.last": "tent"})
    attrs["experiment.holdout"] = True
    decision = decide(ruleset, attrs, ["hero"])["hero"]
    assert decision.rule is None
    assert decision.holdout
    assert decision.candidate.id == "search-hero"
    assert "holdout" in decision.reason


def test_holdout_is_computed_from_the_visitor_id_when_not_given():
    ruleset = parse_ruleset(RULES.replace("rules:\n", "holdout: 0.5\nrules:\n", 1), "r.yaml")
    ids = [f"visitor-{n}" for n in range(400)]
    held = [
        i
        for i in ids
        if decide(
            ruleset, {"consent.personalization": True, "id": i, "search.last": "x"}, ["hero"]
        )["hero"].holdout
    ]
    assert 150 < len(held) < 250
    assert all(ruleset.in_holdout(i) for i in held)


def test_reason_names_the_rule_reason_or_condition(ruleset):
    decision = decide(ruleset, consenting(**{"search.last": "tent"}), ["hero"])["hero"]
    assert decision.reason == "matched search.last"


def test_rules_are_indexed_by_slot(ruleset):
    assert [r.id for r in ruleset.rules_for("hero")] == [
        "search-hero",
        "returning-hero",
        "generic-hero",
    ]
    assert ruleset.rules_for("nothing") == ()


REFERENCED = """\
version: 1
site: {name: shop}
segments:
  returning: {visits.count: {$gte: 2}}
  loyal: {$and: [{segment.returning: true}, {purchases.count: {$gte: 2}}]}
rules:
  - id: hero
    slot: hero
    fragment: hero.html
    when: {$or: [{search.last: tent}, {$not: {interest.hiking: {$lt: 0.5}}}]}
  - id: shelf
    slot: shelf
    reorder: {by: view.topics}
  - id: loyal
    slot: hero
    fragment: loyal.html
    when: {segment.loyal: true, cart.items: {$elemMatch: {sku: {$exists: true}}}}
"""


def test_referenced_attributes_are_every_key_deciding_can_read():
    ruleset = parse_ruleset(REFERENCED, "rules.yaml")
    assert ruleset.referenced_attributes >= {
        "search.last",
        "interest.hiking",
        "view.topics",
        "segment.loyal",
        "segment.returning",
        "cart.items",
        "consent.personalization",
        "id",
        "experiment.holdout",
    }
    assert "sku" not in ruleset.referenced_attributes  # inside $elemMatch: a key of each item


def test_referenced_attributes_include_what_segments_read():
    ruleset = parse_ruleset(REFERENCED, "rules.yaml")
    assert ruleset.segments["loyal"].when is not None  # the loader keeps each condition
    assert {"visits.count", "purchases.count"} <= ruleset.referenced_attributes


def test_attributes_outside_the_referenced_ones_do_not_change_decisions(ruleset):
    attrs = consenting(**{"visits.count": 3, "search.last": "tent", "cart.items": 1})
    wanted = {k: v for k, v in attrs.items() if k in ruleset.referenced_attributes}
    slots = ["hero", "promo", "banner", "recall"]
    assert decide(ruleset, attrs, slots) == decide(ruleset, wanted, slots)


def test_tested_attributes_are_what_conditions_test_and_nothing_deciding_adds():
    ruleset = parse_ruleset(REFERENCED, "rules.yaml")
    assert {"visits.count", "purchases.count"} <= ruleset.tested_attributes
    assert ruleset.tested_attributes < ruleset.referenced_attributes
    assert not {"id", "experiment.holdout"} & ruleset.tested_attributes
