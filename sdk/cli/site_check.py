"""`check_rules`: everything `etalage check` verifies about a rule file and, optionally, a site."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from etalage.errors import RuleFileError
from etalage.rules import Rule, Ruleset, load_ruleset
from etalage.rules.fragment_check import fragment_problems


@dataclass
class CheckReport:
    """Errors (the file is unusable), warnings (it works but something is off), rule classes."""

    ruleset: Ruleset | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return not self.errors


def check_rules(rules_path: str | Path, site_dir: str | Path | None = None) -> CheckReport:
    """Validate a rule file, its fragments and (with `site_dir`) the slots its pages have."""
    report = CheckReport()
    try:
        ruleset = load_ruleset(rules_path)
    except RuleFileError as exc:
        report.errors.append(str(exc))
        return report
    report.ruleset = ruleset
    report.errors.extend(fragment_problems(ruleset))
    report.warnings.extend(shadowed_rules(ruleset))
    if site_dir is not None:
        report.warnings.extend(missing_slots(ruleset, Path(site_dir)))
    return report


def shadowed_rules(ruleset: Ruleset) -> list[str]:
    """Warn about rules that can never win: a higher-ranked rule on the slot always matches.

    A rule without condition that needs consent (e.g. a reorder by interest) always wins for
    consenting visitors, so it shadows the lower rules that need consent too; contextual rules
    below it still win for everyone else.
    """
    warnings = []
    for slot in sorted(ruleset.slots):
        blocker: Rule | None = None  # always wins, for everyone
        consent_blocker: Rule | None = None  # always wins for consenting visitors
        for rule in ruleset.rules_for(slot):
            shadow = blocker or (consent_blocker if rule.needs_consent else None)
            if shadow is not None:
                who = "" if shadow is blocker else " for every consenting visitor"
                warnings.append(
                    f"{_where(ruleset, rule)}: rule '{rule.id}' can never win: rule "
                    f"'{shadow.id}' (priority {shadow.priority}) on slot '{slot}' has no "
                    f"condition and always wins{who}"
                )
            elif _always_applies(rule):
                if rule.needs_consent:
                    consent_blocker = consent_blocker or rule
                else:
                    blocker = rule
    return warnings


def _always_applies(rule: Rule) -> bool:
    """No condition, schedule, cap or dismissal: nothing ever stops it (consent aside)."""
    return (
        not rule.when
        and rule.start is None
        and rule.end is None
        and rule.max_exposures is None
        and not rule.dismissible
    )


def missing_slots(ruleset: Ruleset, site_dir: Path) -> list[str]:
    """Warn about slots that rules target but no HTML page of the site contains (files under the
    fragments folder or a ``templates`` folder are not pages)."""
    from etalage.middleware.skeleton import PageSkeleton

    if not site_dir.is_dir():
        return [f"{site_dir}: site folder not found"]
    found: set[str] = set()
    fragments = ruleset.site.fragments.resolve()
    for page in sorted(site_dir.rglob("*.html")):
        # Fragments and Jinja template sources are not pages: a slot found only there is
        # still missing from what visitors get.
        resolved = page.resolve()
        if fragments in resolved.parents or "templates" in page.relative_to(site_dir).parts:
            continue
        try:
            found |= PageSkeleton.compile(page.read_bytes()).slot_names
        except OSError as exc:
            return [f"{page}: cannot read: {exc}"]
    warnings = []
    for slot in sorted(ruleset.slots - found):
        rule_ids = ", ".join(rule.id for rule in ruleset.rules_for(slot))
        warnings.append(
            f"slot '{slot}' (rules {rule_ids}) is not found in any page under {site_dir}"
        )
    return warnings


def _where(ruleset: Ruleset, rule: Rule) -> str:
    return f"{ruleset.path}:{rule.line}" if ruleset.path else f"line {rule.line}"
