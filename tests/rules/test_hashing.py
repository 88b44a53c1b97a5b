"""`etalage.rules.hashing`: FNV-1a, GrowthBook's hash versions and the holdout bucket."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etalage.rules.hashing import fnv1a32, gb_hash, in_holdout

IDS = [f"visitor-{number}" for number in range(10_000)]


def _fnv_over(units: list[int]) -> int:
    value = 0x811C9DC5
    for unit in units:
        value = ((value ^ unit) * 0x01000193) % 2**32
    return value


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 0x811C9DC5), ("a", 0xE40C292C), ("foobar", 0xBF9CF968)],
    ids=["empty", "a", "foobar"],
)
def test_fnv1a32_matches_published_test_vectors(text: str, expected: int) -> None:
    assert fnv1a32(text) == expected


def test_fnv1a32_hashes_utf16_code_units_like_javascript() -> None:
    assert fnv1a32("é") == _fnv_over([0xE9])
    assert fnv1a32("😀") == _fnv_over([0xD83D, 0xDE00])


@pytest.mark.parametrize("version", [0, 3, 99])
def test_unknown_hash_version_gives_none(version: int) -> None:
    assert gb_hash("seed", "value", version) is None


@given(st.text(max_size=20), st.text(max_size=20), st.sampled_from([1, 2]))
def test_hash_is_within_unit_interval(seed: str, value: str, version: int) -> None:
    result = gb_hash(seed, value, version)
    assert result is not None and 0 <= result < 1


@pytest.mark.parametrize("share", [0.05, 0.1, 0.5])
def test_holdout_share_matches_the_requested_fraction(share: float) -> None:
    held = sum(in_holdout(visitor, share, "shop") for visitor in IDS)
    assert abs(held / len(IDS) - share) < 0.02


def test_zero_share_holds_out_nobody_and_full_share_everybody() -> None:
    assert not any(in_holdout(visitor, 0.0, "shop") for visitor in IDS)
    assert all(in_holdout(visitor, 1.0, "shop") for visitor in IDS)


def test_holdout_is_deterministic_per_visitor_and_seed() -> None:
    first = [in_holdout(visitor, 0.1, "shop") for visitor in IDS[:2000]]
    again = [in_holdout(visitor, 0.1, "shop") for visitor in IDS[:2000]]
    assert first == again


def test_holdout_depends_on_the_seed() -> None:
    shop = {visitor for visitor in IDS if in_holdout(visitor, 0.1, "shop")}
    blog = {visitor for visitor in IDS if in_holdout(visitor, 0.1, "blog")}
    assert shop != blog


@given(st.text(max_size=30), st.floats(0, 1), st.floats(0, 1))
def test_a_larger_share_keeps_everyone_a_smaller_share_held_out(
    visitor: str, low: float, high: float
) -> None:
    low, high = sorted((low, high))
    assert not in_holdout(visitor, low, "shop") or in_holdout(visitor, high, "shop")


def test_holdout_uses_hash_version_two() -> None:
    hashed = gb_hash("shop", "visitor-7", 2)
    assert hashed is not None
    assert in_holdout("visitor-7", hashed + 1e-9, "shop")
    assert not in_holdout("visitor-7", hashed, "shop")
