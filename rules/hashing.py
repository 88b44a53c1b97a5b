"""GrowthBook's deterministic hashing (FNV-1a 32-bit) and the holdout bucket built on it."""

from __future__ import annotations

import sys
from array import array
from functools import lru_cache

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MASK = 0xFFFFFFFF


def _code_units(text: str) -> array[int]:
    units = array("H", text.encode("utf-16-le", "surrogatepass"))
    if sys.byteorder == "big":
        units.byteswap()
    return units


def fnv1a32(text: str) -> int:
    """32-bit FNV-1a over the text's UTF-16 code units, as JavaScript's ``charCodeAt`` sees them."""
    value = _FNV_OFFSET
    # ASCII bytes are the code units; iterating bytes yields ints without a call per character.
    units = text.encode("ascii") if text.isascii() else _code_units(text)
    for unit in units:
        value = (value ^ unit) * _FNV_PRIME & _MASK
    return value


@lru_cache(maxsize=16384)
def gb_hash(seed: str, value: str, version: int) -> float | None:
    """GrowthBook's hash of `value` under `seed` in [0, 1); None for an unknown hash version.

    Remembered for the most recent (seed, value) pairs: a visitor's every page draws the same
    holdouts and variants again, and the hash is a pure function of its arguments.
    """
    if version == 2:
        return (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000
    if version == 1:
        return (fnv1a32(value + seed) % 1000) / 1000
    return None


def in_holdout(visitor_id: str, share: float, seed: str) -> bool:
    """Whether `visitor_id` falls into the first `share` of the hash-v2 range for `seed`."""
    bucket = gb_hash(seed, visitor_id, 2)
    assert bucket is not None  # version 2 is known
    return bucket < share


def variant_bucket(rule_id: str, bucket_version: int, visitor_id: str) -> float:
    """The visitor's sticky draw in [0, 1) for a rule's variants (seed: rule id and version)."""
    bucket = gb_hash(f"{rule_id}:v{bucket_version}", visitor_id, 2)
    assert bucket is not None  # version 2 is known
    return bucket


def rule_holdout_seed(rule_id: str, bucket_version: int) -> str:
    """The seed of a rule's own holdout draw, independent of its variant draw."""
    return f"{rule_id}:holdout:v{bucket_version}"
