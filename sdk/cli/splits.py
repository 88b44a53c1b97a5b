"""The split a rule's visitors were drawn with: which control group its lift is measured against
and the share of each group, for `etalage report`'s sample-ratio check.

From the rule file: the site-wide holdout (``holdout:`` at the top) takes its share of the
consenting visitors a rule that reads stored data would apply to; of the rest, the rule's own
``holdout:`` takes its share; the rest are treated, split among the variants by weight. The two
holdouts are independent draws. A rule with a holdout of its own is measured against it (those
visitors miss only this rule), else against the site-wide holdout (who miss every rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from etalage.cli.exposures import Group

if TYPE_CHECKING:
    from etalage.rules import Ruleset

Control = Literal["site", "rule"]
#: Each control group in words, after "the".
CONTROL_NAMES: dict[str, str] = {"site": "site-wide holdout", "rule": "rule's own holdout"}


def variant_key(index: int) -> str:
    """The group key of variant `index` (from 0) in a `Split`."""
    return f"variant {index + 1}"


@dataclass(frozen=True)
class Split:
    """The control group of a rule and the drawn share of each group.

    `shares` keys: ``site`` and ``rule`` (the holdouts), ``treated`` for a rule without variants
    or `variant_key(i)` per variant; `variant_names` are the variants' fragments when known.
    """

    control: Control
    shares: dict[str, float]
    variant_names: tuple[str, ...] = ()


def split_from_rules(ruleset: Ruleset, rule_id: str) -> Split | None:
    """The split `ruleset` draws for `rule_id`; None when the file has no such rule."""
    from etalage.rules.model import VariantsAction

    rule = ruleset.rule(rule_id)
    if rule is None:
        return None
    site = ruleset.holdout if rule.needs_consent else 0.0
    shares: dict[str, float] = {}
    if site > 0:
        shares["site"] = site
    if rule.holdout > 0:
        shares["rule"] = (1 - site) * rule.holdout
    treated = (1 - site) * (1 - rule.holdout)
    names: tuple[str, ...] = ()
    if isinstance(rule.action, VariantsAction):
        total = sum(v.weight for v in rule.action.variants)
        for index, variant in enumerate(rule.action.variants):
            shares[variant_key(index)] = treated * variant.weight / total
        names = tuple(v.fragment.template for v in rule.action.variants)
    else:
        shares["treated"] = treated
    return Split("rule" if rule.holdout > 0 else "site", shares, names)


def split_from_share(holdout_share: float, control: Control) -> Split:
    """Treated against the given control drawn with `holdout_share` (``--holdout-share``)."""
    return Split(control, {"treated": 1 - holdout_share, control: holdout_share})


def observed_key(group: Group, variant: int | None, with_variants: bool) -> str:
    """The `Split.shares` key a visitor's group counts under."""
    if group != "treated":
        return group
    if with_variants and variant is not None:
        return variant_key(variant)
    return "treated"
