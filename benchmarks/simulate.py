"""Simulate seeded visitors through the demo shop with a known true effect per rule, then check
that the lift report recovers each effect within its 95% confidence interval.

    python benchmarks/simulate.py [--visitors 4000] [--seed 7] [--holdout 0.5]
                                  [--events events.jsonl] [--html report.html] [--repeat 1]

Every visitor goes through the real demo app and the real middleware, in-process (httpx's
ASGI transport): a consenting visitor (signed consent and profile cookies, with a seeded
visitor id so that the holdout split is reproducible) of one persona. Each persona makes
exactly one demo rule apply (a search -> ``continue-search``, a stated level ->
``copy-beginner``, a name -> ``greeting-by-name``, a preferred channel -> ``contact-email``),
views the page with that rule's slot, and then buys (``/cart/add`` then ``/checkout``) with
probability ``BASE_RATE + effect`` when the page it was served shows the rule, ``BASE_RATE``
when it does not (holdout visitors get the slot's default). So the true absolute lift of each
rule is its persona's ``effect``. The exposure and purchase events written by the middleware
to a JSON-lines sink are then read back by `etalage report`'s own code.

The demo's rule file holds out 10% of visitors; the simulation uses a 50% holdout (the
`--holdout` option) so that a few thousand visitors give intervals narrow enough to see the
effects. The last line reads ``recovered=<k>/<n> visitors=<v> seed=<s>``; the exit status is
0 when every true effect lies inside its interval.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

import etalage.demo
from etalage.cli.report import RuleLift, compute_lift, format_table, render_html
from etalage.demo import PREFERENCE_CHOICES, catalog, create_app
from etalage.events import JsonLinesSink, read_events
from etalage.middleware import EtalageMiddleware
from etalage.profile import Profile
from etalage.rules import Ruleset
from etalage.rules.loader import parse_ruleset

DEMO_RULES = Path(etalage.demo.__file__).resolve().parent / "rules" / "shop.yaml"
SECRET_KEYS = ["simulation-secret"]
BASE_RATE = 0.15  # purchase probability without personalization
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SEARCH_TERMS = ("tent", "boots", "rope", "kayak", "stove", "jacket", "helmet", "headlamp")
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)


@dataclass(frozen=True)
class Persona:
    """Visitors for whom exactly one rule applies, and what that rule truly does to them."""

    name: str
    rule: str
    effect: float  # true absolute lift of the purchase probability when the rule is shown
    prefs: dict[str, str] = field(default_factory=dict)
    search: bool = False
    page: str = "product"  # "product" (a random product page) or a path


PERSONAS = (
    Persona("searcher", "continue-search", +0.08, search=True, page="/"),
    Persona("beginner", "copy-beginner", +0.05, prefs={"level": "beginner"}),
    Persona("named", "greeting-by-name", -0.05, prefs={"name": "Alex"}, page="/"),
    Persona("e-mail", "contact-email", 0.0, prefs={"channel": "email"}),
)


#: Rules shown to every persona beside their own one (so their exposures would mix all the
#: effects), left out of the simulation. None in the shop's rules: its menu is not personalized.
CONFOUNDED: frozenset[str] = frozenset()


class SimulatedClock:
    """The middleware's clock: set by the simulation, so every event time is reproducible."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Tally:
    """What the simulated visitors did and saw, to check the events against."""

    visitors: Counter[str] = field(default_factory=Counter)
    shown: Counter[str] = field(default_factory=Counter)
    purchases: Counter[str] = field(default_factory=Counter)
    requests: int = 0


@dataclass(frozen=True)
class Recovery:
    """One rule: the true effect and what the report estimated."""

    persona: Persona
    lift: RuleLift | None

    @property
    def covered(self) -> bool:
        if self.lift is None:
            return False
        low, high = self.lift.absolute_ci
        return low <= self.persona.effect <= high


@dataclass(frozen=True)
class SimulationResult:
    """The report's numbers per rule, the tally, and where the events went."""

    recoveries: list[Recovery]
    results: list[RuleLift]
    tally: Tally
    events_path: Path
    seed: int
    visitors: int
    holdout: float

    @property
    def recovered(self) -> int:
        return sum(r.covered for r in self.recoveries)


def simulation_ruleset(holdout: float) -> Ruleset:
    """The demo's rule file with another holdout share (fragments resolved beside it)."""
    text = DEMO_RULES.read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^holdout:.*$", f"holdout: {holdout}", text)
    if not count:
        text += f"\nholdout: {holdout}\n"
    ruleset = parse_ruleset(text, str(DEMO_RULES), base_dir=DEMO_RULES.parent)
    kept = tuple(rule for rule in ruleset.rules if rule.id not in CONFOUNDED)
    return replace(ruleset, rules=kept)


def build_app(
    events_path: Path, holdout: float, clock: SimulatedClock
) -> tuple[EtalageMiddleware, JsonLinesSink]:
    """The demo shop behind a middleware with the simulation's rules, clock and event sink."""
    shop = create_app(demo_mode=False, secret_keys=SECRET_KEYS).app
    sink = JsonLinesSink(events_path)
    middleware = EtalageMiddleware(
        shop,
        rules=simulation_ruleset(holdout),
        secret_keys=SECRET_KEYS,
        clock=clock,
        event_sink=sink,
        fragment_globals=catalog.fragment_globals(),
        preference_choices=PREFERENCE_CHOICES,
    )
    return middleware, sink


async def run_visitors(
    middleware: EtalageMiddleware,
    clock: SimulatedClock,
    *,
    visitors: int,
    seed: int,
    personas: Sequence[Persona] = PERSONAS,
) -> Tally:
    """Send `visitors` seeded visitors through the app, one after another."""
    rng = random.Random(seed)
    tally = Tally()
    transport = httpx.ASGITransport(app=middleware)
    host = "shop.test"
    async with httpx.AsyncClient(
        transport=transport, base_url=f"http://{host}", headers={"User-Agent": BROWSER}
    ) as client:

        async def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
            clock.now += timedelta(seconds=20)
            tally.requests += 1
            response = await client.request(method, url, **kwargs)
            if response.status_code >= 400:
                raise RuntimeError(f"{method} {url}: HTTP {response.status_code}")
            return response

        for number in range(visitors):
            persona = personas[rng.randrange(len(personas))]
            clock.now = T0 + timedelta(minutes=3 * number)
            client.cookies.clear()
            profile = Profile(
                id=f"sim{seed}-{number:06d}",
                first_seen=int(clock.now.timestamp()),
                last_seen=int(clock.now.timestamp()),
            )
            settings, writer = middleware.settings, middleware.writer
            client.cookies.set(
                settings.consent_cookie_name, writer.consent_codec.encode(True), domain=host
            )
            client.cookies.set(
                settings.cookie_name,
                writer.profile_codec.encode(profile, middleware.ruleset.history, clock.now),
                domain=host,
            )
            tally.visitors[persona.rule] += 1
            if persona.prefs:
                await request(
                    "POST",
                    "/_etalage/preferences",
                    json=persona.prefs,
                    headers={"Accept": "application/json"},
                )
            if persona.search:
                await request("GET", "/search", params={"q": rng.choice(SEARCH_TERMS)})
            item = rng.choice(catalog.PRODUCTS)
            page = await request("GET", item.url if persona.page == "product" else persona.page)
            shown = f"#rule-{persona.rule}" in page.text  # the fragment's "Why this?" link
            tally.shown[persona.rule] += shown
            rate = BASE_RATE + (persona.effect if shown else 0.0)
            if rng.random() < rate:
                await request("POST", "/cart/add", data={"sku": item.sku, "qty": "1"})
                await request("POST", "/checkout", data={})
                tally.purchases[persona.rule] += 1
            elif rng.random() < 0.25:  # browsed, added, left: an add_to_cart without purchase
                await request("POST", "/cart/add", data={"sku": item.sku, "qty": "1"})
    return tally


def simulate(
    *,
    visitors: int = 4000,
    seed: int = 7,
    holdout: float = 0.5,
    events_path: Path | None = None,
) -> SimulationResult:
    """Run the simulation and the report on its events."""
    if events_path is None:
        events_path = Path(tempfile.mkdtemp(prefix="etalage-sim-")) / "events.jsonl"
    if events_path.exists():
        events_path.unlink()
    clock = SimulatedClock()
    middleware, sink = build_app(events_path, holdout, clock)
    try:
        tally = asyncio.run(run_visitors(middleware, clock, visitors=visitors, seed=seed))
    finally:
        sink.close()  # what a server's lifespan shutdown does: everything queued is written
    results = compute_lift(read_events(str(events_path)))
    by_rule = {r.rule: r for r in results}
    recoveries = [Recovery(p, by_rule.get(p.rule)) for p in PERSONAS]
    return SimulationResult(recoveries, results, tally, events_path, seed, visitors, holdout)


def format_recovery(result: SimulationResult) -> str:
    """True effect versus the report's estimate and interval, per rule."""
    lines = [
        f"{'rule':<20} {'true lift':>10} {'estimate':>10} {'95% CI':>22} "
        f"{'treated':>8} {'holdout':>8}  recovered",
    ]
    for rec in result.recoveries:
        lift = rec.lift
        if lift is None:
            lines.append(f"{rec.persona.rule:<20} {rec.persona.effect:>+10.2%}  (no exposures)")
            continue
        low, high = lift.absolute_ci
        lines.append(
            f"{rec.persona.rule:<20} {rec.persona.effect:>+10.2%} {lift.absolute:>+10.2%} "
            f"{f'[{low:+.2%}, {high:+.2%}]':>22} {lift.treated.visitors:>8} "
            f"{lift.holdout.visitors:>8}  {'yes' if rec.covered else 'NO'}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--holdout", type=float, default=0.5, help="holdout share (default 0.5)")
    parser.add_argument("--events", type=Path, help="keep the events here (JSON lines)")
    parser.add_argument("--html", type=Path, help="also write the HTML report here")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run this many seeds (seed, seed+1, ...) and print how often each interval "
        "covered the true effect (about 95%% expected)",
    )
    args = parser.parse_args(argv)
    covered: Counter[str] = Counter()
    result = None
    for run in range(args.repeat):
        seed = args.seed + run
        result = simulate(
            visitors=args.visitors, seed=seed, holdout=args.holdout, events_path=args.events
        )
        for rec in result.recoveries:
            covered[rec.persona.rule] += rec.covered
        if args.repeat > 1:
            print(f"seed {seed}: recovered {result.recovered}/{len(result.recoveries)}")
    assert result is not None
    tally = result.tally
    print(
        f"{result.visitors} visitors, {tally.requests} requests, holdout {result.holdout:.0%}, "
        f"base purchase rate {BASE_RATE:.0%}; events in {result.events_path}"
    )
    print()
    print("etalage report:")
    print(format_table(result.results))
    print()
    print(format_recovery(result))
    if args.html:
        args.html.write_text(render_html(result.results, subtitle="simulated visitors"))
        print(f"wrote {args.html}")
    if args.repeat > 1:
        print()
        for persona in PERSONAS:
            print(
                f"coverage {persona.rule:<20} {covered[persona.rule]}/{args.repeat} "
                f"({covered[persona.rule] / args.repeat:.0%})"
            )
    print(
        f"recovered={result.recovered}/{len(result.recoveries)} visitors={result.visitors} seed={result.seed}"
    )
    return 0 if result.recovered == len(result.recoveries) else 1


if __name__ == "__main__":
    sys.exit(main())
