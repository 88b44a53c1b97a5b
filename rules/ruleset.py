"""`Ruleset`: a loaded rule file, indexed by slot, that decides what each slot shows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from etalage.recency import HistoryPolicy
from etalage.rules.conditions import compile_condition
from etalage.rules.hashing import in_holdout, rule_holdout_seed, variant_bucket
from etalage.rules.model import Decision, Predicate, Rule, SiteConfig, VariantsAction


@dataclass(frozen=True)
class Segment:
    """A named condition usable as ``segment.<name>`` in other conditions."""

    name: str
    predicate: Predicate
    needs_consent: bool
    depends_on: frozenset[str]


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
        names the rule that would have applied.
        """
        if now.tzinfo is None:  # a naive moment is read in the site's time zone
            now = now.replace(tzinfo=self.site.timezone)
        slots = [slot for slot in dict.fromkeys(slots_on_page)]
        attrs = self.with_segments(visitor_attributes, slots)
        consent = attrs.get("consent.personalization") is True
        holdout = bool(attrs.get("experiment.holdout"))
        raw_id = attrs.get("id") if consent else None
        visitor_id = raw_id if isinstance(raw_id, str) and raw_id else None
        if not holdout and visitor_id is not None and "experiment.holdout" not in attrs:
            holdout = self.in_holdout(visitor_id)
        exposures = exposures or {}
        dismissed_ids = frozenset(dismissed)
        decisions: dict[str, Decision] = {}
        for slot in slots:
            winner: Rule | None = None
            for rule in self._by_slot.get(slot, ()):
                if rule.needs_consent and not consent:
                    continue
                if not rule.is_scheduled_at(now):
                    continue
                if rule.dismissible and rule.id in dismissed_ids:
                    continue
                if rule.max_exposures is not None and exposures.get(rule.id, 0) >= (
                    rule.max_exposures
                ):
                    continue
                if rule.predicate(attrs):
                    winner = rule
                    break
            if winner is None:
                decisions[slot] = Decision(slot, None, "no rule matched: default content")
            elif holdout and winner.needs_consent:
                decisions[slot] = Decision(
                    slot,
                    None,
                    f"holdout group: default content instead of rule '{winner.id}'",
                    candidate=winner,
                    holdout=True,
                    holdout_kind="site",
                )
            else:
                decisions[slot] = _draw(slot, winner, visitor_id)
        return decisions


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
