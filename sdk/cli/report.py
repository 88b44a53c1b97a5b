"""`etalage report`: per rule and per variant, treated versus control conversion, lift and its
95% interval.

A visitor counts for a rule from their first exposure to it (under the newest bucket version
they saw, `etalage.cli.exposures`): treated when they saw the rule (in the variant the exposure
names, for a rule with variants), held out when the rule would have applied but they were held
out (the exposure event then names the rule as candidate, with ``"holdout": true`` and which
holdout in ``holdout_kind``). The control of a rule is its own holdout when it has one, else the
site-wide holdout (`etalage.cli.splits`); the two are independent draws, and the visitors of
the other one are left out of that rule's comparison. A visitor converts for a rule when a
conversion event of the chosen type (``purchase`` by default) follows that first exposure; a
group's conversion rate is converters / visitors. Each variant is compared with the rule's
control, as is the rule as a whole (all its treated visitors).

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
but honest however often the report is read. With ``--rules`` each rule's visitors per group
(site-wide holdout, own holdout, each variant) are checked against the split the rule file
draws; without it, ``--holdout-share`` checks treated against control (a sample-ratio
mismatch, chi-square p < 0.001, means the groups are not comparable and the lift should not be
trusted).
"""

from __future__ import annotations

import html
import math
import sys
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from etalage.cli.exposures import EventLog, as_utc, parse_time, read_log
from etalage.cli.splits import (
    CONTROL_NAMES,
    Control,
    Split,
    observed_key,
    split_from_rules,
    split_from_share,
    variant_key,
)
from etalage.cli.stats import DEFAULT_TUNING, ConfidenceSequence, SampleRatio, sample_ratio_test

if TYPE_CHECKING:
    from etalage.rules import Ruleset

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
class VariantLift:
    """One variant of a rule against the rule's control group."""

    index: int  # from 0, as exposure events number variants
    name: str | None  # the variant's fragment, when the rule file was given
    treated: GroupStats
    absolute: float
    absolute_ci: tuple[float, float]
    relative: float | None
    relative_ci: tuple[float, float] | None
    warning: str | None

    @property
    def label(self) -> str:
        """``variant 1`` for index 0, as `etalage explain` and preview links count them."""
        return variant_key(self.index)


@dataclass(frozen=True)
class RuleLift:
    """Treated versus control for one rule, with lift and 95% confidence intervals.

    `holdout` is the control group: the site-wide holdout or, for a rule with a holdout of its
    own, that one (`control` says which). `variants` compare each variant with the same control;
    `other_holdout` counts the visitors of the other holdout, left out of the comparison.
    """

    rule: str
    treated: GroupStats
    holdout: GroupStats
    absolute: float
    absolute_ci: tuple[float, float]
    relative: float | None
    relative_ci: tuple[float, float] | None
    warning: str | None
    srm: SampleRatio | None = None
    control: Control = "site"
    variants: tuple[VariantLift, ...] = ()
    other_holdout: GroupStats | None = None
    bucket_versions: tuple[int, ...] = ()
    srm_groups: tuple[str, ...] = ("treated", "holdout")

    @property
    def srm_warning(self) -> str | None:
        """The sample-ratio-mismatch warning, when the check ran and failed."""
        if self.srm is None or not self.srm.mismatch:
            return None
        split = ":".join(f"{share * 100:.3g}" for share in self.srm.shares)
        if len(self.srm.observed) == 2 and self.srm_groups[0] == "treated":
            counts = " vs ".join(f"{count:,}" for count in self.srm.observed)
        else:
            counts = ", ".join(
                f"{GROUP_LABELS.get(group, group)} {count:,}"
                for group, count in zip(self.srm_groups, self.srm.observed, strict=True)
            )
        return (
            f"sample ratio mismatch: {counts} visitors where {split} was expected, "
            f"p={self.srm.p_value:.2g}"
        )

    @property
    def warnings(self) -> list[str]:
        """Every warning for this rule, the most serious first."""
        return [w for w in (self.srm_warning, self.warning) if w]

    @property
    def notes(self) -> list[str]:
        """What the comparison leaves out or merges, for the wide table and the HTML page."""
        notes = []
        if self.other_holdout is not None and self.other_holdout.visitors:
            other = "rule" if self.control == "site" else "site"
            notes.append(
                f"{self.other_holdout.visitors:,} visitors of the {CONTROL_NAMES[other]} are "
                f"not in this comparison (control: the {CONTROL_NAMES[self.control]})"
            )
        if len(self.bucket_versions) > 1:
            versions = ", ".join(str(v) for v in self.bucket_versions)
            notes.append(
                f"exposures under bucket versions {versions}: each visitor counts under the "
                "newest they saw"
            )
        return notes


#: How the report names a group of a rule's split.
GROUP_LABELS = {"site": "site holdout", "rule": "own holdout"}
#: The control column of the tables.
CONTROL_SHORT = {"site": "site", "rule": "own"}


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


def compute_lift(
    events: Iterable[dict[str, Any]],
    *,
    conversion: str = "purchase",
    since: datetime | None = None,
    until: datetime | None = None,
    holdout_share: float | None = None,
    sequence: ConfidenceSequence | None = None,
    rules: Ruleset | None = None,
) -> list[RuleLift]:
    """Compute per-rule and per-variant lift from exposure and conversion events (naive times
    are UTC).

    `rules` (the rule file the events were drawn under) fixes each rule's control group and the
    split its sample-ratio check expects; for a rule it does not hold, `holdout_share` (the rule
    set's, between 0 and 1) checks treated against control. Without either, the control is the
    rule's own holdout when the events show one, else the site-wide holdout, and there is no
    check. `sequence` makes the absolute lift's intervals always-valid.
    """
    if holdout_share is not None and not 0 < holdout_share < 1:
        raise ValueError(f"the holdout share must be between 0 and 1, not {holdout_share}")
    log = read_log(
        events,
        conversion=conversion,
        since=as_utc(since) if since else None,
        until=as_utc(until) if until else None,
    )
    results = []
    for rule in sorted(log.rules):
        split = split_from_rules(rules, rule) if rules is not None else None
        results.append(_rule_lift(rule, log, split, holdout_share, sequence))
    return results


def _rule_lift(
    rule: str,
    log: EventLog,
    split: Split | None,
    holdout_share: float | None,
    sequence: ConfidenceSequence | None,
) -> RuleLift:
    exposures = log.rules[rule]
    tallies: dict[str, list[float]] = {}
    for visitor, exposure in exposures.visitors.items():
        key = observed_key(exposure.group, exposure.variant, with_variants=True)
        tally = tallies.setdefault(key, [0, 0, 0.0])
        tally[0] += 1
        after = log.conversions_after(visitor, exposure.at)
        if after:
            tally[1] += 1
            tally[2] += sum(after)

    def group(*keys: str) -> GroupStats:
        rows = [tallies[k] for k in keys if k in tallies]
        return GroupStats(
            int(sum(r[0] for r in rows)), int(sum(r[1] for r in rows)), sum(r[2] for r in rows)
        )

    if split is not None:
        control: Control = split.control
    else:
        control = "rule" if "rule" in tallies else "site"
    names = split.variant_names if split else ()
    drawn = {variant_key(i) for i in range(len(names))}
    variant_keys = sorted(
        {k for k in tallies if k.startswith("variant ")} | drawn, key=lambda k: int(k.split()[1])
    )
    t = group("treated", *variant_keys)
    c = group(control)
    diff, ci = absolute_lift(t, c, sequence)
    rel, rel_ci = relative_lift(t, c)
    variants = []
    for key in variant_keys:
        index = int(key.split()[1]) - 1
        v = group(key)
        v_diff, v_ci = absolute_lift(v, c, sequence)
        v_rel, v_rel_ci = relative_lift(v, c)
        variants.append(
            VariantLift(
                index,
                names[index] if index < len(names) else None,
                v,
                v_diff,
                v_ci,
                v_rel,
                v_rel_ci,
                _warning(v, c, v_ci, sequential=sequence is not None),
            )
        )
    srm, srm_groups = _sample_ratio(tallies, t, c, control, split, holdout_share)
    other = group("site" if control == "rule" else "rule")
    return RuleLift(
        rule,
        t,
        c,
        diff,
        ci,
        rel,
        rel_ci,
        _warning(t, c, ci, sequential=sequence is not None),
        srm,
        control,
        tuple(variants),
        other if other.visitors else None,
        tuple(sorted(exposures.bucket_versions)),
        srm_groups,
    )


def _sample_ratio(
    tallies: dict[str, list[float]],
    t: GroupStats,
    c: GroupStats,
    control: Control,
    split: Split | None,
    holdout_share: float | None,
) -> tuple[SampleRatio | None, tuple[str, ...]]:
    """The check against the rule file's split for the rule, else treated against control
    drawn with `holdout_share`; None when neither is known or there is nothing to compare."""
    if split is not None:
        keys = tuple(split.shares)
        if any(key not in split.shares for key in tallies):
            return None, ()  # groups the file does not draw (it changed since): no verdict
        observed = [int(tallies[k][0]) if k in tallies else 0 for k in keys]
        if len(keys) < 2 or not sum(observed):
            return None, ()
        return sample_ratio_test(observed, [split.shares[k] for k in keys]), keys
    if holdout_share is None or not (t.visitors and c.visitors):
        return None, ()
    fallback = split_from_share(holdout_share, control)
    keys = ("treated", control)
    srm = sample_ratio_test((t.visitors, c.visitors), [fallback.shares[k] for k in keys])
    return srm, keys


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


@dataclass(frozen=True)
class _Row:
    """One line of the tables and one bar of the chart: a rule, or one of its variants."""

    label: str
    short: str  # the label without the variant's fragment
    variant: bool
    treated: GroupStats
    control: GroupStats
    absolute: float
    absolute_ci: tuple[float, float]
    relative: float | None
    relative_ci: tuple[float, float] | None
    warning: str | None


def _rows(r: RuleLift) -> list[_Row]:
    """The rule's own row (all its treated visitors), then one per variant."""
    rows = [
        _Row(
            r.rule,
            r.rule,
            False,
            r.treated,
            r.holdout,
            r.absolute,
            r.absolute_ci,
            r.relative,
            r.relative_ci,
            None,
        )
    ]
    for v in r.variants:
        label = f"{v.label} ({v.name})" if v.name else v.label
        rows.append(
            _Row(
                label,
                v.label,
                True,
                v.treated,
                r.holdout,
                v.absolute,
                v.absolute_ci,
                v.relative,
                v.relative_ci,
                v.warning,
            )
        )
    return rows


def _pct(value: float, digits: int = 1) -> str:
    return f"{value:+.{digits}%}" if math.isfinite(value) else "n/a"


def _interval(ci: tuple[float, float] | None, digits: int = 1) -> str:
    if ci is None or not all(math.isfinite(x) for x in ci):
        return "n/a"
    return f"[{_pct(ci[0], digits)}, {_pct(ci[1], digits)}]"


def _absolute(row: _Row) -> str:
    if not (row.treated.visitors and row.control.visitors):
        return "n/a"
    return f"{_pct(row.absolute, 2)} {_interval(row.absolute_ci, 2)}"


def _relative(row: _Row) -> str:
    if row.relative is None:
        return "n/a"
    return f"{_pct(row.relative)} {_interval(row.relative_ci)}"


def format_narrow_table(results: list[RuleLift]) -> str:
    """The table `etalage report` prints by default, within 80 columns: per rule the control it
    is measured against (``site``: the site-wide holdout, ``own``: the rule's own holdout), the
    conversion rate of its treated and control visitors, the absolute lift with its 95%
    interval; then the same for each variant against that control."""
    header = (
        f"{'rule':<20} {'vs':<4} {'treated':>8} {'control':>8} {'abs lift [95% CI]':>27} "
        f"{'visitors':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        for row in _rows(r):
            label = f"  {row.short}" if row.variant else row.label
            vs = "" if row.variant else CONTROL_SHORT[r.control]
            visitors = row.treated.visitors + row.control.visitors
            lines.append(
                f"{label[:20]:<20} {vs:<4} {_rate(row.treated):>8} {_rate(row.control):>8} "
                f"{_absolute(row):>27} {visitors:>8}"
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
    """The wide table (``etalage report --wide``): one line per rule and one per variant with the
    control, the conversions and visitors of each group and the relative lift too; warnings
    and notes under them."""
    width = max([24] + [len(row.label) + 2 for r in results for row in _rows(r)])
    header = (
        f"{'rule':<{width}} {'vs':<4} {'treated: conv/visitors':>24} "
        f"{'control: conv/visitors':>24} {'abs lift [95% CI]':>28} {'rel lift [95% CI]':>28}"
    )
    lines = [header, "-" * len(header)]
    indent = " " * width
    for r in results:
        for row in _rows(r):
            label = f"  {row.label}" if row.variant else row.label
            vs = "" if row.variant else CONTROL_SHORT[r.control]
            treated = f"{row.treated.converters}/{row.treated.visitors} {row.treated.rate:6.2%}"
            control = f"{row.control.converters}/{row.control.visitors} {row.control.rate:6.2%}"
            lines.append(
                f"{label:<{width}} {vs:<4} {treated:>24} {control:>24} {_absolute(row):>28} "
                f"{_relative(row):>28}"
            )
            if row.variant and row.warning:
                lines.append(f"{indent} warning ({row.short}): {row.warning}")
        lines.extend(f"{indent} warning: {warning}" for warning in r.warnings)
        lines.extend(f"{indent} note: {note}" for note in r.notes)
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
    """Inline SVG, one small chart per rule stacked in one figure: per rule and per variant the
    absolute lift (dot) and its interval (bar), with zero (dashed) on the rule's own scale,
    the control it is measured against and its sample-ratio warning above them."""
    width, left, right = 640, 16, 16
    panels, top = [], 0
    for r in results:
        panel, height = _panel(r, top, width, left, right)
        panels.append(panel)
        top += height
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{top}" '
        f'viewBox="0 0 {width} {top}" font-family="system-ui,sans-serif" font-size="13">'
        "<title>Absolute lift in conversion rate per rule and per variant, with its interval"
        f"</title>{''.join(panels)}</svg>"
    )


ROW_HEIGHT = 34  # between the bars of a rule's variants


def _panel(r: RuleLift, top: int, width: int, left: int, right: int) -> tuple[str, int]:
    """One rule's chart, `top` pixels down the figure; returns it and its height."""
    rows = _rows(r)
    bounds = [
        abs(v)
        for row in rows
        for v in (*row.absolute_ci, row.absolute)
        if math.isfinite(v) and row.treated.visitors and row.control.visitors
    ]
    span = max(max(bounds, default=0.0), 0.01) * 1.15
    warning = r.srm_warning
    first = top + (68 if warning else 52) + (14 if len(rows) > 1 else 0)
    last = first + ROW_HEIGHT * (len(rows) - 1)
    height = last - top + 36

    def x(value: float) -> float:
        value = max(-span, min(span, value))
        return left + (value + span) / (2 * span) * (width - left - right)

    name = html.escape(r.rule if len(r.rule) <= 60 else r.rule[:59] + "…")
    against = f"against the {CONTROL_NAMES[r.control]}"
    parts = [
        f'<line x1="{x(0):.1f}" y1="{first - 14 - (14 if len(rows) > 1 else 0)}" '
        f'x2="{x(0):.1f}" y2="{last + 14}" stroke="#888" stroke-dasharray="4"/>'
        f'<text x="{left}" y="{top + 16}" font-weight="600">{name}</text>'
        f'<text x="{left}" y="{top + 32}" fill="#555" font-size="12">{against}</text>'
    ]
    if warning:
        parts.append(
            f'<text x="{left}" y="{top + 50}" fill="#8a5a00" font-size="12">'
            f"{html.escape(warning)}</text>"
        )
    for number, row in enumerate(rows):
        y = first + ROW_HEIGHT * number
        if len(rows) > 1:
            label = "all variants" if not row.variant else row.label
            parts.append(
                f'<text x="{left}" y="{y - 12}" fill="#333" font-size="12">'
                f"{html.escape(label)}</text>"
            )
        parts.append(_bar(r, row, y, x, warning is not None))
    y = last
    for value, anchor in ((-span, "start"), (0.0, "middle"), (span, "end")):
        parts.append(
            f'<text x="{x(value):.1f}" y="{y + 30}" text-anchor="{anchor}" fill="#555" '
            f'font-size="11">{value:+.1%}</text>'
        )
    return "".join(parts), height


def _bar(r: RuleLift, row: _Row, y: int, x: Callable[[float], float], mismatch: bool) -> str:
    """One row's dot and interval, or why there is none."""
    low, high = row.absolute_ci
    if not (row.treated.visitors and row.control.visitors) or not (
        math.isfinite(low) and math.isfinite(high)
    ):
        return (
            f'<text x="{x(0) + 8:.1f}" y="{y + 4}" fill="#777">no control or no treated '
            "visitors</text>"
        )
    color = "#2f7d4a" if low > 0 else "#b33" if high < 0 else "#777"
    if mismatch:
        color = "#b8860b"  # groups that do not match their draw: no verdict either way
    name = f"{r.rule} {row.short}" if row.variant else r.rule
    label = f"{name}: {row.absolute:+.2%} [{low:+.2%}, {high:+.2%}]"
    return (
        f'<g><title>{html.escape(label)}</title><line x1="{x(low):.1f}" y1="{y}" '
        f'x2="{x(high):.1f}" y2="{y}" stroke="{color}" stroke-width="4" '
        f'stroke-linecap="round"/><circle cx="{x(row.absolute):.1f}" cy="{y}" r="6" '
        f'fill="{color}"/></g>'
    )


def _html_rows(r: RuleLift) -> str:
    cells = []
    for row in _rows(r):
        if row.variant:
            label = f'<td class="variant">{html.escape(row.label)}</td><td></td>'
            notes = [f"{row.warning}"] if row.warning else []
        else:
            label = (
                f"<td>{html.escape(r.rule)}</td><td>{html.escape(CONTROL_NAMES[r.control])}</td>"
            )
            notes = r.warnings + r.notes
        cells.append(
            f"<tr>{label}"
            f"<td>{row.treated.converters} / {row.treated.visitors}</td>"
            f"<td>{row.treated.rate:.2%}</td>"
            f"<td>{row.control.converters} / {row.control.visitors}</td>"
            f"<td>{row.control.rate:.2%}</td>"
            f"<td>{_absolute(row)}</td><td>{_relative(row)}</td>"
            f"<td>{'<br>'.join(html.escape(n) for n in notes)}</td></tr>"
        )
    return "".join(cells)


def render_html(results: list[RuleLift], *, subtitle: str = "", method: str = FIXED_HORIZON) -> str:
    """A self-contained HTML page (no external assets): a lift chart per rule (a bar per
    variant) and the table."""
    rows = "".join(_html_rows(r) for r in results)
    if not results:
        rows = '<tr><td colspan="9">No exposures found.</td></tr>'
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>etalage lift report</title>"
        "<style>body{font:15px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2a22}"
        "table{border-collapse:collapse;margin-top:1.5rem}"
        "td,th{padding:.35rem .6rem;border-bottom:1px solid #ddd;text-align:left}"
        "th{font-weight:600}td{vertical-align:top}td:not(:last-child){white-space:nowrap}"
        "td.variant{padding-left:1.6rem}td:last-child{min-width:18rem}.note{color:#555}</style></head><body>"
        "<h1>Personalization lift per rule</h1>"
        f'<p class="note">{html.escape(subtitle)}</p>'
        f'<p class="note">Intervals: {html.escape(method)}.</p>'
        "<p>Per rule, the absolute lift in conversion rate of treated versus control visitors "
        "and its interval, each on its own scale, with one bar per variant for a rule with "
        "variants (each against the same control): green, above zero; red, below; grey, not "
        "distinguishable from zero; amber, groups that do not match their draw. The control is "
        "the rule's own holdout when it has one, else the site-wide holdout.</p>"
        + (_chart(results) if results else "")
        + "<table><tr><th>rule</th><th>control</th><th>treated conv / visitors</th>"
        "<th>rate</th><th>control conv / visitors</th><th>rate</th>"
        "<th>absolute lift [95%]</th><th>relative lift [95% CI]</th><th>note</th></tr>"
        f"{rows}</table></body></html>\n"
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
    return as_utc(moment)


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
    rules: str | None = None,
) -> int:
    """The `etalage report` command: read the events, print the table, write the HTML page.

    `rules` is the rule file the events were drawn under: each rule's control group and the
    split its sample-ratio check expects come from it (`holdout_share` covers the rest).
    """
    from etalage.errors import EtalageError
    from etalage.events import iter_events
    from etalage.rules import load_ruleset

    ruleset = None
    if rules:
        try:
            ruleset = load_ruleset(rules)
        except EtalageError as exc:
            print(f"error: --rules: {exc}", file=sys.stderr)
            return 2
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
            at = parse_time(event.get("at"))
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
            rules=ruleset,
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
    if ruleset is not None:
        print(f"sample-ratio check: each rule's split as drawn in {rules}")
    elif holdout_share is None:
        print("sample-ratio check skipped: --rules or --holdout-share gives the expected split")
    if counts["events"] and not counts["conversions"]:
        others = ", ".join(sorted(seen_conversions)) or "none"
        print(
            f"warning: no {conversion!r} conversion in these events (conversions seen: "
            f"{others}); is it declared in the middleware's conversions=?",
            file=sys.stderr,
        )
    print("control: own = the rule's own holdout, site = the site-wide holdout")
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
