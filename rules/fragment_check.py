"""Whether the fragments a rule set names exist and compile (at start-up and in ``etalage check``)."""

from __future__ import annotations

from etalage.fragments import FragmentRenderer
from etalage.rules.model import FragmentAction
from etalage.rules.ruleset import Ruleset


def fragment_problems(ruleset: Ruleset) -> list[str]:
    """One message per fragment a rule names that is missing or does not compile."""
    folder = ruleset.site.fragments
    names = sorted(
        {rule.action.template for rule in ruleset.rules if isinstance(rule.action, FragmentAction)}
    )
    if not names:
        return []
    if not folder.is_dir():
        return [f"{folder}: fragments folder not found (rules name {', '.join(names)})"]
    return FragmentRenderer(folder).check(names)
