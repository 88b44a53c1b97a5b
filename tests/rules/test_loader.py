"""Rule files: schema errors name file, line and field; valid files compile."""

from __future__ import annotations

from pathlib import Path

import pytest

from etalage.errors import RuleFileError
from etalage.rules import (
    FragmentAction,
    HideAction,
    ReorderAction,
    SlotConfig,
    load_ruleset,
    parse_ruleset,
)

VALID = """\
version: 1
site: {name: shop, search_param: q, timezone: Europe/Berlin}
history:
  search: {keep: 8, relevant_for: 14d}
  interest: {half_life: 10d}
segments:
  returning: {visits.count: {$gte: 2}}
  loyal: {segment.returning: true, purchases.count: {$gte: 1}}
holdout: 0.1
rules:
  - id: continue-search
    slot: hero
    fragment: hero/continue_search.html
    when: {search.last.age_days: {$lt: 7}}
    priority: 10
  - id: categories-by-interest
    slot: categories
    reorder: {by: interest}
  - id: hide-promo
    slot: promo
    hide: true
    when: {device.type: mobile}
"""


def parse(text: str):
    return parse_ruleset(text, "rules/site.yaml")


def error_of(text: str) -> str:
    with pytest.raises(RuleFileError) as caught:
        parse(text)
    return str(caught.value)


def test_valid_file_compiles_every_part():
    ruleset = parse(VALID)
    assert [rule.id for rule in ruleset.rules] == [
        "continue-search",
        "categories-by-interest",
        "hide-promo",
    ]
    assert ruleset.holdout == 0.1
    assert ruleset.site.search_param == "q"
    assert str(ruleset.site.timezone) == "Europe/Berlin"
    actions = [type(rule.action) for rule in ruleset.rules]
    assert actions == [FragmentAction, ReorderAction, HideAction]
    assert ruleset.segment_order.index("returning") < ruleset.segment_order.index("loyal")


def test_unknown_operator_names_file_line_and_field():
    text = VALID.replace("{$lt: 7}", "{'$gte ': 7}")
    assert error_of(text) == "rules/site.yaml:14: rules[0].when: unknown operator '$gte '"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("version: 1", "version: 2", "rules/site.yaml:1: version: must be 1, not 2"),
        ("    priority: 10", "    priority: high", "rules/site.yaml:15: rules[0].priority: "),
        (
            "    slot: promo",
            "    slot: promo\n    colour: red",
            "rules/site.yaml:21: rules[2].colour: unknown key 'colour'",
        ),
        ("holdout: 0.1", "holdout: 2", "rules/site.yaml:9: holdout: must be a share"),
        (
            "    hide: true",
            "    hide: true\n    fragment: x.html",
            "rules/site.yaml:19: rules[2]: needs exactly one action",
        ),
        (
            "timezone: Europe/Berlin",
            "timezone: Mars/Olympus",
            "rules/site.yaml:2: site.timezone: unknown time zone",
        ),
        (
            "relevant_for: 14d",
            "relevant_for: soon",
            "rules/site.yaml:4: history.search.relevant_for",
        ),
        (
            "  - id: hide-promo",
            "  - id: continue-search",
            "rules/site.yaml:19: rules[2].id: duplicate rule id",
        ),
    ],
)
def test_schema_errors_name_line_and_field(old, new, expected):
    assert old in VALID
    assert error_of(VALID.replace(old, new)).startswith(expected)


def test_unknown_top_level_key_is_an_error():
    assert error_of(VALID + "colour: red\n") == (
        "rules/site.yaml:23: colour: unknown key 'colour' (allowed: history, holdout, rules, "
        "saved_groups, segments, site, slots, version)"
    )


def test_invalid_yaml_names_the_line():
    assert error_of("version: 1\nrules: [\n  - {id: x\n").startswith("rules/site.yaml:")


def test_segment_cycle_is_rejected_at_load():
    text = VALID.replace(
        "  loyal: {segment.returning: true, purchases.count: {$gte: 1}}",
        "  loyal: {segment.returning: true}\n  a: {segment.b: true}\n  b: {segment.a: true}",
    )
    message = error_of(text)
    assert "segments form a cycle" in message
    assert "a -> b -> a" in message or "b -> a -> b" in message


def test_unknown_segment_is_rejected():
    text = VALID.replace("{search.last.age_days: {$lt: 7}}", "{segment.vip: true}")
    assert "unknown segment 'vip'" in error_of(text)


def test_load_ruleset_resolves_fragments_beside_the_file(tmp_path: Path):
    path = tmp_path / "rules" / "site.yaml"
    path.parent.mkdir()
    path.write_text(VALID)
    ruleset = load_ruleset(path)
    assert ruleset.site.fragments == tmp_path / "rules" / "fragments"


def test_missing_file_is_a_rule_file_error(tmp_path: Path):
    with pytest.raises(RuleFileError, match="cannot read rule file"):
        load_ruleset(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{device.type: mobile}", "contextual"),
        ("{request.utm.source: news, time.hour: {$lt: 12}}", "contextual"),
        ("{page.topic: hiking}", "contextual"),
        ("{interest.top: hiking}", "needs consent"),
        ("{$or: [{device.type: mobile}, {visits.count: 3}]}", "needs consent"),
        ("{segment.returning: true}", "needs consent"),
        ("{prefs.name: {$exists: true}}", "needs consent"),
    ],
)
def test_rules_are_classified_by_what_they_read(when, expected):
    text = VALID.replace("{search.last.age_days: {$lt: 7}}", when)
    assert parse(text).rules[0].consent_class == expected


def test_rule_without_condition_is_contextual_but_reorder_by_interest_needs_consent():
    ruleset = parse(VALID)
    assert ruleset.rule("hide-promo").consent_class == "contextual"
    assert ruleset.rule("categories-by-interest").consent_class == "needs consent"


def line_and_field(text: str) -> tuple[int | None, str, str]:
    with pytest.raises(RuleFileError) as caught:
        parse_ruleset(text, "r.yaml")
    error = caught.value
    return error.line, error.field, error.message


def test_a_bad_operator_deep_inside_a_logical_list_names_its_own_line():
    text = (
        "version: 1\n"  # 1
        "rules:\n"  # 2
        "  - id: r\n"  # 3
        "    slot: hero\n"  # 4
        "    hide: true\n"  # 5
        "    when:\n"  # 6
        "      $or:\n"  # 7
        "        - {a: 1}\n"  # 8
        "        - b:\n"  # 9
        "            $bogus: 1\n"  # 10
    )
    assert line_and_field(text) == (9, "rules[0].when", "unknown operator '$bogus'")


def test_an_undefined_saved_group_is_an_error():
    text = (
        "version: 1\n"
        "saved_groups: {staff: [a, b]}\n"
        "rules:\n"
        "  - id: r\n"
        "    slot: hero\n"
        "    hide: true\n"
        "    when: {id: {$inGroup: staf}}\n"
    )
    line, field, message = line_and_field(text)
    assert (line, field) == (7, "rules[0].when")
    assert message == "unknown saved group 'staf' (saved_groups: staff)"


def test_a_duplicate_key_is_an_error_not_a_silent_override():
    text = (
        "version: 1\n"
        "rules:\n"
        "  - id: r\n"
        "    slot: hero\n"
        "    hide: true\n"
        "    when: {device.type: mobile}\n"
        "    when: {device.type: desktop}\n"
    )
    assert line_and_field(text) == (7, "rules[0].when", "duplicate key")


SELECTORS = "version: 1\nsite:\n  name: s\n  slot_selectors:\n{entries}rules: []\n"


def test_slot_selectors_map_slot_names_to_css_selectors():
    text = SELECTORS.format(entries="    hero: 'main > .hero'\n    promo: '#promo'\n")
    assert parse_ruleset(text).site.slot_selectors == {"hero": "main > .hero", "promo": "#promo"}


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            "    hero: 'main > ['\n",
            "<rules>:5: site.slot_selectors.hero: is not a valid CSS selector",
        ),
        ("    'bad slot': '.x'\n", "<rules>:5: site.slot_selectors.bad slot: invalid slot"),
        ("    hero: ''\n", "<rules>:5: site.slot_selectors.hero: must be a CSS selector"),
        ("    hero: [1]\n", "<rules>:5: site.slot_selectors.hero: must be a CSS selector"),
    ],
)
def test_a_bad_slot_selector_names_file_line_and_slot(entries: str, expected: str):
    with pytest.raises(RuleFileError) as caught:
        parse_ruleset(SELECTORS.format(entries=entries))
    assert str(caught.value).startswith(expected)


SLOTS = "version: 1\nslots:\n{entries}rules: []\n"


def test_slots_section_gives_each_slot_its_label_and_take():
    text = SLOTS.format(
        entries="  promos: {label: Offers for you, take: 3}\n  hero: {label: Top of the home page}\n"
        "  sidebar:\n"
    )
    site = parse_ruleset(text).site
    assert site.slots == {
        "promos": SlotConfig(label="Offers for you", take=3),
        "hero": SlotConfig(label="Top of the home page", take=1),
        "sidebar": SlotConfig(label=None, take=1),
    }
    assert site.slot_config("promos").take == 3
    assert site.slot_config("not-listed") == SlotConfig(label=None, take=1)


def test_a_file_without_slots_section_takes_one_rule_per_slot():
    assert parse(VALID).site.slots == {}
    assert parse(VALID).site.slot_config("hero") == SlotConfig()


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            "  promos: {take: 0}\n",
            "<rules>:3: slots.promos.take: must be a whole number from 1 to 12",
        ),
        (
            "  promos: {take: 13}\n",
            "<rules>:3: slots.promos.take: must be a whole number from 1 to 12",
        ),
        ("  promos: {take: true}\n", "<rules>:3: slots.promos.take: must be a whole number"),
        ("  promos: {take: '3'}\n", "<rules>:3: slots.promos.take: must be a whole number"),
        (
            "  promos: {tkae: 3}\n",
            "<rules>:3: slots.promos.tkae: unknown key 'tkae', did you mean 'take'?",
        ),
        ("  promos: {label: ''}\n", "<rules>:3: slots.promos.label: must be a non-empty string"),
        ("  promos: {label: [a]}\n", "<rules>:3: slots.promos.label: must be a non-empty string"),
        ("  promos: 3\n", "<rules>:3: slots.promos: must be a mapping"),
        ("  'bad slot': {take: 2}\n", "<rules>:3: slots.bad slot: invalid slot"),
        ("  - promos\n", "<rules>:2: slots: must be a mapping"),
    ],
)
def test_a_bad_slots_entry_names_file_line_and_field(entries: str, expected: str):
    with pytest.raises(RuleFileError) as caught:
        parse_ruleset(SLOTS.format(entries=entries))
    assert str(caught.value).startswith(expected)


def test_a_slot_entry_error_names_its_own_line():
    text = SLOTS.format(
        entries="  hero: {label: Top}\n  promos:\n    label: Offers\n    take: -1\n"
    )
    with pytest.raises(RuleFileError) as caught:
        parse_ruleset(text, "site/rules.yaml")
    assert (caught.value.file, caught.value.line, caught.value.field) == (
        "site/rules.yaml",
        6,
        "slots.promos.take",
    )


def test_the_history_policy_counts_only_what_rules_and_segments_read():
    text = """\
version: 1
segments:
  keen: {views.topic.hiking.7d: {$gte: 3}}
rules:
  - id: a
    slot: hero
    hide: true
    when: {$or: [{searches.term.Tent.30d: {$gte: 2}}, {events.add_to_cart.1d: 0}]}
  - id: b
    slot: nav
    hide: true
    when: {views.path./trips.7d: {$gte: 1}, view.count: {$gte: 1}, segment.keen: true}
"""
    assert parse(text).history.counted == frozenset(
        {"t:hiking", "s:tent", "e:add_to_cart", "p:/trips"}
    )


def test_a_rule_set_without_counts_counts_nothing():
    assert parse(VALID).history.counted == frozenset()


@pytest.mark.parametrize("action", ["hide: true", "reorder: {by: interest}"])
def test_a_slot_that_takes_several_rules_shows_only_fragments(action):
    text = f"""\
version: 1
slots:
  promos: {{take: 3}}
rules:
  - id: a
    slot: promos
    fragment: a.html
  - id: b
    slot: promos
    {action}
"""
    key = action.split(":")[0]
    assert error_of(text) == (
        f"rules/site.yaml:10: rules[1].{key}: slot 'promos' takes 3 rules (slots.promos.take), "
        "each showing a fragment: use fragment or variants"
    )
