"""Lift statistics, checked against values computed independently (scipy, hand-worked)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from scipy import stats

from etalage.report import (
    GroupStats,
    absolute_lift,
    compute_lift,
    format_table,
    relative_lift,
    render_html,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def exposure(visitor, rule, holdout, minutes=0):
    return {
        "type": "exposure",
        "visitor": visitor,
        "rule": rule,
        "holdout": holdout,
        "at": (T0 + timedelta(minutes=minutes)).isoformat(),
    }


def purchase(visitor, minutes=10, value=50.0):
    return {
        "type": "conversion",
        "event": "purchase",
        "visitor": visitor,
        "value": value,
        "at": (T0 + timedelta(minutes=minutes)).isoformat(),
    }


def test_absolute_lift_interval_matches_scipy_normal_interval():
    t, c = GroupStats(1000, 150, 0), GroupStats(1000, 100, 0)
    diff, (low, high) = absolute_lift(t, c)
    se = math.sqrt(0.15 * 0.85 / 1000 + 0.10 * 0.90 / 1000)
    expected_low, expected_high = stats.norm.interval(0.95, loc=0.05, scale=se)
    assert diff == pytest.approx(0.05)
    assert low == pytest.approx(expected_low, abs=1e-12)
    assert high == pytest.approx(expected_high, abs=1e-12)


def test_relative_lift_is_the_risk_ratio_minus_one_with_a_log_interval():
    t, c = GroupStats(1000, 150, 0), GroupStats(1000, 100, 0)
    rel, (low, high) = relative_lift(t, c)
    se = math.sqrt((1 - 0.15) / 150 + (1 - 0.10) / 100)  # hand-worked: 0.12111
    assert rel == pytest.approx(0.5)
    assert low == pytest.approx(math.exp(math.log(1.5) - 1.959964 * se) - 1, abs=1e-6)
    assert high == pytest.approx(math.exp(math.log(1.5) + 1.959964 * se) - 1, abs=1e-6)
    assert low == pytest.approx(0.1830, abs=1e-3)


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


def test_since_and_until_filter_events():
    events = [exposure("a", "r", False, minutes=0), exposure("b", "r", False, minutes=100)]
    (lift,) = compute_lift(events, since=T0 + timedelta(minutes=50))
    assert lift.treated.visitors == 1


def test_malformed_events_are_skipped():
    events = [{"type": "exposure"}, {"at": "not a time", "visitor": "x"}, exposure("a", "r", 0)]
    assert compute_lift(events)[0].treated.visitors == 1


def test_table_and_html_name_each_rule():
    events = [exposure("a", "hero-rule", False), exposure("b", "hero-rule", True)]
    results = compute_lift(events)
    assert "hero-rule" in format_table(results)
    page = render_html(results)
    assert page.startswith("<!doctype html>") and "<svg" in page and "hero-rule" in page
