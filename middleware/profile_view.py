"""What the visitor's page shows, built from the profile report: blocks named in words, each
choice with its reason and the visitor's own data behind it, the stored history as sentences
and rows, dates in the site's time zone."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from etalage.middleware.profile_wording import (
    Clock,
    cart_sentence,
    duration,
    evidence,
    experiment,
    expiry,
    humanize,
    moment,
    page_name,
    preference_label,
    preference_value,
    purchases_sentence,
    slot_label,
    strength,
    visits_sentence,
)
from etalage.recency import HistoryPolicy
from etalage.rules import Ruleset

_NO_REASON = "The site chose this for you from what it remembers, listed below."
_HOLDOUT = (
    "You are in the comparison group for this block: you see what every visitor sees, so "
    "that we can measure whether adapting it helps."
)


@dataclass
class Choice:
    """One block the site adapted (or held back) for the visitor, and why."""

    label: str
    reason: str
    rule: str | None
    anchor: bool = False
    evidence: list[Markup] = field(default_factory=list)
    variant: str | None = None
    held_out: bool = False
    condition: str | None = None  # the technical condition, as JSON
    recorded: str = ""  # the reason as the decision recorded it


@dataclass
class PageChoices:
    """The choices made on one page the visitor saw."""

    name: str
    when: str
    choices: list[Choice]
    standard: list[str]  # labels of the blocks everyone sees


@dataclass
class Entry:
    """One row of a history table: the columns in words, and whether it still counts."""

    cells: list[str]
    relevant: bool
    status: str


@dataclass
class Interest:
    """A topic, its strength in words and as a bar width (percent of the strongest)."""

    topic: str
    word: str
    percent: int


@dataclass
class PageView:
    """Everything the visitor's page template renders."""

    prefix: str
    stylesheets: Sequence[str]
    consent: str  # allowed, declined, gpc or undecided
    holdout: bool
    contextual: list[Choice]
    stored: bool = False
    pages: list[PageChoices] = field(default_factory=list)
    visits: Markup = Markup("")
    searches: list[Entry] = field(default_factory=list)
    views: list[Entry] = field(default_factory=list)
    interests: list[Interest] = field(default_factory=list)
    fading: str = ""
    prefs: list[tuple[str, str]] = field(default_factory=list)
    cart: Markup = Markup("")
    purchases: Markup = Markup("")
    events: list[tuple[str, str]] = field(default_factory=list)


def page_view(
    report: Mapping[str, Any], ruleset: Ruleset | None = None, stylesheets: Sequence[str] = ()
) -> PageView:
    """The visitor's page as words, from `profile_report`'s data and the rule set in force
    (without one: UTC, the default history windows and block names from the slot names)."""
    zone = ruleset.site.timezone if ruleset is not None else UTC
    policy = ruleset.history if ruleset is not None else HistoryPolicy()
    clock = Clock(moment(report.get("now")) or datetime.now(UTC), zone)
    labels = _labels(ruleset)
    consent = report["consent"]["personalization"]
    stored = report.get("stored")
    view = PageView(
        prefix=report["prefix"],
        stylesheets=stylesheets,
        consent=_consent(consent, report["consent"].get("gpc")),
        holdout=bool(report.get("holdout")),
        contextual=[],
    )

    def choice(row: Mapping[str, Any]) -> Choice:
        return _choice(row, ruleset, labels, stored, consent, clock, policy)

    view.contextual = [choice(row) for row in report.get("contextual", [])]
    if not isinstance(stored, Mapping):
        return view
    view.stored = True
    for page in report.get("recent_decisions", []):
        rows = [choice(row) for row in page["slots"]]
        chosen = [c for c in rows if c.rule is not None or c.held_out]
        at = moment(page.get("at"))
        view.pages.append(
            PageChoices(
                name=page_name(page.get("path")),
                when=clock.when(at).removeprefix("on ") if at else "",
                choices=chosen,
                standard=[c.label for c in rows if c not in chosen],
            )
        )
    view.visits = visits_sentence(stored, clock)
    view.searches = _searches(stored, clock, policy)
    view.views = _views(stored, clock, policy)
    view.interests = _interests(stored)
    view.fading = (
        f"Each interest halves every {duration(policy.interest_half_life)} unless you "
        "look at that kind of thing again."
    )
    prefs = stored.get("prefs") or {}
    view.prefs = [
        (preference_label(k).capitalize(), preference_value(v)) for k, v in sorted(prefs.items())
    ]
    view.cart = cart_sentence(stored.get("cart"), clock)
    view.purchases = purchases_sentence(stored.get("purchases"), clock)
    view.events = [
        (humanize(str(e.get("type", ""))), clock.ago(at))
        for e in stored.get("events", [])
        if (at := moment(e.get("at"))) is not None
    ]
    return view


def _labels(ruleset: Ruleset | None) -> dict[str, str]:
    if ruleset is None:
        return {}
    return {name: slot.label for name, slot in ruleset.site.slots.items() if slot.label}


def _consent(choice: bool | None, gpc: bool | None) -> str:
    if choice is True:
        return "allowed"
    if choice is False:
        return "declined"
    return "gpc" if gpc else "undecided"


def _choice(
    row: Mapping[str, Any],
    ruleset: Ruleset | None,
    labels: Mapping[str, str],
    stored: Any,
    consent: bool | None,
    clock: Clock,
    policy: HistoryPolicy,
) -> Choice:
    recorded = str(row.get("reason") or "")
    told = experiment(recorded)
    rule_id = row.get("rule")
    rule = ruleset.rule(rule_id) if ruleset is not None and rule_id else None
    reason = told.reason
    if rule is not None and rule.reason is None:
        reason = _NO_REASON
    condition = row.get("condition")
    held_out = told.held_out_from is not None
    if held_out:
        reason = _HOLDOUT
        candidate = ruleset.rule(told.held_out_from or "") if ruleset is not None else None
        condition = candidate.when if candidate is not None else None
    return Choice(
        label=slot_label(str(row.get("slot", "")), labels),
        reason=reason,
        rule=rule_id,
        anchor=bool(row.get("anchor")),
        evidence=[]
        if held_out
        else evidence(
            condition, stored if isinstance(stored, Mapping) else None, consent, clock, policy
        ),
        variant=told.variant,
        held_out=held_out,
        condition=json.dumps(condition, ensure_ascii=False, indent=1) if condition else None,
        recorded=recorded,
    )


def _searches(stored: Mapping[str, Any], clock: Clock, policy: HistoryPolicy) -> list[Entry]:
    rows = []
    for search in stored.get("searches", []):
        at = moment(search.get("at"))
        about = moment(search.get("valid_until"))
        ends = expiry(at, about, policy.search_relevant_for)
        rows.append(
            Entry(
                cells=[
                    str(search.get("term", "")),
                    clock.ago(at) if at else "",
                    clock.date(about) if about else "",
                ],
                relevant=bool(search.get("relevant")),
                status=_status(bool(search.get("relevant")), ends, clock),
            )
        )
    return rows


def _views(stored: Mapping[str, Any], clock: Clock, policy: HistoryPolicy) -> list[Entry]:
    rows = []
    for view in stored.get("views", []):
        at = moment(view.get("at"))
        ends = expiry(at, moment(view.get("valid_until")), policy.view_relevant_for)
        rows.append(
            Entry(
                cells=[
                    str(view.get("path", "")),
                    humanize(str(view.get("topic") or "")),
                    clock.ago(at) if at else "",
                ],
                relevant=bool(view.get("relevant")),
                status=_status(bool(view.get("relevant")), ends, clock),
            )
        )
    return rows


def _status(relevant: bool, ends: datetime | None, clock: Clock) -> str:
    if not relevant:
        return "No longer used"
    return f"Used until {clock.when(ends).removeprefix('on ')}" if ends is not None else "Used"


def _interests(stored: Mapping[str, Any]) -> list[Interest]:
    scores = [
        (str(i["topic"]), float(i["score"]))
        for i in stored.get("interests", [])
        if isinstance(i.get("score"), int | float)
        and math.isfinite(i["score"])
        and i.get("topic") is not None
    ]
    top = max((score for _, score in scores), default=0.0)
    return [
        Interest(
            topic=humanize(topic),
            word=strength(score),
            percent=max(4, min(100, round(100 * score / top))) if top > 0 else 0,
        )
        for topic, score in scores
    ]
