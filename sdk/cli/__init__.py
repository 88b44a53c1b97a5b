"""The `etalage` command: demo, serve, check, explain, report.

argparse (standard library) rather than click: subcommands with a handful of flags each need
nothing more, and the console script then costs no dependency.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `etalage` command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    result: int = args.handler(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="etalage", description="Personalize static or ASGI-served HTML at the edge."
    )
    parser.add_argument("--version", action="version", version=f"etalage {_version()}")
    sub = parser.add_subparsers(title="commands")
    defaults = _WithDefaults

    check = sub.add_parser(
        "check", help="validate a rule file, its fragments and a site", formatter_class=defaults
    )
    check.add_argument("rules", help="the rule file (YAML)")
    check.add_argument("--site", help="a site folder whose pages should contain the slots")
    check.add_argument(
        "--fragment-globals",
        help="module:callable returning the extra names fragments may use, as for serve "
        "(without it, names other than visitor, page, rule, why_url and default are taken for "
        "such names unless they look like typos of those)",
    )
    check.set_defaults(handler=_check)

    explain = sub.add_parser(
        "explain", help="show why each slot shows what it shows", formatter_class=defaults
    )
    explain.add_argument("rules", help="the rule file (YAML)")
    explain.add_argument("--visitor", required=True, help="a JSON file describing the visitor")
    explain.add_argument("--slots", help="comma-separated slots (default: every slot)")
    explain.add_argument("--at", help="ISO date-time to evaluate at (default: now)")
    explain.set_defaults(handler=_explain)

    serve = sub.add_parser(
        "serve", help="serve a static folder through the middleware", formatter_class=defaults
    )
    serve.add_argument("site", help="the folder of HTML pages and assets")
    serve.add_argument("--rules", help="rule file (default: SITE/rules/*.yaml or SITE/rules.yaml)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--workers", type=int, default=1, help="uvicorn worker processes (they share the key)"
    )
    serve.add_argument(
        "--profile-store",
        help="redis://host:port/db: keep profiles in Redis, the cookie holds a signed id",
    )
    serve.add_argument("--events", help="event sink: a JSON-lines file or a redis:// stream URL")
    serve.add_argument(
        "--fragment-globals",
        help="module:callable returning extra names fragments may use (e.g. a catalog)",
    )
    serve.set_defaults(handler=_serve)

    demo = sub.add_parser(
        "demo",
        help="run the demo shop (http://127.0.0.1:8000 by default)",
        formatter_class=defaults,
    )
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on")
    demo.add_argument("--port", type=int, default=8000, help="port to listen on")
    demo.set_defaults(handler=_demo)

    report = sub.add_parser(
        "report", help="lift report from exposure and conversion events", formatter_class=defaults
    )
    report.add_argument(
        "events",
        help="a JSON-lines file (its rotated backups FILE.1, FILE.2 ... are read too) or a "
        "Redis stream: redis://HOST:PORT/DB?stream=NAME (default stream etalage:events)",
    )
    report.add_argument("--since", help="ISO date or date-time (UTC if no offset): from here")
    report.add_argument(
        "--until",
        help="ISO date or date-time (UTC if no offset): up to here (a date: its whole day)",
    )
    report.add_argument("--html", help="also write a self-contained HTML report here")
    report.add_argument(
        "--conversion",
        default="purchase",
        help="the conversion event to measure (an event type the middleware's conversions= "
        "lists: purchase, add_to_cart, or one of the site's own)",
    )
    report.add_argument(
        "--wide", action="store_true", help="the wide table: conversions, visitors, relative lift"
    )
    report.set_defaults(handler=_report)
    return parser


def _check(args: argparse.Namespace) -> int:
    from etalage.cli.serve import load_fragment_globals
    from etalage.cli.site_check import check_rules
    from etalage.errors import ConfigError

    try:
        names = load_fragment_globals(args.fragment_globals) if args.fragment_globals else None
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    report = check_rules(args.rules, args.site, fragment_globals=names)
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}")
    if report.ruleset is not None:
        for rule in report.ruleset.rules:
            print(f"{rule.id:<28} slot {rule.slot:<14} {rule.consent_class}")
    if not report.ok:
        return 1
    count = len(report.ruleset.rules) if report.ruleset else 0
    print(f"ok: {count} rules, {len(report.warnings)} warnings")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from etalage.errors import RuleFileError
    from etalage.rules import load_ruleset
    from etalage.rules.explain import explain, format_reports

    try:
        ruleset = load_ruleset(args.rules)
    except RuleFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        visitor = json.loads(Path(args.visitor).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"error: {args.visitor}: cannot read visitor JSON: {exc}", file=sys.stderr)
        return 1
    if not isinstance(visitor, dict):
        print(f"error: {args.visitor}: must hold a JSON object", file=sys.stderr)
        return 1
    try:
        now = _parse_at(args.at, ruleset.site.timezone)
        attributes, exposures, dismissed = visitor_attributes(visitor, ruleset, now)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    slots = args.slots.split(",") if args.slots else sorted(ruleset.slots)
    reports = explain(ruleset, attributes, slots, now, exposures=exposures, dismissed=dismissed)
    print(f"visitor at {now.isoformat()}")
    print(format_reports(reports))
    return 0


def visitor_attributes(
    visitor: dict[str, Any], ruleset: Any, now: datetime
) -> tuple[dict[str, Any], dict[str, int], list[str]]:
    """Turn a visitor JSON into attributes: its keys, plus what its history implies at `now`.

    A visitor file holds attributes (flat dotted keys or nested objects) and optionally
    `history` (readable: ISO times, see docs/examples/visitor.json) or `profile` (the compact
    form stored in the cookie), from which the recency-aware attributes are derived at `now`.
    """
    from etalage.profile import Profile
    from etalage.recency import derive_attributes

    attributes = _flatten({k: v for k, v in visitor.items() if k not in ("profile", "history")})
    exposures = dict(visitor.get("exposures") or {})
    dismissed = list(visitor.get("dismissed") or [])
    profile: Profile | None = None
    if "history" in visitor:
        profile = profile_from_history(visitor["history"], ruleset.site.timezone)
    elif "profile" in visitor:
        profile = Profile.from_compact(visitor["profile"])
    if profile is not None:
        derived = derive_attributes(profile, ruleset.history, now, timezone=ruleset.site.timezone)
        attributes = {**derived, "id": profile.id, **attributes}
        exposures = {**profile.exposures, **exposures}
        dismissed = [*profile.dismissed, *dismissed]
    return attributes, exposures, dismissed


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as flat dotted keys, the shape rules read (``consent.personalization``)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and key not in ("exposures", "dismissed"):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def profile_from_history(history: Any, zone: Any) -> Any:
    """A `Profile` from the readable ``history`` object of a visitor file (ISO date-times)."""
    from etalage.profile import CartState, Profile, SearchEntry, ViewEntry

    if not isinstance(history, dict):
        raise ValueError("history: must be an object")

    def moment(value: Any, where: str) -> int | None:
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"{where}: not an ISO date-time: {value!r}") from None
        return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).timestamp())

    def entries(key: str) -> list[dict[str, Any]]:
        items = history.get(key) or []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ValueError(f"history.{key}: must be a list of objects")
        return items

    try:
        searches = [
            SearchEntry(
                str(s["term"]),
                moment(s["at"], f"history.searches[{n}].at") or 0,
                moment(s.get("valid_until"), f"history.searches[{n}].valid_until"),
            )
            for n, s in enumerate(entries("searches"))
        ]
        views = [
            ViewEntry(
                str(v["path"]),
                moment(v["at"], f"history.views[{n}].at") or 0,
                v.get("topic"),
                moment(v.get("valid_until"), f"history.views[{n}].valid_until"),
            )
            for n, v in enumerate(entries("views"))
        ]
    except KeyError as exc:
        raise ValueError(f"history: an entry lacks {exc}") from None
    searches.sort(key=lambda e: -e.at)
    views.sort(key=lambda e: -e.at)
    times = [s.at for s in searches] + [v.at for v in views]
    last_seen = moment(history.get("last_seen"), "history.last_seen") or max(times, default=None)
    interest: dict[str, tuple[float, int]] = {}
    for topic, value in (history.get("interest") or {}).items():
        if isinstance(value, dict):
            at = moment(value.get("at"), f"history.interest.{topic}.at") or last_seen or 0
            interest[topic] = (float(value.get("score", 1.0)), at)
        else:
            interest[topic] = (float(value), last_seen or 0)
    for view in views:
        if view.topic and view.topic not in interest:
            interest[view.topic] = (1.0, view.at)
    cart = history.get("cart") or {}
    purchases = history.get("purchases") or {}
    return Profile(
        id=str(history.get("id", "visitor")),
        visits=int(history.get("visits", 1)),
        first_seen=moment(history.get("first_seen"), "history.first_seen")
        or min(times, default=None),
        last_seen=last_seen,
        searches=searches,
        views=views,
        interest=interest,
        cart=CartState(
            int(cart.get("items", 0)),
            float(cart.get("value", 0.0)),
            moment(cart.get("updated_at"), "history.cart.updated_at"),
        ),
        purchases=int(purchases.get("count", 0)),
        purchase_total=float(purchases.get("total", 0.0)),
        last_purchase=moment(purchases.get("last"), "history.purchases.last"),
        prefs=dict(history.get("prefs") or {}),
        exposures={str(k): int(v) for k, v in (history.get("exposures") or {}).items()},
        dismissed={
            str(k): moment(v, f"history.dismissed.{k}") or 0
            for k, v in (history.get("dismissed") or {}).items()
        },
    )


def _parse_at(text: str | None, zone: Any) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--at: not an ISO date-time: {text!r}") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _serve(args: argparse.Namespace) -> int:
    from etalage.cli.serve import run_site

    return run_site(
        args.site,
        rules=args.rules,
        host=args.host,
        port=args.port,
        workers=args.workers,
        profile_store=args.profile_store,
        events=args.events,
        fragment_globals=args.fragment_globals,
    )


def _demo(args: argparse.Namespace) -> int:
    from etalage.demo import run_demo

    return run_demo(host=args.host, port=args.port)


def _report(args: argparse.Namespace) -> int:
    from etalage.cli.report import run_report

    return run_report(
        args.events,
        since=args.since,
        until=args.until,
        html=args.html,
        conversion=args.conversion,
        wide=args.wide,
    )


class _WithDefaults(argparse.HelpFormatter):
    """Help that names each option's default, where it has one."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "%(default)" in text:
            return text
        if action.option_strings:
            return text + " (default: %(default)s)"
        return text


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("etalage")
    except PackageNotFoundError:  # run from a checkout that was not installed
        return "unknown"
