"""`etalage report`: per rule, treated versus holdout conversion, lift and its 95% interval.

A visitor counts for a rule from their first exposure to it: in the treated group when they
saw the rule, in the holdout group when the rule would have applied but they were held out
(the exposure event then names the rule as candidate). A visitor converts for that rule when a
conversion event of the chosen type (``purchase`` by default) follows that first exposure.
"""

from __future__ import annotations

import html
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Z_95 = 1.959963984540054
MIN_GROUP = 100
MIN_CONVERSIONS = 10


@dataclass(frozen=True)
class GroupStats:
    """Visitors and converters of one group."""

    visitors: int
    converters: int
    value: float

    @property
    def rate(self) -> float:
        """Conversion rate (0 when the group is empty)."""
        return self.converters / self.visitors if self.visitors else 0.0


@dataclass(frozen=True)
class RuleLift:
    """Treated versus holdout for one rule, with lift and 95% confidence intervals."""

    rule: str
    treated: GroupStats
    holdout: GroupStats
    absolute: float
    absolute_ci: tuple[float, float]
    relative: float | None
    relative_ci: tuple[float, float] | None
    warning: str | None


def absolute_lift(t: GroupStats, c: GroupStats) -> tuple[float, tuple[float, float]]:
    """Difference of proportions with a Wald 95% interval (unpooled standard error)."""
    diff = t.rate - c.rate
    if not t.visitors or not c.visitors:
        return diff, (-math.inf, math.inf)
    se = math.sqrt(t.rate * (1 - t.rate) / t.visitors + c.rate * (1 - c.rate) / c.visitors)
    return diff, (diff - Z_95 * se, diff + Z_95 * se)


def relative_lift(t: GroupStats, c: GroupStats) -> tuple[float | None, tuple[float, float] | None]:
    """Ratio of proportions minus one, with a 95% interval from the log risk ratio."""
    if not t.converters or not c.converters:
        return None, None
    ratio = t.rate / c.rate
    se = math.sqrt((1 - t.rate) / t.converters + (1 - c.rate) / c.converters)
    low, high = math.log(ratio) - Z_95 * se, math.log(ratio) + Z_95 * se
    return ratio - 1, (math.exp(low) - 1, math.exp(high) - 1)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def compute_lift(
    events: Iterable[dict[str, Any]],
    *,
    conversion: str = "purchase",
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[RuleLift]:
    """Compute per-rule lift from exposure and conversion events."""
    first_exposure: dict[tuple[str, str], tuple[datetime, bool]] = {}
    conversions: dict[str, list[tuple[datetime, float]]] = {}
    for event in events:
        at = _parse_time(event.get("at"))
        visitor = event.get("visitor")
        if at is None or not isinstance(visitor, str):
            continue
        if (since and at < since) or (until and at > until):
            continue
        if event.get("type") == "exposure" and isinstance(event.get("rule"), str):
            key = (event["rule"], visitor)
            known = first_exposure.get(key)
            if known is None or at < known[0]:
                first_exposure[key] = (at, bool(event.get("holdout")))
        elif event.get("type") == "conversion" and event.get("event") == conversion:
            value = event.get("value")
            conversions.setdefault(visitor, []).append(
                (at, float(value) if isinstance(value, int | float) else 0.0)
            )
    groups: dict[str, dict[bool, list[int | float]]] = {}
    for (rule, visitor), (at, held) in first_exposure.items():
        stats = groups.setdefault(rule, {False: [0, 0, 0.0], True: [0, 0, 0.0]})[held]
        stats[0] += 1
        after = [value for when, value in conversions.get(visitor, ()) if when >= at]
        if after:
            stats[1] += 1
            stats[2] += sum(after)
    results = []
    for rule in sorted(groups):
        t = GroupStats(
            int(groups[rule][False][0]), int(groups[rule][False][1]), float(groups[rule][False][2])
        )
        c = GroupStats(
            int(groups[rule][True][0]), int(groups[rule][True][1]), float(groups[rule][True][2])
        )
        diff, ci = absolute_lift(t, c)
        rel, rel_ci = relative_lift(t, c)
        results.append(RuleLift(rule, t, c, diff, ci, rel, rel_ci, _warning(t, c)))
    return results


def _warning(t: GroupStats, c: GroupStats) -> str | None:
    if min(t.visitors, c.visitors) < MIN_GROUP:
        return (
            f"too few visitors to tell (treated {t.visitors}, holdout {c.visitors}; "
            f"want {MIN_GROUP}+ each)"
        )
    if min(t.converters, c.converters) < MIN_CONVERSIONS:
        return (
            f"too few conversions to tell (treated {t.converters}, holdout "
            f"{c.converters}; want {MIN_CONVERSIONS}+ each)"
        )
    return None


def format_table(results: list[RuleLift]) -> str:
    """The text table `etalage report` prints."""
    lines = [
        f"{'rule':<26} {'treated':>16} {'holdout':>16} {'abs lift (95% CI)':>30} "
        f"{'rel lift (95% CI)':>28}"
    ]
    for r in results:
        rel = (
            f"{r.relative:+.1%} [{r.relative_ci[0]:+.1%}, {r.relative_ci[1]:+.1%}]"
            if r.relative is not None and r.relative_ci
            else "n/a"
        )
        lines.append(
            f"{r.rule:<26} {r.treated.converters:>5}/{r.treated.visitors:<5} {r.treated.rate:>5.1%}"
            f" {r.holdout.converters:>5}/{r.holdout.visitors:<5} {r.holdout.rate:>5.1%} "
            f"{r.absolute:>+8.2%} [{r.absolute_ci[0]:+.2%}, {r.absolute_ci[1]:+.2%}] {rel:>28}"
        )
        if r.warning:
            lines.append(f"{'':<26} warning: {r.warning}")
    if not results:
        lines.append("(no exposures found)")
    return "\n".join(lines)


def render_html(results: list[RuleLift]) -> str:
    """A self-contained HTML page with a chart of absolute lift and intervals per rule."""
    finite = [x for r in results for x in r.absolute_ci if math.isfinite(x)] + [0.0]
    span = max(abs(min(finite)), abs(max(finite)), 0.01) * 1.1
    width, row, left = 640, 34, 200
    height = row * max(len(results), 1) + 40

    def x(value: float) -> float:
        value = max(-span, min(span, value))
        return left + (value + span) / (2 * span) * (width - left - 20)

    parts = [
        f'<line x1="{x(0):.1f}" y1="10" x2="{x(0):.1f}" y2="{height - 20}" '
        'stroke="#888" stroke-dasharray="4"/>'
    ]
    for i, r in enumerate(results):
        y = 30 + i * row
        low, high = r.absolute_ci
        color = "#2f7d4a" if low > 0 else "#b33" if high < 0 else "#777"
        parts.append(
            f'<text x="{left - 10}" y="{y + 4}" text-anchor="end">{html.escape(r.rule)}</text>'
        )
        parts.append(
            f'<line x1="{x(low):.1f}" y1="{y}" x2="{x(high):.1f}" y2="{y}" '
            f'stroke="{color}" stroke-width="3"/>'
        )
        parts.append(f'<circle cx="{x(r.absolute):.1f}" cy="{y}" r="5" fill="{color}"/>')
    parts.append(f'<text x="{x(-span):.1f}" y="{height - 4}">{-span:+.1%}</text>')
    parts.append(f'<text x="{x(span) - 40:.1f}" y="{height - 4}">{span:+.1%}</text>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="system-ui,sans-serif" font-size="13">{"".join(parts)}</svg>'
    )
    rows = "".join(
        f"<tr><td>{html.escape(r.rule)}</td><td>{r.treated.converters}/{r.treated.visitors}"
        f" ({r.treated.rate:.1%})</td><td>{r.holdout.converters}/{r.holdout.visitors}"
        f" ({r.holdout.rate:.1%})</td><td>{r.absolute:+.2%} [{r.absolute_ci[0]:+.2%}, "
        f"{r.absolute_ci[1]:+.2%}]</td><td>{html.escape(r.warning or '')}</td></tr>"
        for r in results
    )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>etalage lift report</title>"
        "<style>body{font:15px system-ui,sans-serif;margin:2rem;color:#1d2a22}"
        "td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}</style>"
        "<h1>Personalization lift per rule</h1><p>Absolute lift in conversion rate, treated "
        "versus holdout, with 95% confidence intervals.</p>"
        + svg
        + "<table><tr><th>rule</th><th>treated</th><th>holdout</th><th>absolute lift</th>"
        f"<th>note</th></tr>{rows}</table></html>"
    )


def run_report(
    source: str, *, since: str | None = None, until: str | None = None, html: str | None = None
) -> int:
    """The `etalage report` command."""
    from etalage.events import read_events

    try:
        start = datetime.fromisoformat(since) if since else None
        end = datetime.fromisoformat(until) if until else None
    except ValueError as exc:
        print(f"error: --since/--until: {exc}", file=sys.stderr)
        return 2
    try:
        events = read_events(source)
    except OSError as exc:
        print(f"error: cannot read events from {source}: {exc}", file=sys.stderr)
        return 1
    results = compute_lift(events, since=start, until=end)
    print(format_table(results))
    if html:
        with open(html, "w", encoding="utf-8") as handle:
            handle.write(render_html(results))
        print(f"wrote {html}")
    return 0
