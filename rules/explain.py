"""Explaining a decision: every candidate rule of a slot, clause by clause, with actual values."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from markupsafe import Markup

from etalage.errors import FragmentError
from etalage.fragments import FragmentRenderer
from etalage.profile import Profile
from etalage.recency import (
    MIN_INTEREST,
    HistoryPolicy,
    interest_scores,
    is_relevant,
    parse_count_path,
)
from etalage.rules.conditions import compile_condition
from etalage.rules.model import Decision, FragmentAction, Rule
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


@dataclass(frozen=True)
class Uncounted:
    """A stored entry that does not count at the moment explained, and why (with numbers).

    `attribute` is the family of attributes it would have fed: ``search``, ``view``,
    ``event.<type>`` or ``interest``; a clause reading ``search.last.age_days`` belongs to
    ``search``.
    """

    attribute: str
    reason: str

    def concerns(self, attribute: str) -> bool:
        """Whether a clause on `attribute` reads what this entry would have fed."""
        return attribute == self.attribute or attribute.startswith(self.attribute + ".")


@dataclass(frozen=True)
class Rendered:
    """The fragment a slot's winning rule renders: its HTML, or why rendering failed."""

    template: str
    html: str | None
    error: str | None = None


def uncounted(
    profile: Profile, policy: HistoryPolicy, now: datetime, timezone: tzinfo = UTC
) -> list[Uncounted]:
    """The entries of `profile` that `derive_attributes` leaves out at `now`, and why: past
    their kind's ``relevant_for`` window or their own horizon (``valid_until``), or an interest
    decayed below the threshold. Moments are shown in `timezone` (the site's)."""
    found: list[Uncounted] = []
    moment = now.timestamp()

    def check(family: str, label: str, at: int, until: int | None, window: timedelta) -> None:
        if is_relevant(at, until, window, now):
            return
        if until is not None and moment > until:
            reason = f"{label} is past its valid_until {_local(until, timezone)}"
        else:
            days = (moment - at) / 86400
            reason = (
                f"{label} is {days:.1f} days old; relevant_for is {_span(window)} "
                f"(at {_local(at, timezone)})"
            )
        found.append(Uncounted(family, reason))

    for search in profile.searches:
        label = f"search {search.term!r}"
        check("search", label, search.at, search.valid_until, policy.search_relevant_for)
    for view in profile.views:
        label = f"view {view.path!r}"
        check("view", label, view.at, view.valid_until, policy.view_relevant_for)
    for event in profile.events:
        horizon = event.data.get("valid_until")
        horizon = horizon if isinstance(horizon, int) and not isinstance(horizon, bool) else None
        label = f"event {event.type!r}"
        check(f"event.{event.type}", label, event.at, horizon, policy.event_relevant_for)
    for topic, score in interest_scores(profile, policy, now).items():
        if score < MIN_INTEREST:
            reason = (
                f"interest {topic!r} has decayed to {score:.3f}, below {MIN_INTEREST} "
                f"(half_life is {_span(policy.interest_half_life)})"
            )
            found.append(Uncounted("interest", reason))
    return found


def _local(epoch: int, timezone: tzinfo) -> str:
    return datetime.fromtimestamp(epoch, timezone).strftime("%Y-%m-%d %H:%M %Z").strip()


def _span(span: timedelta) -> str:
    seconds = span.total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return f"{seconds:g} seconds"


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


def render_fragments(
    reports: Iterable[SlotReport],
    attributes: Mapping[str, Any],
    renderer: FragmentRenderer,
    *,
    path: str | None = None,
    prefix: str = "/_etalage/",
) -> dict[str, Rendered]:
    """Per slot whose winning rule has a fragment, that fragment rendered with the context the
    middleware gives it. There is no page: ``default`` is empty and ``page`` holds only `path`
    (when given)."""
    view = dict(attributes)
    view["name"] = attributes.get("prefs.name")
    view["consent"] = attributes.get("consent.personalization") is True
    page = {"path": path} if path else {}
    rendered: dict[str, Rendered] = {}
    for report in reports:
        pieces = []
        for decision in report.decision.placements:  # more than one in a `take: N` slot
            rule = decision.rule
            action = decision.action  # a drawn variant's fragment for a `variants` rule
            if rule is None or not isinstance(action, FragmentAction):
                continue
            context = {
                "page": page,
                "rule": {"id": rule.id, "slot": report.slot, "reason": decision.reason},
                "why_url": f"{prefix}profile#rule-{rule.id}",
                "default": Markup(""),
                "visitor": view,
            }
            try:
                html = renderer.render(action.template, context)
            except FragmentError as exc:
                pieces.append(Rendered(action.template, None, str(exc)))
            else:
                pieces.append(Rendered(action.template, html))
        if pieces:
            rendered[report.slot] = _joined(pieces)
    return rendered


def _joined(pieces: list[Rendered]) -> Rendered:
    """The fragments of a slot's placements as one: the first failure, else the HTML joined."""
    if len(pieces) == 1:
        return pieces[0]
    templates = ", ".join(piece.template for piece in pieces)
    for piece in pieces:
        if piece.error is not None:
            return Rendered(piece.template, None, piece.error)
    return Rendered(templates, "".join(piece.html or "" for piece in pieces))


def format_reports(
    reports: Iterable[SlotReport],
    uncounted: Iterable[Uncounted] = (),
    rendered: Mapping[str, Rendered] | None = None,
) -> str:
    """Render slot reports as the text `etalage explain` prints: the entries that do not count
    first, then per slot each candidate with its clauses (an entry that does not count under
    each clause reading what it would have fed), the winner and, if given, its fragment."""
    notes = list(uncounted)
    lines: list[str] = []
    if notes:
        lines.append("not counted:")
        lines.extend(f"  - {note.reason}" for note in notes)
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
                _format_clause(clause, "      ", lines, notes)
        decision = report.decision
        placements = decision.placements
        for number, placed in enumerate(placements, start=1):
            winner = placed.rule.id if placed.rule else "default content"
            place = f"{number}. " if len(placements) > 1 else ""  # a `take: N` slot
            lines.append(f"  => {place}{winner}: {placed.reason}")
        fragment = (rendered or {}).get(report.slot)
        if fragment is not None:
            if fragment.error is not None:
                lines.append(f"  fragment {fragment.template} failed (the slot keeps its default):")
                lines.append(f"    {fragment.error}")
            else:
                lines.append(f"  fragment {fragment.template}:")
                lines.extend(f"    {line}" for line in (fragment.html or "").splitlines())
    return "\n".join(lines)


def _format_clause(clause: Clause, indent: str, lines: list[str], notes: list[Uncounted]) -> None:
    mark = "true " if clause.holds else "false"
    if clause.parts:
        lines.append(f"{indent}[{mark}] {clause.attribute}")
        for part in clause.parts:
            _format_clause(part, indent + "    ", lines, notes)
        return
    lines.append(
        f"{indent}[{mark}] {clause.attribute} {_short(clause.test)}  actual={_short(clause.actual)}"
    )
    gloss = describe_value(clause.attribute, clause.actual)
    if gloss is not None:
        lines.append(f"{indent}        {gloss}")
    for note in notes:
        if note.concerns(clause.attribute):
            lines.append(f"{indent}        not counted: {note.reason}")


_COUNT_VERBS = {
    "views.topic.": "viewed topic {name}",
    "views.path.": "viewed page {name}",
    "searches.term.": "searched for {name!r}",
    "events.": "had event {name}",
}
_VISIT_WORDS = {
    "visit.entry": "this visit entered on {value}",
    "visit.referrer": "this visit came from {value}",
    "visit.utm_source": "this visit came with utm_source {value!r}",
}


def describe_value(path: str, value: Any) -> str | None:
    """A window count or a fact of the current visit in words (``viewed topic hiking 3 times
    in the last 7 days``), or None for other attributes."""
    parsed = parse_count_path(path)
    if parsed is not None:
        times = value if isinstance(value, int) and not isinstance(value, bool) else 0
        done = _COUNT_VERBS[parsed.family].format(name=parsed.name)
        often = "once" if times == 1 else f"{times} times"
        days = "day" if parsed.days == 1 else f"{parsed.days} days"
        return f"{done} {often} in the last {days}"
    if path == "visit.pages" and isinstance(value, int):
        return f"{value} page{'' if value == 1 else 's'} viewed in this visit, this one included"
    words = _VISIT_WORDS.get(path)
    if words is None and path != "visit.pages":
        return None
    if value is None or words is None:
        return "no visit in progress" if path == "visit.pages" else f"this visit has no {path[6:]}"
    return words.format(value=value)


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
