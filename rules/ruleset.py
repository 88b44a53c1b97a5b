"""`Ruleset`: a loaded rule file, indexed by slot, that decides what each slot shows.

Deciding follows the rules that can apply, not all rules: a page's rules get one bit each
(slot after slot, each slot's rules in priority order), and what every rule needs to be true
(`condition_requirements`: attributes that must be present, values an attribute must take)
becomes masks per attribute. A decision clears the bits of rules the visitor's attributes rule
out with a few integer operations, then evaluates only the remaining rules, in order.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from etalage.recency import HistoryPolicy
from etalage.rules.conditions import (
    SIMPLE_TYPES,
    Requirements,
    compile_condition,
    condition_paths,
    condition_requirements,
)
from etalage.rules.hashing import in_holdout, rule_holdout_seed, variant_bucket
from etalage.rules.model import (
    Decision,
    Predicate,
    ReorderAction,
    Rule,
    SiteConfig,
    VariantsAction,
)

#: Attributes `Ruleset.decide` reads itself, whatever the rules say.
_DECIDE_READS = ("consent.personalization", "id", "experiment.holdout")
#: The reason of a slot no rule matched.
DEFAULT_REASON = "no rule matched: default content"
_PLAN_LIMIT = 256  # distinct page slot lists remembered; a site has a handful


@dataclass(frozen=True)
class Segment:
    """A named condition usable as ``segment.<name>`` in other conditions."""

    name: str
    predicate: Predicate
    needs_consent: bool
    depends_on: frozenset[str]
    #: The condition `predicate` was compiled from; `Ruleset.referenced_attributes` reads its
    #: paths (None: unknown, so only ``segment.<name>`` itself is counted).
    when: Mapping[str, Any] | None = None


@dataclass
class Ruleset:
    """A validated rule file: site settings, history policy, segments, holdout and rules."""

    path: Path | None
    site: SiteConfig
    history: HistoryPolicy
    rules: tuple[Rule, ...]
    segments: Mapping[str, Segment] = field(default_factory=dict)
    segment_order: tuple[str, ...] = ()
    holdout: float = 0.0
    saved_groups: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    _by_slot: dict[str, tuple[Rule, ...]] = field(init=False, repr=False)
    _slot_segments: dict[str, tuple[str, ...]] = field(init=False, repr=False)
    _requirements: dict[str, Requirements] = field(init=False, repr=False, compare=False)
    _plans: dict[tuple[str, ...], _PagePlan] = field(init=False, repr=False, compare=False)
    _referenced: frozenset[str] = field(init=False, repr=False, compare=False)
    _tested: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_slot: dict[str, list[Rule]] = {}
        for rule in self.rules:
            by_slot.setdefault(rule.slot, []).append(rule)
        self._by_slot = {
            slot: tuple(sorted(rules, key=lambda r: (-r.priority, r.order)))
            for slot, rules in by_slot.items()
        }
        self._slot_segments = {}
        for slot, rules in self._by_slot.items():
            needed = self.segments_closure(s for r in rules for s in r.segments)
            self._slot_segments[slot] = tuple(n for n in self.segment_order if n in needed)
        # A rule's predicate is compiled from its `when` with these saved groups (the loader
        # does so), so what `when` requires is what the predicate requires.
        self._requirements = {
            rule.id: condition_requirements(rule.when, self.saved_groups) for rule in self.rules
        }
        self._plans = {}
        self._tested = self._tested_paths()
        self._referenced = self._read_paths()

    @property
    def referenced_attributes(self) -> frozenset[str]:
        """Every attribute key deciding can read: derive these and nothing else is needed.

        The paths the rules' and segments' conditions test (``segment.<name>`` included, as
        `with_segments` computes them), the attribute a ``reorder`` action orders by, and what
        `decide` reads itself: ``consent.personalization``, ``id`` and ``experiment.holdout``.
        Keys are exact (``interest.hiking``). Fragments may read more when they render.
        """
        return self._referenced

    @property
    def tested_attributes(self) -> frozenset[str]:
        """The attribute paths the rules' and segments' conditions test (exact keys): what
        could make one visitor's page differ from another's, besides stored history."""
        return self._tested

    def _tested_paths(self) -> frozenset[str]:
        paths: set[str] = set()
        for when in [rule.when for rule in self.rules] + [
            segment.when for segment in self.segments.values()
        ]:
            if when:
                paths |= condition_paths(when)
        return frozenset(paths)

    def _read_paths(self) -> frozenset[str]:
        paths = set(_DECIDE_READS) | self._tested
        for rule in self.rules:
            if isinstance(rule.action, ReorderAction):
                paths.add("interest.topics" if rule.action.by == "interest" else rule.action.by)
        for name in self.segments:
            paths.add("segment." + name)
        return frozenset(paths)

    @property
    def slots(self) -> frozenset[str]:
        """Every slot some rule targets."""
        return frozenset(self._by_slot)

    def rules_for(self, slot: str) -> tuple[Rule, ...]:
        """The rules targeting `slot`, highest priority first, ties in file order."""
        return self._by_slot.get(slot, ())

    def rule(self, rule_id: str) -> Rule | None:
        """Find a rule by id."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    def segments_closure(self, names: Iterable[str]) -> set[str]:
        """The named segments plus every segment they depend on."""
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in seen or name not in self.segments:
                continue
            seen.add(name)
            todo.extend(self.segments[name].depends_on)
        return seen

    def in_holdout(self, visitor_id: str) -> bool:
        """Whether a visitor id falls into the holdout share (GrowthBook hash v2, site seed)."""
        return self.holdout > 0 and in_holdout(visitor_id, self.holdout, self.site.name)

    def with_segments(self, attributes: Mapping[str, Any], slots: Iterable[str]) -> dict[str, Any]:
        """A copy of `attributes` with the ``segment.*`` values the given slots' rules read."""
        attrs = dict(attributes)
        names: list[str] = []
        for slot in slots:
            names.extend(self._slot_segments.get(slot, ()))
        if names:
            wanted = set(names)
            consent = attrs.get("consent.personalization") is True
            for name in self.segment_order:
                if name in wanted:
                    segment = self.segments[name]
                    attrs["segment." + name] = (
                        consent or not segment.needs_consent
                    ) and segment.predicate(attrs)
        return attrs

    def decide(
        self,
        visitor_attributes: Mapping[str, Any],
        slots_on_page: Iterable[str],
        now: datetime,
        *,
        exposures: Mapping[str, int] | None = None,
        dismissed: Iterable[str] = (),
    ) -> dict[str, Decision]:
        """Decide, per slot on the page, the winning rule (or the default) with the reason.

        `now` is the moment to decide at (a naive one is taken in the site's time zone).
        Consent is read from ``consent.personalization`` (only ``True`` grants it); rules that
        read stored data are skipped without it. A consenting visitor whose ``id`` falls in the
        holdout (or whose ``experiment.holdout`` is true) gets defaults, and the decision still
        names the rule that would have applied. A ``take: N`` slot gets up to N winners, the
        2nd to Nth in `Decision.more`.

        Only rules that can apply are evaluated: those consent, the schedule and the visitor's
        attributes leave (see the module docstring), in priority order until a slot is full.
        """
        if now.tzinfo is None:  # a naive moment is read in the site's time zone
            now = now.replace(tzinfo=self.site.timezone)
        key = tuple(dict.fromkeys(slots_on_page))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plan(key)
        attrs = dict(visitor_attributes)
        consent = attrs.get("consent.personalization") is True
        for name, segment in plan.segments:
            attrs[name] = (consent or not segment.needs_consent) and segment.predicate(attrs)
        holdout = bool(attrs.get("experiment.holdout"))
        raw_id = attrs.get("id") if consent else None
        visitor_id = raw_id if isinstance(raw_id, str) and raw_id else None
        if not holdout and visitor_id is not None and "experiment.holdout" not in attrs:
            holdout = self.in_holdout(visitor_id)
        candidates = plan.candidates(attrs, consent, now)
        dismissed_ids: frozenset[str] | None = None
        decisions: dict[str, Decision] = {}
        for slot, offset, slot_bits, entries, default, take in plan.slots:
            bits = (candidates >> offset) & slot_bits
            winner: _Entry | None = None
            more: list[_Entry] = []
            while bits:
                lowest = bits & -bits
                bits ^= lowest
                entry = entries[lowest.bit_length() - 1]
                rule = entry[0]
                if entry[2]:  # capped or dismissible
                    if rule.dismissible:
                        if dismissed_ids is None:
                            dismissed_ids = frozenset(dismissed)
                        if rule.id in dismissed_ids:
                            continue
                    cap = rule.max_exposures
                    if cap is not None and exposures and exposures.get(rule.id, 0) >= cap:
                        continue
                if entry[1](attrs):
                    if winner is None:
                        winner = entry
                    else:
                        more.append(entry)
                    if len(more) + 1 >= take:
                        break
            if winner is None:
                decisions[slot] = default
            elif holdout and winner[0].needs_consent:
                decisions[slot] = Decision(
                    slot,
                    None,
                    f"holdout group: default content instead of rule '{winner[0].id}'",
                    candidate=winner[0],
                    holdout=True,
                    holdout_kind="site",
                )
            else:
                decision = _won(slot, winner, visitor_id)
                if more:  # a `take: N` slot: the holdout group gets no stored-data placements
                    placements = tuple(
                        _won(slot, entry, visitor_id)
                        for entry in more
                        if not (holdout and entry[0].needs_consent)
                    )
                    decision = replace(decision, more=placements)
                decisions[slot] = decision
        return decisions

    def _plan(self, slots: tuple[str, ...]) -> _PagePlan:
        """The index of one page's rules (built once per distinct list of slots)."""
        names = self.segments_closure(
            n for slot in slots for n in self._slot_segments.get(slot, ())
        )
        segments = tuple(
            ("segment." + name, self.segments[name]) for name in self.segment_order if name in names
        )
        plan = _PagePlan.build(
            [
                (slot, self._by_slot.get(slot, ()), self.site.slot_config(slot).take)
                for slot in slots
            ],
            self._requirements,
            segments,
        )
        if len(self._plans) >= _PLAN_LIMIT:
            self._plans.clear()
        self._plans[slots] = plan
        return plan


#: A page rule: the rule, its predicate, whether the visitor's history can stop it (a cap or
#: dismissal) and
#: its decision when it wins without a draw (no variants, no rule holdout), made once.
_Entry = tuple[Rule, Predicate, bool, "Decision | None"]


@dataclass(frozen=True)
class _PagePlan:
    """One page's rules as bits (slot after slot, priority order) and masks per attribute.

    `slots`: (slot, offset of its first bit, its bits shifted down to bit 0, its rules, its
    default decision, how many winners it takes). `keep_when_missing[path]`: the rules that survive when `path` is absent.
    `one_of`: (path, surviving rules per simple value, surviving rules for any other simple
    value). `heads`: first segments of dotted paths; when one of them is a key the visitor's
    attributes are nested and the masks do not apply (a condition may walk into them).
    `edges`: the sorted starts and ends of scheduled rules; `active[i]`: the rules whose
    schedule holds between ``edges[i - 1]`` and ``edges[i]``.
    """

    slots: tuple[tuple[str, int, int, tuple[_Entry, ...], Decision, int], ...]
    segments: tuple[tuple[str, Segment], ...]
    every: int
    contextual: int
    present: frozenset[str]
    keep_when_missing: Mapping[str, int]
    one_of: tuple[tuple[str, Mapping[Any, int], int], ...]
    heads: frozenset[str]
    edges: tuple[datetime, ...]
    active: tuple[int, ...]

    @classmethod
    def build(
        cls,
        slots: Sequence[tuple[str, Sequence[Rule], int]],
        requirements: Mapping[str, Requirements],
        segments: tuple[tuple[str, Segment], ...],
    ) -> _PagePlan:
        entries: list[_Entry] = []
        plan_slots: list[tuple[str, int, int, tuple[_Entry, ...], Decision, int]] = []
        contextual = 0
        needed: dict[str, int] = {}
        constrained: dict[str, int] = {}
        allowed: dict[str, dict[Any, int]] = {}
        for slot, rules, take in slots:
            offset = len(entries)
            for rule in rules:
                bit = 1 << len(entries)
                if not rule.needs_consent:
                    contextual |= bit
                gated = rule.max_exposures is not None or rule.dismissible
                plain = not isinstance(rule.action, VariantsAction) and rule.holdout <= 0
                won = Decision(slot, rule, rule.describe(), candidate=rule) if plain else None
                entries.append((rule, rule.predicate, gated, won))
                needs = requirements[rule.id]
                for path in needs.present:
                    needed[path] = needed.get(path, 0) | bit
                for path, values in needs.one_of.items():
                    constrained[path] = constrained.get(path, 0) | bit
                    by_value = allowed.setdefault(path, {})
                    for value in values:
                        by_value[value] = by_value.get(value, 0) | bit
            default = Decision(slot, None, DEFAULT_REASON)
            slot_entries = tuple(entries[offset:])
            slot_bits = (1 << len(rules)) - 1
            plan_slots.append((slot, offset, slot_bits, slot_entries, default, take))
        every = (1 << len(entries)) - 1
        one_of = tuple(
            (
                path,
                {value: every & ~constrained[path] | bits for value, bits in by_value.items()},
                every & ~constrained[path],
            )
            for path, by_value in allowed.items()
        )
        paths = set(needed) | set(allowed)
        edges, active = _schedule_masks([entry[0] for entry in entries])
        return cls(
            slots=tuple(plan_slots),
            segments=segments,
            every=every,
            contextual=contextual,
            present=frozenset(needed),
            keep_when_missing={path: every & ~bits for path, bits in needed.items()},
            one_of=one_of,
            heads=frozenset(path.split(".", 1)[0] for path in paths if "." in path),
            edges=edges,
            active=active,
        )

    def candidates(self, attrs: Mapping[str, Any], consent: bool, now: datetime) -> int:
        """The bits of the rules that consent, the moment and these attributes leave."""
        bits = self.every if consent else self.contextual
        if self.edges:
            bits &= self.active[bisect_right(self.edges, now)]
        if not bits or not self.heads.isdisjoint(attrs):
            return bits
        keep = self.keep_when_missing
        for path in self.present.difference(attrs):
            bits &= keep[path]
        for path, by_value, otherwise in self.one_of:
            value = attrs.get(path)
            if type(value) in SIMPLE_TYPES:
                bits &= by_value.get(value, otherwise)
        return bits


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


def _won(slot: str, entry: _Entry, visitor_id: str | None) -> Decision:
    """The decision for a winning rule: made once when no draw is needed, else drawn."""
    return entry[3] if entry[3] is not None else _draw(slot, entry[0], visitor_id)


def _draw(slot: str, rule: Rule, visitor_id: str | None) -> Decision:
    """The decision for a winning rule after its own holdout and variant draws."""
    variants = rule.action if isinstance(rule.action, VariantsAction) else None
    if visitor_id is None:
        if variants is not None:
            reason = f"no visitor id to draw a variant of rule '{rule.id}': default content"
            return Decision(slot, None, reason, candidate=rule)
        return Decision(slot, rule, rule.describe(), candidate=rule)
    seed = rule_holdout_seed(rule.id, rule.bucket_version)
    if rule.holdout > 0 and in_holdout(visitor_id, rule.holdout, seed):
        reason = f"holdout of rule '{rule.id}': default content"
        return Decision(slot, None, reason, candidate=rule, holdout=True, holdout_kind="rule")
    if variants is None:
        return Decision(slot, rule, rule.describe(), candidate=rule)
    index = variants.pick(variant_bucket(rule.id, rule.bucket_version, visitor_id))
    reason = f"{rule.describe()}; {variants.describe(index)}"
    return Decision(slot, rule, reason, candidate=rule, variant=index)


def compile_predicate(
    when: Mapping[str, Any] | None, saved_groups: Mapping[str, Sequence[Any]]
) -> Predicate:
    """Compile a rule's `when` (None: always true)."""
    if not when:
        return _always
    return compile_condition(when, saved_groups)


def _always(attributes: Mapping[str, Any]) -> bool:
    return True
