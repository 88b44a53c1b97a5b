"""benchmarks/simulate.py: seeded visitors through the real demo app and middleware, with a
known true effect per rule and per variant of the demo's A/B test; the report must recover
every effect within its 95% interval (a small run: the full one is the benchmark)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from etalage.cli import main as etalage

#: A seed whose 1,500 visitors cover all six effects (each interval misses 5% of seeds; the
#: benchmark's ``--repeat`` measures that rate).
SEED = 1
TEASER = "trips-teaser-test"
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "simulate.py"


@pytest.fixture(scope="module")
def simulate():
    spec = importlib.util.spec_from_file_location("etalage_simulate", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


@pytest.fixture(scope="module")
def result(simulate, tmp_path_factory):
    events = tmp_path_factory.mktemp("simulation") / "events.jsonl"
    return simulate.simulate(
        visitors=1500, seed=SEED, holdout=0.5, teaser_holdout=0.4, events_path=events
    )


def test_the_report_recovers_every_true_effect_within_its_interval(result):
    for recovery in result.recoveries:
        lift = recovery.lift
        assert lift is not None, recovery.planted
        low, high = lift.absolute_ci
        assert low <= recovery.planted.effect <= high, (recovery.planted, lift)
    assert result.recovered == len(result.recoveries) == 6
    planted = {r.planted.label: r.planted.effect for r in result.recoveries}
    # the teaser persona is a third of the home page's visitors: a third of its effect
    assert planted[f"{TEASER} variant 1"] == pytest.approx(0.15 / 3)
    assert planted[f"{TEASER} variant 2"] == pytest.approx(-0.06 / 3)


def test_the_variants_come_out_in_the_planted_order(result):
    """A small run tells little apart from zero (the 4,000-visitor benchmark does); it does
    order the test's variants as planted, each against the same control."""
    by_label = {r.planted.label: r.lift for r in result.recoveries}
    first, second = by_label[f"{TEASER} variant 1"], by_label[f"{TEASER} variant 2"]
    assert first.absolute > second.absolute
    control = next(r for r in result.results if r.rule == TEASER).holdout
    assert first.absolute == pytest.approx(first.treated.rate - control.rate, abs=1e-12)


def test_the_events_agree_with_what_visitors_were_served(result):
    """Exposures come from the middleware, `shown` from the HTML each visitor received."""
    tally = result.tally
    by_rule = {r.rule: r for r in result.results}
    assert set(by_rule) == {r.planted.rule for r in result.recoveries}
    for rule, lift in by_rule.items():
        assert lift.treated.visitors == tally.shown[rule]
        assert lift.treated.visitors + lift.holdout.visitors == tally.visitors[rule]
        assert lift.treated.converters + lift.holdout.converters == tally.purchases[rule]
        assert min(lift.treated.visitors, lift.holdout.visitors) >= 100
        assert lift.srm is not None and not lift.srm.mismatch  # split as the rule file draws
    test = by_rule[TEASER]
    assert test.control == "rule" and test.other_holdout is None  # contextual: no site holdout
    assert [v.treated.visitors for v in test.variants] == [tally.variants[0], tally.variants[1]]
    assert test.srm_groups == ("rule", "variant 1", "variant 2")
    assert {by_rule[r].control for r in by_rule if r != TEASER} == {"site"}


def test_the_report_command_reads_the_simulated_events(result, capsys):
    assert etalage(["report", str(result.events_path), "--wide"]) == 0
    out = capsys.readouterr().out.splitlines()
    for recovery in result.recoveries:
        treated = recovery.lift.treated
        planted = recovery.planted
        start = planted.rule if planted.variant is None else f"  variant {planted.variant + 1}"
        line = next(x for x in out if x.startswith(start))
        assert f"{treated.converters}/{treated.visitors}" in line


def test_the_script_prints_its_verdict_on_the_last_line(simulate, tmp_path, capsys):
    status = simulate.main(["--visitors", "120", "--seed", "3", "--events", str(tmp_path / "e")])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    match = re.fullmatch(r"recovered=(\d)/6 visitors=120 seed=3", last)
    assert match is not None
    assert status == (0 if match.group(1) == "6" else 1)
