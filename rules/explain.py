"""Explaining a decision: every candidate rule of a slot, clause by clause, with actual values."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from etalage.rules.conditions import compile_condition
from etalage.rules.model import Decision, Rule
from etalage.rules.ruleset import Ruleset

_LOGICAL = frozenset({"$and", "$or", "$nor", "$not"})


@dataclass(frozen=True)
class Clause:
    """One clause of a rule's condition, the visitor's value and the outcome.

    A logical clause (``$or``, ``$and``, ``$nor``, ``$not``) has no value of its own; its
    `parts` are the clauses of the conditions it combines.
    """

    attribute: str
    test: Any
    actual: Any
    holds: bool
    parts: tuple[Clause, ...] = ()


@dataclass(frozen=True)
class CandidateReport:
    """A candidate rule of a slot: its gates (consent, schedule, caps) and its clauses."""

    rule: Rule
    blocked_by: str | None
    clauses: tuple[Clause, ...]
    matches: bool


@dataclass(frozen=True)
class SlotReport:
    """All candidates of one slot in priority order, and the decision taken."""

    slot: str
    candidates: tuple[CandidateReport, ...]
    decision: Decision


def lookup(attributes: Mapping[str, Any], path: str) -> Any:
    """Read an attribute the way conditions do: the whole dotted key first, then nested."""
    if path in attributes:
        return attributes[path]
    value: Any = attributes
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def explain(
    ruleset: Ruleset,
    attributes: Mapping[str, Any],
    slots: Iterable[str],
    now: datetime,
    *,
    exposures: Mapping[str, int] | None = None,
    dismissed: Iterable[str] = (),
) -> list[SlotReport]:
    """Explain `Ruleset.decide` for the given slots, clause by clause."""
    slot_list = list(dict.fromkeys(slots))
    dismissed_ids = frozenset(dismissed)
    decisions = ruleset.decide(
        attributes, slot_list, now, exposures=exposures, dismissed=dismissed_ids
    )
    attrs = ruleset.with_segments(attributes, slot_list)
    consent = attrs.get("consent.personalization") is True
    exposures = exposures or {}
    reports = []
    for slot in slot_list:
        candidates = []
        for rule in ruleset.rules_for(slot):
            blocked = _gate(rule, consent, now, exposures, dismissed_ids)
            clauses = tuple(_clauses(rule, attrs, ruleset))
            matches = rule.predicate(attrs)
            candidates.append(CandidateReport(rule, blocked, clauses, matches))
        reports.append(SlotReport(slot, tuple(candidates), decisions[slot]))
    return reports


def _gate(
    rule: Rule,
    consent: bool,
    now: datetime,
    exposures: Mapping[str, int],
    dismissed: frozenset[str],
) -> str | None:
    if rule.needs_consent and not consent:
        return "needs consent"
    if not rule.is_scheduled_at(now):
        return "outside its schedule"
    if rule.dismissible and rule.id in dismissed:
        return "dismissed by the visitor"
    if rule.max_exposures is not None and exposures.get(rule.id, 0) >= rule.max_exposures:
        return f"shown {rule.max_exposures} times already (max_exposures)"
    return None


def _clauses(rule: Rule, attrs: Mapping[str, Any], ruleset: Ruleset) -> list[Clause]:
    if not rule.when:
        return []
    return _condition_clauses(rule.when, attrs, ruleset.saved_groups)


def _condition_clauses(
    condition: Mapping[str, Any], attrs: Mapping[str, Any], groups: Mapping[str, Any]
) -> list[Clause]:
    clauses = []
    for key, test in condition.items():
        holds = compile_condition({key: test}, groups)(attrs)
        if key in _LOGICAL:
            members = [test] if key == "$not" else test
            if not isinstance(members, list):
                members = []
            parts = tuple(
                _member_clause(f"{key}[{index}]", member, attrs, groups)
                for index, member in enumerate(members)
            )
            clauses.append(Clause(key, test, "(logical)", holds, parts))
        else:
            clauses.append(Clause(key, test, lookup(attrs, key), holds))
    return clauses


def _member_clause(
    label: str, member: Any, attrs: Mapping[str, Any], groups: Mapping[str, Any]
) -> Clause:
    """One condition combined by a logical operator: its single clause, or a group of them."""
    if not isinstance(member, Mapping):
        return Clause(label, member, None, False)
    parts = _condition_clauses(member, attrs, groups)
    if len(parts) == 1:
        return parts[0]
    holds = compile_condition(member, groups)(attrs)
    return Clause(label, member, "(logical)" if parts else None, holds, tuple(parts))


def format_reports(reports: Iterable[SlotReport]) -> str:
    """Render slot reports as the text `etalage explain` prints."""
    lines: list[str] = []
    for report in reports:
        lines.append(f"slot {report.slot}:")
        if not report.candidates:
            lines.append("  (no rules target this slot)")
        for candidate in report.candidates:
            rule = candidate.rule
            verdict = (
                f"blocked: {candidate.blocked_by}"
                if candidate.blocked_by
                else ("matches" if candidate.matches else "does not match")
            )
            lines.append(
                f"  - {rule.id} (priority {rule.priority}, {rule.consent_class}): {verdict}"
            )
            if not candidate.clauses:
                lines.append("      (no condition: always true)")
            for clause in candidate.clauses:
                _format_clause(clause, "      ", lines)
        decision = report.decision
        winner = decision.rule.id if decision.rule else "default content"
        lines.append(f"  => {winner}: {decision.reason}")
    return "\n".join(lines)


def _format_clause(clause: Clause, indent: str, lines: list[str]) -> None:
    mark = "true " if clause.holds else "false"
    if clause.parts:
        lines.append(f"{indent}[{mark}] {clause.attribute}")
        for part in clause.parts:
            _format_clause(part, indent + "    ", lines)
        return
    lines.append(
        f"{indent}[{mark}] {clause.attribute} {_short(clause.test)}  actual={_short(clause.actual)}"
    )


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
