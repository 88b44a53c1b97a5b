"""GrowthBook's shared conformance suite: every evalCondition and hash case must pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from etalage.rules.conditions import compile_condition, evaluate_condition
from etalage.rules.hashing import gb_hash

#: Vendored from GrowthBook (MIT; notice and provenance beside it in ``conformance/``).
CASES_FILE = Path(__file__).resolve().parent / "conformance" / "growthbook-cases.json"
SUITE: dict[str, Any] = json.loads(CASES_FILE.read_text(encoding="utf-8"))

CONDITION_CASES = [
    pytest.param(
        case[1], case[2], case[3], case[4] if len(case) > 4 else {}, id=f"{index:03d}-{case[0]}"
    )
    for index, case in enumerate(SUITE["evalCondition"])
]
HASH_CASES = [
    pytest.param(seed, value, version, expected, id=f"{index:02d}-v{version}-{seed!r}-{value!r}")
    for index, (seed, value, version, expected) in enumerate(SUITE["hash"])
]


def test_suite_has_every_case() -> None:
    assert len(CONDITION_CASES) == 248
    assert len(HASH_CASES) == 15


@pytest.mark.parametrize(("condition", "attributes", "expected", "groups"), CONDITION_CASES)
def test_compiled_condition_matches_reference(
    condition: dict[str, Any], attributes: dict[str, Any], expected: bool, groups: dict[str, Any]
) -> None:
    assert compile_condition(condition, groups)(attributes) is expected


@pytest.mark.parametrize(("condition", "attributes", "expected", "groups"), CONDITION_CASES)
def test_evaluated_condition_matches_reference(
    condition: dict[str, Any], attributes: dict[str, Any], expected: bool, groups: dict[str, Any]
) -> None:
    assert evaluate_condition(condition, attributes, groups) is expected


@pytest.mark.parametrize(("seed", "value", "version", "expected"), HASH_CASES)
def test_hash_matches_reference(
    seed: str, value: str, version: int, expected: float | None
) -> None:
    assert gb_hash(seed, value, version) == expected
