"""LRU: the one bounded memory; the least recently used entry goes first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from etalage.lru import LRU


def test_a_put_beyond_the_bound_forgets_the_least_recently_used_entry() -> None:
    lru: LRU[str, int] = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # now "b" is the least recently used
    lru.put("c", 3)
    assert (lru.keys(), "b" in lru, len(lru)) == (["a", "c"], False, 2)


def test_writing_a_kept_key_again_makes_it_the_most_recently_used() -> None:
    lru: LRU[str, int] = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    lru.put("a", 10)
    lru.put("c", 3)
    assert (lru.get("a"), lru.get("b"), lru.keys()) == (10, None, ["c", "a"])


def test_looking_for_a_key_with_in_does_not_make_it_recent() -> None:
    lru: LRU[str, int] = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert "a" in lru
    lru.put("c", 3)
    assert lru.keys() == ["b", "c"]


def test_a_bound_of_zero_keeps_nothing() -> None:
    lru: LRU[str, int] = LRU(0)
    lru.put("a", 1)
    assert (len(lru), lru.get("a")) == (0, None)


def test_discard_and_clear_forget() -> None:
    lru: LRU[str, int] = LRU(3)
    for key, value in (("a", 1), ("b", 2), ("c", 3)):
        lru.put(key, value)
    lru.discard("b")
    lru.discard("missing")
    assert lru.keys() == ["a", "c"]
    lru.clear()
    assert (len(lru), lru.keys()) == (0, [])


@given(
    st.integers(min_value=1, max_value=5),
    st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=7)), max_size=60),
)
def test_it_keeps_what_a_list_ordered_by_last_use_keeps(
    bound: int, steps: list[tuple[bool, int]]
) -> None:
    lru: LRU[int, int] = LRU(bound)
    model: list[tuple[int, int]] = []  # (key, value), least recently used first
    for write, key in steps:
        kept = next((value for k, value in model if k == key), None)
        if write:
            model = [(k, v) for k, v in model if k != key] + [(key, len(model))]
            model = model[-bound:]
            lru.put(key, model[-1][1])
        else:
            assert lru.get(key) == kept
            if kept is not None:
                model = [(k, v) for k, v in model if k != key] + [(key, kept)]
        assert lru.keys() == [k for k, _ in model]
