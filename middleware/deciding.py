"""A visitor's attributes and decisions under the rule set in force."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from etalage.recency import parse_count_path
from etalage.rules import Decision, Ruleset
from etalage.visitor import Visitor


def visitor_attributes(
    visitor: Visitor, ruleset: Ruleset, page_facts: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """`Visitor.attributes` under the rule set's history policy and time zone, with only the
    window counts (``views.topic.hiking.7d``) that the rule set reads."""
    return visitor.attributes(
        ruleset.history, ruleset.site.timezone, page_facts, counts=_counts_read(ruleset)
    )


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


class _CountsRead:
    """The window count paths of the last rule set asked about (a rule set is replaced, never
    changed, when its file is edited: one entry is enough)."""

    def __init__(self) -> None:
        self._ruleset: weakref.ref[Ruleset] | None = None
        self._paths: frozenset[str] = frozenset()

    def __call__(self, ruleset: Ruleset) -> frozenset[str]:
        if self._ruleset is not None and self._ruleset() is ruleset:
            return self._paths
        read = ruleset.referenced_attributes
        paths = frozenset(path for path in read if parse_count_path(path) is not None)
        self._ruleset, self._paths = weakref.ref(ruleset), paths
        return paths


_counts_read = _CountsRead()
