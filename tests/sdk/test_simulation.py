"""benchmarks/simulate.py: seeded visitors through the real demo app and middleware, with a
known true effect per rule; the report must recover every effect within its 95% interval."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from etalage.cli import main as etalage

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
    return simulate.simulate(visitors=1500, seed=7, holdout=0.5, events_path=events)


def test_the_report_recovers_every_true_effect_within_its_interval(result):
    for recovery in result.recoveries:
        lift = recovery.lift
        assert lift is not None, recovery.persona.rule
        low, high = lift.absolute_ci
        assert low <= recovery.persona.effect <= high, (recovery.persona, lift)
    assert result.recovered == len(result.recoveries) == 4


def test_a_real_effect_is_told_apart_from_none(result):
    by_rule = {r.persona.rule: r.lift for r in result.recoveries}
    assert by_rule["continue-search"].absolute_ci[0] > 0  # +8 points: interval above zero
    assert by_rule["contact-email"].absolute_ci[0] < 0 < by_rule["contact-email"].absolute_ci[1]


def test_the_events_agree_with_what_visitors_were_served(result):
    """Exposures come from the middleware, `shown` from the HTML each visitor received."""
    tally = result.tally
    for recovery in result.recoveries:
        rule, lift = recovery.persona.rule, recovery.lift
        assert lift.treated.visitors == tally.shown[rule]
        assert lift.treated.visitors + lift.holdout.visitors == tally.visitors[rule]
        assert lift.treated.converters + lift.holdout.converters == tally.purchases[rule]
        assert min(lift.treated.visitors, lift.holdout.visitors) >= 100
    assert {r.rule for r in result.results} == {r.persona.rule for r in result.recoveries}


def test_the_report_command_reads_the_simulated_events(result, capsys):
    assert etalage(["report", str(result.events_path), "--wide"]) == 0
    out = capsys.readouterr().out
    for recovery in result.recoveries:
        treated = recovery.lift.treated
        line = next(x for x in out.splitlines() if x.startswith(recovery.persona.rule))
        assert f"{treated.converters}/{treated.visitors}" in line


def test_the_script_prints_its_verdict_on_the_last_line(simulate, tmp_path, capsys):
    status = simulate.main(["--visitors", "120", "--seed", "3", "--events", str(tmp_path / "e")])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    match = re.fullmatch(r"recovered=(\d)/4 visitors=120 seed=3", last)
    assert match is not None
    assert status == (0 if match.group(1) == "4" else 1)
