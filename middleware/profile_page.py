"""The visitor's own page: what this site remembers about you, and why you see what you see."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import jinja2

from etalage.middleware.deciding import decide
from etalage.middleware.profile_view import page_view
from etalage.recency import derive_attributes, interest_scores, is_relevant
from etalage.rules import DEFAULT_REASON, Rule, Ruleset
from etalage.visitor import Visitor


def _iso(epoch: int | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch is not None else None


def profile_report(
    visitor: Visitor, ruleset: Ruleset, *, demo_mode: bool = False, prefix: str = "/_etalage/"
) -> dict[str, Any]:
    """Everything stored about the visitor and the reasons behind recent decisions, as data."""
    now = visitor.now
    report: dict[str, Any] = {
        "consent": {"personalization": visitor.consent, "gpc": visitor.facts.gpc},
        "holdout": visitor.holdout,
        "now": now.isoformat(),
        "demo_mode": demo_mode,
        "prefix": prefix,
        "stored": None,
    }
    profile = visitor.profile if visitor.personalization_allowed else None
    anchored: set[str] = set()
    report["contextual"] = _contextual(visitor, ruleset, anchored)
    if profile is None:
        return report
    policy = ruleset.history
    attributes = derive_attributes(profile, policy, now, timezone=ruleset.site.timezone)
    decisions = []
    pages = sorted(profile.decisions, key=lambda page: -int(page.get("at") or 0))
    for page in pages:
        slots = []
        for slot, (rule_id, reason) in sorted(page.get("slots", {}).items()):
            rule = ruleset.rule(rule_id) if rule_id else None
            if reason is None:  # the rule file's own words (`personalize._reasons`)
                reason = _recorded_reason(rule_id, rule)
            slots.append(
                {
                    "slot": slot,
                    "rule": rule_id,
                    "reason": reason,
                    "condition": rule.when if rule else None,
                    "anchor": bool(rule_id) and rule_id not in anchored,
                }
            )
            if rule_id:
                anchored.add(rule_id)
        decisions.append({"path": page.get("path"), "at": _iso(page.get("at")), "slots": slots})
    stored = {
        "id": profile.id,
        "visits": profile.visits,
        "first_seen": _iso(profile.first_seen),
        "last_seen": _iso(profile.last_seen),
        "searches": [
            {
                "term": s.term,
                "at": _iso(s.at),
                "valid_until": _iso(s.valid_until),
                "relevant": is_relevant(s.at, s.valid_until, policy.search_relevant_for, now),
            }
            for s in profile.searches
        ],
        "views": [
            {
                "path": v.path,
                "topic": v.topic,
                "at": _iso(v.at),
                "valid_until": _iso(v.valid_until),
                "relevant": is_relevant(v.at, v.valid_until, policy.view_relevant_for, now),
            }
            for v in profile.views
        ],
        # Not read from the attributes: a topic named "top" or "topics" has no score there.
        "interests": [
            {"topic": topic, "score": score}
            for topic, score in interest_scores(profile, policy, now).items()
        ],
        "cart": {
            "items": profile.cart.items,
            "value": profile.cart.value,
            "updated": _iso(profile.cart.updated_at),
        },
        "purchases": {
            "count": profile.purchases,
            "total": profile.purchase_total,
            "last": _iso(profile.last_purchase),
        },
        "prefs": dict(profile.prefs),
        "events": [{"type": e.type, "at": _iso(e.at), "data": e.data} for e in profile.events],
        "exposures": dict(profile.exposures),
        "dismissed": {rule: _iso(at) for rule, at in profile.dismissed.items()},
    }
    report["stored"] = _showable(stored)
    report["attributes"] = _showable(attributes)
    report["recent_decisions"] = _showable(decisions)
    return report


def _showable(value: Any) -> Any:
    """Stored data with text that UTF-8 cannot carry (a lone surrogate, which JSON input can
    hold and a profile keeps) shown as ``?``, so the page and its JSON can be sent."""
    if isinstance(value, str):
        return value if value.isascii() else value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_showable(key): _showable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_showable(item) for item in value]
    return value


def _contextual(visitor: Visitor, ruleset: Ruleset, anchored: set[str]) -> list[dict[str, Any]]:
    """The rules that apply to this request from the request alone (device, time, consent
    choice), with or without consent: nothing stored is read for them."""
    decisions = decide(visitor, ruleset, sorted(ruleset.slots))
    rows = []
    for slot, decision in sorted(decisions.items()):
        rule = decision.rule
        if rule is None or rule.needs_consent:
            continue
        rows.append(
            {
                "slot": slot,
                "rule": rule.id,
                "reason": decision.reason,
                "condition": rule.when,
                "anchor": rule.id not in anchored,
            }
        )
        anchored.add(rule.id)
    return rows


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("etalage.middleware", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_profile_page(
    report: dict[str, Any], ruleset: Ruleset | None = None, *, stylesheets: Sequence[str] = ()
) -> str:
    """Render the profile report as the page people see: in words, dates in the site's time
    zone (`ruleset`'s; UTC without one), themed by the site's `stylesheets` (URLs)."""
    view = page_view(report, ruleset, stylesheets)
    return _environment().get_template("profile.html").render(v=view)


def _recorded_reason(rule_id: str | None, rule: Rule | None) -> str:
    """The reason a decision recorded without one: its rule's own, or the default's."""
    if rule is not None:
        return rule.describe()
    if rule_id:
        return f"rule '{rule_id}', no longer in the rule file"
    return DEFAULT_REASON
