"""A visitor's attributes and decisions under the rule set in force."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from etalage.rules import Decision, Ruleset
from etalage.visitor import Visitor


def visitor_attributes(
    visitor: Visitor, ruleset: Ruleset, page_facts: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """`Visitor.attributes` under the rule set's history policy and time zone."""
    return visitor.attributes(ruleset.history, ruleset.site.timezone, page_facts)


def decide(
    visitor: Visitor,
    ruleset: Ruleset,
    slots: Iterable[str],
    attributes: Mapping[str, Any] | None = None,
) -> dict[str, Decision]:
    """`Ruleset.decide` for this visitor now: their attributes (or the `attributes` given,
    e.g. with page facts) and, with consent, their exposure counts and dismissals."""
    profile = visitor.profile if visitor.personalization_allowed else None
    return ruleset.decide(
        visitor_attributes(visitor, ruleset) if attributes is None else attributes,
        slots,
        visitor.now,
        exposures=profile.exposures if profile else None,
        dismissed=profile.dismissed if profile else (),
    )
