"""Micro benchmarks of the rule engine, printed as ratios.

(a) Conditions: every evalCondition case of GrowthBook's conformance suite, evaluated many
times with etalage's pre-compiled predicates and with the `growthbook` package's own
``evalCondition`` (same cases, same repetitions, same run; best of several rounds).

Last line: ``speedup_vs_growthbook=<x>``.

Usage: python benchmarks/rules_bench.py
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from etalage.rules.conditions import compile_condition

CASES = (
    Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / "growthbook-cases.json"
)
REPETITIONS = 200
ROUNDS = 5


def load_cases() -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """(condition, attributes, saved groups) of every evalCondition case."""
    raw = json.loads(CASES.read_text(encoding="utf-8"))["evalCondition"]
    return [(case[1], case[2], case[4] if len(case) > 4 else {}) for case in raw]


def best_time(run: Callable[[], object], rounds: int = ROUNDS) -> float:
    """Best wall time (seconds) of `rounds` calls of `run`."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def bench_conditions(repetitions: int = REPETITIONS) -> tuple[float, float]:
    """Seconds for all cases x `repetitions`: (etalage compiled, growthbook evalCondition)."""
    from growthbook.core import evalCondition

    cases = load_cases()
    compiled = [(compile_condition(cond, groups), attrs) for cond, attrs, groups in cases]
    for (predicate, attrs), (cond, _, groups) in zip(compiled, cases, strict=True):
        assert predicate(attrs) == evalCondition(attrs, cond, groups), cond

    def ours() -> None:
        for _ in range(repetitions):
            for predicate, attrs in compiled:
                predicate(attrs)

    def theirs() -> None:
        for _ in range(repetitions):
            for cond, attrs, groups in cases:
                evalCondition(attrs, cond, groups)

    return best_time(ours), best_time(theirs)


def report(label: str, seconds: float, count: int) -> None:
    """Print one timing line: total milliseconds and nanoseconds per evaluation."""
    print(f"  {label:<22}{seconds * 1e3:8.2f} ms  ({seconds / count * 1e9:6.0f} ns each)")


def main() -> None:
    """Run every section and print the summary line last."""
    summary: list[str] = []

    ours, theirs = bench_conditions()
    evaluations = len(load_cases()) * REPETITIONS
    print(f"(a) conditions: {evaluations} evaluations")
    report("etalage compiled", ours, evaluations)
    report("growthbook 2.2.1", theirs, evaluations)
    summary.append(f"speedup_vs_growthbook={theirs / ours:.1f}")

    print(" ".join(summary))


if __name__ == "__main__":
    main()
