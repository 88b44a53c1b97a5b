"""Micro benchmarks of the rule engine, printed as ratios.

(a) Conditions: every evalCondition case of GrowthBook's conformance suite, evaluated many
times with etalage's pre-compiled predicates and with the `growthbook` package's own
``evalCondition`` (same cases, same repetitions, same run; best of several rounds).

(b) Decisions: microseconds per ``Ruleset.decide()`` for a page with 5 slots, against generated
rule files of 20, 200 and 2000 rules spread round-robin over 50 slots (written as YAML and
parsed by the real loader), for a consenting visitor with realistic attributes. A visitor no
rule matches shows the full-scan cost, and a 2000-rule file that puts only the 200-rule file's
rules on the page's slots shows that cost follows the rules of the page's slots, not all rules.

Last line: ``speedup_vs_growthbook=<x> decide_us_200_rules=<µs> decide_us_2000_rules=<µs>``.

Usage: python benchmarks/rules_bench.py
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from etalage.rules import Ruleset, parse_ruleset
from etalage.rules.conditions import compile_condition

CASES = (
    Path(__file__).resolve().parents[1] / "tests" / "rules" / "conformance" / "growthbook-cases.json"
)
REPETITIONS = 40
ROUNDS = 25  # many short rounds: the best one is the least disturbed by a noisy machine


def load_cases() -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """(condition, attributes, saved groups) of every evalCondition case."""
    raw = json.loads(CASES.read_text(encoding="utf-8"))["evalCondition"]
    return [(case[1], case[2], case[4] if len(case) > 4 else {}) for case in raw]


def best_time(run: Callable[[], object], rounds: int = ROUNDS) -> float:
    """Best wall time (seconds) of `rounds` calls of `run`."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def bench_conditions(repetitions: int = REPETITIONS) -> tuple[float, float]:
    """Seconds for all cases x `repetitions`: (etalage compiled, growthbook evalCondition)."""
    from growthbook.core import evalCondition

    cases = load_cases()
    compiled = [(compile_condition(cond, groups), attrs) for cond, attrs, groups in cases]
    for (predicate, attrs), (cond, _, groups) in zip(compiled, cases, strict=True):
        assert predicate(attrs) == evalCondition(attrs, cond, groups), cond

    def ours() -> None:
        for _ in range(repetitions):
            for predicate, attrs in compiled:
                predicate(attrs)

    def theirs() -> None:
        for _ in range(repetitions):
            for cond, attrs, groups in cases:
                evalCondition(attrs, cond, groups)

    return best_time(ours), best_time(theirs)


# --- (b) Ruleset.decide() ------------------------------------------------------------------

RULE_COUNTS = (20, 200, 2000)
SLOT_COUNT = 50
PAGE_SLOTS = tuple(f"slot-{i:02d}" for i in range(5))
DECIDE_ROUNDS = 7
DECIDE_ROUND_SECONDS = 0.05
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
TOPICS = ("hiking", "camping", "climbing", "skiing", "running", "cycling", "water", "kids")
SECTIONS = ("tents", "boots", "jackets", "backpacks", "bikes", "kayaks", "sale", "blog")
TERMS = ("tent", "boots", "rain jacket", "sleeping bag", "headlamp", "kayak", "helmet")
CAMPAIGNS = ("summer", "newsletter", "retarget", "brand")

HEADER = """\
version: 1
site: {name: bench, search_param: q, timezone: Europe/Berlin}
history:
  search:   {keep: 8,  relevant_for: 14d}
  view:     {keep: 20, relevant_for: 30d}
  interest: {half_life: 10d}
segments:
  returning: {visits.count: {$gte: 2}}
  shopper: {cart.items: {$gte: 1}}
  mobile: {device.type: mobile}
  loyal: {$and: [{segment.returning: true}, {purchases.count: {$gte: 2}}]}
holdout: 0.1
rules:
"""

#: A consenting returning visitor on a tent page, as `Visitor.attributes` builds them
#: (contextual request facts, derived history, consent, id, page facts).
VISITOR: dict[str, Any] = {
    "device.type": "desktop",
    "device.os": "macos",
    "device.browser": "firefox",
    "device.bot": False,
    "request.path": "/tents/alpine-2",
    "time.hour": 14,
    "time.weekday": 0,
    "time.date": "2026-06-15",
    "request.query.color": "green",
    "request.referrer_host": "www.example.org",
    "request.locale": "de-DE",
    "visits.count": 4,
    "lifecycle": "returning",
    "visits.first_seen_days": 40,
    "visits.last_seen_days": 3,
    "search.count": 2,
    "search.recent": ["tent", "sleeping bag"],
    "search.last": "tent",
    "search.last.age_days": 3,
    "search.last.age_hours": 75,
    "view.count": 6,
    "view.recent": ["/tents/alpine-2", "/tents", "/boots/trail-4"],
    "view.topics": ["camping", "hiking"],
    "view.last": "/tents/alpine-2",
    "view.last.age_days": 0,
    "view.last.topic": "camping",
    "interest.camping": 0.81,
    "interest.hiking": 0.55,
    "interest.climbing": 0.12,
    "interest.topics": ["camping", "hiking"],
    "interest.top": "camping",
    "cart.items": 0,
    "cart.value": 0.0,
    "purchases.count": 1,
    "purchases.total": 89.9,
    "purchases.last_days": 38,
    "prefs.name": "Alex",
    "consent.gpc": False,
    "consent.personalization": True,
    "id": "v-3f9c2a7e41b84d0c",
    "experiment.holdout": False,
    "page.path": "/tents/alpine-2",
    "page.category": "tents",
}

#: A consenting visitor no generated rule matches: every rule of the page's slots is evaluated.
NO_MATCH_VISITOR: dict[str, Any] = {
    "device.type": "console",
    "request.path": "/imprint",
    "time.hour": 3,
    "visits.count": 1,
    "search.count": 0,
    "view.count": 0,
    "interest.topics": [],
    "cart.items": 0,
    "purchases.count": 0,
    "consent.gpc": False,
    "consent.personalization": True,
    "id": "v-00aa11bb22cc33dd",
    "experiment.holdout": False,
}


def _flow(value: Any) -> str:
    """A value as YAML flow text (`{device.type: mobile}`), the way rule files are written."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def _condition(rng: random.Random) -> dict[str, Any]:
    """A realistic `when`: contextual, stored, segment-based or mixed; mostly narrow targeting."""
    kind = rng.randrange(12)
    topic, section, term = rng.choice(TOPICS), rng.choice(SECTIONS), rng.choice(TERMS)
    if kind == 0:
        return {"device.type": rng.choice(("mobile", "tablet"))}
    if kind == 1:
        return {"request.path": {"$regex": f"^/{section}(/|$)"}}
    if kind == 2:
        return {"search.last.age_days": {"$exists": True, "$lt": rng.choice((1, 2, 7))}}
    if kind == 3:
        return {f"interest.{topic}": {"$gt": 0.5}}
    if kind == 4:
        return {"segment.returning": True, "search.last": {"$in": rng.sample(TERMS, 2)}}
    if kind == 5:
        return {"segment.shopper": True, "cart.age_hours": {"$lt": rng.choice((24, 48))}}
    if kind == 6:
        return {"segment.mobile": True, f"interest.{topic}": {"$gt": 0.5}}
    if kind == 7:
        return {"request.utm.campaign": {"$in": rng.sample(CAMPAIGNS, 2)}}
    if kind == 8:
        return {"$or": [{"search.last": term}, {"view.last.topic": topic}]}
    if kind == 9:
        return {"segment.loyal": True, "page.category": section}
    if kind == 10:
        return {"time.hour": {"$gte": 18}, "device.type": "mobile"}
    return {"visits.count": {"$gte": 10}, "request.path": {"$regex": f"^/{section}/"}}


def _rule_yaml(index: int, slot: int, rng: random.Random, prefix: str = "r") -> str:
    """One rule entry: action, condition, priority, and sometimes schedule, cap, dismissal."""
    name = f"slot-{slot:02d}"
    lines = [f"  - id: {prefix}{index:04d}", f"    slot: {name}"]
    action = rng.random()
    if action < 0.8:
        lines.append(f"    fragment: {name}/variant-{index}.html")
    elif action < 0.9:
        lines.append("    reorder: {by: interest}")
    else:
        lines.append("    hide: true")
    lines.append(f"    when: {_flow(_condition(rng))}")
    lines.append(f"    priority: {rng.randrange(0, 100)}")
    if rng.random() < 0.2:
        start, end = rng.choice(
            (("2026-06-01", "2026-07-01"), ("2026-05-01", "2026-06-01"), ("2026-07-01", None))
        )
        lines.append(f'    start: "{start}T00:00"')
        if end:
            lines.append(f'    end: "{end}T00:00"')
    if rng.random() < 0.15:
        lines.append(f"    max_exposures: {rng.choice((1, 3, 5))}")
    if rng.random() < 0.1:
        lines.append("    dismissible: true")
    if rng.random() < 0.3:
        lines.append(f'    reason: "Rule {index} for {name}"')
    return "\n".join(lines) + "\n"


def ruleset_text(count: int, *, page_rules: int | None = None, seed: int = 7) -> str:
    """Rule-file text with `count` rules spread round-robin over the 50 slots.

    With `page_rules`, the page's slots get exactly the rules the `page_rules`-rule set gives
    them and the rest go to the other 45 slots (same total, fewer rules on the page).
    """
    rng = random.Random(seed)
    entries = [_rule_yaml(i, i % SLOT_COUNT, rng) for i in range(page_rules or count)]
    if page_rules is not None:
        others = SLOT_COUNT - len(PAGE_SLOTS)
        rng = random.Random(seed + 1)
        entries += [
            _rule_yaml(i, len(PAGE_SLOTS) + i % others, rng, prefix="x")
            for i in range(count - page_rules)
        ]
    return HEADER + "".join(entries)


def build_ruleset(text: str) -> Ruleset:
    """Parse through the real loader (schema checks, compiled conditions, slot index).

    `parse_ruleset` does not look at the fragments folder (only `etalage check` and the
    middleware's start-up do), so the generated fragment paths need not exist.
    """
    return parse_ruleset(text, "bench-rules.yaml")


def visitor_history(ruleset: Ruleset) -> tuple[dict[str, int], frozenset[str]]:
    """Exposure counts (some caps reached) and dismissed ids, as a profile would hold them."""
    rng = random.Random(11)
    exposures: dict[str, int] = {}
    dismissed: set[str] = set()
    for rule in ruleset.rules:
        if rule.max_exposures is not None and rng.random() < 0.5:
            exposures[rule.id] = rng.randrange(0, rule.max_exposures + 1)
        if rule.dismissible and rng.random() < 0.3:
            dismissed.add(rule.id)
    return exposures, frozenset(dismissed)


def time_decide(ruleset: Ruleset, attributes: Mapping[str, Any]) -> float:
    """Microseconds per `decide()` of the 5-slot page: best of several timed rounds."""
    exposures, dismissed = visitor_history(ruleset)
    decide = ruleset.decide

    def once() -> object:
        return decide(attributes, PAGE_SLOTS, NOW, exposures=exposures, dismissed=dismissed)

    calls = 1
    while True:  # calibrate: enough calls for one round to last DECIDE_ROUND_SECONDS
        start = time.perf_counter()
        for _ in range(calls):
            once()
        if time.perf_counter() - start >= DECIDE_ROUND_SECONDS / 5:
            break
        calls *= 2
    calls *= 5

    def run() -> None:
        for _ in range(calls):
            once()

    return best_time(run, DECIDE_ROUNDS) / calls * 1e6


def page_rule_count(ruleset: Ruleset) -> int:
    """How many rules target the page's slots."""
    return sum(len(ruleset.rules_for(slot)) for slot in PAGE_SLOTS)


def bench_decide() -> dict[int, tuple[int, float, float, int]]:
    """Per rule count: (rules on the page's slots, µs typical visitor, µs no-match, winners)."""
    results: dict[int, tuple[int, float, float, int]] = {}
    for count in RULE_COUNTS:
        ruleset = build_ruleset(ruleset_text(count))
        assert len(ruleset.rules) == count and len(ruleset.slots) == min(count, SLOT_COUNT)
        exposures, dismissed = visitor_history(ruleset)
        decisions = ruleset.decide(
            VISITOR, PAGE_SLOTS, NOW, exposures=exposures, dismissed=dismissed
        )
        winners = sum(d.rule is not None for d in decisions.values())
        none = ruleset.decide(
            NO_MATCH_VISITOR, PAGE_SLOTS, NOW, exposures=exposures, dismissed=dismissed
        )
        assert all(d.candidate is None for d in none.values()), "no-match visitor matched"
        results[count] = (
            page_rule_count(ruleset),
            time_decide(ruleset, VISITOR),
            time_decide(ruleset, NO_MATCH_VISITOR),
            winners,
        )
    return results


def report(label: str, seconds: float, count: int) -> None:
    """Print one timing line: total milliseconds and nanoseconds per evaluation."""
    print(f"  {label:<22}{seconds * 1e3:8.2f} ms  ({seconds / count * 1e9:6.0f} ns each)")


def main() -> None:
    """Run every section and print the summary line last."""
    summary: list[str] = []

    ours, theirs = bench_conditions()
    evaluations = len(load_cases()) * REPETITIONS
    print(f"(a) conditions: {evaluations} evaluations")
    report("etalage compiled", ours, evaluations)
    report("growthbook 2.2.1", theirs, evaluations)
    summary.append(f"speedup_vs_growthbook={theirs / ours:.1f}")

    results = bench_decide()
    control = build_ruleset(ruleset_text(2000, page_rules=200))
    assert page_rule_count(control) == results[200][0]
    control_us = time_decide(control, VISITOR)
    print(f"(b) decide(): page of {len(PAGE_SLOTS)} slots, rules spread over {SLOT_COUNT} slots")
    previous: tuple[int, float] | None = None
    for count, (on_page, typical, full, winners) in results.items():
        added = ""
        if previous is not None:
            per_rule = (full - previous[1]) / (on_page - previous[0]) * 1e3
            added = f" (+{per_rule:.0f} ns per added rule on the page)"
        previous = (on_page, full)
        print(
            f"  {count:>4} rules ({on_page:>3} on the page's slots): {typical:7.2f} µs"
            f"  ({winners}/{len(PAGE_SLOTS)} slots personalized);"
            f"  no-match visitor {full:7.2f} µs{added}"
        )
    print(
        f"  2000 rules ({results[200][0]:>3} on the page's slots): {control_us:7.2f} µs"
        f"  (control: same page rules as the 200-rule file, {results[200][1]:.2f} µs there)"
    )
    print(
        "  per size: "
        + " ".join(f"decide_us_{count}_rules={results[count][1]:.2f}" for count in RULE_COUNTS)
    )
    summary.append(f"decide_us_200_rules={results[200][1]:.2f}")
    summary.append(f"decide_us_2000_rules={results[2000][1]:.2f}")

    print(" ".join(summary))


if __name__ == "__main__":
    main()
