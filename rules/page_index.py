"""`PageIndex`: one page's rules as bits, and what a visitor's attributes leave of them.

Every rule of the page's slots gets one bit per alternative of its requirements
(`condition_requirements`; the branches of an ``$or``, most rules have one), slot after slot,
each slot's rules in priority order; the first rule of the page gets the highest bit, so the
next rule to look at is always the top bit (`int.bit_length`) and "this rule and every one
before it" is a low mask. Consent, schedules and, per attribute path, what the rules require
of its value become masks over those bits: a decision looks each tested attribute up once
(a dict lookup for equality and ``$in``, one or two comparisons or a bisection for numbers, a
bisection for ``^`` prefixes) and clears the bits of the rules it rules out, whatever the
number of rules. Bits whose requirements are their whole condition (`Requirements.exact`)
and hold need no evaluation at all.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from etalage.rules.model import DEFAULT_REASON, Decision, Predicate, Rule, Segment, VariantsAction
from etalage.rules.requirements import SIMPLE_TYPES, Requirements

_INF = float("inf")
_NEVER = float("nan")  # ends the bounds of a range: equal to no value, below none for bisect
_T = TypeVar("_T")

#: A page rule, once per bit: (rule, predicate, whether the visitor's history can stop it (a
#: cap or dismissal), its decision when it wins without a draw (no variants, no rule holdout)
#: made once or None, the mask that clears its bits and those of every rule before it, its
#: slot, the mask that clears the rest of its slot, how many winners the slot takes, its bit).
Entry = tuple[Rule, Predicate, bool, "Decision | None", int, str, int, int, int]
#: (path, bits left per simple value (None included), by any other simple value, exact bits a
#: value of another type leaves unsure)
_ValueIndex = tuple[str, Mapping[Any, int], int, int]
#: (path, bits left by None, the one bound, bits left below it, at it, above it, by NaN,
#: exact bits a value neither a number nor None leaves unsure)
_ThresholdIndex = tuple[str, int, float, int, int, int, int, int]
#: (path, bits left by None, -inf and the sorted bounds then NaN, bits left at each bound, in
#: the span below each bound and above the last, exact bits left unsure as above)
_RangeIndex = tuple[str, int, tuple[float, ...], tuple[int, ...], tuple[int, ...], int]
#: (path, bits left by None, sorted prefixes, for each the index of its longest proper prefix
#: among them or -1, bits left by a text starting with it, bits left by any other text, exact
#: bits a value neither text nor None leaves unsure)
_PrefixIndex = tuple[str, int, tuple[str, ...], tuple[int, ...], tuple[int, ...], int, int]


@dataclass(frozen=True)
class PageIndex:
    """The rules of one page's slots as bits, with masks per attribute (see the module doc).

    `entries[i]`: the rule of bit ``i``. `defaults`: each slot's decision when no rule fills
    it, in page order. `segments`: the ``segment.<name>`` values the page's rules read, in
    the order to compute them. `every`, `contextual`, `exact`: all bits, those of rules that
    need no consent, those whose requirements are exact. `present_only`: paths whose value
    rules only require to be there, with the bits None leaves. `edges`: the sorted starts and
    ends of scheduled rules; `active[i]`: the bits whose schedule holds between
    ``edges[i - 1]`` and ``edges[i]``. `heads`: the first segments of dotted paths; when one
    is a key, the visitor's attributes are nested, a condition may walk into them, and the
    attribute masks do not apply.
    """

    entries: tuple[Entry, ...]
    defaults: tuple[tuple[str, Decision], ...]
    segments: tuple[tuple[str, Segment], ...]
    every: int
    contextual: int
    exact: int
    present_only: tuple[tuple[str, int], ...]
    values: tuple[_ValueIndex, ...]
    thresholds: tuple[_ThresholdIndex, ...]
    ranges: tuple[_RangeIndex, ...]
    prefixes: tuple[_PrefixIndex, ...]
    heads: frozenset[str]
    edges: tuple[datetime, ...]
    active: tuple[int, ...]

    @classmethod
    def build(
        cls,
        slots: Sequence[tuple[str, Sequence[Rule], int]],
        requirements: Mapping[str, Requirements],
        segments: tuple[tuple[str, Segment], ...],
    ) -> PageIndex:
        """Index (slot, its rules in priority order, how many winners it takes) per slot."""
        rows: list[tuple[str, int, list[tuple[Rule, int]]]] = []
        terms: list[Requirements] = []  # page order
        for slot, rules, take in slots:
            counted: list[tuple[Rule, int]] = []
            for rule in rules:
                needs = requirements[rule.id]
                alternatives = needs.alternatives or (needs,)
                terms.extend(alternatives)
                counted.append((rule, len(alternatives)))
            rows.append((slot, take, counted))
        total = len(terms)
        entries: list[Entry] = []  # page order, so the first gets bit total - 1
        for slot, take, counted in rows:
            skip = (1 << (total - len(entries) - sum(count for _, count in counted))) - 1
            for rule, count in counted:
                gated = rule.max_exposures is not None or rule.dismissible
                plain = not isinstance(rule.action, VariantsAction) and rule.holdout <= 0
                won = Decision(slot, rule, rule.describe(), candidate=rule) if plain else None
                top = total - len(entries)  # above this rule's bits
                clear = (1 << (top - count)) - 1
                entries.extend(
                    (rule, rule.predicate, gated, won, clear, slot, skip, take, 1 << bit)
                    for bit in range(top - 1, top - 1 - count, -1)
                )
        entries.reverse()
        terms.reverse()  # both by bit now
        every = (1 << total) - 1
        needed: dict[str, int] = {}
        for bit, needs in _bits(terms):
            for path in needs.present:
                needed[path] = needed.get(path, 0) | bit
        absent = {path: every & ~bits for path, bits in needed.items()}
        values = tuple(_value_masks(terms, every, absent))
        thresholds: list[_ThresholdIndex] = []
        ranges: list[_RangeIndex] = []
        for path, none, bounds, at_bounds, between, loose in _range_masks(terms, every, absent):
            if len(bounds) == 3 and at_bounds[0] == between[1]:
                # One bound, and -inf no different from the numbers below it: no bisection.
                thresholds.append(
                    (path, none, bounds[1], between[1], at_bounds[1], between[2], between[0], loose)
                )
            else:
                ranges.append((path, none, bounds, at_bounds, between, loose))
        prefixes = tuple(_prefix_masks(terms, every, absent))
        valued = {index[0] for group in (values, thresholds, ranges, prefixes) for index in group}
        edges, active = _schedule_masks([entry[0] for entry in entries])
        return cls(
            entries=tuple(entries),
            defaults=tuple((slot, Decision(slot, None, DEFAULT_REASON)) for slot, _, _ in slots),
            segments=segments,
            every=every,
            contextual=_mask(not entry[0].needs_consent for entry in entries),
            exact=_mask(needs.exact for needs in terms),
            present_only=tuple((path, absent[path]) for path in needed if path not in valued),
            values=values,
            thresholds=tuple(thresholds),
            ranges=tuple(ranges),
            prefixes=prefixes,
            heads=frozenset(path.split(".", 1)[0] for path in valued | set(needed) if "." in path),
            edges=edges,
            active=active,
        )

    def candidates(self, attrs: dict[str, Any], consent: bool, now: datetime) -> tuple[int, int]:
        """The bits of the rules that consent, the moment and these attributes leave, and the
        bits of the rules these attributes alone show to be true (no need to evaluate them)."""
        bits = self.every if consent else self.contextual
        if self.edges:
            bits &= self.active[bisect_right(self.edges, now)]
        if not bits or not attrs.keys().isdisjoint(self.heads):
            return bits, 0
        get = attrs.get
        unsure = 0
        for path, absent in self.present_only:
            if get(path) is None:
                bits &= absent
        for path, by_value, otherwise, loose in self.values:
            value = get(path)
            if type(value) in SIMPLE_TYPES:
                bits &= by_value.get(value, otherwise)
            else:
                unsure |= loose
        for path, absent, bound, below, at_bound, above, otherwise, loose in self.thresholds:
            value = get(path)
            if value is None:
                bits &= absent
            elif type(value) is float or type(value) is int:
                bits &= (
                    above
                    if value > bound
                    else below
                    if value < bound
                    else at_bound
                    if value == bound
                    else otherwise  # NaN: in no interval
                )
            else:
                unsure |= loose
        for path, absent, bounds, at_bounds, between, loose in self.ranges:
            value = get(path)
            if value is None:
                bits &= absent
            elif type(value) is float or type(value) is int:
                index = bisect_left(bounds, value)  # NaN: 0, then not -inf: below it, in none
                bits &= at_bounds[index] if bounds[index] == value else between[index]
            else:
                unsure |= loose
        for path, absent, texts, parents, found, otherwise, loose in self.prefixes:
            value = get(path)
            if value is None:
                bits &= absent
            elif type(value) is str:
                index = bisect_right(texts, value) - 1
                while index >= 0 and not value.startswith(texts[index]):
                    index = parents[index]
                bits &= found[index] if index >= 0 else otherwise
            else:
                unsure |= loose
        return bits, self.exact & ~unsure


def _bits(terms: Sequence[Requirements]) -> Iterator[tuple[int, Requirements]]:
    for index, needs in enumerate(terms):
        yield 1 << index, needs


def _mask(flags: Iterable[bool]) -> int:
    return sum(1 << index for index, flag in enumerate(flags) if flag)


def _by_path(
    terms: Sequence[Requirements], part: Callable[[Requirements], Mapping[str, _T]]
) -> Iterator[tuple[str, list[tuple[int, _T]], int]]:
    """Per path that `part` of some term names: each such term's bit and what it requires
    there, and the bits of all of them (the terms the path constrains)."""
    by_path: dict[str, list[tuple[int, _T]]] = {}
    for bit, needs in _bits(terms):
        for path, required in part(needs).items():
            by_path.setdefault(path, []).append((bit, required))
    for path, limited in by_path.items():
        yield path, limited, sum(bit for bit, _ in limited)


def _value_masks(
    terms: Sequence[Requirements], every: int, absent: Mapping[str, int]
) -> Iterator[_ValueIndex]:
    """Per path some term's `one_of` names: the bits each simple value leaves (None leaves
    only what presence requirements leave too), the bits any other leaves, and the exact
    bits a value of another type leaves unsure."""
    for path, limited, constrained in _by_path(terms, lambda needs: needs.one_of):
        by_value: dict[Any, int] = {}
        for bit, values in limited:
            for value in values:
                by_value[value] = by_value.get(value, 0) | bit
        otherwise = every & ~constrained
        masks = {value: otherwise | bits for value, bits in by_value.items()}
        masks[None] = absent.get(path, every) & masks.get(None, otherwise)
        yield path, masks, otherwise, constrained


def _range_masks(
    terms: Sequence[Requirements], every: int, absent: Mapping[str, int]
) -> Iterator[_RangeIndex]:
    """Per path some term's `ranges` names: the bits None leaves, -inf and the other bounds
    (an infinite one only when open) then NaN, the bits left at each bound and in the span
    below each (and above the last), and the exact bits a value of another type leaves
    unsure. Every finite bound is a bound, so no interval starts or ends inside a span."""
    for path, limited, constrained in _by_path(terms, lambda needs: needs.ranges):
        otherwise = every & ~constrained
        ends = {iv.low for _, iv in limited if iv.low_open or iv.low != -_INF}
        ends |= {iv.high for _, iv in limited if iv.high_open or iv.high != _INF}
        bounds = [-_INF, *sorted(ends - {-_INF})]
        at_bounds = [otherwise] * len(bounds)
        between = [otherwise] * (len(bounds) + 1)  # below -inf: nothing is
        for bit, interval in limited:
            for index, bound in enumerate(bounds):
                if bound in interval:
                    at_bounds[index] |= bit
                if index and interval.low <= bounds[index - 1] and bound <= interval.high:
                    between[index] |= bit
            if interval.high == _INF and not interval.high_open and bounds[-1] < _INF:
                between[-1] |= bit  # above the last bound
        none = absent.get(path, every)
        yield path, none, (*bounds, _NEVER), tuple(at_bounds), tuple(between), constrained


def _prefix_masks(
    terms: Sequence[Requirements], every: int, absent: Mapping[str, int]
) -> Iterator[_PrefixIndex]:
    """Per path some term's `prefixes` names: the bits None leaves, the sorted prefixes, each
    one's longest proper prefix among them, the bits a text starting with it (and so with
    those) leaves, the bits any other text leaves, and the exact bits a value of another type
    leaves unsure.

    The prefixes of a text among sorted ones are a chain: the greatest one not above the text
    starts with all of them (or is the longest of them itself), so `candidates` bisects and
    then walks down the chain of longest proper prefixes.
    """
    for path, limited, constrained in _by_path(terms, lambda needs: needs.prefixes):
        otherwise = every & ~constrained
        ordered = sorted({text for _, options in limited for text in options})
        parents: list[int] = []
        found: list[int] = []
        for index, text in enumerate(ordered):
            # Sorted, a text's prefixes come before it, the longest one nearest.
            parent = next((i for i in range(index - 1, -1, -1) if text.startswith(ordered[i])), -1)
            bits = sum(bit for bit, options in limited if text in options)
            parents.append(parent)
            found.append(bits | (found[parent] if parent >= 0 else otherwise))
        none = absent.get(path, every)
        yield path, none, tuple(ordered), tuple(parents), tuple(found), otherwise, constrained


def _schedule_masks(rules: Sequence[Rule]) -> tuple[tuple[datetime, ...], tuple[int, ...]]:
    """The edges of the rules' schedules and, per span between edges, the rules active in it."""
    edges = sorted({edge for rule in rules for edge in (rule.start, rule.end) if edge is not None})
    always = 0
    active = [0] * (len(edges) + 1)
    for index, rule in enumerate(rules):
        if rule.start is None and rule.end is None:
            always |= 1 << index
            continue
        first = 0 if rule.start is None else bisect_right(edges, rule.start)
        last = len(edges) if rule.end is None else bisect_left(edges, rule.end)
        for span in range(first, last + 1):
            active[span] |= 1 << index
    return tuple(edges), tuple(always | bits for bits in active)
