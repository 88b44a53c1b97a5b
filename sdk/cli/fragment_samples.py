"""`fragment_warnings`: the fragments of a rule set read for names and keys that do not exist,
and rendered under `StrictUndefined` for sample visitors their rule matches (``etalage check``).

At run time a fragment renders with `ChainableUndefined`: ``{{ visitr.name }}`` quietly prints
nothing. Here the same environment renders with `StrictUndefined`, for visitors built from a
sample profile (and a first visit without one) the way the middleware builds them, so that
what would print nothing is reported with the fragment's file and line. A fragment is rendered
only for visitors its rule matches, as at run time; a visitor adjusted to meet the rule's
condition is tried too.
"""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import (
    ChainableUndefined,
    Environment,
    StrictUndefined,
    TemplateError,
    Undefined,
    UndefinedError,
    meta,
    nodes,
)
from markupsafe import Markup

from etalage.fragments import FragmentRenderer
from etalage.profile import CartState, DayCounts, EventEntry, Profile, SearchEntry, ViewEntry
from etalage.request_facts import RequestFacts
from etalage.rules import FragmentAction, Rule, Ruleset, evaluate_condition
from etalage.rules.attributes import attribute, unknown_attribute
from etalage.rules.schema import closest
from etalage.visitor import Visitor

#: The names of a fragment's render context (docs/architecture.md, "Fragments").
CONTEXT_NAMES = frozenset({"visitor", "page", "rule", "why_url", "default"})
#: What the middleware adds to the attributes in `visitor` (middleware/personalize.py).
VIEW_KEYS = frozenset({"name", "consent"})
RULE_KEYS = frozenset({"id", "slot", "reason"})
_DICT_METHODS = frozenset(name for name in dir(dict) if not name.startswith("_"))
_PREFIX = "/_etalage/"  # the middleware's default prefix, for `why_url`


def fragment_warnings(
    ruleset: Ruleset,
    segment_conditions: Mapping[str, Any],
    fragment_globals: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> list[str]:
    """One line per problem in the fragments the rules name that load: an undefined name, a
    visitor key no visitor has, or what fails rendering for a sample visitor.

    `fragment_globals` are the names the site gives its fragments; None means unknown: a name
    that is not a context name is then taken for one of them unless it looks like a typo of a
    context name, and it renders as an empty stand-in.
    """
    renderer = FragmentRenderer(ruleset.site.fragments)
    env = renderer.env.overlay(undefined=StrictUndefined)
    env.globals = dict(env.globals)
    fragments = [
        (rule, rule.action.template)
        for rule in ruleset.rules
        if isinstance(rule.action, FragmentAction)
    ]
    templates = _read_templates(env, [template for _, template in fragments])
    warnings = _Warnings()
    known = CONTEXT_NAMES | set(env.globals) | set(fragment_globals or {})
    for filename, tree in templates.items():
        problems = _static_problems(tree, known, strict=fragment_globals is not None)
        for line, message in sorted(set(problems)):
            warnings.add(filename, line, message)
    # Names the fragments use that are not theirs: the site's globals, else empty stand-ins
    # (reported above when they look like typos), so rendering goes on past them.
    env.globals.update(fragment_globals or {})
    for tree in templates.values():
        for name in meta.find_undeclared_variables(tree) - set(env.globals) - CONTEXT_NAMES:
            env.globals[name] = _Unknown(name=name, exc=_UnknownUsed)
    now = now or datetime.now(UTC)
    samples = sample_visitors(ruleset, now)
    for rule, template in fragments:
        if _filename(env, template) not in templates:
            continue  # missing or not compiling: `fragment_problems` says so
        for label, attrs in _matching(rule, ruleset, samples, segment_conditions, now):
            problem = _render_problem(env, rule, template, attrs, ruleset.site.fragments)
            if problem is not None:
                filename, at, message = problem
                warnings.add(filename, at, f"{message} (rendering for {label})", render=True)
    return warnings.lines


class _Warnings:
    """Messages in order; a render failing on a line already reported adds nothing (it is
    most likely what was reported)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._places: set[tuple[str, int | None]] = set()

    def add(self, filename: str, line: int | None, message: str, *, render: bool = False) -> None:
        if render and (filename, line) in self._places:
            return
        self._places.add((filename, line))
        message = " ".join(message.split())  # one warning, one line
        self.lines.append(f"{filename}:{line}: {message}" if line else f"{filename}: {message}")


# --- reading ------------------------------------------------------------------------------


def _filename(env: Environment, name: str) -> str:
    assert env.loader is not None
    try:
        _, filename, _ = env.loader.get_source(env, name)
    except TemplateError:
        return ""
    return os.path.normpath(filename or name)


def _read_templates(env: Environment, names: list[str]) -> dict[str, nodes.Template]:
    """Each named template and every template it imports or includes, parsed, by file name;
    those that are missing or do not compile are left out."""
    assert env.loader is not None
    trees: dict[str, nodes.Template] = {}
    todo = list(dict.fromkeys(names))
    seen: set[str] = set()
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        try:
            source, filename, _ = env.loader.get_source(env, name)
            tree = env.parse(source, name, filename)
        except TemplateError:
            continue
        trees[os.path.normpath(filename or name)] = tree
        todo.extend(ref for ref in meta.find_referenced_templates(tree) if ref is not None)
    return trees


def _static_problems(
    tree: nodes.Template, known: Collection[str], *, strict: bool
) -> Iterator[tuple[int, str]]:
    """Undefined names and keys of `visitor` or `rule` that never exist, in every branch."""
    undeclared = meta.find_undeclared_variables(tree) - set(known)
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name in undeclared:
            undeclared.discard(node.name)
            close = closest(node.name, CONTEXT_NAMES if not strict else known)
            if strict or close:
                hint = f" (did you mean '{close}'?)" if close else ""
                yield node.lineno, f"'{node.name}' is undefined{hint}"
    chains = list(_visitor_chains(tree))
    for line, shown, key in _keys_read(tree, "visitor"):
        if key not in VIEW_KEYS and attribute(key) is None:
            dotted = _dotted_read(chains, line, key) if shown.startswith("visitor.") else None
            if dotted:
                message = f"unknown attribute '{key}' (did you mean visitor['{dotted}']?)"
            else:
                message = unknown_attribute(key, also=VIEW_KEYS)
            yield line, f"{shown}: {message}"
    for line, shown, key in _keys_read(tree, "rule"):
        if key not in RULE_KEYS:
            yield line, f"{shown}: 'rule' has only {', '.join(sorted(RULE_KEYS))}"


def _is_name(node: nodes.Node, name: str) -> bool:
    return isinstance(node, nodes.Name) and node.name == name


def _const_text(node: nodes.Node | None) -> str | None:
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return node.value
    return None


def _keys_read(tree: nodes.Template, name: str) -> Iterator[tuple[int, str, str]]:
    """``(line, as written, key)`` for the literal keys read from the mapping `name`:
    ``name['k']``, ``name.get('k')`` and ``name.k`` (a dict method is not a key)."""
    for item in tree.find_all(nodes.Getitem):
        key = _const_text(item.arg)
        if _is_name(item.node, name) and key is not None:
            yield item.lineno, f"{name}[{key!r}]", key
    for call in tree.find_all(nodes.Call):
        callee = call.node
        if isinstance(callee, nodes.Getattr) and callee.attr == "get":
            key = _const_text(call.args[0] if call.args else None)
            if _is_name(callee.node, name) and key is not None:
                yield call.lineno, f"{name}.get({key!r})", key
    for attr in tree.find_all(nodes.Getattr):
        if _is_name(attr.node, name) and attr.attr not in _DICT_METHODS:
            yield attr.lineno, f"{name}.{attr.attr}", attr.attr


def _visitor_chains(tree: nodes.Template) -> Iterator[tuple[int, list[str]]]:
    """``visitor.a.b.c`` as ``(line, ["a", "b", "c"])``, for every such chain and sub-chain."""
    for attr in tree.find_all(nodes.Getattr):
        parts = [attr.attr]
        node = attr.node
        while isinstance(node, nodes.Getattr):
            parts.insert(0, node.attr)
            node = node.node
        if _is_name(node, "visitor"):
            yield attr.lineno, parts


def _dotted_read(chains: list[tuple[int, list[str]]], line: int, first: str) -> str | None:
    """The attribute that ``visitor.search.last`` on `line` meant (``search.last``), if any:
    Jinja reads it as the key ``search``, then ``last`` of that."""
    for chain_line, parts in sorted(chains, key=lambda chain: -len(chain[1])):
        if chain_line == line and parts[0] == first:
            for end in range(len(parts), 1, -1):
                dotted = ".".join(parts[:end])
                if attribute(dotted) is not None:
                    return dotted
    return None


class _UnknownUsed(UndefinedError):
    """An operation on a stand-in for a name the site provides: nothing to report."""


class _Unknown(ChainableUndefined):
    """Stands for a name `etalage check` was not given (a site's fragment global): callable,
    chainable, empty and false."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> _Unknown:  # type: ignore[override]
        return self  # a site's global is most often a function


# --- sample visitors ----------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """A visitor's attributes as rules see them, and who they are in a message."""

    label: str
    attributes: Mapping[str, Any]


def sample_profile(now: datetime) -> Profile:
    """A customer with a bit of everything: searches (one about a trip still ahead), views
    with topics, interests, stated preferences, a cart left a day ago, a purchase, an event."""
    t = int(now.timestamp())
    hour, day = 3600, 86400
    return Profile(
        id="sample-visitor",
        visits=3,
        first_seen=t - 40 * day,
        last_seen=t - hour,
        visit_started=t - hour,
        prev_visit_seen=t - 3 * day,
        searches=[SearchEntry("tent", t - 2 * hour, t + 10 * day), SearchEntry("boots", t - day)],
        views=[
            ViewEntry("/product/tent.html", t - hour, "camping"),
            ViewEntry("/category/hiking.html", t - 2 * day, "hiking"),
        ],
        interest={"camping": (1.0, t - hour), "hiking": (0.8, t - 2 * day)},
        cart=CartState(2, 178.0, t - 30 * hour),
        purchases=1,
        purchase_total=89.0,
        last_purchase=t - 20 * day,
        prefs={
            "name": "Ada",
            "email": "ada@example.com",
            "channel": "email",
            "level": "beginner",
            "interests": ["hiking"],
        },
        events=[EventEntry("add_to_cart", t - 30 * hour, {})],
        counts={
            "p:/category/hiking.html": DayCounts((t - 2 * day) // day, (2,)),
            "t:hiking": DayCounts((t - 2 * day) // day, (3,)),
            "s:boots": DayCounts((t - day) // day, (1,)),
            "e:add_to_cart": DayCounts((t - 30 * hour) // day, (1,)),
            "p:/product/tent.html": DayCounts((t - hour) // day, (1,)),
            "t:camping": DayCounts((t - hour) // day, (2,)),
            "s:tent": DayCounts((t - 2 * hour) // day, (2,)),
        },
    )


def sample_visitors(ruleset: Ruleset, now: datetime) -> list[Sample]:
    """A first visit (no consent asked yet, nothing stored) and a consenting customer with
    history, their attributes built as the middleware builds them."""
    zone = ruleset.site.timezone
    first = Visitor(RequestFacts("/", now, zone), now, consent=None)
    facts = RequestFacts(
        "/",
        now,
        zone,
        query={"q": "tent", "utm_source": "newsletter"},
        device_type="mobile",
        device_os="iOS",
        device_browser="Mobile Safari",
        referrer_host="www.example.com",
        locale="en-GB",
    )
    known = Visitor(facts, now, consent=True, profile=sample_profile(now))
    page = {"path": "/"}
    read = ruleset.referenced_attributes  # the window counts its rules read, 0 when not counted
    return [
        Sample("a first visit", first.attributes(ruleset.history, zone, page, counts=read)),
        Sample(
            "a visitor with history",
            known.attributes(ruleset.history, zone, page, counts=read),
        ),
    ]


def _matching(
    rule: Rule,
    ruleset: Ruleset,
    samples: list[Sample],
    segment_conditions: Mapping[str, Any],
    now: datetime,
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The samples `rule` matches, then the last sample adjusted to meet its condition."""
    tried: list[Mapping[str, Any]] = []
    candidates = [(sample.label, sample.attributes) for sample in samples]
    if rule.when and samples:
        adjusted = dict(samples[-1].attributes)
        _meet(rule.when, adjusted, segment_conditions, now=now)
        candidates.append((f"{samples[-1].label}, adjusted to the rule", adjusted))
    for label, attrs in candidates:
        if attrs not in tried and _matches(rule, ruleset, attrs):
            tried.append(attrs)
            yield label, attrs


def _matches(rule: Rule, ruleset: Ruleset, attrs: Mapping[str, Any]) -> bool:
    """Whether `rule` applies to these attributes (schedule, caps and holdout aside)."""
    if rule.needs_consent and attrs.get("consent.personalization") is not True:
        return False
    return rule.predicate(ruleset.with_segments(attrs, [rule.slot]))


def _meet(
    condition: Any,
    attrs: dict[str, Any],
    segments: Mapping[str, Any],
    *,
    now: datetime,
    depth: int = 0,
) -> None:
    """Change `attrs` so that the plain parts of `condition` hold: each test of its top level
    and of ``$and``, the first branch of ``$or``, the conditions of ``segment.<name>: true``.
    A best effort: whether the rule then matches is checked afterwards."""
    if not isinstance(condition, Mapping) or depth > 10:
        return
    for key, test in condition.items():
        if key == "$and" and isinstance(test, list):
            for item in test:
                _meet(item, attrs, segments, now=now, depth=depth + 1)
        elif key == "$or" and isinstance(test, list) and test:
            _meet(test[0], attrs, segments, now=now, depth=depth + 1)
        elif not isinstance(key, str) or key in ("$nor", "$not"):
            continue
        elif key.startswith("segment.") and test is True and key[8:] in segments:
            _meet(segments[key[8:]], attrs, segments, now=now, depth=depth + 1)
        else:
            _meet_test(key, test, attrs, now)


def _meet_test(path: str, test: Any, attrs: dict[str, Any], now: datetime) -> None:
    operators = isinstance(test, Mapping) and all(str(key).startswith("$") for key in test)
    tests = list(test.items()) if operators else [("$eq", test)]
    for op, arg in tests:
        if evaluate_condition({path: {op: arg}}, attrs):
            continue
        number = isinstance(arg, int | float) and not isinstance(arg, bool)
        if op == "$eq":
            attrs[path] = arg
        elif op == "$in" and isinstance(arg, list) and arg:
            spec = attribute(path)
            attrs[path] = [arg[0]] if spec is not None and spec.kind == "list" else arg[0]
        elif op == "$exists":
            if arg:
                attrs[path] = _example(path, now)
            else:
                attrs.pop(path, None)
        elif op in ("$ne", "$nin"):
            attrs.pop(path, None)
        elif number and op in ("$gt", "$gte", "$lt", "$lte"):
            attrs[path] = arg + {"$gt": 1, "$gte": 0, "$lt": -1, "$lte": 0}[op]


def _example(path: str, now: datetime) -> Any:
    """A value of the kind `path` holds, for a test that it exists."""
    spec = attribute(path)
    kind = spec.kind if spec is not None else "text"
    if spec is not None and spec.values:
        return spec.values[0]
    return {
        "number": 1,
        "list": ["sample"],
        "date": (now + timedelta(days=7)).date().isoformat(),
    }.get(kind, "sample")


# --- rendering ----------------------------------------------------------------------------


class _PageFacts(dict[str, Any]):
    """A page's facts: which ones a page has is up to its HTML, so a missing one is an
    ordinary (not strict) undefined, as it renders at run time."""

    def __missing__(self, key: str) -> Undefined:
        return Undefined(name=key)


def _render_problem(
    env: Environment, rule: Rule, template: str, attrs: Mapping[str, Any], folder: Path
) -> tuple[str, int | None, str] | None:
    """Render the rule's fragment for `attrs` as the middleware would; the file, line and
    message of what fails, or None."""
    view = dict(attrs)
    view["name"] = attrs.get("prefs.name")
    view["consent"] = attrs.get("consent.personalization") is True
    page = _PageFacts({k[5:]: v for k, v in attrs.items() if k.startswith("page.")})
    context = {
        "page": page,
        "rule": {"id": rule.id, "slot": rule.slot, "reason": rule.describe()},
        "why_url": f"{_PREFIX}profile#rule-{rule.id}",
        "default": Markup("<p>default content</p>"),
        "visitor": view,
    }
    try:
        env.get_template(template).render(context)
    except _UnknownUsed:
        return None
    except UndefinedError as exc:
        return (*_where(exc, folder, template), _undefined_message(str(exc)))
    except Exception as exc:  # noqa: BLE001 - at run time any error falls back to the default
        return (*_where(exc, folder, template), f"{type(exc).__name__}: {exc}")
    return None


_MISSING_KEY = re.compile(r"^'dict object' has no attribute '(?P<key>[^']+)'$")


def _undefined_message(message: str) -> str:
    """Jinja's message, or for a visitor value this visitor lacks, how to read it safely."""
    match = _MISSING_KEY.match(message)
    key = match.group("key") if match else None
    if key is None or (key not in VIEW_KEYS and attribute(key) is None):
        return message
    return (
        f"visitor['{key}'] is undefined for this visitor: read it with visitor.get('{key}') "
        "or test it with 'is defined'"
    )


def _where(exc: BaseException, folder: Path, template: str) -> tuple[str, int | None]:
    """The innermost template line in the traceback (Jinja rewrites it to template lines)."""
    root = folder.resolve()
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename).resolve()
        if root in path.parents:
            return os.path.normpath(frame.filename), frame.lineno
    return os.path.normpath(folder / template), None
