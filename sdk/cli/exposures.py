"""`etalage report`'s reading of events: each visitor's group per rule, and their conversions.

A visitor counts for a rule from their first exposure to it, in the group that exposure put them
in: ``treated`` (with the index of the variant shown, for a rule with variants), ``site`` (held
out by the rule file's global holdout) or ``rule`` (held out by the rule's own holdout). Events
written before per-rule holdouts existed have no ``holdout_kind``; their holdout is the site's.

A rule's ``bucket_version`` re-draws its holdout and variants, so a visitor's group under an
older version says nothing about the current draw: a visitor exposed under several versions
counts once, under the newest, from their first exposure under it. Events without a version
count as older than any.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Group = Literal["treated", "site", "rule"]
HOLDOUT_KINDS: tuple[Group, ...] = ("site", "rule")


@dataclass(frozen=True)
class Exposure:
    """One visitor's first exposure to a rule under the newest bucket version they saw."""

    at: datetime
    group: Group
    variant: int | None
    bucket_version: int | None


@dataclass
class RuleExposures:
    """Every visitor's exposure to one rule, and the bucket versions seen."""

    visitors: dict[str, Exposure] = field(default_factory=dict)
    bucket_versions: set[int] = field(default_factory=set)


@dataclass
class EventLog:
    """Exposures per rule and conversions (time, value) per visitor, inside the window."""

    rules: dict[str, RuleExposures] = field(default_factory=dict)
    conversions: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)

    def conversions_after(self, visitor: str, at: datetime) -> list[float]:
        """The values of `visitor`'s conversions at or after `at`."""
        return [value for when, value in self.conversions.get(visitor, ()) if when >= at]


def as_utc(moment: datetime) -> datetime:
    """`moment`, read as UTC when it is naive."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_time(value: Any) -> datetime | None:
    """An event's ISO ``at`` as an aware datetime; None when missing or malformed."""
    if not isinstance(value, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _group(event: dict[str, Any]) -> Group:
    if event.get("holdout") is not True:
        return "treated"
    kind = event.get("holdout_kind")
    return "rule" if kind == "rule" else "site"


def _newer(candidate: Exposure, known: Exposure) -> bool:
    """Whether `candidate` replaces `known`: a newer bucket version, or the same one earlier."""
    new, old = candidate.bucket_version or 0, known.bucket_version or 0
    return new > old or (new == old and candidate.at < known.at)


def read_log(
    events: Iterable[dict[str, Any]],
    *,
    conversion: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> EventLog:
    """Exposures and `conversion` events between `since` and `until` (aware datetimes);
    malformed events are skipped."""
    log = EventLog()
    for event in events:
        at = parse_time(event.get("at"))
        visitor = event.get("visitor")
        if at is None or not isinstance(visitor, str):
            continue
        if (since and at < since) or (until and at > until):
            continue
        rule = event.get("rule")
        if event.get("type") == "exposure" and isinstance(rule, str):
            group = _group(event)
            variant = _int_or_none(event.get("variant")) if group == "treated" else None
            version = _int_or_none(event.get("bucket_version"))
            exposure = Exposure(
                at, group, variant if variant is None or variant >= 0 else None, version
            )
            exposures = log.rules.setdefault(rule, RuleExposures())
            if version is not None:
                exposures.bucket_versions.add(version)
            known = exposures.visitors.get(visitor)
            if known is None or _newer(exposure, known):
                exposures.visitors[visitor] = exposure
        elif event.get("type") == "conversion" and event.get("event") == conversion:
            value = event.get("value")
            log.conversions.setdefault(visitor, []).append(
                (at, float(value) if isinstance(value, int | float) else 0.0)
            )
    return log
