"""Unknown keys are refused at every level of a rule file, naming file, line and the closest
allowed key."""

from __future__ import annotations

import pytest

from etalage.errors import RuleFileError
from etalage.rules import parse_ruleset

RULES = """\
version: 1
site: {name: shop, timezone: Europe/Berlin}
history:
  search: {keep: 8, relevant_for: 14d}
segments:
  returning: {visits.count: {$gte: 2}}
rules:
  - id: continue-search
    slot: hero
    fragment: hero/continue_search.html
    when: {$and: [{search.last: {$exists: true}}, {device.type: mobile}]}
    reason: "You searched for this."
  - id: sort
    slot: nav
    reorder: {by: interest}
"""


def error_of(text: str) -> str:
    with pytest.raises(RuleFileError) as caught:
        parse_ruleset(text, "site.yaml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("segments:", "segmets:", "site.yaml:5: segmets: unknown key 'segmets', did you mean 'segments'?"),
        ("{name: shop,", "{nmae: shop,", "site.yaml:2: site.nmae: unknown key 'nmae', did you mean 'name'?"),
        ("  search: {keep", "  serch: {keep", "site.yaml:4: history.serch: unknown history kind (allowed: event, interest, search, view, visit)"),
        ("relevant_for:", "relevant:", "site.yaml:4: history.search.relevant: unknown key (allowed: keep, relevant_for)"),
        ('    reason: "', '    reson: "', "site.yaml:12: rules[0].reson: unknown key 'reson', did you mean 'reason'?"),
        ("{by: interest}", "{by: interest, order: desc}", "site.yaml:15: rules[1].reorder.order: unknown key 'order' (allowed: by)"),
        ("{visits.count: {$gte: 2}}", "{visits.count: {$gte: 2, lte: 5}}", "site.yaml:6: segments.returning: operators $gte mixed with plain keys"),
        ("{$exists: true}}", "{$exist: true}}", "site.yaml:11: rules[0].when: unknown operator '$exist'"),
        ("{$and: [", "{$adn: [", "site.yaml:11: rules[0].when: unknown operator '$adn' (did you mean '$and'?)"),
        ("{device.type: mobile}", "{$ors: [{device.type: mobile}]}", "site.yaml:11: rules[0].when: unknown operator '$ors' (did you mean '$or'?)"),
        ("{visits.count: {$gte: 2}}", "{$exists: {visits.count: 2}}", "site.yaml:6: segments.returning: unknown operator '$exists' (a condition's keys are attribute paths or $and, $or, $nor, $not)"),
    ],
)  # fmt: skip
def test_an_unknown_key_anywhere_is_an_error_naming_line_and_field(old, new, expected):
    assert old in RULES
    assert error_of(RULES.replace(old, new, 1)).startswith(expected)


def test_the_file_as_written_loads():
    assert [rule.id for rule in parse_ruleset(RULES, "site.yaml").rules] == [
        "continue-search",
        "sort",
    ]
