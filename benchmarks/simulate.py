"""Simulate seeded visitors through the demo shop with a known true effect per rule and per
variant of its A/B test, then check that the lift report recovers each effect within its 95%
confidence interval.

    python benchmarks/simulate.py [--visitors 4000] [--seed 7] [--holdout 0.5]
                                  [--teaser-holdout 0.4] [--events events.jsonl]
                                  [--html report.html] [--repeat 1]

Every visitor goes through the real demo app and the real middleware, in-process (httpx's
ASGI transport): a consenting visitor (signed consent and profile cookies, with a seeded
visitor id so that the holdout and variant draws are reproducible) of one persona, drawn
uniformly. Each persona makes exactly one demo rule apply (a search -> ``continue-search``, a
stated level -> ``copy-beginner``, a name -> ``greeting-by-name``, a preferred channel ->
``contact-email``), views the page with that rule's slot, and then buys (``/cart/add`` then
``/checkout``) with probability ``BASE_RATE + effect`` when the page it was served shows the
rule, ``BASE_RATE`` when it does not (holdout visitors get the slot's default). So the true
absolute lift of each rule is its persona's ``effect``.

The A/B test (``trips-teaser-test``: two variants of the home page's guided-trips teaser, with
a control group of its own) is shown to everyone who visits the home page, not only to the
persona planted for it. To keep its effects identifiable, the ``trip-curious`` persona visits
the home page and buys with a probability that depends on the teaser variant only
(``BASE_RATE + variant_effects[i]``; ``BASE_RATE`` in the test's control), while the other
home-page personas (``searcher``, ``named``) buy by their own rule only, whatever teaser they
were shown. The teaser draw is independent of the persona draw, so each teaser group holds the
same mix of personas and the true lift of variant ``i`` over everyone exposed to the test is
``variant_effects[i]`` times the trip-curious share of home-page visitors (1/3 here); that is
the effect the report has to recover, per variant, against the test's own control group.

The demo's rule file holds out 10% of visitors site-wide and 10% from the A/B test; the
simulation runs a copy of it (written to a temporary folder, next to the events) with a 50%
site holdout (``--holdout``) and a 40% holdout of the test's own (``--teaser-holdout``), so
that a few thousand visitors give intervals narrow enough to see the effects. The report reads
that copy too (``etalage report --rules``), for each rule's control and sample-ratio check.
The last line reads ``recovered=<k>/<n> visitors=<v> seed=<s>``; the exit status is 0 when
every true effect lies inside its interval.
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
from etalage.cli.report import RuleLift, VariantLift, compute_lift, format_table, render_html
from etalage.demo import PREFERENCE_CHOICES, catalog, create_app, shop_globals
from etalage.events import JsonLinesSink, read_events
from etalage.middleware import EtalageMiddleware
from etalage.profile import Profile
from etalage.rules import Ruleset, load_ruleset

DEMO_RULES = Path(etalage.demo.__file__).resolve().parent / "rules" / "shop.yaml"
SECRET_KEYS = ["simulation-secret"]
BASE_RATE = 0.15  # purchase probability without personalization
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SEARCH_TERMS = ("tent", "boots", "rope", "kayak", "stove", "jacket", "helmet", "headlamp")
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
TEASER_RULE = "trips-teaser-test"
TEASER_PAGE = "/"  # the only page with the test's slot
#: The heading of each teaser variant's fragment, by variant index (the control shows neither).
TEASER_HEADINGS = ("Six people, one guide, no crowds", "Just bring your boots")


@dataclass(frozen=True)
class Persona:
    """Visitors for whom exactly one rule applies, and what that rule truly does to them.

    With `variant_effects` the rule has variants and the persona's lift depends on the variant
    shown (``variant_effects[i]`` for variant ``i``); `effect` is then unused.
    """

    name: str
    rule: str
    effect: float  # true absolute lift of the purchase probability when the rule is shown
    prefs: dict[str, str] = field(default_factory=dict)
    search: bool = False
    page: str = "product"  # "product" (a random product page) or a path
    variant_effects: tuple[float, ...] = ()


PERSONAS = (
    Persona("searcher", "continue-search", +0.08, search=True, page="/"),
    Persona("beginner", "copy-beginner", +0.05, prefs={"level": "beginner"}),
    Persona("named", "greeting-by-name", -0.05, prefs={"name": "Alex"}, page="/"),
    Persona("e-mail", "contact-email", 0.0, prefs={"channel": "email"}),
    Persona("trip-curious", TEASER_RULE, 0.0, page=TEASER_PAGE, variant_effects=(+0.15, -0.06)),
)


#: Rules shown to every persona beside their own one (so their exposures would mix all the
#: effects), left out of the simulation. None in the shop's rules: its menu is not personalized.
CONFOUNDED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Planted:
    """A true effect the report must recover: a rule's, or one variant's (index from 0)."""

    rule: str
    variant: int | None
    effect: float

    @property
    def label(self) -> str:
        return self.rule if self.variant is None else f"{self.rule} variant {self.variant + 1}"


def planted_effects(personas: Sequence[Persona] = PERSONAS) -> list[Planted]:
    """The true lift per rule, and per variant over everyone the A/B test is shown to."""
    planted = []
    exposed_to_teaser = sum(p.page == TEASER_PAGE for p in personas)
    for persona in personas:
        if not persona.variant_effects:
            planted.append(Planted(persona.rule, None, persona.effect))
            continue
        share = 1 / exposed_to_teaser  # personas are drawn uniformly
        for index, effect in enumerate(persona.variant_effects):
            planted.append(Planted(persona.rule, index, effect * share))
    return planted


class SimulatedClock:
    """The middleware's clock: set by the simulation, so every event time is reproducible."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Tally:
    """What the simulated visitors did and saw, to check the events against.

    Per rule: the visitors it applied to, those shown it and those who bought; `variants`
    counts, per variant index of the A/B test, the visitors shown it.
    """

    visitors: Counter[str] = field(default_factory=Counter)
    shown: Counter[str] = field(default_factory=Counter)
    purchases: Counter[str] = field(default_factory=Counter)
    variants: Counter[int] = field(default_factory=Counter)
    requests: int = 0


@dataclass(frozen=True)
class Recovery:
    """One planted effect and what the report estimated for it."""

    planted: Planted
    lift: RuleLift | VariantLift | None

    @property
    def covered(self) -> bool:
        if self.lift is None:
            return False
        low, high = self.lift.absolute_ci
        return low <= self.planted.effect <= high


@dataclass(frozen=True)
class SimulationResult:
    """The report's numbers per rule, the tally, and where the events went."""

    recoveries: list[Recovery]
    results: list[RuleLift]
    tally: Tally
    events_path: Path
    rules_path: Path
    seed: int
    visitors: int
    holdout: float
    teaser_holdout: float

    @property
    def recovered(self) -> int:
        return sum(r.covered for r in self.recoveries)


def simulation_rules_text(holdout: float, teaser_holdout: float) -> str:
    """The demo's rule file with other holdout shares (site-wide, and the A/B test's own), its
    fragments folder made absolute so that the copy can live anywhere."""
    text = DEMO_RULES.read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^holdout:.*$", f"holdout: {holdout}", text)
    if not count:
        text += f"\nholdout: {holdout}\n"
    test_rule = re.compile(
        rf"(?m)^(\s*- id: {re.escape(TEASER_RULE)}\n(?:(?!\s*- id:).*\n)*?\s+holdout:).*$"
    )
    text, count = test_rule.subn(rf"\g<1> {teaser_holdout}", text)
    if count != 1:
        raise RuntimeError(f"{DEMO_RULES}: no own holdout in rule {TEASER_RULE!r} to change")

    def absolute(match: re.Match[str]) -> str:
        return f"{match.group(1)} {(DEMO_RULES.parent / match.group(2).strip()).resolve()}"

    return re.sub(r"(?m)^(\s+fragments:)(.*)$", absolute, text)


def simulation_ruleset(holdout: float, teaser_holdout: float, folder: Path) -> tuple[Ruleset, Path]:
    """The simulation's copy of the demo's rule file, written to `folder`, and its rules."""
    path = folder / "rules.yaml"
    path.write_text(simulation_rules_text(holdout, teaser_holdout), encoding="utf-8")
    ruleset = load_ruleset(path)
    kept = tuple(rule for rule in ruleset.rules if rule.id not in CONFOUNDED)
    return replace(ruleset, rules=kept), path


def build_app(
    events_path: Path, ruleset: Ruleset, clock: SimulatedClock
) -> tuple[EtalageMiddleware, JsonLinesSink]:
    """The demo shop behind a middleware with the simulation's rules, clock and event sink."""
    shop = create_app(demo_mode=False, secret_keys=SECRET_KEYS).app
    sink = JsonLinesSink(events_path)
    middleware = EtalageMiddleware(
        shop,
        rules=ruleset,
        secret_keys=SECRET_KEYS,
        clock=clock,
        event_sink=sink,
        fragment_globals=shop_globals.fragment_globals(),
        preference_choices=PREFERENCE_CHOICES,
    )
    return middleware, sink


def teaser_variant(page: str) -> int | None:
    """The A/B test's variant a page shows (by its heading); None for the control."""
    found = [index for index, heading in enumerate(TEASER_HEADINGS) if heading in page]
    if len(found) > 1:
        raise RuntimeError(f"the page shows more than one teaser variant: {found}")
    return found[0] if found else None


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
            rules = {persona.rule}
            variant = None
            if persona.page == TEASER_PAGE:  # every home-page visitor is in the A/B test
                rules.add(TEASER_RULE)
                variant = teaser_variant(page.text)
                if variant is not None:
                    tally.variants[variant] += 1
                    tally.shown[TEASER_RULE] += 1
            if persona.rule != TEASER_RULE:
                shown = f"#rule-{persona.rule}" in page.text  # the fragment's "Why this?" link
                tally.shown[persona.rule] += shown
                rate = BASE_RATE + (persona.effect if shown else 0.0)
            else:
                rate = BASE_RATE + (
                    persona.variant_effects[variant] if variant is not None else 0.0
                )
            tally.visitors.update(rules)
            if rng.random() < rate:
                await request("POST", "/cart/add", data={"sku": item.sku, "qty": "1"})
                await request("POST", "/checkout", data={})
                tally.purchases.update(rules)
            elif rng.random() < 0.25:  # browsed, added, left: an add_to_cart without purchase
                await request("POST", "/cart/add", data={"sku": item.sku, "qty": "1"})
    return tally


def simulate(
    *,
    visitors: int = 4000,
    seed: int = 7,
    holdout: float = 0.5,
    teaser_holdout: float = 0.4,
    events_path: Path | None = None,
) -> SimulationResult:
    """Run the simulation and the report on its events."""
    if events_path is None:
        events_path = Path(tempfile.mkdtemp(prefix="etalage-sim-")) / "events.jsonl"
    if events_path.exists():
        events_path.unlink()
    ruleset, rules_path = simulation_ruleset(holdout, teaser_holdout, events_path.parent)
    clock = SimulatedClock()
    middleware, sink = build_app(events_path, ruleset, clock)
    try:
        tally = asyncio.run(run_visitors(middleware, clock, visitors=visitors, seed=seed))
    finally:
        sink.close()  # what a server's lifespan shutdown does: everything queued is written
    results = compute_lift(read_events(str(events_path)), rules=ruleset)
    recoveries = [Recovery(p, _estimate(results, p)) for p in planted_effects()]
    return SimulationResult(
        recoveries,
        results,
        tally,
        events_path,
        rules_path,
        seed,
        visitors,
        holdout,
        teaser_holdout,
    )


def _estimate(results: list[RuleLift], planted: Planted) -> RuleLift | VariantLift | None:
    lift = next((r for r in results if r.rule == planted.rule), None)
    if lift is None or planted.variant is None:
        return lift
    return next((v for v in lift.variants if v.index == planted.variant), None)


def format_recovery(result: SimulationResult) -> str:
    """True effect versus the report's estimate and interval, per rule and per variant."""
    lines = [
        f"{'planted effect':<30} {'true lift':>9} {'estimate':>9} {'95% CI':>20} "
        f"{'treated':>7} {'control':>7}  recovered",
    ]
    controls = {r.rule: r.holdout.visitors for r in result.results}
    for rec in result.recoveries:
        lift, planted = rec.lift, rec.planted
        if lift is None:
            lines.append(f"{planted.label:<30} {planted.effect:>+9.2%}  (no exposures)")
            continue
        low, high = lift.absolute_ci
        lines.append(
            f"{planted.label:<30} {planted.effect:>+9.2%} {lift.absolute:>+9.2%} "
            f"{f'[{low:+.2%}, {high:+.2%}]':>20} {lift.treated.visitors:>7} "
            f"{controls[planted.rule]:>7}  {'yes' if rec.covered else 'NO'}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--holdout", type=float, default=0.5, help="site-wide holdout share (default 0.5)"
    )
    parser.add_argument(
        "--teaser-holdout",
        type=float,
        default=0.4,
        help=f"the own holdout share of the A/B test {TEASER_RULE} (default 0.4)",
    )
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
            visitors=args.visitors,
            seed=seed,
            holdout=args.holdout,
            teaser_holdout=args.teaser_holdout,
            events_path=args.events,
        )
        for rec in result.recoveries:
            covered[rec.planted.label] += rec.covered
        if args.repeat > 1:
            print(f"seed {seed}: recovered {result.recovered}/{len(result.recoveries)}")
    assert result is not None
    tally = result.tally
    print(
        f"{result.visitors} visitors, {tally.requests} requests, holdout {result.holdout:.0%} "
        f"site-wide and {result.teaser_holdout:.0%} of {TEASER_RULE}, base purchase rate "
        f"{BASE_RATE:.0%}; events in {result.events_path}, rules in {result.rules_path}"
    )
    print()
    print("etalage report --rules:")
    print(format_table(result.results))
    print()
    print(format_recovery(result))
    if args.html:
        args.html.write_text(render_html(result.results, subtitle="simulated visitors"))
        print(f"wrote {args.html}")
    if args.repeat > 1:
        print()
        for planted in planted_effects():
            count = covered[planted.label]
            print(f"coverage {planted.label:<30} {count}/{args.repeat} ({count / args.repeat:.0%})")
    print(
        f"recovered={result.recovered}/{len(result.recoveries)} visitors={result.visitors} "
        f"seed={result.seed}"
    )
    return 0 if result.recovered == len(result.recoveries) else 1


if __name__ == "__main__":
    sys.exit(main())
