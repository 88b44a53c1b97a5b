"""Whether the fragments a rule set names exist and compile (at start-up and in ``etalage check``)."""

from __future__ import annotations

from etalage.fragments import FragmentRenderer
from etalage.rules.model import FragmentAction, VariantsAction
from etalage.rules.ruleset import Ruleset


def fragment_problems(ruleset: Ruleset) -> list[str]:
    """One message per fragment a rule names that is missing or does not compile."""
    folder = ruleset.site.fragments
    names = sorted(
        {fragment.template for rule in ruleset.rules for fragment in _fragments(rule.action)}
    )
    if not names:
        return []
    if not folder.is_dir():
        return [f"{folder}: fragments folder not found (rules name {', '.join(names)})"]
    return FragmentRenderer(folder).check(names)


def _fragments(action: object) -> list[FragmentAction]:
    if isinstance(action, FragmentAction):
        return [action]
    if isinstance(action, VariantsAction):
        return [variant.fragment for variant in action.variants]
    return []
