"""`etalage report`: per rule, treated versus holdout conversion, lift and its 95% interval.

A visitor counts for a rule from their first exposure to it: in the treated group when they
saw the rule, in the holdout group when the rule would have applied but they were held out
(the exposure event then names the rule as candidate, with ``"holdout": true``). A visitor
converts for that rule when a conversion event of the chosen type (``purchase`` by default)
follows that first exposure; the group's conversion rate is converters / visitors.

Statistics (normal approximation, two independent proportions):
- absolute lift ``p_t - p_h`` with a Wald interval, unpooled standard error
  ``sqrt(p_t (1 - p_t) / n_t + p_h (1 - p_h) / n_h)``;
- relative lift ``p_t / p_h - 1`` with the Katz interval on the log risk ratio, standard error
  ``sqrt((1 - p_t) / x_t + (1 - p_h) / x_h)`` (x: converters);
- a sample-size warning when a group has fewer than 100 visitors or 10 conversions, and, when
  the interval still straddles zero, how many visitors would detect a lift of the observed size
  (two-sided 5% test, 80% power, keeping the current treated/holdout split) or, when that is
  out of reach (over 100 times the current size), the smallest lift the current size detects.

With ``--sequential`` the absolute lift's interval is an always-valid 95% confidence sequence
instead (GrowthBook's normal-mixture boundary, `etalage.cli.stats.ConfidenceSequence`): wider,
but honest however often the report is read. With ``--holdout-share`` each rule's visitor
counts are checked against the split they were drawn with (a sample-ratio mismatch, chi-square
p < 0.001, means the groups are not comparable and the lift should not be trusted).
"""

from __future__ import annotations

import html
import math
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from etalage.cli.stats import DEFAULT_TUNING, ConfidenceSequence, SampleRatio, sample_ratio_test

Z_95 = 1.959963984540054  # the 97.5% quantile of the standard normal
Z_POWER_80 = 0.8416212335729143  # its 80% quantile
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
    srm: SampleRatio | None = None

    @property
    def srm_warning(self) -> str | None:
        """The sample-ratio-mismatch warning, when the check ran and failed."""
        if self.srm is None or not self.srm.mismatch:
            return None
        counts = " vs ".join(f"{count:,}" for count in self.srm.observed)
        split = ":".join(f"{share * 100:.3g}" for share in self.srm.shares)
        return (
            f"sample ratio mismatch: {counts} visitors where {split} was expected, "
            f"p={self.srm.p_value:.2g}"
        )

    @property
    def warnings(self) -> list[str]:
        """Every warning for this rule, the most serious first."""
        return [w for w in (self.srm_warning, self.warning) if w]


def absolute_lift(
    t: GroupStats, c: GroupStats, sequence: ConfidenceSequence | None = None
) -> tuple[float, tuple[float, float]]:
    """Difference of proportions with a Wald 95% interval (unpooled standard error), or with
    `sequence` the always-valid confidence sequence around it (same variance)."""
    diff = t.rate - c.rate
    if not t.visitors or not c.visitors:
        return diff, (-math.inf, math.inf)
    variance = t.rate * (1 - t.rate) / t.visitors + c.rate * (1 - c.rate) / c.visitors
    if sequence is None:
        half = Z_95 * math.sqrt(variance)
    else:
        half = sequence.halfwidth(variance, t.visitors + c.visitors)
    return diff, (diff - half, diff + half)


def relative_lift(t: GroupStats, c: GroupStats) -> tuple[float | None, tuple[float, float] | None]:
    """Ratio of proportions minus one, with a 95% interval from the log risk ratio (Katz)."""
    if not t.converters or not c.converters:
        return None, None
    ratio = t.rate / c.rate
    se = math.sqrt((1 - t.rate) / t.converters + (1 - c.rate) / c.converters)
    low, high = math.log(ratio) - Z_95 * se, math.log(ratio) + Z_95 * se
    return ratio - 1, (math.exp(low) - 1, math.exp(high) - 1)


def visitors_needed(t: GroupStats, c: GroupStats) -> tuple[int, int] | None:
    """Visitors (treated, holdout) to detect the observed lift: 5% two-sided, 80% power.

    Keeps the current split ``k = n_t / n_h``: ``n_h = (z_a + z_b)^2 (p_t q_t / k + p_h q_h) /
    d^2``, ``n_t = k n_h``. None when there is no lift to detect or no group to scale.
    """
    diff = t.rate - c.rate
    if not t.visitors or not c.visitors or diff == 0:
        return None
    k = t.visitors / c.visitors
    variance = t.rate * (1 - t.rate) / k + c.rate * (1 - c.rate)
    holdout = math.ceil((Z_95 + Z_POWER_80) ** 2 * variance / diff**2)
    return math.ceil(k * holdout), holdout


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def compute_lift(
    events: Iterable[dict[str, Any]],
    *,
    conversion: str = "purchase",
    since: datetime | None = None,
    until: datetime | None = None,
    holdout_share: float | None = None,
    sequence: ConfidenceSequence | None = None,
) -> list[RuleLift]:
    """Compute per-rule lift from exposure and conversion events (naive times are UTC).

    `holdout_share` (the rule set's, between 0 and 1) runs the sample-ratio check on every rule
    with visitors in both groups; `sequence` makes the absolute lift's interval always-valid.
    """
    if holdout_share is not None and not 0 < holdout_share < 1:
        raise ValueError(f"the holdout share must be between 0 and 1, not {holdout_share}")
    since = _as_utc(since) if since else None
    until = _as_utc(until) if until else None
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
                first_exposure[key] = (at, event.get("holdout") is True)
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
        treated, control = groups[rule][False], groups[rule][True]
        t = GroupStats(int(treated[0]), int(treated[1]), float(treated[2]))
        c = GroupStats(int(control[0]), int(control[1]), float(control[2]))
        diff, ci = absolute_lift(t, c, sequence)
        rel, rel_ci = relative_lift(t, c)
        srm = None
        if holdout_share is not None and t.visitors and c.visitors:
            # a variant is one more group here, with its own share
            srm = sample_ratio_test((t.visitors, c.visitors), (1 - holdout_share, holdout_share))
        warning = _warning(t, c, ci, sequential=sequence is not None)
        results.append(RuleLift(rule, t, c, diff, ci, rel, rel_ci, warning, srm))
    return results


def _warning(
    t: GroupStats, c: GroupStats, ci: tuple[float, float], *, sequential: bool = False
) -> str | None:
    if not c.visitors:
        return (
            "no holdout visitors: lift cannot be measured (a contextual rule, or holdout: 0 "
            "in the rule file)"
        )
    if not t.visitors:
        return "no treated visitors: lift cannot be measured"
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
    if not ci[0] <= 0 <= ci[1]:
        return None
    if sequential:  # the sample sizes below are for a single, fixed-horizon look
        return "inconclusive so far: the interval includes 0; it narrows as visitors accrue"
    needed = visitors_needed(t, c)
    if needed and needed[0] <= 100 * t.visitors and needed[1] <= 100 * c.visitors:
        return (
            f"inconclusive: the interval includes 0; about {needed[0]} treated and "
            f"{needed[1]} holdout visitors would detect a lift this size (80% power)"
        )
    return (
        "inconclusive: the interval includes 0; with these visitors only a lift beyond "
        f"±{detectable_lift(t, c):.2%} is detectable (80% power)"
    )


def detectable_lift(t: GroupStats, c: GroupStats) -> float:
    """The smallest absolute lift these group sizes detect: 5% two-sided, 80% power.

    ``(z_a + z_b) sqrt(p (1 - p) (1 / n_t + 1 / n_h))`` with the holdout rate as ``p``.
    """
    p = c.rate
    return (Z_95 + Z_POWER_80) * math.sqrt(p * (1 - p) * (1 / t.visitors + 1 / c.visitors))


def _pct(value: float, digits: int = 1) -> str:
    return f"{value:+.{digits}%}" if math.isfinite(value) else "n/a"


def _interval(ci: tuple[float, float] | None, digits: int = 1) -> str:
    if ci is None or not all(math.isfinite(x) for x in ci):
        return "n/a"
    return f"[{_pct(ci[0], digits)}, {_pct(ci[1], digits)}]"


def _absolute(r: RuleLift) -> str:
    if not (r.treated.visitors and r.holdout.visitors):
        return "n/a"
    return f"{_pct(r.absolute, 2)} {_interval(r.absolute_ci, 2)}"


def _relative(r: RuleLift) -> str:
    if r.relative is None:
        return "n/a"
    return f"{_pct(r.relative)} {_interval(r.relative_ci)}"


def format_narrow_table(results: list[RuleLift]) -> str:
    """The table `etalage report` prints by default, within 80 columns: per rule the conversion
    rate of the treated and the holdout, and the absolute lift with its 95% interval."""
    header = f"{'rule':<22} {'treated':>8} {'holdout':>8} {'abs lift [95% CI]':>30} {'visitors':>8}"
    lines = [header, "-" * len(header)]
    for r in results:
        visitors = r.treated.visitors + r.holdout.visitors
        lines.append(
            f"{r.rule[:22]:<22} {_rate(r.treated):>8} {_rate(r.holdout):>8} "
            f"{_absolute(r):>30} {visitors:>8}"
        )
        for warning in r.warnings:
            lines.extend(
                textwrap.wrap(warning, 78, initial_indent="  ! ", subsequent_indent="    ")
            )
    if not results:
        lines.append("(no exposures found)")
    return "\n".join(lines)


def _rate(group: GroupStats) -> str:
    return f"{group.rate:.2%}" if group.visitors else "n/a"


def format_table(results: list[RuleLift]) -> str:
    """The wide table (``etalage report --wide``): one line per rule with the conversions and
    visitors of each group and the relative lift too, a warning line under it."""
    header = (
        f"{'rule':<24} {'treated: conv/visitors':>24} {'holdout: conv/visitors':>24} "
        f"{'abs lift [95% CI]':>28} {'rel lift [95% CI]':>28}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        rel = _relative(r)
        treated = f"{r.treated.converters}/{r.treated.visitors} {r.treated.rate:6.2%}"
        holdout = f"{r.holdout.converters}/{r.holdout.visitors} {r.holdout.rate:6.2%}"
        absolute = _absolute(r)
        lines.append(f"{r.rule:<24} {treated:>24} {holdout:>24} {absolute:>28} {rel:>28}")
        lines.extend(f"{'':<24} warning: {warning}" for warning in r.warnings)
    if not results:
        lines.append("(no exposures found)")
    return "\n".join(lines)


FIXED_HORIZON = "fixed-horizon 95% (valid when read once, at the planned size)"


def interval_method(sequence: ConfidenceSequence | None) -> str:
    """Which interval the report shows, in words, for its header."""
    if sequence is None:
        return FIXED_HORIZON
    return f"always-valid 95% confidence sequences (tuned to {sequence.tuning:,.0f} visitors)"


def _chart(results: list[RuleLift]) -> str:
    """Inline SVG, one small chart per rule stacked in one figure: the rule's absolute lift
    (dot), its interval (bar) and zero (dashed) on the rule's own scale, its sample-ratio
    warning above them."""
    width, left, right = 640, 16, 16
    panels, top = [], 0
    for r in results:
        panel, height = _panel(r, top, width, left, right)
        panels.append(panel)
        top += height
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{top}" '
        f'viewBox="0 0 {width} {top}" font-family="system-ui,sans-serif" font-size="13">'
        "<title>Absolute lift in conversion rate per rule, with its interval</title>"
        f"{''.join(panels)}</svg>"
    )


def _panel(r: RuleLift, top: int, width: int, left: int, right: int) -> tuple[str, int]:
    """One rule's chart, `top` pixels down the figure; returns it and its height."""
    low, high = r.absolute_ci
    measurable = math.isfinite(low) and math.isfinite(high)
    extent = max(abs(low), abs(high), abs(r.absolute)) if measurable else 0.0
    span = max(extent, 0.01) * 1.15
    warning = r.srm_warning
    y = top + (52 if warning else 36)
    height = y - top + 36

    def x(value: float) -> float:
        value = max(-span, min(span, value))
        return left + (value + span) / (2 * span) * (width - left - right)

    name = html.escape(r.rule if len(r.rule) <= 60 else r.rule[:59] + "…")
    parts = [
        f'<line x1="{x(0):.1f}" y1="{y - 14}" x2="{x(0):.1f}" y2="{y + 14}" stroke="#888" '
        f'stroke-dasharray="4"/><text x="{left}" y="{top + 16}" font-weight="600">{name}</text>'
    ]
    if warning:
        parts.append(
            f'<text x="{left}" y="{top + 34}" fill="#8a5a00" font-size="12">'
            f"{html.escape(warning)}</text>"
        )
    if not measurable:
        parts.append(
            f'<text x="{x(0) + 8:.1f}" y="{y + 4}" fill="#777">no holdout or no treated '
            "visitors</text>"
        )
    else:
        color = "#2f7d4a" if low > 0 else "#b33" if high < 0 else "#777"
        if warning:
            color = "#b8860b"  # groups that do not match their draw: no verdict either way
        label = f"{r.rule}: {r.absolute:+.2%} [{low:+.2%}, {high:+.2%}]"
        parts.append(
            f'<g><title>{html.escape(label)}</title><line x1="{x(low):.1f}" y1="{y}" '
            f'x2="{x(high):.1f}" y2="{y}" stroke="{color}" stroke-width="4" '
            f'stroke-linecap="round"/><circle cx="{x(r.absolute):.1f}" cy="{y}" r="6" '
            f'fill="{color}"/></g>'
        )
    for value, anchor in ((-span, "start"), (0.0, "middle"), (span, "end")):
        parts.append(
            f'<text x="{x(value):.1f}" y="{y + 30}" text-anchor="{anchor}" fill="#555" '
            f'font-size="11">{value:+.1%}</text>'
        )
    return "".join(parts), height


def render_html(results: list[RuleLift], *, subtitle: str = "", method: str = FIXED_HORIZON) -> str:
    """A self-contained HTML page (no external assets): a lift chart per rule and the table."""
    rows = "".join(
        f"<tr><td>{html.escape(r.rule)}</td>"
        f"<td>{r.treated.converters} / {r.treated.visitors}</td><td>{r.treated.rate:.2%}</td>"
        f"<td>{r.holdout.converters} / {r.holdout.visitors}</td><td>{r.holdout.rate:.2%}</td>"
        f"<td>{_absolute(r)}</td>"
        f"<td>{_relative(r)}</td>"
        f"<td>{'<br>'.join(html.escape(w) for w in r.warnings)}</td></tr>"
        for r in results
    )
    if not results:
        rows = '<tr><td colspan="8">No exposures found.</td></tr>'
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>etalage lift report</title>"
        "<style>body{font:15px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2a22}"
        "table{border-collapse:collapse;margin-top:1.5rem}"
        "td,th{padding:.35rem .6rem;border-bottom:1px solid #ddd;text-align:left}"
        "th{font-weight:600}td{vertical-align:top}td:not(:last-child){white-space:nowrap}"
        ".note{color:#555}</style></head><body>"
        "<h1>Personalization lift per rule</h1>"
        f'<p class="note">{html.escape(subtitle)}</p>'
        f'<p class="note">Intervals: {html.escape(method)}.</p>'
        "<p>Per rule, the absolute lift in conversion rate of treated versus holdout visitors "
        "and its interval, each on its own scale: green, above zero; red, below; grey, not "
        "distinguishable from zero; amber, groups that do not match their draw.</p>"
        + (_chart(results) if results else "")
        + "<table><tr><th>rule</th><th>treated conv / visitors</th><th>rate</th>"
        "<th>holdout conv / visitors</th><th>rate</th><th>absolute lift [95%]</th>"
        f"<th>relative lift [95% CI]</th><th>note</th></tr>{rows}</table></body></html>\n"
    )


def _moment(text: str | None, flag: str, *, end_of_day: bool = False) -> datetime | None:
    """An ISO date or date-time; a bare date means its first moment, or with `end_of_day`
    its last one (``--until 2026-02-12`` counts the whole of the 12th)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{flag}: not an ISO date or date-time: {text!r}") from None
    if end_of_day and _is_bare_date(text):
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999_999)
    return _as_utc(moment)


def _is_bare_date(text: str) -> bool:
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def run_report(
    source: str,
    *,
    since: str | None = None,
    until: str | None = None,
    html: str | None = None,
    conversion: str = "purchase",
    wide: bool = False,
    holdout_share: float | None = None,
    sequential: bool = False,
    sequential_tuning: float = DEFAULT_TUNING,
) -> int:
    """The `etalage report` command: read the events, print the table, write the HTML page."""
    from etalage.events import iter_events

    try:
        start = _moment(since, "--since")
        end = _moment(until, "--until", end_of_day=True)
        if holdout_share is not None and not 0 < holdout_share < 1:
            raise ValueError(f"--holdout-share: a share between 0 and 1, not {holdout_share}")
        if sequential_tuning <= 0:
            raise ValueError(
                f"--sequential-tuning: a positive number of visitors, not {sequential_tuning}"
            )
        sequence = ConfidenceSequence(tuning=sequential_tuning) if sequential else None
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    counts = {"events": 0, "exposures": 0, "conversions": 0}
    seen_conversions: set[str] = set()

    def counted(events: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        for event in events:
            at = _parse_time(event.get("at"))
            if at is not None and ((start and at < start) or (end and at > end)):
                yield event  # outside the window: compute_lift leaves it out, so do the counts
                continue
            counts["events"] += 1
            if event.get("type") == "exposure":
                counts["exposures"] += 1
            elif event.get("type") == "conversion":
                seen_conversions.add(str(event.get("event")))
                if event.get("event") == conversion:
                    counts["conversions"] += 1
            yield event

    try:
        results = compute_lift(
            counted(iter_events(source)),
            conversion=conversion,
            since=start,
            until=end,
            holdout_share=holdout_share,
            sequence=sequence,
        )
    except ImportError:
        print(
            "error: reading a Redis stream needs redis-py: pip install 'etalage[redis]'",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:  # noqa: BLE001 - OSError, redis errors, a bad URL: one message
        print(f"error: cannot read events from {source}: {exc}", file=sys.stderr)
        return 1
    window = f" between {since or 'the start'} and {until or 'the end'}" if since or until else ""
    summary = (
        f"{counts['events']} events ({counts['exposures']} exposures, "
        f"{counts['conversions']} {conversion} conversions) from {source}{window}"
    )
    print(summary)
    method = interval_method(sequence)
    print(f"intervals: {method}")
    if holdout_share is None:
        print("sample-ratio check skipped: --holdout-share gives the split to check against")
    if counts["events"] and not counts["conversions"]:
        others = ", ".join(sorted(seen_conversions)) or "none"
        print(
            f"warning: no {conversion!r} conversion in these events (conversions seen: "
            f"{others}); is it declared in the middleware's conversions=?",
            file=sys.stderr,
        )
    print(format_table(results) if wide else format_narrow_table(results))
    if html:
        try:
            with open(html, "w", encoding="utf-8") as handle:
                handle.write(render_html(results, subtitle=summary, method=method))
        except OSError as exc:
            print(f"error: cannot write {html}: {exc}", file=sys.stderr)
            return 1
        print(f"wrote {html}")
    return 0
