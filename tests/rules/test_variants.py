"""Weighted variants and per-rule holdouts: schema, sticky draws, shares and independence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from etalage.errors import RuleFileError
from etalage.rules import parse_ruleset
from etalage.rules.model import FragmentAction, VariantsAction

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
IDS = [f"visitor-{n}" for n in range(10_000)]

HEADER = "version: 1\nsite: {name: shop}\nrules:\n"


def rules_text(body: str) -> str:
    return HEADER + body


def ab_rule(*, version: int | None = 1, holdout: float | None = None, weights=(50, 50), when=""):
    lines = ["  - id: hero-test", "    slot: hero"]
    if version is not None:
        lines.append(f"    bucket_version: {version}")
    if holdout is not None:
        lines.append(f"    holdout: {holdout}")
    if when:
        lines.append(f"    when: {when}")
    lines.append("    variants:")
    for n, weight in enumerate(weights):
        lines.append(f"      - {{fragment: hero/{'abcdef'[n]}.html, weight: {weight}}}")
    return rules_text("\n".join(lines) + "\n")


def parse(text: str):
    return parse_ruleset(text, "rules/site.yaml")


def error_of(text: str) -> str:
    with pytest.raises(RuleFileError) as caught:
        parse(text)
    return str(caught.value)


def attrs(visitor_id: str | None, consent: bool = True) -> dict:
    out: dict = {"consent.personalization": consent}
    if visitor_id is not None:
        out["id"] = visitor_id
    return out


def variant_of(ruleset, visitor_id: str) -> int | None:
    return ruleset.decide(attrs(visitor_id), ["hero"], NOW)["hero"].variant


# --- the schema ---------------------------------------------------------------------------


def test_variants_compile_with_bucket_version_and_holdout():
    rule = parse(ab_rule(version=2, holdout=0.1, weights=(30, 70))).rules[0]
    assert isinstance(rule.action, VariantsAction)
    assert [v.fragment.template for v in rule.action.variants] == ["hero/a.html", "hero/b.html"]
    assert [v.weight for v in rule.action.variants] == [30.0, 70.0]
    assert (rule.bucket_version, rule.holdout) == (2, 0.1)


def test_bucket_version_defaults_to_1_and_holdout_to_0():
    rule = parse(ab_rule(version=None)).rules[0]
    assert (rule.bucket_version, rule.holdout) == (1, 0.0)


def test_holdout_is_allowed_on_a_fragment_rule():
    text = rules_text("  - {id: hero, slot: hero, fragment: hero/a.html, holdout: 0.2}\n")
    rule = parse(text).rules[0]
    assert isinstance(rule.action, FragmentAction)
    assert rule.holdout == 0.2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "  - {id: x, slot: hero, fragment: a.html, variants: []}\n",
            "rules/site.yaml:4: rules[0]: needs exactly one action of fragment, reorder, hide, "
            "variants; found 2",
        ),
        (
            "  - id: x\n    slot: hero\n    variants:\n      - {fragment: a.html, weight: 1}\n",
            "rules/site.yaml:6: rules[0].variants: must be a list of at least 2 variants",
        ),
        (
            "  - id: x\n    slot: hero\n    variants: {fragment: a.html}\n",
            "rules/site.yaml:6: rules[0].variants: must be a list of at least 2 variants",
        ),
        (
            "  - id: x\n    slot: hero\n    variants:\n"
            "      - {fragment: a.html, weight: 1}\n      - {fragment: b.html, weight: 0}\n",
            "rules/site.yaml:8: rules[0].variants[1].weight: must be a positive number, not 0",
        ),
        (
            "  - id: x\n    slot: hero\n    variants:\n"
            "      - {fragment: a.html, weight: 1}\n      - {fragment: b.html, weight: true}\n",
            "rules/site.yaml:8: rules[0].variants[1].weight: must be a positive number, not True",
        ),
        (
            "  - id: x\n    slot: hero\n    variants:\n"
            "      - {fragment: a.html, weight: 1}\n      - {fragment: b.html}\n",
            "rules/site.yaml:8: rules[0].variants[1]: missing required key 'weight'",
        ),
        (
            "  - id: x\n    slot: hero\n    variants:\n"
            "      - {fragment: a.html, weight: 1}\n      - {fragment: ../b.html, weight: 1}\n",
            "rules/site.yaml:8: rules[0].variants[1].fragment: must be a path relative to the "
            "fragments folder",
        ),
        (
            "  - id: x\n    slot: hero\n    variants:\n"
            "      - {fragment: a.html, weight: 1}\n      - {fragment: b.html, wieght: 1}\n",
            "rules/site.yaml:8: rules[0].variants[1].wieght: unknown key 'wieght', did you mean "
            "'weight'? (allowed: fragment, weight)",
        ),
        (
            "  - {id: x, slot: hero, fragment: a.html, holdout: 1}\n",
            "rules/site.yaml:4: rules[0].holdout: must be a share from 0 to below 1, not 1",
        ),
        (
            "  - {id: x, slot: hero, hide: true, holdout: 0.1}\n",
            "rules/site.yaml:4: rules[0].holdout: needs a fragment or variants action",
        ),
        (
            "  - {id: x, slot: hero, fragment: a.html, bucket_version: 0}\n",
            "rules/site.yaml:4: rules[0].bucket_version: must be at least 1",
        ),
    ],
    ids=[
        "two-actions",
        "one-variant",
        "not-a-list",
        "zero-weight",
        "boolean-weight",
        "missing-weight",
        "escaping-fragment",
        "unknown-variant-key",
        "holdout-of-1",
        "holdout-on-hide",
        "bucket-version-0",
    ],
)
def test_bad_shapes_name_file_line_and_field(body, expected):
    assert error_of(rules_text(body)) == expected


def test_fragment_check_includes_every_variant_fragment(tmp_path):
    from etalage.rules.fragment_check import fragment_problems

    (tmp_path / "fragments" / "hero").mkdir(parents=True)
    (tmp_path / "fragments" / "hero" / "a.html").write_text("A")
    ruleset = parse_ruleset(ab_rule(), str(tmp_path / "rules.yaml"), base_dir=tmp_path)
    problems = fragment_problems(ruleset)
    assert len(problems) == 1 and "hero/b.html" in problems[0]


# --- the draws ----------------------------------------------------------------------------


def test_variant_shares_follow_the_weights():
    ruleset = parse(ab_rule(weights=(20, 30, 50)))
    counts = [0, 0, 0]
    for visitor_id in IDS:
        counts[variant_of(ruleset, visitor_id)] += 1
    for count, share in zip(counts, (0.2, 0.3, 0.5), strict=True):
        assert abs(count / len(IDS) - share) < 0.02


def test_a_visitor_keeps_their_variant_across_loads_and_edits_that_keep_bucket_version():
    before = parse(ab_rule(version=2))
    again = parse(ab_rule(version=2))
    edited = parse(ab_rule(version=2, when="{device.type: desktop}"))
    for visitor_id in IDS[:500]:
        drawn = variant_of(before, visitor_id)
        assert variant_of(again, visitor_id) == drawn
        edited_attrs = {**attrs(visitor_id), "device.type": "desktop"}
        assert edited.decide(edited_attrs, ["hero"], NOW)["hero"].variant == drawn


def test_bumping_bucket_version_redraws_about_half_of_a_50_50_test():
    v1, v2 = parse(ab_rule(version=1)), parse(ab_rule(version=2))
    moved = sum(variant_of(v1, i) != variant_of(v2, i) for i in IDS)
    assert abs(moved / len(IDS) - 0.5) < 0.03


def test_rule_holdout_share_is_about_the_configured_share():
    ruleset = parse(ab_rule(holdout=0.1))
    decisions = [ruleset.decide(attrs(i), ["hero"], NOW)["hero"] for i in IDS]
    held = [d for d in decisions if d.holdout]
    assert abs(len(held) / len(IDS) - 0.1) < 0.015
    assert all(d.rule is None and d.candidate.id == "hero-test" for d in held)
    assert all(d.variant is None and d.holdout_kind == "rule" for d in held)
    assert "holdout of rule 'hero-test'" in held[0].reason


def test_rule_holdout_is_independent_of_the_variant_draw():
    with_holdout, without = parse(ab_rule(holdout=0.2)), parse(ab_rule())
    held = [i for i in IDS if with_holdout.decide(attrs(i), ["hero"], NOW)["hero"].holdout]
    # Those held out would have been split like everyone else...
    share_b = sum(variant_of(without, i) == 1 for i in held) / len(held)
    assert abs(share_b - 0.5) < 0.05
    # ...and those not held out keep the variant they would have had without a holdout.
    kept = [i for i in IDS[:1000] if i not in set(held)]
    assert all(variant_of(with_holdout, i) == variant_of(without, i) for i in kept)


def test_global_holdout_applies_before_the_rule_draws():
    text = ab_rule(when="{visits.count: {$gte: 0}}").replace("rules:\n", "holdout: 0.5\nrules:\n")
    ruleset = parse(text)
    decision = ruleset.decide(
        {**attrs("visitor-1"), "experiment.holdout": True, "visits.count": 1}, ["hero"], NOW
    )["hero"]
    assert (
        decision.holdout and decision.rule is None and decision.reason.startswith("holdout group")
    )
    assert decision.holdout_kind == "site"


def test_without_a_visitor_id_a_variants_rule_gives_the_default():
    decision = parse(ab_rule()).decide(attrs(None, consent=False), ["hero"], NOW)["hero"]
    assert decision.rule is None and decision.variant is None and not decision.holdout
    assert decision.candidate.id == "hero-test"


def test_decision_names_the_variant_and_its_fragment():
    ruleset = parse(ab_rule())
    decision = ruleset.decide(attrs("visitor-1"), ["hero"], NOW)["hero"]
    number = decision.variant + 1
    template = f"hero/{'ab'[decision.variant]}.html"
    assert decision.reason.endswith(f"variant {number} of 2 ({template})")
    assert decision.action == FragmentAction(template)
