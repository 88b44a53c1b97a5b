"""The compiled form of a rule file: site settings, rules and their actions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]

#: Attribute prefixes that describe only the current request (or the strictly necessary
#: consent choice itself); a condition reading nothing else may run without consent.
CONTEXTUAL_PREFIXES = ("device.", "request.", "time.", "page.", "experiment.", "consent.")


@dataclass(frozen=True)
class FragmentAction:
    """Replace the slot's inner HTML with a rendered fragment template."""

    template: str


@dataclass(frozen=True)
class ReorderAction:
    """Reorder the slot's ``[data-item]`` children.

    `by` is ``interest`` (items keyed by topic, highest decayed interest first) or the path of
    an attribute holding a list of item keys.
    """

    by: str

    def order(self, attributes: Mapping[str, Any]) -> list[str]:
        """Return the item keys to put first, in order, for this visitor."""
        source = "interest.topics" if self.by == "interest" else self.by
        value = attributes.get(source)
        if isinstance(value, str):
            return [value]
        if isinstance(value, list | tuple):
            return [str(item) for item in value]
        return []


@dataclass(frozen=True)
class HideAction:
    """Empty the slot."""


@dataclass(frozen=True)
class Variant:
    """One weighted alternative of a `VariantsAction`."""

    fragment: FragmentAction
    weight: float


@dataclass(frozen=True)
class VariantsAction:
    """Show one of several fragments, chosen per visitor by a sticky weighted draw."""

    variants: tuple[Variant, ...]

    def pick(self, bucket: float) -> int:
        """The index of the variant whose share of the cumulative weights holds `bucket` in [0, 1)."""
        total = sum(v.weight for v in self.variants)
        edge = 0.0
        for index, variant in enumerate(self.variants):
            edge += variant.weight / total
            if bucket < edge:
                return index
        return len(self.variants) - 1  # rounding at the top end

    def describe(self, index: int) -> str:
        """``variant 2 of 2 (hero/b.html)`` for index 1."""
        template = self.variants[index].fragment.template
        return f"variant {index + 1} of {len(self.variants)} ({template})"


Action = FragmentAction | ReorderAction | HideAction | VariantsAction

#: The most fragments one `take: N` slot may hold.
MAX_TAKE = 12


@dataclass(frozen=True)
class SlotConfig:
    """One entry of the rule file's top-level `slots:` section.

    `label` is how the visitor's page names the block in words ("Top of the home page");
    `take` is how many winning rules fill the slot, in priority order (1: the single winner).
    """

    label: str | None = None
    take: int = 1


@dataclass(frozen=True)
class SiteConfig:
    """The `site:` section of a rule file."""

    name: str
    search_param: str = "q"
    search_date_param: str | None = None
    timezone: tzinfo = field(default_factory=lambda: _utc())
    fragments: Path = Path("fragments")
    #: Slots of pages that cannot be edited: slot name -> CSS selector of the element whose
    #: content the slot replaces (checked for syntax when the file loads).
    slot_selectors: Mapping[str, str] = field(default_factory=dict)
    #: The top-level `slots:` section: slot name -> its label and `take`. A slot not named
    #: here takes one rule and has no label (`slot_config` gives that default).
    slots: Mapping[str, SlotConfig] = field(default_factory=dict)

    def slot_config(self, slot: str) -> SlotConfig:
        """The settings of `slot`: its `slots:` entry, else one rule and no label."""
        return self.slots.get(slot, _DEFAULT_SLOT)


@dataclass(frozen=True, eq=False)
class Rule:
    """One compiled rule: where it applies, when, and what it does."""

    id: str
    slot: str
    action: Action
    when: Mapping[str, Any] | None
    predicate: Predicate
    priority: int
    order: int
    line: int | None
    reason: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    max_exposures: int | None = None
    dismissible: bool = False
    needs_consent: bool = False
    segments: frozenset[str] = frozenset()
    bucket_version: int = 1
    holdout: float = 0.0
    _description: str = field(init=False, repr=False)

    @property
    def consent_class(self) -> str:
        """``contextual`` or ``needs consent``, as `etalage check` prints it."""
        return "needs consent" if self.needs_consent else "contextual"

    def is_scheduled_at(self, now: datetime) -> bool:
        """Return whether `now` falls inside the rule's schedule (start inclusive, end exclusive)."""
        if self.start is not None and now < self.start:
            return False
        return not (self.end is not None and now >= self.end)

    def __post_init__(self) -> None:
        # Read for every placement a page records: made once, not per request.
        if self.reason:
            description = self.reason
        elif self.when:
            description = "matched " + ", ".join(sorted(self.when))
        else:
            description = "shown to every visitor"
        object.__setattr__(self, "_description", description)

    def describe(self) -> str:
        """The human reason for this rule: its `reason`, else a summary of its condition."""
        return self._description


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


#: The reason of a slot no rule matched.
DEFAULT_REASON = "no rule matched: default content"


@dataclass(frozen=True)
class Decision:
    """What one slot shows for one visitor, and why.

    `rule` is the rule applied (None: the slot's default content). `candidate` is the rule that
    would apply without holdout, so holdout visitors can still be reported; `holdout_kind`
    says which draw held them out: ``"site"`` (the rule file's global holdout) or ``"rule"``
    (the rule's own). `variant` is the index (from 0) of the variant shown when `rule` has
    `variants`. In a ``take: N`` slot, `more` holds the further placements: the 2nd to Nth
    winning rules in priority order, each a decision of its own (rule, reason, variant,
    holdout); the slot shows the fragments of all `placements` one after the other.
    """

    slot: str
    rule: Rule | None
    reason: str
    candidate: Rule | None = None
    holdout: bool = False
    variant: int | None = None
    holdout_kind: str | None = None
    more: tuple[Decision, ...] = ()

    @property
    def placements(self) -> tuple[Decision, ...]:
        """This decision and its `more`, in the order the slot shows them."""
        return (self, *self.more) if self.more else (self,)

    @property
    def action(self) -> FragmentAction | ReorderAction | HideAction | None:
        """What the slot shows: the rule's action, with `variants` resolved to the fragment of
        the drawn variant (the first when none was drawn, as in a preview); None for default."""
        if self.rule is None:
            return None
        action = self.rule.action
        if isinstance(action, VariantsAction):
            return action.variants[self.variant or 0].fragment
        return action


_DEFAULT_SLOT = SlotConfig()


def _utc() -> tzinfo:
    from datetime import UTC

    return UTC
