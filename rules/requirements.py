"""What a condition needs to be true: `condition_requirements`.

A rule set indexes its rules by what their conditions need (`etalage.rules.page_index`), so a
decision skips the rules a visitor's attributes rule out without evaluating them. What is
stated here is checked against evaluating the compiled condition (`compile_condition`) in the
tests: whatever the requirements say a condition needs, it needs.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from etalage.rules.conditions import (
    ARRAY_TYPES,
    Groups,
    attribute_at,
    compile_value,
    is_number,
    is_operator_object,
)

#: Exact types whose equality agrees with their hash (``1 == 1.0 == True`` hash alike), so a
#: set lookup answers ``==`` and ``$in`` for them.
SIMPLE_TYPES = frozenset({str, int, float, bool, type(None)})

_INF = float("inf")
#: At most this many alternatives per condition; past it, ``$or`` branches are joined into one.
_MAX_ALTERNATIVES = 8
_RANGE_OPS = frozenset({"$eq", "$gt", "$gte", "$lt", "$lte"})
#: Characters a ``$regex`` may start with (after ``^``) that match only themselves.
_LITERAL = frozenset(string.ascii_letters + string.digits + "/-_:=&%~,;@!#'\" <>")


@dataclass(frozen=True)
class Interval:
    """The numbers from `low` to `high`; an open end leaves its bound out."""

    low: float = -_INF
    high: float = _INF
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, number: float) -> bool:
        above = number > self.low if self.low_open else number >= self.low
        below = number < self.high if self.high_open else number <= self.high
        return above and below

    def meet(self, other: Interval) -> Interval:
        """The numbers in both."""
        low, low_open = _bound(self.low, self.low_open, other.low, other.low_open, max)
        high, high_open = _bound(self.high, self.high_open, other.high, other.high_open, min)
        return Interval(low, high, low_open, high_open)

    def join(self, other: Interval) -> Interval:
        """The smallest interval holding both."""
        low, closed = _bound(self.low, not self.low_open, other.low, not other.low_open, min)
        high, shut = _bound(self.high, not self.high_open, other.high, not other.high_open, max)
        return Interval(low, high, not closed, not shut)


def _bound(
    a: float, a_flag: bool, b: float, b_flag: bool, pick: Callable[[float, float], float]
) -> tuple[float, bool]:
    """The bound `pick` chooses, with its flag; on a tie, flagged if either is."""
    if a == b:
        return a, a_flag or b_flag
    return (a, a_flag) if pick(a, b) == a else (b, b_flag)


@dataclass(frozen=True)
class Requirements:
    """Necessary conditions of a compiled condition, read at compile time.

    `present`: paths whose value must not be None (a missing path reads as None).
    `one_of`: paths whose value, when of a `SIMPLE_TYPES` type, must equal one of the listed
    values (a plain equality or a case-sensitive ``$in`` of simple values).
    `ranges`: paths whose value, when an ``int`` or ``float`` (not a bool), must lie in the
    interval (``$gt``, ``$gte``, ``$lt``, ``$lte`` or ``$eq`` a number, or equal to one).
    `prefixes`: paths whose value, when a ``str``, must start with one of the listed texts (a
    ``$regex`` anchored by ``^`` that starts with literal characters).
    `alternatives`: when not empty, one of them holds too (the branches of ``$or``, each with
    everything above); none has alternatives of its own.
    All speak of the value the condition reads at the path: the whole dotted key, else the
    nested walk. When `excludes` is true the condition is false.

    `exact`: the requirements are the whole condition for the values they speak of: when they
    hold and every value read at a `one_of` path is of a `SIMPLE_TYPES` type, at a `ranges`
    path a number or None and at a `prefixes` path a ``str`` or None, the condition is true
    (`holds`). Conditions made only of equality, ``$in`` of simple values, ``$exists: true``,
    comparisons with numbers, literal ``^`` prefixes, ``$and`` and ``$or`` are exact.
    """

    present: frozenset[str] = frozenset()
    one_of: Mapping[str, frozenset[Any]] = field(default_factory=dict)
    ranges: Mapping[str, Interval] = field(default_factory=dict)
    prefixes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    alternatives: tuple[Requirements, ...] = ()
    exact: bool = False

    def excludes(self, attributes: Mapping[str, Any]) -> bool:
        """Whether these requirements alone show the condition is false for `attributes`."""
        if self._fails(attributes):
            return True
        if self.alternatives:
            return all(alternative.excludes(attributes) for alternative in self.alternatives)
        return False

    def holds(self, attributes: Mapping[str, Any]) -> bool:
        """Whether these requirements alone show the condition is true for `attributes`."""
        if self.alternatives:
            return not self._fails(attributes) and any(
                alternative.holds(attributes) for alternative in self.alternatives
            )
        if not self.exact or self._fails(attributes):
            return False
        return (
            all(type(attribute_at(attributes, path)) in SIMPLE_TYPES for path in self.one_of)
            and all(type(attribute_at(attributes, path)) in _NUMBER_OR_NONE for path in self.ranges)
            and all(type(attribute_at(attributes, path)) in _TEXT_OR_NONE for path in self.prefixes)
        )

    def _fails(self, attributes: Mapping[str, Any]) -> bool:
        for path in self.present:
            if attribute_at(attributes, path) is None:
                return True
        for path, allowed in self.one_of.items():
            value = attribute_at(attributes, path)
            if type(value) in SIMPLE_TYPES and value not in allowed:
                return True
        for path, interval in self.ranges.items():
            value = attribute_at(attributes, path)
            if (type(value) is int or type(value) is float) and value not in interval:
                return True
        for path, prefixes in self.prefixes.items():
            value = attribute_at(attributes, path)
            if type(value) is str and not value.startswith(tuple(prefixes)):
                return True
        return False


_NUMBER_OR_NONE = frozenset({int, float, type(None)})
_TEXT_OR_NONE = frozenset({str, type(None)})


def condition_requirements(
    condition: Mapping[str, Any] | None, saved_groups: Groups | None = None
) -> Requirements:
    """What `compile_condition(condition, saved_groups)` needs to possibly be true.

    Exact per field (a field's compiled test is run on None to see whether a missing value can
    pass), combined through ``$and`` (all needed) and ``$or`` (one branch needed: what every
    branch needs, and each branch as an alternative); ``$nor`` and ``$not`` add nothing,
    since a negation can be true when values are missing.
    """
    if not condition:
        return Requirements(exact=True)
    terms = _requirements(condition, saved_groups or {})
    common = _join(terms).requirements()
    if len(terms) == 1:
        return common
    return replace(common, alternatives=tuple(term.requirements() for term in terms))


@dataclass
class _Needs:
    """What one conjunction needs (`Requirements` without alternatives, while being read)."""

    present: set[str] = field(default_factory=set)
    one_of: dict[str, frozenset[Any]] = field(default_factory=dict)
    ranges: dict[str, Interval] = field(default_factory=dict)
    prefixes: dict[str, frozenset[str]] = field(default_factory=dict)
    exact: bool = True

    def meet(self, other: _Needs) -> _Needs:
        """Both needed: paths add up, value sets intersect, intervals narrow."""
        both = _Needs(self.present | other.present, dict(self.one_of), dict(self.ranges))
        for path, allowed in other.one_of.items():
            both.one_of[path] = both.one_of[path] & allowed if path in both.one_of else allowed
        for path, interval in other.ranges.items():
            both.ranges[path] = (
                both.ranges[path].meet(interval) if path in both.ranges else interval
            )
        both.prefixes = {**other.prefixes, **self.prefixes}  # either set alone is needed
        both.exact = self.exact and other.exact and self.prefixes.keys().isdisjoint(other.prefixes)
        return both

    def requirements(self) -> Requirements:
        present = frozenset(self.present)
        return Requirements(present, self.one_of, self.ranges, self.prefixes, exact=self.exact)


def _join(terms: Sequence[_Needs]) -> _Needs:
    """One of the terms needed: what every term needs, value sets and intervals joined."""
    first, *rest = terms
    if not rest:
        return first
    shared = _Needs(set.intersection(*(term.present for term in terms)), exact=False)
    for path, allowed in first.one_of.items():
        if all(path in term.one_of for term in rest):
            shared.one_of[path] = allowed.union(*(term.one_of[path] for term in rest))
    for path, interval in first.ranges.items():
        if all(path in term.ranges for term in rest):
            for term in rest:
                interval = interval.join(term.ranges[path])
            shared.ranges[path] = interval
    for path, prefixes in first.prefixes.items():
        if all(path in term.prefixes for term in rest):
            shared.prefixes[path] = prefixes.union(*(term.prefixes[path] for term in rest))
    return shared


def _both(left: list[_Needs], right: list[_Needs]) -> list[_Needs]:
    """Alternatives of a conjunction: every pair, or (too many) the two sides joined."""
    if len(left) * len(right) <= _MAX_ALTERNATIVES:
        return [a.meet(b) for a in left for b in right]
    return [_join(left).meet(_join(right))]


def _unknown() -> _Needs:
    """The needs of a part the analysis does not read: nothing needed, nothing decided."""
    return _Needs(exact=False)


def _requirements(condition: Any, groups: Groups) -> list[_Needs]:
    """The condition's needs as alternatives: it is true only if one of them holds."""
    if not isinstance(condition, Mapping):
        return [_unknown()]  # compiles to always false: requiring nothing stays correct
    terms = [_Needs()]
    for key, value in condition.items():
        if key == "$and" and isinstance(value, ARRAY_TYPES):
            for item in value:
                terms = _both(terms, _requirements(item, groups))
        elif key == "$or" and isinstance(value, ARRAY_TYPES):
            if value:
                branches = [term for item in value for term in _requirements(item, groups)]
                if len(branches) > _MAX_ALTERNATIVES:
                    branches = [_join(branches)]
                terms = _both(terms, branches)
        elif key in ("$and", "$or", "$nor", "$not") or not isinstance(key, str):
            terms = _both(terms, [_unknown()])
        else:
            terms = _both(terms, [_field_needs(key, value, groups)])
    return terms


def _field_needs(path: str, expected: Any, groups: Groups) -> _Needs:
    needs = _Needs(exact=_decided(expected))
    if not compile_value(expected, groups)(None):
        needs.present.add(path)
    allowed = _allowed_values(expected)
    if allowed is not None:
        needs.one_of[path] = allowed
    interval = _interval(expected)
    if interval is not None:
        needs.ranges[path] = interval
    prefix = _regex_prefix(expected)
    if prefix is not None:
        needs.prefixes[path] = frozenset((prefix[0],))
    return needs


def _decided(expected: Any) -> bool:
    """Whether `_field_needs` says all a field test asks of a value of the kinds it reads."""
    if type(expected) in SIMPLE_TYPES:
        return bool(expected == expected)  # NaN equals nothing, not even in a set of itself
    if not (isinstance(expected, Mapping) and is_operator_object(expected)):
        return False
    for op, arg in expected.items():
        if op == "$exists":
            decided = bool(arg)
        elif op == "$in":
            decided = isinstance(arg, ARRAY_TYPES) and all(
                type(item) in SIMPLE_TYPES for item in arg
            )
        elif op in _RANGE_OPS:
            decided = is_number(arg) and arg == arg
        elif op == "$regex":
            prefix = _regex_prefix(expected)
            decided = prefix is not None and prefix[1]
        else:
            decided = False
        if not decided:
            return False
    return True


def _allowed_values(expected: Any) -> frozenset[Any] | None:
    """The only simple values a field test can accept, when it says (None: any)."""
    if type(expected) in SIMPLE_TYPES:
        return frozenset((expected,))
    if not (isinstance(expected, Mapping) and is_operator_object(expected)):
        return None
    allowed: frozenset[Any] | None = None
    for op, arg in expected.items():
        if op == "$in" and isinstance(arg, ARRAY_TYPES):
            if all(type(item) in SIMPLE_TYPES for item in arg):
                options = frozenset(arg)
                allowed = options if allowed is None else allowed & options
    return allowed


def _interval(expected: Any) -> Interval | None:
    """The numbers a field test can accept from an int or float value (None: any)."""
    if is_number(expected):
        return Interval(expected, expected) if expected == expected else Interval(0, -1)
    if not (isinstance(expected, Mapping) and is_operator_object(expected)):
        return None
    found: Interval | None = None
    for op, arg in expected.items():
        if op not in _RANGE_OPS or not is_number(arg) or arg != arg:
            continue  # a NaN argument compares like a missing value: the closure decides
        if op == "$eq":
            interval = Interval(arg, arg)
        elif op in ("$gt", "$gte"):
            interval = Interval(low=arg, low_open=op == "$gt")
        else:
            interval = Interval(high=arg, high_open=op == "$lt")
        found = interval if found is None else found.meet(interval)
    return found


def _regex_prefix(expected: Any) -> tuple[str, bool] | None:
    """The text a field test's ``$regex`` needs a string value to start with, and whether
    starting with it is all the pattern asks (None: no such text)."""
    if not (isinstance(expected, Mapping) and is_operator_object(expected)):
        return None
    pattern = expected.get("$regex")
    if not (isinstance(pattern, str) and pattern.startswith("^")) or "(?" in pattern:
        return None  # unanchored, or a group that may set flags or look around
    if _alternation_at_top(pattern):
        return None
    end = 1
    while end < len(pattern) and pattern[end] in _LITERAL:
        end += 1
    whole = end == len(pattern)
    if not whole and pattern[end] in "?*{+":
        end -= 1  # the character before a quantifier may repeat or be absent
    return (pattern[1:end], whole) if end > 1 else None


def _alternation_at_top(pattern: str) -> bool:
    """Whether a ``|`` outside every group and character class splits `pattern`."""
    depth, index, in_class = 0, 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 1
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            index += 2 if pattern[index + 1 : index + 2] == "^" else 1
            if pattern[index : index + 1] == "]":
                index += 1  # a "]" first in a class is a literal
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth <= 0:
            return True
        index += 1
    return False
