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
    explain.add_argument(
        "--visitor",
        required=True,
        help="a JSON file describing the visitor: attributes with a history or profile (see "
        "docs/examples/visitor.json), or the JSON /_etalage/profile exports",
    )
    explain.add_argument("--slots", help="comma-separated slots (default: every slot)")
    explain.add_argument(
        "--at",
        help="ISO date-time to evaluate at, in the site's time zone if it has no offset "
        "(default: the time of a profile export, otherwise now)",
    )
    explain.add_argument(
        "--render", action="store_true", help="print the fragment each winning rule renders"
    )
    explain.add_argument("--path", help="the page path fragments see as page.path (--render)")
    explain.add_argument(
        "--fragment-globals",
        help="module:callable returning extra names fragments may use, as for serve (--render)",
    )
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
    serve.add_argument("--events", help="event sink: a JSON-lines file, a redis:// stream URL or an http(s):// webhook")
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
    report.add_argument(
        "--holdout-share",
        type=float,
        help="the rule set's holdout share, e.g. 0.1: check each rule's treated/holdout "
        "visitors against it (sample ratio mismatch, chi-square p < 0.001); without it the "
        "check is skipped",
    )
    report.add_argument(
        "--sequential",
        action="store_true",
        help="always-valid intervals (a confidence sequence) that stay honest however often "
        "the report is read, instead of fixed-horizon ones",
    )
    report.add_argument(
        "--sequential-tuning",
        type=float,
        default=5000,
        metavar="VISITORS",
        help="with --sequential: the visitors (both groups) at which decisions are usually "
        "taken, where the sequence is tightest; keep it fixed for an experiment",
    )
    report.add_argument(
        "--rules",
        metavar="RULES.yaml",
        help="the rule file the events were drawn under: each rule's control group and the "
        "split its sample-ratio check expects (site and rule holdouts, variant weights)",
    )
    report.set_defaults(handler=_report)

    preview = sub.add_parser(
        "preview-link",
        help="a signed, short-lived link showing chosen rules (or the canonical page)",
        formatter_class=defaults,
    )
    preview.add_argument("rules", help="the rule file (YAML) the rule ids are checked against")
    forced = preview.add_mutually_exclusive_group(required=True)
    forced.add_argument(
        "--rule",
        action="append",
        metavar="ID",
        help="a rule to show on its slot, whatever its condition (repeat for several); "
        "ID:N shows variant N (from 1) of a variants rule",
    )
    forced.add_argument(
        "--canonical", action="store_true", help="the page without any personalization"
    )
    preview.add_argument("--url", default="/", help="the page (path or full URL) to link to")
    preview.add_argument(
        "--for",
        dest="lifetime",
        default="1h",
        help="how long the link works (30m, 12h, 2d; at most 7d)",
    )
    preview.add_argument(
        "--secret-keys",
        help="comma-separated keys, newest first, as the site's (default: ETALAGE_SECRET_KEYS)",
    )
    preview.set_defaults(handler=_preview_link)
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
    from etalage.cli.serve import load_fragment_globals
    from etalage.cli.visitor_file import VisitorFileError, read_visitor
    from etalage.errors import ConfigError, RuleFileError
    from etalage.fragments import FragmentRenderer
    from etalage.rules import load_ruleset
    from etalage.rules.explain import (
        Rendered,
        explain,
        format_reports,
        render_fragments,
        uncounted,
    )

    try:
        ruleset = load_ruleset(args.rules)
        names = load_fragment_globals(args.fragment_globals) if args.fragment_globals else {}
    except (RuleFileError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    zone = ruleset.site.timezone
    try:
        data = json.loads(Path(args.visitor).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"error: {args.visitor}: cannot read visitor JSON: {exc}", file=sys.stderr)
        return 1
    try:
        visitor = read_visitor(data, zone)
    except VisitorFileError as exc:
        print(f"error: {args.visitor}: {exc}", file=sys.stderr)
        return 1
    try:
        now = _parse_at(args.at, zone, visitor.exported_at)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    attributes = visitor.attributes_at(ruleset, now)
    if args.path:
        attributes.setdefault("request.path", args.path)
        attributes.setdefault("page.path", args.path)
    slots = args.slots.split(",") if args.slots else sorted(ruleset.slots)
    reports = explain(
        ruleset, attributes, slots, now, exposures=visitor.exposures, dismissed=visitor.dismissed
    )
    notes = uncounted(visitor.profile, ruleset.history, now, zone) if visitor.profile else []
    rendered: dict[str, Rendered] = {}
    if args.render:
        renderer = FragmentRenderer(ruleset.site.fragments)
        renderer.env.globals.update(names)
        rendered = render_fragments(reports, attributes, renderer, path=args.path)
    print(f"visitor at {now.astimezone(zone).isoformat()} ({zone}), from {visitor.described}")
    print(format_reports(reports, notes, rendered))
    return 1 if any(fragment.error for fragment in rendered.values()) else 0


def _parse_at(text: str | None, zone: Any, default: datetime | None = None) -> datetime:
    if not text:
        return default or datetime.now(UTC)
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
        holdout_share=args.holdout_share,
        sequential=args.sequential,
        sequential_tuning=args.sequential_tuning,
        rules=args.rules,
    )


def _preview_link(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit, urlunsplit

    from etalage.cli.serve import secret_keys_from_env
    from etalage.errors import RuleFileError
    from etalage.middleware.preview import PREVIEW_PARAM, PreviewCodec
    from etalage.recency import parse_duration
    from etalage.rules import load_ruleset

    keys = [k.strip() for k in (args.secret_keys or "").split(",") if k.strip()]
    keys = keys or secret_keys_from_env()
    if not keys:
        print("error: give --secret-keys or set ETALAGE_SECRET_KEYS", file=sys.stderr)
        return 1
    try:
        ruleset = load_ruleset(args.rules)
    except RuleFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    unknown = [named for named in args.rule or () if not _previewable(ruleset, named)]
    if unknown:
        known = ", ".join(rule.id for rule in ruleset.rules)
        print(
            f"error: {args.rules}: no rule {', '.join(unknown)} (rules: {known}; "
            "a variant is named ID:N, from 1)",
            file=sys.stderr,
        )
        return 1
    try:
        token = PreviewCodec(keys).dumps(
            rules=args.rule or (),
            canonical=args.canonical,
            lifetime=parse_duration(args.lifetime),
        )
    except ValueError as exc:
        print(f"error: --for: {exc}", file=sys.stderr)
        return 1
    parts = urlsplit(args.url)
    query = f"{parts.query}&" if parts.query else ""
    print(urlunsplit(parts._replace(query=f"{query}{PREVIEW_PARAM}={token}")))
    return 0


def _previewable(ruleset: Any, named: str) -> bool:
    """Whether `named` (a rule id, or ``ID:N`` for a variant) is something a preview can show."""
    from etalage.middleware.preview import split_variant
    from etalage.rules import VariantsAction

    rule_id, variant = split_variant(named)
    rule = ruleset.rule(rule_id)
    if rule is None:
        return False
    if variant is None:
        return True
    return isinstance(rule.action, VariantsAction) and variant < len(rule.action.variants)


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
