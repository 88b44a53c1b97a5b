"""`Ruleset`: a loaded rule file, indexed by slot, that decides what each slot shows.

Deciding follows the rules that can apply, not all rules: per distinct list of slots on a
page, a `PageIndex` gives the page's rules bits and turns what each rule needs to be true
(`condition_requirements`) into masks per attribute. A decision looks each tested attribute
up once to clear the bits of the rules it rules out, then looks at the remaining rules in
page and priority order: one whose requirements are its whole condition wins unevaluated,
any other is evaluated, until each slot is full.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from etalage.recency import HistoryPolicy
from etalage.rules.conditions import compile_condition, condition_paths
from etalage.rules.hashing import in_holdout, rule_holdout_seed, variant_bucket
from etalage.rules.model import (
    Decision,
    Predicate,
    ReorderAction,
    Rule,
    Segment,
    SiteConfig,
    VariantsAction,
)
from etalage.rules.page_index import PageIndex
from etalage.rules.requirements import Requirements, condition_requirements

#: Attributes `Ruleset.decide` reads itself, whatever the rules say.
_DECIDE_READS = ("consent.personalization", "id", "experiment.holdout")
_INDEX_LIMIT = 256  # distinct page slot lists remembered; a site has a handful


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
    _slots: frozenset[str] = field(init=False, repr=False, compare=False)
    _slot_segments: dict[str, tuple[str, ...]] = field(init=False, repr=False)
    _requirements: dict[str, Requirements] = field(init=False, repr=False, compare=False)
    _indexes: dict[tuple[str, ...], PageIndex] = field(init=False, repr=False, compare=False)
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
        self._slots = frozenset(self._by_slot)  # read for every page
        self._slot_segments = {}
        for slot, rules in self._by_slot.items():
            needed = self.segments_closure(s for r in rules for s in r.segments)
            self._slot_segments[slot] = tuple(n for n in self.segment_order if n in needed)
        # A rule's predicate is compiled from its `when` with these saved groups (the loader
        # does so), so what `when` requires is what the predicate requires.
        self._requirements = {
            rule.id: condition_requirements(rule.when, self.saved_groups) for rule in self.rules
        }
        self._indexes = {}
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
        return self._slots

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

        Only rules that can apply are looked at: those consent, the schedule and the visitor's
        attributes leave (see `PageIndex`), in priority order until a slot is full; of those,
        only rules whose requirements are not their whole condition are evaluated.
        """
        if now.tzinfo is None:  # a naive moment is read in the site's time zone
            now = now.replace(tzinfo=self.site.timezone)
        key = tuple(dict.fromkeys(slots_on_page))
        page = self._indexes.get(key)
        if page is None:
            page = self._index(key)
        attrs = dict(visitor_attributes)
        consent = attrs.get("consent.personalization") is True
        for name, segment in page.segments:
            attrs[name] = (consent or not segment.needs_consent) and segment.predicate(attrs)
        holdout = bool(attrs.get("experiment.holdout"))
        raw_id = attrs.get("id") if consent else None
        visitor_id = raw_id if isinstance(raw_id, str) and raw_id else None
        if not holdout and visitor_id is not None and "experiment.holdout" not in attrs:
            holdout = self.in_holdout(visitor_id)
        bits, known = page.candidates(attrs, consent, now)
        decisions = dict(page.defaults)
        entries = page.entries
        dismissed_ids: frozenset[str] | None = None
        placed: dict[str, list[_Winner]] = {}  # winners of `take: N` slots so far
        while bits:  # the top bit is the next rule to look at: page order, then priority
            rule, predicate, gated, won, clear, slot, skip, take, bit = entries[
                bits.bit_length() - 1
            ]
            if gated:  # capped or dismissible
                if rule.dismissible:
                    if dismissed_ids is None:
                        dismissed_ids = frozenset(dismissed)
                    if rule.id in dismissed_ids:
                        bits &= clear
                        continue
                cap = rule.max_exposures
                if cap is not None and exposures and exposures.get(rule.id, 0) >= cap:
                    bits &= clear
                    continue
            if not (known & bit or predicate(attrs)):
                bits &= clear  # with this rule's other alternatives
                continue
            if take > 1:
                winners = placed.setdefault(slot, [])
                winners.append((rule, won))
                bits &= skip if len(winners) >= take else clear
                continue
            bits &= skip  # the slot is full: on to the next one
            if won is None or holdout:
                won = _placement(slot, (rule, won), (), holdout, visitor_id)
            decisions[slot] = won
        for slot, (winner, *more) in placed.items():
            decisions[slot] = _placement(slot, winner, more, holdout, visitor_id)
        return decisions

    def _index(self, slots: tuple[str, ...]) -> PageIndex:
        """The index of one page's rules (built once per distinct list of slots)."""
        names = self.segments_closure(
            n for slot in slots for n in self._slot_segments.get(slot, ())
        )
        segments = tuple(
            ("segment." + name, self.segments[name]) for name in self.segment_order if name in names
        )
        page = PageIndex.build(
            [
                (slot, self._by_slot.get(slot, ()), self.site.slot_config(slot).take)
                for slot in slots
            ],
            self._requirements,
            segments,
        )
        if len(self._indexes) >= _INDEX_LIMIT:
            self._indexes.clear()
        self._indexes[slots] = page
        return page


#: A winning rule and its decision made once (None: drawn per visitor).
_Winner = tuple[Rule, "Decision | None"]


def _placement(
    slot: str, winner: _Winner, more: Sequence[_Winner], holdout: bool, visitor_id: str | None
) -> Decision:
    """The decision for a slot's winning rule (and, in a ``take: N`` slot, the further ones).

    In the holdout group a rule that needs consent gives way to the default content, and
    the further placements keep only contextual rules.
    """
    rule = winner[0]
    if holdout and rule.needs_consent:
        reason = f"holdout group: default content instead of rule '{rule.id}'"
        return Decision(slot, None, reason, candidate=rule, holdout=True, holdout_kind="site")
    decision = _won(slot, winner, visitor_id)
    placements = tuple(
        _won(slot, other, visitor_id) for other in more if not (holdout and other[0].needs_consent)
    )
    return replace(decision, more=placements) if placements else decision


def _won(slot: str, winner: _Winner, visitor_id: str | None) -> Decision:
    """The decision for a winning rule: made once when no draw is needed, else drawn."""
    rule, made = winner
    return made if made is not None else _draw(slot, rule, visitor_id)


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
