"""`check_rules`: everything `etalage check` verifies about a rule file and, optionally, a site."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etalage.cli.fragment_samples import fragment_warnings
from etalage.errors import RuleFileError
from etalage.rules import ReorderAction, Rule, Ruleset, load_ruleset
from etalage.rules.attributes import condition_warnings, reorder_warning
from etalage.rules.fragment_check import fragment_problems
from etalage.rules.schema import PathKey, SourceDocument, field_name, parse_document

if TYPE_CHECKING:
    from etalage.middleware.skeleton import PageSkeleton


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


def check_rules(
    rules_path: str | Path,
    site_dir: str | Path | None = None,
    *,
    fragment_globals: Mapping[str, Any] | None = None,
) -> CheckReport:
    """Validate a rule file, its fragments and (with `site_dir`) the slots its pages have.

    `fragment_globals` are the extra names the site gives its fragments (``serve
    --fragment-globals``); without them, a name a fragment uses that is not a context name is
    taken for one unless it looks like a typo of one.
    """
    report = CheckReport()
    try:
        ruleset = load_ruleset(rules_path)
    except RuleFileError as exc:
        report.errors.append(str(exc))
        return report
    report.ruleset = ruleset
    # Read again for the line of every key: the loaded rules keep only their own line.
    doc = parse_document(Path(rules_path).read_text(encoding="utf-8"), str(rules_path))
    report.warnings.extend(attribute_warnings(ruleset, doc))
    report.errors.extend(fragment_problems(ruleset))
    segment_conditions = _mapping(doc.data.get("segments"))
    report.warnings.extend(fragment_warnings(ruleset, segment_conditions, fragment_globals))
    report.warnings.extend(shadowed_rules(ruleset))
    if site_dir is not None:
        report.warnings.extend(missing_slots(ruleset, Path(site_dir)))
    return report


def attribute_warnings(ruleset: Ruleset, doc: SourceDocument) -> list[str]:
    """Warn about conditions testing an attribute no visitor has or a value it never takes,
    and reorders by something that is not a list, in segments and rules, with file and line."""
    segments = frozenset(ruleset.segments)
    places: list[tuple[PathKey, Any]] = [
        (("segments", name), condition)
        for name, condition in _mapping(doc.data.get("segments")).items()
    ]
    places.extend((("rules", rule.order, "when"), rule.when) for rule in ruleset.rules)
    warnings = []
    for path, condition in places:
        for sub, message in condition_warnings(condition, segments):
            warnings.append(f"{doc.file}:{doc.line_of(path + sub)}: {field_name(path)}: {message}")
    for rule in ruleset.rules:
        if isinstance(rule.action, ReorderAction):
            problem = reorder_warning(rule.action.by, segments)
            if problem is not None:
                path = ("rules", rule.order, "reorder", "by")
                warnings.append(f"{doc.file}:{doc.line_of(path)}: {field_name(path)}: {problem}")
    return warnings


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


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
    fragments folder or a ``templates`` folder are not pages), and, page by page, about slot
    selectors that match nothing, several elements or an element that cannot be a slot."""
    from etalage.middleware.skeleton import PageSkeleton

    if not site_dir.is_dir():
        return [f"{site_dir}: site folder not found"]
    found: set[str] = set()
    warnings: list[str] = []
    fragments = ruleset.site.fragments.resolve()
    for page in sorted(site_dir.rglob("*.html")):
        # Fragments and Jinja template sources are not pages: a slot found only there is
        # still missing from what visitors get.
        resolved = page.resolve()
        if fragments in resolved.parents or "templates" in page.relative_to(site_dir).parts:
            continue
        try:
            body = page.read_bytes()
        except OSError as exc:
            return [f"{page}: cannot read: {exc}"]
        marked = PageSkeleton.compile(body)
        found |= marked.slot_names
        if ruleset.site.slot_selectors:
            page_found, page_warnings = selector_warnings(page, body, ruleset, marked)
            found |= page_found
            warnings.extend(page_warnings)
    for slot in sorted(ruleset.slots - found):
        rule_ids = ", ".join(rule.id for rule in ruleset.rules_for(slot))
        warnings.append(
            f"slot '{slot}' (rules {rule_ids}) is not found in any page under {site_dir}"
        )
    return warnings


def selector_warnings(
    page: Path, body: bytes, ruleset: Ruleset, marked: PageSkeleton
) -> tuple[frozenset[str], list[str]]:
    """The selector slots one page has, and warnings naming the page about each selector that
    matches nothing, several elements or nothing that can be a slot there.

    `marked` is the page compiled without selectors: a ``data-slot`` element of a selector's
    name wins over the selector, which is then said to be unused on that page.
    """
    from etalage.middleware.selector_slots import find_selector_elements
    from etalage.middleware.skeleton import PageSkeleton

    warnings = []
    wanted = {}
    for slot, selector in ruleset.site.slot_selectors.items():
        if slot in marked.slot_names:
            warnings.append(
                f"{page}: slot '{slot}' has a data-slot element there, "
                f"so selector {selector!r} is not used"
            )
        else:
            wanted[slot] = selector
    if not wanted:
        return frozenset(), warnings
    skeleton = PageSkeleton.compile(body, selectors=wanted)
    # The skeleton says what went wrong with a selector's element (several, void, not a tag,
    # unclosed...); what is new against the page without selectors is the selectors' doing.
    warnings.extend(f"{page}: {w}" for w in skeleton.warnings if w not in marked.warnings)
    resolution = find_selector_elements(body, wanted)
    for match in resolution.matches:
        if not match.count:
            warnings.append(
                f"{page}: selector {match.selector!r} of slot '{match.slot}' matches nothing"
            )
    return skeleton.slot_names & wanted.keys(), warnings


def _where(ruleset: Ruleset, rule: Rule) -> str:
    return f"{ruleset.path}:{rule.line}" if ruleset.path else f"line {rule.line}"
