"""`etalage report` per variant and per holdout: each variant against its rule's control, the
site-wide and the rule's own holdouts as separate controls, the sample-ratio check with the
rule file's split, bucket versions; numbers checked against scipy."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from scipy import stats
from scipy.stats.contingency import relative_risk

from etalage.cli import main
from etalage.cli.report import (
    compute_lift,
    format_narrow_table,
    format_table,
    render_html,
    run_report,
)
from etalage.cli.stats import ConfidenceSequence
from etalage.rules import load_ruleset

T0 = datetime(2026, 11, 1, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def exposure(visitor, rule, *, holdout=None, variant=None, version=1, minutes=0):
    """An exposure as the middleware writes it; `holdout` is None, "site" or "rule"."""
    return {
        "type": "exposure",
        "visitor": visitor,
        "rule": rule,
        "slot": "hero",
        "holdout": holdout is not None,
        "holdout_kind": holdout,
        "variant": variant,
        "bucket_version": version,
        "page": "/",
        "answer": "0" * 12,
        "at": (T0 + timedelta(minutes=minutes)).isoformat(),
    }


def purchase(visitor, minutes=10):
    return {
        "type": "conversion",
        "event": "purchase",
        "visitor": visitor,
        "value": 20.0,
        "at": (T0 + timedelta(minutes=minutes)).isoformat(),
    }


def group(rule, name, visitors, converters, **kind):
    """`visitors` exposures of `rule` in one group (holdout= / variant=), the first
    `converters` of them buying."""
    events = []
    for n in range(visitors):
        visitor = f"{rule}-{name}-{n}"
        events.append(exposure(visitor, rule, **kind))
        if n < converters:
            events.append(purchase(visitor))
    return events


def ab_test(rule="hero-test", control=(300, 30), variants=((600, 90), (600, 60))):
    """A rule with its own holdout and variants, as the middleware records it."""
    events = group(rule, "control", *control, holdout="rule")
    for index, (visitors, converters) in enumerate(variants):
        events += group(rule, f"v{index}", visitors, converters, variant=index)
    return events


def wald_by_scipy(xt, nt, xc, nc):
    pt, pc = xt / nt, xc / nc
    se = math.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
    return stats.norm.interval(0.95, loc=pt - pc, scale=se)


RULES = """\
version: 1
site: {name: variants-site}
holdout: 0.2
rules:
  - id: hero-test
    slot: hero
    when: {search.last: {$exists: true}}
    bucket_version: 2
    holdout: 0.1
    variants:
      - {fragment: hero/a.html, weight: 70}
      - {fragment: hero/b.html, weight: 30}
  - id: banner
    slot: banner
    fragment: banner.html
    when: {search.last: {$exists: true}}
  - id: contextual-test
    slot: teaser
    when: {device.type: mobile}
    holdout: 0.5
    variants:
      - {fragment: hero/a.html, weight: 1}
      - {fragment: hero/b.html, weight: 1}
"""


@pytest.fixture
def rules_file(tmp_path):
    (tmp_path / "fragments" / "hero").mkdir(parents=True)
    for name in ("hero/a.html", "hero/b.html", "banner.html"):
        (tmp_path / "fragments" / name).write_text("<p>x</p>")
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return path


# -- each variant against the rule's control --------------------------------------------------


def test_each_variant_is_measured_against_the_rules_own_holdout_as_scipy_computes_it():
    (lift,) = compute_lift(ab_test())
    assert lift.control == "rule"
    assert (lift.holdout.visitors, lift.holdout.converters) == (300, 30)
    assert (lift.treated.visitors, lift.treated.converters) == (1200, 150)
    assert [v.label for v in lift.variants] == ["variant 1", "variant 2"]
    for variant, (visitors, converters) in zip(lift.variants, ((600, 90), (600, 60)), strict=True):
        assert (variant.treated.visitors, variant.treated.converters) == (visitors, converters)
        assert variant.absolute == pytest.approx(converters / visitors - 0.1, abs=1e-12)
        expected = wald_by_scipy(converters, visitors, 30, 300)
        assert variant.absolute_ci == pytest.approx(expected, abs=1e-12)
        risk = relative_risk(converters, visitors, 30, 300)
        ci = risk.confidence_interval(confidence_level=0.95)
        assert variant.relative == pytest.approx(risk.relative_risk - 1, rel=1e-12)
        assert variant.relative_ci == pytest.approx((ci.low - 1, ci.high - 1), rel=1e-9)
    # the rule as a whole: all its treated visitors against the same control
    assert lift.absolute_ci == pytest.approx(wald_by_scipy(150, 1200, 30, 300), abs=1e-12)


def test_sequential_intervals_per_variant_use_that_variant_and_the_control():
    sequence = ConfidenceSequence()
    (lift,) = compute_lift(ab_test(), sequence=sequence)
    variant = lift.variants[0]
    variance = 0.15 * 0.85 / 600 + 0.1 * 0.9 / 300
    half = sequence.halfwidth(variance, 600 + 300)
    assert variant.absolute_ci == pytest.approx((0.05 - half, 0.05 + half), abs=1e-12)
    (fixed,) = compute_lift(ab_test())
    low, high = fixed.variants[0].absolute_ci
    assert variant.absolute_ci[0] < low and high < variant.absolute_ci[1]
    assert variant.warning is not None and variant.warning.startswith("inconclusive so far")


def test_a_variant_never_shown_and_odd_variant_fields_are_handled():
    events = ab_test(variants=((200, 20),))
    events += [
        exposure("odd-1", "hero-test", variant=True),
        exposure("odd-2", "hero-test", variant=-1),
    ]
    (lift,) = compute_lift(events)
    assert [v.index for v in lift.variants] == [0]
    assert lift.treated.visitors == 202  # counted as treated, under no variant


# -- the site-wide and the rule's own holdout -------------------------------------------------


def test_both_holdout_kinds_in_one_event_file_are_separate_controls():
    events = (
        group("banner", "t", 900, 90)
        + group("banner", "site", 100, 5, holdout="site")
        + ab_test()
        + group("hero-test", "site", 200, 40, holdout="site")
    )
    banner, hero = compute_lift(events)
    assert banner.rule == "banner" and banner.control == "site"
    assert (banner.holdout.visitors, banner.other_holdout) == (100, None)
    assert hero.control == "rule"
    assert (hero.holdout.visitors, hero.holdout.converters) == (300, 30)  # not the site's 200
    assert hero.other_holdout is not None and hero.other_holdout.visitors == 200
    assert hero.treated.visitors == 1200
    assert any(
        "200 visitors of the site-wide holdout are not in this comparison" in note
        for note in hero.notes
    )
    wide = format_table([banner, hero])
    assert "note: 200 visitors of the site-wide holdout" in wide
    assert re.search(r"^banner\s+site\s", wide, re.M) and re.search(
        r"^hero-test\s+own\s", wide, re.M
    )


def test_events_from_before_per_rule_holdouts_are_held_out_site_wide():
    events = group("r", "t", 50, 5) + [
        {k: v for k, v in e.items() if k != "holdout_kind"}
        for e in group("r", "h", 50, 2, holdout="rule")
    ]
    (lift,) = compute_lift(events)
    assert lift.control == "site" and lift.holdout.visitors == 50


def test_the_rule_file_says_which_control_a_rule_is_measured_against(rules_file):
    ruleset = load_ruleset(rules_file)
    # no own-holdout visitors yet: the file still says the rule's own holdout is the control
    events = group("hero-test", "v0", 50, 5, variant=0) + group(
        "hero-test", "s", 20, 1, holdout="site"
    )
    (lift,) = compute_lift(events, rules=ruleset)
    assert lift.control == "rule" and lift.holdout.visitors == 0
    assert lift.warning.startswith("no holdout visitors")
    assert [v.name for v in lift.variants] == ["hero/a.html", "hero/b.html"]


# -- the sample-ratio check with the rule file's split -----------------------------------------


def test_the_ratio_check_uses_the_site_and_rule_holdouts_and_the_variant_weights(rules_file):
    # site holdout .2; of the rest the rule's own .1; of the rest 70:30
    shares = {"site": 0.2, "rule": 0.8 * 0.1, "variant 1": 0.72 * 0.7, "variant 2": 0.72 * 0.3}
    observed = {"site": 205, "rule": 75, "variant 1": 500, "variant 2": 220}
    events = (
        group("hero-test", "s", observed["site"], 20, holdout="site")
        + group("hero-test", "r", observed["rule"], 8, holdout="rule")
        + group("hero-test", "a", observed["variant 1"], 60, variant=0)
        + group("hero-test", "b", observed["variant 2"], 25, variant=1)
    )
    (lift,) = compute_lift(events, rules=load_ruleset(rules_file))
    assert lift.srm_groups == ("site", "rule", "variant 1", "variant 2")
    assert lift.srm.shares == pytest.approx(tuple(shares.values()))
    total = sum(observed.values())
    reference = stats.chisquare(list(observed.values()), [total * s for s in shares.values()])
    assert lift.srm.chi2 == pytest.approx(reference.statistic, rel=1e-12)
    assert lift.srm.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert not lift.srm.mismatch and lift.srm_warning is None


def test_a_variant_split_far_from_its_weights_is_a_mismatch(rules_file):
    events = (
        group("hero-test", "r", 80, 8, holdout="rule")
        + group("hero-test", "s", 200, 20, holdout="site")
        + group("hero-test", "a", 360, 40, variant=0)  # 50:50 where 70:30 was drawn
        + group("hero-test", "b", 360, 40, variant=1)
    )
    (lift,) = compute_lift(events, rules=load_ruleset(rules_file))
    reference = stats.chisquare([200, 80, 360, 360], [1000 * s for s in (0.2, 0.08, 0.504, 0.216)])
    assert lift.srm.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert reference.pvalue < 0.001 and lift.srm.mismatch
    assert lift.srm_warning.startswith(
        "sample ratio mismatch: site holdout 200, own holdout 80, variant 1 360, variant 2 360 "
        "visitors where 20:8:50.4:21.6 was expected, p="
    )
    narrow = format_narrow_table([lift])
    assert "! sample ratio mismatch: site holdout 200" in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 80


def test_a_contextual_rule_has_no_site_holdout_in_its_split(rules_file):
    events = (
        group("contextual-test", "r", 500, 50, holdout="rule")
        + group("contextual-test", "a", 250, 25, variant=0)
        + group("contextual-test", "b", 250, 25, variant=1)
    )
    (lift,) = compute_lift(events, rules=load_ruleset(rules_file))
    assert lift.srm_groups == ("rule", "variant 1", "variant 2")
    assert lift.srm.shares == pytest.approx((0.5, 0.25, 0.25))
    assert lift.srm.chi2 == 0


def test_no_ratio_check_when_the_events_have_groups_the_rule_file_does_not_draw(rules_file):
    # treated visitors without a variant: written before the rule had variants
    events = group("hero-test", "t", 500, 50) + group("hero-test", "r", 50, 5, holdout="rule")
    (lift,) = compute_lift(events, rules=load_ruleset(rules_file))
    assert lift.srm is None and lift.srm_warning is None


def test_without_the_rule_file_the_holdout_share_checks_treated_against_the_control():
    (lift,) = compute_lift(ab_test(control=(300, 30)), holdout_share=0.1)
    reference = stats.chisquare([1200, 300], [1350, 150])
    assert lift.srm_groups == ("treated", "rule")
    assert lift.srm.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert lift.srm_warning.startswith("sample ratio mismatch: 1,200 vs 300 visitors where 90:10")


def test_a_rule_the_file_does_not_hold_falls_back_to_the_holdout_share(rules_file):
    events = group("gone", "t", 900, 90) + group("gone", "h", 100, 10, holdout="site")
    (lift,) = compute_lift(events, rules=load_ruleset(rules_file), holdout_share=0.1)
    assert lift.srm is not None and lift.srm.chi2 == 0
    (unchecked,) = compute_lift(events, rules=load_ruleset(rules_file))
    assert unchecked.srm is None


# -- bucket versions --------------------------------------------------------------------------


def test_a_visitor_exposed_under_two_bucket_versions_counts_under_the_newest():
    events = [
        exposure("v", "hero-test", variant=0, version=1, minutes=0),
        purchase("v", minutes=5),  # before the version-2 exposure: not counted
        exposure("v", "hero-test", holdout="rule", version=2, minutes=60),
        exposure("v", "hero-test", variant=0, version=1, minutes=90),  # a stale worker
        exposure("w", "hero-test", variant=1, version=2, minutes=0),
        purchase("w", minutes=5),
    ]
    (lift,) = compute_lift(events)
    assert (lift.holdout.visitors, lift.holdout.converters) == (1, 0)
    assert [(v.index, v.treated.visitors, v.treated.converters) for v in lift.variants] == [
        (1, 1, 1)
    ]
    assert lift.bucket_versions == (1, 2)
    assert "bucket versions 1, 2: each visitor counts under the newest they saw" in lift.notes[0]


# -- the tables and the HTML page -------------------------------------------------------------


def test_the_narrow_table_has_a_row_per_variant_within_80_columns():
    results = compute_lift(
        ab_test(rule="a-rather-long-experiment-identifier") + group("banner", "t", 90, 9)
    )
    table = format_narrow_table(results)
    assert max(len(line) for line in table.splitlines()) <= 80
    lines = table.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("a-rather-long-experi"))
    assert lines[rule].split()[1] == "own"
    assert lines[rule + 1].startswith("  variant 1 ") and "15.00%" in lines[rule + 1]
    assert lines[rule + 2].startswith("  variant 2 ") and "10.00%" in lines[rule + 2]
    low, high = wald_by_scipy(90, 600, 30, 300)
    assert f"+5.00% [{low:+.2%}, {high:+.2%}]" in lines[rule + 1]
    assert lines[rule + 1].split()[-1] == "900"  # the variant's and the control's visitors


def test_the_wide_table_names_variants_with_their_fragments(rules_file):
    results = compute_lift(ab_test(), rules=load_ruleset(rules_file))
    table = format_table(results)
    row = next(line for line in table.splitlines() if line.startswith("  variant 1"))
    assert "(hero/a.html)" in row and "90/600" in row and "30/300" in row


def test_the_html_chart_has_a_bar_per_variant_in_the_rules_panel():
    results = compute_lift(
        ab_test(rule="<test>")
        + group("banner", "t", 900, 90)
        + group("banner", "h", 100, 5, holdout="site")
    )
    page = render_html(results)
    svg = ET.fromstring(re.search(r"<svg.*</svg>", page).group(0))
    titles = [g.find(f"{SVG}title").text for g in svg.iter(f"{SVG}g")]
    assert [t.split(":")[0] for t in titles] == [
        "<test>",
        "<test> variant 1",
        "<test> variant 2",
        "banner",
    ]
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "against the rule's own holdout" in texts and "against the site-wide holdout" in texts
    assert {"all variants", "variant 1", "variant 2"} <= set(texts)
    zeros = [line for line in svg.iter(f"{SVG}line") if line.get("stroke-dasharray")]
    bars = [g.find(f"{SVG}line") for g in svg.iter(f"{SVG}g")]
    assert len(zeros) == 2  # one chart per rule
    for bar in bars[:3]:  # the rule's three bars cross its zero line
        assert float(zeros[0].get("y1")) < float(bar.get("y1")) < float(zeros[0].get("y2"))
    assert "&lt;test&gt;" in page and "<test>" not in page.replace("<test> variant", "")
    assert '<td class="variant">variant 2</td>' in page


# -- the command ------------------------------------------------------------------------------


def test_the_report_reads_the_rule_file_for_its_checks(rules_file, tmp_path, capsys):
    import json

    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in ab_test()))
    assert run_report(str(events), rules=str(rules_file)) == 0
    out = capsys.readouterr().out
    assert f"sample-ratio check: each rule's split as drawn in {rules_file}" in out
    assert "  ! sample ratio mismatch: site holdout 0, own holdout 300, variant 1 600," in out
    table = [line for line in out.splitlines()[1:] if str(rules_file) not in line]
    assert max(len(line) for line in table) <= 80
    assert run_report(str(events), rules=str(tmp_path / "missing.yaml")) == 2
    assert "error: --rules:" in capsys.readouterr().err
    # The same through the command line.
    assert main(["report", str(events), "--rules", str(rules_file)]) == 0
    assert "  ! sample ratio mismatch: site holdout 0, own holdout 300," in capsys.readouterr().out
