"""etalage.rules: rule files, GrowthBook-compatible conditions, segments, holdout and decisions."""

from etalage.errors import RuleFileError
from etalage.rules.conditions import (
    compile_condition,
    condition_paths,
    evaluate_condition,
    validate_condition,
)
from etalage.rules.hashing import fnv1a32, gb_hash, in_holdout
from etalage.rules.loader import load_ruleset, parse_ruleset
from etalage.rules.model import (
    DEFAULT_REASON,
    Decision,
    FragmentAction,
    HideAction,
    ReorderAction,
    Rule,
    Segment,
    SiteConfig,
    SlotConfig,
    Variant,
    VariantsAction,
)
from etalage.rules.reload import ReloadingRuleset
from etalage.rules.ruleset import Ruleset

__all__ = [
    "DEFAULT_REASON",
    "Decision",
    "FragmentAction",
    "HideAction",
    "ReloadingRuleset",
    "ReorderAction",
    "Rule",
    "RuleFileError",
    "Ruleset",
    "Segment",
    "SiteConfig",
    "SlotConfig",
    "Variant",
    "VariantsAction",
    "compile_condition",
    "condition_paths",
    "evaluate_condition",
    "fnv1a32",
    "gb_hash",
    "in_holdout",
    "load_ruleset",
    "parse_ruleset",
    "validate_condition",
]
