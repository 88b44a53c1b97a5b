"""Lift statistics, checked against values computed independently (scipy, hand-worked)."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats.contingency import relative_risk

from etalage.cli import main
from etalage.cli.report import (
    GroupStats,
    absolute_lift,
    compute_lift,
    detectable_lift,
    format_narrow_table,
    format_table,
    relative_lift,
    render_html,
    visitors_needed,
)
from etalage.cli.stats import ConfidenceSequence

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def exposure(visitor, rule, holdout, minutes=0):
    return {
        "type": "exposure",
        "visitor": visitor,
        "rule": rule,
        "slot": "hero",
        "holdout": holdout,
        "page": "/",
        "at": (T0 + timedelta(minutes=minutes)).isoformat(),
    }


def purchase(visitor, minutes=10, value=50.0, event="purchase"):
    return {
        "type": "conversion",
        "event": event,
        "visitor": visitor,
        "value": value,
        "at": (T0 + timedelta(minutes=minutes)).isoformat(),
    }


def cohort(rule, treated, holdout):
    """Events for `rule`: (visitors, converters) treated and held out."""
    events = []
    for held, (visitors, converters) in ((False, treated), (True, holdout)):
        for n in range(visitors):
            visitor = f"{rule}-{'h' if held else 't'}{n}"
            events.append(exposure(visitor, rule, held))
            if n < converters:
                events.append(purchase(visitor))
    return events


# -- the statistics, against scipy and by hand -----------------------------------------------


def wald_interval_by_scipy(xt, nt, xc, nc):
    """Two-proportion normal-approximation interval, computed independently with scipy."""
    pt, pc = xt / nt, xc / nc
    se = math.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
    if se == 0:
        return pt - pc, pt - pc
    return stats.norm.interval(0.95, loc=pt - pc, scale=se)


def test_absolute_lift_hand_worked():
    # 150/1000 vs 100/1000: se = sqrt(.15*.85/1000 + .10*.90/1000) = sqrt(0.0002175) = 0.0147479
    # half-width 1.959964 * 0.0147479 = 0.0289054
    diff, (low, high) = absolute_lift(GroupStats(1000, 150, 0), GroupStats(1000, 100, 0))
    assert diff == pytest.approx(0.05)
    assert low == pytest.approx(0.0210946, abs=1e-6)
    assert high == pytest.approx(0.0789054, abs=1e-6)


def test_absolute_lift_interval_matches_scipy_normal_interval():
    diff, (low, high) = absolute_lift(GroupStats(1000, 150, 0), GroupStats(1000, 100, 0))
    expected_low, expected_high = wald_interval_by_scipy(150, 1000, 100, 1000)
    assert low == pytest.approx(expected_low, abs=1e-12)
    assert high == pytest.approx(expected_high, abs=1e-12)


def test_relative_lift_hand_worked():
    # ratio 1.5; se of log ratio = sqrt(.85/150 + .90/100) = sqrt(0.0146667) = 0.121106
    # exp(ln 1.5 -+ 1.959964 * 0.121106) - 1 = 0.18306, 0.90185
    rel, (low, high) = relative_lift(GroupStats(1000, 150, 0), GroupStats(1000, 100, 0))
    assert rel == pytest.approx(0.5)
    assert low == pytest.approx(0.18306, abs=1e-5)
    assert high == pytest.approx(0.90185, abs=1e-5)


def test_relative_lift_matches_scipy_relative_risk():
    rel, (low, high) = relative_lift(GroupStats(840, 97, 0), GroupStats(410, 31, 0))
    expected = relative_risk(97, 840, 31, 410)
    ci = expected.confidence_interval(confidence_level=0.95)
    assert rel == pytest.approx(expected.relative_risk - 1, rel=1e-12)
    assert low == pytest.approx(ci.low - 1, rel=1e-9)
    assert high == pytest.approx(ci.high - 1, rel=1e-9)


@settings(deadline=None, max_examples=200)
@given(
    nt=st.integers(min_value=1, max_value=100_000),
    nc=st.integers(min_value=1, max_value=100_000),
    ft=st.floats(min_value=0, max_value=1),
    fc=st.floats(min_value=0, max_value=1),
)
def test_intervals_match_scipy_for_any_counts(nt, nc, ft, fc):
    xt, xc = round(ft * nt), round(fc * nc)
    t, c = GroupStats(nt, xt, 0), GroupStats(nc, xc, 0)
    diff, (low, high) = absolute_lift(t, c)
    expected = wald_interval_by_scipy(xt, nt, xc, nc)
    assert diff == pytest.approx(xt / nt - xc / nc, abs=1e-12)
    assert (low, high) == pytest.approx(expected, abs=1e-9)
    rel, rel_ci = relative_lift(t, c)
    if xt and xc:
        scipy_ci = relative_risk(xt, nt, xc, nc).confidence_interval(0.95)
        assert rel == pytest.approx(relative_risk(xt, nt, xc, nc).relative_risk - 1, rel=1e-9)
        assert rel_ci == pytest.approx((scipy_ci.low - 1, scipy_ci.high - 1), rel=1e-7)
    else:
        assert rel is None and rel_ci is None


def test_empty_group_has_an_unbounded_interval():
    diff, ci = absolute_lift(GroupStats(10, 2, 0), GroupStats(0, 0, 0))
    assert ci == (-math.inf, math.inf)


def test_visitors_needed_matches_the_textbook_formula():
    # 12% vs 10%, equal groups: n = (z.975 + z.8)^2 (.12*.88 + .1*.9) / .02^2 = 3838.3 -> 3839
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.80)
    expected = math.ceil(z**2 * (0.12 * 0.88 + 0.10 * 0.90) / 0.02**2)
    assert expected == 3839
    assert visitors_needed(GroupStats(1000, 120, 0), GroupStats(1000, 100, 0)) == (3839, 3839)
    # a 9:1 split (10% holdout): n_h = z^2 (pt qt / 9 + pc qc) / d^2, n_t = 9 n_h
    t, c = GroupStats(900, 108, 0), GroupStats(100, 10, 0)
    holdout = math.ceil(z**2 * (0.12 * 0.88 / 9 + 0.10 * 0.90) / 0.02**2)
    assert visitors_needed(t, c) == (9 * holdout, holdout)
    assert visitors_needed(GroupStats(100, 10, 0), GroupStats(100, 10, 0)) is None


# -- counting visitors and conversions -------------------------------------------------------


def test_conversions_count_only_after_the_first_exposure():
    events = [
        purchase("a", minutes=-5),  # before exposure: not counted
        exposure("a", "r", False),
        exposure("b", "r", False),
        purchase("b", minutes=5),
        exposure("c", "r", True),
        purchase("c", minutes=1),
        exposure("d", "r", True),
    ]
    (lift,) = compute_lift(events)
    assert (lift.treated.visitors, lift.treated.converters) == (2, 1)
    assert (lift.holdout.visitors, lift.holdout.converters) == (2, 1)
    assert lift.warning is not None and "too few visitors" in lift.warning


def test_a_visitor_counts_once_per_rule_however_often_exposed_or_converted():
    events = [
        exposure("a", "r", False, minutes=0),
        exposure("a", "r", False, minutes=1),
        exposure("a", "r", False, minutes=2),
        purchase("a", minutes=3, value=20),
        purchase("a", minutes=4, value=30),
        exposure("a", "other", False, minutes=3.5),  # first exposure to `other` at 3.5
    ]
    lifts = {lift.rule: lift for lift in compute_lift(events)}
    assert (lifts["r"].treated.visitors, lifts["r"].treated.converters) == (1, 1)
    assert lifts["r"].treated.value == 50
    assert lifts["other"].treated.converters == 1 and lifts["other"].treated.value == 30


def test_the_conversion_type_is_chosen():
    events = [exposure("a", "r", False), purchase("a", event="add_to_cart")]
    assert compute_lift(events)[0].treated.converters == 0
    assert compute_lift(events, conversion="add_to_cart")[0].treated.converters == 1


def test_exposures_without_a_rule_and_truthy_non_booleans_are_handled():
    events = [
        exposure("a", None, False),  # a slot that showed its default: no rule to measure
        exposure("b", "r", "yes"),  # only a JSON true marks the holdout
    ]
    (lift,) = compute_lift(events)
    assert (lift.rule, lift.treated.visitors, lift.holdout.visitors) == ("r", 1, 0)


def test_since_and_until_filter_events_and_naive_times_are_utc():
    events = [exposure("a", "r", False, minutes=0), exposure("b", "r", False, minutes=100)]
    (lift,) = compute_lift(events, since=T0 + timedelta(minutes=50))
    assert lift.treated.visitors == 1
    (lift,) = compute_lift(events, until=datetime(2026, 11, 1, 0, 30))  # naive: UTC
    assert lift.treated.visitors == 1
    naive = [dict(exposure("a", "r", False), at="2026-11-01T00:00:00")]
    assert compute_lift(naive, since=T0)[0].treated.visitors == 1


def test_malformed_events_are_skipped():
    events = [{"type": "exposure"}, {"at": "not a time", "visitor": "x"}, exposure("a", "r", 0)]
    assert compute_lift(events)[0].treated.visitors == 1


def test_counts_and_intervals_of_a_cohort_match_scipy():
    (lift,) = compute_lift(cohort("hero", treated=(1800, 270), holdout=(200, 20)))
    assert (lift.treated.visitors, lift.treated.converters) == (1800, 270)
    assert (lift.holdout.visitors, lift.holdout.converters) == (200, 20)
    assert lift.treated.rate == pytest.approx(0.15) and lift.holdout.rate == pytest.approx(0.10)
    assert lift.absolute_ci == pytest.approx(wald_interval_by_scipy(270, 1800, 20, 200), abs=1e-12)
    ci = relative_risk(270, 1800, 20, 200).confidence_interval(0.95)
    assert lift.relative_ci == pytest.approx((ci.low - 1, ci.high - 1), rel=1e-9)


# -- sample-size warnings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("treated", "holdout", "expected"),
    [
        ((500, 50), (0, 0), "no holdout visitors"),
        ((0, 0), (500, 50), "no treated visitors"),
        ((99, 20), (500, 50), "too few visitors"),
        ((500, 9), (500, 50), "too few conversions"),
        ((1000, 120), (1000, 100), "inconclusive"),
        ((1000, 200), (1000, 100), None),  # +10 points, interval well above 0
    ],
)
def test_sample_size_warnings(treated, holdout, expected):
    (lift,) = compute_lift(cohort("r", treated, holdout))
    if expected is None:
        assert lift.warning is None
        assert lift.absolute_ci[0] > 0
    else:
        assert lift.warning is not None and expected in lift.warning


def test_an_inconclusive_warning_says_how_many_visitors_would_tell():
    (lift,) = compute_lift(cohort("r", (1000, 120), (1000, 100)))
    assert "3839 treated and 3839 holdout" in lift.warning


def test_without_a_visible_lift_the_warning_gives_the_detectable_lift():
    # p = .1, 1000 + 1000: (z.975 + z.8) sqrt(.1 * .9 * (1/1000 + 1/1000)) = 2.8016 * 0.013416
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.80)
    expected = z * math.sqrt(0.1 * 0.9 * (2 / 1000))
    assert expected == pytest.approx(0.037587, abs=1e-6)
    t, c = GroupStats(1000, 100, 0), GroupStats(1000, 100, 0)
    assert detectable_lift(t, c) == pytest.approx(expected, rel=1e-9)
    for treated in ((1000, 100), (1000, 101)):  # no lift, or one far too small to chase
        (lift,) = compute_lift(cohort("r", treated, (1000, 100)))
        assert "only a lift beyond ±3.76% is detectable" in lift.warning


# -- the table and the HTML page -------------------------------------------------------------


def test_table_shows_counts_rates_lifts_and_warnings():
    results = compute_lift(
        cohort("hero-rule", (1800, 270), (200, 20)) + cohort("tiny", (5, 1), (5, 0))
    )
    table = format_table(results)
    hero = next(line for line in table.splitlines() if line.startswith("hero-rule"))
    assert "270/1800" in hero and "15.00%" in hero
    assert "20/200" in hero and "10.00%" in hero
    low, high = wald_interval_by_scipy(270, 1800, 20, 200)
    assert f"+5.00% [{low:+.2%}, {high:+.2%}]" in hero
    assert "+50.0% [" in hero
    assert "warning: too few visitors" in table
    assert format_table([]).endswith("(no exposures found)")


def test_html_is_self_contained_with_a_chart_of_lift_and_intervals_per_rule():
    results = compute_lift(
        cohort("winner", (1000, 200), (1000, 100))
        + cohort("loser", (1000, 50), (1000, 100))
        + cohort("flat", (1000, 100), (1000, 100))
        + cohort("<unmeasured>", (50, 5), (0, 0))
    )
    page = render_html(results, subtitle="from events.jsonl")
    assert page.startswith("<!doctype html>")
    # No external asset of any kind: no scripts, stylesheets, images, fonts or links.
    for needle in ("<script", "<link", "src=", "href=", "url(", "@import", "<img"):
        assert needle not in page
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"]
    svg = ET.fromstring(page[page.index("<svg") : page.index("</svg>") + 6])
    ns = "{http://www.w3.org/2000/svg}"
    labels = [t.text for t in svg.iter(f"{ns}text")]
    for rule in ("winner", "loser", "flat", "<unmeasured>"):
        assert rule in labels
    assert len(list(svg.iter(f"{ns}circle"))) == 3  # one lift dot per measurable rule
    colors = {g.find(f"{ns}title").text.split(":")[0]: g.find(f"{ns}circle").get("fill")
              for g in svg.iter(f"{ns}g")}  # fmt: skip
    assert colors == {"winner": "#2f7d4a", "loser": "#b33", "flat": "#777"}
    assert "&lt;unmeasured&gt;" in page and "no holdout visitors" in page


def test_html_chart_places_the_interval_around_zero():
    (lift,) = compute_lift(cohort("r", (1000, 200), (1000, 100)))
    svg = ET.fromstring(re.search(r"<svg.*</svg>", render_html([lift])).group(0))
    ns = "{http://www.w3.org/2000/svg}"
    zero, bar = list(svg.iter(f"{ns}line"))[:2]
    dot = next(svg.iter(f"{ns}circle"))
    x0, low, high = float(zero.get("x1")), float(bar.get("x1")), float(bar.get("x2"))
    assert x0 < low < float(dot.get("cx")) < high  # interval entirely right of zero


# -- the command ------------------------------------------------------------------------------


def write_events(path, events):
    path.write_text("".join(json.dumps(e) + "\n" for e in events))


def test_report_command_prints_the_table_and_writes_html(tmp_path, capsys):
    events_file = tmp_path / "events.jsonl"
    write_events(events_file, cohort("hero-rule", (300, 60), (300, 30)))
    out_html = tmp_path / "report.html"
    assert main(["report", str(events_file), "--html", str(out_html), "--wide"]) == 0
    out = capsys.readouterr().out
    assert "690 events (600 exposures, 90 purchase conversions)" in out
    assert "60/300" in out and "30/300" in out
    assert f"wrote {out_html}" in out
    assert "hero-rule" in out_html.read_text()


def test_report_command_window_and_conversion_type(tmp_path, capsys):
    events_file = tmp_path / "events.jsonl"
    events = cohort("r", (10, 5), (10, 5)) + [
        exposure("late", "r", False, minutes=24 * 60),
        purchase("late", minutes=24 * 60 + 5, event="add_to_cart"),
    ]
    write_events(events_file, events)
    assert main(["report", str(events_file), "--since", "2026-11-02", "--wide"]) == 0
    out = capsys.readouterr().out
    assert "0/1" in out
    assert "2 events (1 exposures, 0 purchase conversions)" in out
    assert "between 2026-11-02 and the end" in out
    assert main(["report", str(events_file), "--since", "2026-11-02", "--conversion", "add_to_cart", "--wide"]) == 0  # fmt: skip
    assert "1/1" in capsys.readouterr().out
    assert main(["report", str(events_file), "--until", "2026-11-01T12:00:00Z", "--wide"]) == 0
    assert "5/10" in capsys.readouterr().out


def test_a_bare_until_date_counts_that_whole_day(tmp_path, capsys):
    events_file = tmp_path / "events.jsonl"
    write_events(
        events_file,
        [exposure("morning", "r", False, minutes=60), exposure("night", "r", False, minutes=1430)],
    )
    assert main(["report", str(events_file), "--until", "2026-11-01"]) == 0
    assert "2 events (2 exposures" in capsys.readouterr().out
    assert main(["report", str(events_file), "--until", "2026-11-01T12:00"]) == 0
    assert "1 events (1 exposures" in capsys.readouterr().out


def test_report_command_errors(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing.jsonl")]) == 1
    assert "cannot read events" in capsys.readouterr().err
    write_events(tmp_path / "e.jsonl", [])
    assert main(["report", str(tmp_path / "e.jsonl"), "--since", "yesterday"]) == 2
    assert "--since" in capsys.readouterr().err


def test_the_report_fits_80_columns_unless_asked_wide(tmp_path, capsys):
    events_file = tmp_path / "events.jsonl"
    write_events(events_file, cohort("a-rather-long-rule-identifier", (300, 60), (300, 30)))
    assert main(["report", str(events_file)]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()[1:]) <= 80
    assert "20.00%" in out and "10.00%" in out  # the two conversion rates
    assert main(["report", str(events_file), "--wide"]) == 0
    assert "60/300" in capsys.readouterr().out


def test_a_conversion_that_never_occurs_is_warned_about(tmp_path, capsys):
    events_file = tmp_path / "events.jsonl"
    write_events(events_file, cohort("hero-rule", (30, 6), (30, 3)))
    assert main(["report", str(events_file), "--conversion", "subscribe"]) == 0
    err = capsys.readouterr().err
    assert "no 'subscribe' conversion" in err and "conversions seen: purchase" in err


# -- the sample-ratio check -------------------------------------------------------------------


def test_a_split_far_from_the_holdout_share_is_a_sample_ratio_mismatch():
    (lift,) = compute_lift(cohort("r", (1200, 180), (300, 30)), holdout_share=0.1)
    reference = stats.chisquare([1200, 300], [1350, 150])
    assert lift.srm.chi2 == pytest.approx(reference.statistic, rel=1e-12)
    assert lift.srm.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert lift.srm_warning.startswith(
        "sample ratio mismatch: 1,200 vs 300 visitors where 90:10 was expected, p="
    )
    assert lift.warnings[0] == lift.srm_warning  # the most serious first


@pytest.mark.parametrize(
    ("treated", "holdout", "share"),
    [
        ((905, 90), (95, 10), 0.1),  # p = 0.09: chance
        ((1200, 180), (300, 30), None),  # no share given: not checked
        ((1200, 180), (0, 0), 0.1),  # no holdout at all is a warning of its own
    ],
)
def test_no_sample_ratio_warning_without_evidence_or_a_share(treated, holdout, share):
    (lift,) = compute_lift(cohort("r", treated, holdout), holdout_share=share)
    assert lift.srm_warning is None
    assert (lift.srm is None) == (share is None or not holdout[0])


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.1])
def test_the_holdout_share_must_be_a_share(share):
    with pytest.raises(ValueError):
        compute_lift([], holdout_share=share)


def test_tables_and_html_show_the_sample_ratio_warning():
    results = compute_lift(cohort("r", (1200, 180), (300, 30)), holdout_share=0.1)
    narrow = format_narrow_table(results)
    assert "  ! sample ratio mismatch: 1,200 vs 300 visitors where 90:10" in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert "warning: sample ratio mismatch: 1,200 vs 300" in format_table(results)
    page = render_html(results)
    svg = ET.fromstring(re.search(r"<svg.*</svg>", page).group(0))
    texts = [t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith("sample ratio mismatch: 1,200 vs 300") for t in texts)


# -- always-valid intervals -------------------------------------------------------------------


def test_sequential_intervals_are_the_confidence_sequence_around_the_lift():
    # 150/1000 vs 100/1000, tuned to 5,000 visitors: half-width 0.046069 (hand-worked in
    # tests/cli/test_stats.py), against 0.028905 for the fixed-horizon interval
    (lift,) = compute_lift(cohort("r", (1000, 150), (1000, 100)), sequence=ConfidenceSequence())
    assert lift.absolute == pytest.approx(0.05)
    assert lift.absolute_ci == pytest.approx((0.05 - 0.046069, 0.05 + 0.046069), abs=1e-6)
    (fixed,) = compute_lift(cohort("r", (1000, 150), (1000, 100)))
    assert lift.relative_ci == fixed.relative_ci  # only the absolute lift's interval changes


def test_sequential_intervals_are_symmetric_and_wider_than_fixed_ones():
    for treated, holdout in (((1000, 150), (1000, 100)), ((1000, 100), (1000, 150))):
        events = cohort("r", treated, holdout)
        (seq,) = compute_lift(events, sequence=ConfidenceSequence())
        (fixed,) = compute_lift(events)
        low, high = seq.absolute_ci
        assert seq.absolute - low == pytest.approx(high - seq.absolute, rel=1e-12)
        assert low < fixed.absolute_ci[0] and fixed.absolute_ci[1] < high
    widths = [
        compute_lift(cohort("r", t, h), sequence=ConfidenceSequence())[0].absolute_ci
        for t, h in (((1000, 150), (1000, 100)), ((1000, 100), (1000, 150)))
    ]
    assert widths[0][1] - widths[0][0] == pytest.approx(widths[1][1] - widths[1][0], rel=1e-12)


def test_a_sequential_report_gives_no_fixed_horizon_sample_size():
    events = cohort("r", (1000, 120), (1000, 100))
    (lift,) = compute_lift(events, sequence=ConfidenceSequence())
    assert lift.warning.startswith("inconclusive so far: the interval includes 0")
    assert "would detect" not in lift.warning
    assert "would detect" in compute_lift(events)[0].warning


def test_an_empty_group_has_an_unbounded_sequence_too():
    _, ci = absolute_lift(GroupStats(10, 2, 0), GroupStats(0, 0, 0), ConfidenceSequence())
    assert ci == (-math.inf, math.inf)


# -- one chart per rule -----------------------------------------------------------------------


def test_each_rule_has_its_own_chart_with_its_own_zero_line_and_scale():
    results = compute_lift(
        cohort("big", (1000, 400), (1000, 100)) + cohort("small", (1000, 110), (1000, 100))
    )
    svg = ET.fromstring(re.search(r"<svg.*</svg>", render_html(results)).group(0))
    ns = "{http://www.w3.org/2000/svg}"
    zeros = [line for line in svg.iter(f"{ns}line") if line.get("stroke-dasharray")]
    assert len(zeros) == 2
    scales = [t.text for t in svg.iter(f"{ns}text") if t.get("text-anchor") == "end"]
    assert len(scales) == 2 and scales[0] != scales[1]  # +30 points against +1: own scales
    bars = [g.find(f"{ns}line") for g in svg.iter(f"{ns}g")]
    for zero, bar in zip(zeros, bars, strict=True):
        assert float(zero.get("y1")) < float(bar.get("y1")) < float(zero.get("y2"))


# -- the command, with the new flags ----------------------------------------------------------


def test_the_report_names_its_interval_method_and_skips_the_ratio_check_unasked(tmp_path, capsys):
    events_file = tmp_path / "events.jsonl"
    write_events(events_file, cohort("r", (1000, 150), (1000, 100)))
    assert main(["report", str(events_file)]) == 0
    out = capsys.readouterr().out
    assert "intervals: fixed-horizon 95%" in out
    assert "sample-ratio check skipped" in out
    out_html = tmp_path / "report.html"
    assert main(["report", str(events_file), "--sequential", "--html", str(out_html)]) == 0
    out = capsys.readouterr().out
    assert "intervals: always-valid 95% confidence sequences (tuned to 5,000 visitors)" in out
    assert "+5.00% [+0.39%, +9.61%]" in out  # 0.05 -+ 0.046069
    assert "always-valid 95% confidence sequences" in out_html.read_text()
    assert main(["report", str(events_file), "--sequential", "--sequential-tuning", "2000"]) == 0
    assert "(tuned to 2,000 visitors)" in capsys.readouterr().out


def test_the_report_command_checks_the_sample_ratio(tmp_path, capsys):
    events_file = tmp_path / "events.jsonl"
    write_events(events_file, cohort("r", (1200, 180), (300, 30)))
    assert main(["report", str(events_file), "--holdout-share", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "sample ratio mismatch: 1,200 vs 300 visitors where 90:10 was expected" in out
    assert "skipped" not in out
    assert max(len(line) for line in out.splitlines()[1:]) <= 80
    assert main(["report", str(events_file), "--holdout-share", "0.2"]) == 0
    assert "sample ratio mismatch" not in capsys.readouterr().out  # 80:20 is what was drawn
    assert main(["report", str(events_file), "--holdout-share", "10"]) == 2
    assert "--holdout-share" in capsys.readouterr().err
