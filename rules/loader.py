"""Loading a rule file into a `Ruleset`, with an error naming file, line and field for any flaw."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import soupsieve

from etalage.errors import RuleFileError
from etalage.recency import HistoryPolicy, parse_count_path
from etalage.rules.attributes import CONDITION_OPERATORS, clauses
from etalage.rules.conditions import condition_paths, condition_problems
from etalage.rules.model import (
    CONTEXTUAL_PREFIXES,
    MAX_TAKE,
    Action,
    FragmentAction,
    HideAction,
    ReorderAction,
    Rule,
    Segment,
    SiteConfig,
    SlotConfig,
    Variant,
    VariantsAction,
)
from etalage.rules.ruleset import Ruleset, compile_predicate
from etalage.rules.schema import (
    ACTION_KEYS,
    RULE_KEYS,
    SITE_KEYS,
    SLOT_KEYS,
    TOP_LEVEL_KEYS,
    VARIANT_KEYS,
    PathKey,
    SourceDocument,
    check_identifier,
    closest,
    field_name,
    parse_datetime,
    parse_document,
    parse_timezone,
    reject_unknown_keys,
    require_mapping,
)


def load_ruleset(path: str | Path) -> Ruleset:
    """Read and validate a rule file; raise `RuleFileError` naming file, line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError(str(path), None, "", f"cannot read rule file: {exc}") from None
    return parse_ruleset(text, str(path), base_dir=path.parent)


def parse_ruleset(text: str, file: str = "<rules>", *, base_dir: Path | None = None) -> Ruleset:
    """Validate rule-file text and compile it; `base_dir` resolves the fragments folder."""
    doc = parse_document(text, file)
    data = require_mapping(doc, doc.data if doc.data is not None else {}, ())
    reject_unknown_keys(doc, data, TOP_LEVEL_KEYS, ())
    if data.get("version") != 1:
        raise doc.error(("version",), f"must be 1, not {data.get('version')!r}")
    base = base_dir if base_dir is not None else Path(".")
    site = _site(
        doc,
        data.get("site", {}),
        base,
        default_name=Path(file).stem or "site",
        slots=_slots(doc, data.get("slots", {})),
    )
    history = _history(doc, data.get("history", {}))
    saved_groups = _saved_groups(doc, data.get("saved_groups", {}))
    holdout = data.get("holdout", 0.0)
    if isinstance(holdout, bool) or not isinstance(holdout, int | float) or not 0 <= holdout <= 1:
        raise doc.error(("holdout",), f"must be a share between 0 and 1, not {holdout!r}")
    raw_segments = data.get("segments", {})
    segments, order = _segments(doc, raw_segments, saved_groups)
    rules = _rules(doc, data.get("rules", []), site, segments, saved_groups)
    conditions = [rule.when for rule in rules if rule.when]
    conditions.extend(raw_segments.values())
    history = replace(history, counted=_counted(conditions))
    return Ruleset(
        path=Path(file) if base_dir is not None else None,
        site=site,
        history=history,
        rules=rules,
        segments=segments,
        segment_order=order,
        holdout=float(holdout),
        saved_groups=saved_groups,
    )


def _site(
    doc: SourceDocument,
    value: Any,
    base: Path,
    *,
    default_name: str,
    slots: Mapping[str, SlotConfig],
) -> SiteConfig:
    site = require_mapping(doc, value, ("site",))
    reject_unknown_keys(doc, site, SITE_KEYS, ("site",))
    for key in ("name", "search_param", "search_date_param", "fragments"):
        if key in site and not (isinstance(site[key], str) and site[key]):
            raise doc.error(("site", key), "must be a non-empty string")
    zone = parse_timezone(doc, site.get("timezone", "UTC"), ("site", "timezone"))
    return SiteConfig(
        name=site.get("name", default_name),
        search_param=site.get("search_param", "q"),
        search_date_param=site.get("search_date_param"),
        timezone=zone,
        fragments=(base / site.get("fragments", "fragments")),
        slot_selectors=_slot_selectors(doc, site.get("slot_selectors", {})),
        slots=slots,
    )


def _slots(doc: SourceDocument, value: Any) -> dict[str, SlotConfig]:
    """The top-level ``slots:`` section: slot name -> ``{label: text, take: N}`` (both optional)."""
    slots = require_mapping(doc, value, ("slots",))
    out: dict[str, SlotConfig] = {}
    for name, raw in slots.items():
        path: PathKey = ("slots", name)
        check_identifier(doc, name, path, kind="slot")
        entry = require_mapping(doc, {} if raw is None else raw, path)
        reject_unknown_keys(doc, entry, SLOT_KEYS, path)
        label = entry.get("label")
        if label is not None and not (isinstance(label, str) and label.strip()):
            raise doc.error(path + ("label",), "must be a non-empty string")
        take = entry.get("take", 1)
        if isinstance(take, bool) or not isinstance(take, int) or not 1 <= take <= MAX_TAKE:
            raise doc.error(
                path + ("take",), f"must be a whole number from 1 to {MAX_TAKE}, not {take!r}"
            )
        out[name] = SlotConfig(label=label.strip() if label else None, take=take)
    return out


def _slot_selectors(doc: SourceDocument, value: Any) -> dict[str, str]:
    """``site.slot_selectors``: slot name -> a CSS selector soupsieve can compile."""
    path: PathKey = ("site", "slot_selectors")
    selectors = require_mapping(doc, value, path)
    for slot, selector in selectors.items():
        check_identifier(doc, slot, (*path, str(slot)), kind="slot")
        if not (isinstance(selector, str) and selector.strip()):
            raise doc.error((*path, slot), "must be a CSS selector (a non-empty string)")
        try:
            soupsieve.compile(selector)
        except soupsieve.SelectorSyntaxError as exc:
            message = str(exc).splitlines()[0]
            raise doc.error((*path, slot), f"is not a valid CSS selector: {message}") from None
    return dict(selectors)


def _history(doc: SourceDocument, value: Any) -> HistoryPolicy:
    history = require_mapping(doc, value, ("history",))
    try:
        return HistoryPolicy.from_mapping(history)
    except ValueError as exc:
        sub, _, message = str(exc).partition(": ")
        path: PathKey = ("history", *sub.split(".")) if message else ("history",)
        raise doc.error(path, message or str(exc)) from None


def _counted(conditions: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """What the window count attributes of `conditions` read (`HistoryPolicy.counted`): only
    that is counted, so a visitor's cookie holds no count that no rule needs."""
    keys = set()
    for condition in conditions:
        for path in condition_paths(condition):
            parsed = parse_count_path(path)
            if parsed is not None:
                keys.add(parsed.key)
    return frozenset(keys)


def _saved_groups(doc: SourceDocument, value: Any) -> dict[str, list[Any]]:
    groups = require_mapping(doc, value, ("saved_groups",))
    for name, members in groups.items():
        if not isinstance(members, list):
            raise doc.error(("saved_groups", name), "must be a list of values")
    return {name: list(members) for name, members in groups.items()}


def _check_condition(
    doc: SourceDocument,
    condition: Any,
    path: PathKey,
    saved_groups: Mapping[str, Sequence[Any]],
) -> None:
    if not isinstance(condition, Mapping):
        raise doc.error(path, "a condition must be a mapping of attribute to test")
    problems = condition_problems(condition, saved_groups)
    for sub, key, _ in clauses(condition):
        if key.startswith("$"):  # GrowthBook would read it as an attribute no visitor has
            close = closest(key, CONDITION_OPERATORS)
            hint = (
                f"did you mean '{close}'?"
                if close
                else "a condition's keys are attribute paths or $and, $or, $nor, $not"
            )
            problems.append((sub, f"unknown operator '{key}' ({hint})"))
    if problems:
        sub, message = problems[0]
        raise RuleFileError(doc.file, doc.line_of(path + sub), field_name(path), message)


def _reads_stored(paths: frozenset[str], segments: Mapping[str, Segment]) -> bool:
    for attribute in paths:
        if attribute.startswith("segment."):
            segment = segments.get(attribute[len("segment.") :])
            if segment is None or segment.needs_consent:
                return True
        elif not attribute.startswith(CONTEXTUAL_PREFIXES):
            return True
    return False


def _segment_refs(paths: frozenset[str]) -> frozenset[str]:
    return frozenset(p[len("segment.") :] for p in paths if p.startswith("segment."))


def _segments(
    doc: SourceDocument, value: Any, saved_groups: Mapping[str, Sequence[Any]]
) -> tuple[dict[str, Segment], tuple[str, ...]]:
    raw = require_mapping(doc, value, ("segments",))
    refs: dict[str, frozenset[str]] = {}
    for name, condition in raw.items():
        check_identifier(doc, name, ("segments", name), kind="slot")
        _check_condition(doc, condition, ("segments", name), saved_groups)
        refs[name] = _segment_refs(condition_paths(condition))
        for ref in refs[name]:
            if ref not in raw:
                raise doc.error(("segments", name), f"unknown segment '{ref}'")
    order = _topological_order(doc, refs)
    segments: dict[str, Segment] = {}
    for name in order:
        paths = condition_paths(raw[name])
        segments[name] = Segment(
            name=name,
            predicate=compile_predicate(raw[name], saved_groups),
            needs_consent=_reads_stored(paths, segments),
            depends_on=refs[name],
            when=raw[name],
        )
    return segments, tuple(order)


def _topological_order(doc: SourceDocument, refs: Mapping[str, frozenset[str]]) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = being visited, 2 = done

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join(trail[trail.index(name) :] + [name])
            raise doc.error(("segments", name), f"segments form a cycle: {cycle}")
        state[name] = 1
        for ref in sorted(refs[name]):
            visit(ref, trail + [name])
        state[name] = 2
        order.append(name)

    for name in refs:
        visit(name, [])
    return order


def _rules(
    doc: SourceDocument,
    value: Any,
    site: SiteConfig,
    segments: Mapping[str, Segment],
    saved_groups: Mapping[str, Sequence[Any]],
) -> tuple[Rule, ...]:
    if not isinstance(value, list):
        raise doc.error(("rules",), "must be a list of rules")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(value):
        path: PathKey = ("rules", index)
        raw = require_mapping(doc, item, path)
        reject_unknown_keys(doc, raw, RULE_KEYS, path)
        for key in ("id", "slot"):
            if key not in raw:
                raise doc.error(path, f"missing required key '{key}'")
        rule_id = check_identifier(doc, raw["id"], path + ("id",), kind="id")
        if rule_id in seen:
            raise doc.error(
                path + ("id",), f"duplicate rule id '{rule_id}' (first at rules[{seen[rule_id]}])"
            )
        seen[rule_id] = index
        slot = check_identifier(doc, raw["slot"], path + ("slot",), kind="slot")
        action = _action(doc, raw, path)
        take = site.slot_config(slot).take
        if take > 1 and isinstance(action, HideAction | ReorderAction):
            key = "hide" if isinstance(action, HideAction) else "reorder"
            raise doc.error(
                path + (key,),
                f"slot '{slot}' takes {take} rules (slots.{slot}.take), each showing a fragment: "
                "use fragment or variants",
            )
        when = raw.get("when")
        paths: frozenset[str] = frozenset()
        if when is not None:
            _check_condition(doc, when, path + ("when",), saved_groups)
            paths = condition_paths(when)
            for ref in _segment_refs(paths):
                if ref not in segments:
                    raise doc.error(path + ("when",), f"unknown segment '{ref}'")
        reads_interest = isinstance(action, ReorderAction)
        rules.append(
            Rule(
                id=rule_id,
                slot=slot,
                action=action,
                when=when,
                predicate=compile_predicate(when, saved_groups),
                priority=_int(doc, raw, "priority", path, default=0),
                order=index,
                line=doc.line_of(path),
                reason=_optional_str(doc, raw, "reason", path),
                start=_bound(doc, raw, "start", path, site),
                end=_bound(doc, raw, "end", path, site),
                max_exposures=_max_exposures(doc, raw, path),
                dismissible=_bool(doc, raw, "dismissible", path),
                needs_consent=reads_interest or _reads_stored(paths, segments),
                segments=_segment_refs(paths),
                bucket_version=_bucket_version(doc, raw, path),
                holdout=_rule_holdout(doc, raw, path, action),
            )
        )
        last = rules[-1]
        if last.start and last.end and last.end <= last.start:
            raise doc.error(path + ("end",), "must be after start")
    return tuple(rules)


def _action(doc: SourceDocument, raw: Mapping[str, Any], path: PathKey) -> Action:
    present = [key for key in ACTION_KEYS if key in raw]
    if len(present) != 1:
        raise doc.error(
            path, f"needs exactly one action of {', '.join(ACTION_KEYS)}; found {len(present)}"
        )
    key = present[0]
    value = raw[key]
    if key == "fragment":
        return _fragment(doc, value, path + (key,))
    if key == "variants":
        return _variants(doc, value, path + (key,))
    if key == "hide":
        if value is not True:
            raise doc.error(path + (key,), "must be true")
        return HideAction()
    reorder = require_mapping(doc, value, path + (key,))
    reject_unknown_keys(doc, reorder, frozenset({"by"}), path + (key,))
    by = reorder.get("by")
    if not isinstance(by, str) or not by:
        raise doc.error(path + (key, "by"), "must be 'interest' or an attribute path")
    return ReorderAction(by)


def _fragment(doc: SourceDocument, value: Any, path: PathKey) -> FragmentAction:
    if not isinstance(value, str) or not value or value.startswith("/") or ".." in value:
        raise doc.error(path, "must be a path relative to the fragments folder")
    return FragmentAction(value)


def _variants(doc: SourceDocument, value: Any, path: PathKey) -> VariantsAction:
    if not isinstance(value, list) or len(value) < 2:
        raise doc.error(path, "must be a list of at least 2 variants")
    variants = []
    for index, item in enumerate(value):
        item_path = path + (index,)
        variant = require_mapping(doc, item, item_path)
        reject_unknown_keys(doc, variant, VARIANT_KEYS, item_path)
        for key in ("fragment", "weight"):
            if key not in variant:
                raise doc.error(item_path, f"missing required key '{key}'")
        weight = variant["weight"]
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
            raise doc.error(item_path + ("weight",), f"must be a positive number, not {weight!r}")
        fragment = _fragment(doc, variant["fragment"], item_path + ("fragment",))
        variants.append(Variant(fragment, float(weight)))
    return VariantsAction(tuple(variants))


def _bucket_version(doc: SourceDocument, raw: Mapping[str, Any], path: PathKey) -> int:
    value = _int(doc, raw, "bucket_version", path, default=1)
    if value < 1:
        raise doc.error(path + ("bucket_version",), "must be at least 1")
    return value


def _rule_holdout(
    doc: SourceDocument, raw: Mapping[str, Any], path: PathKey, action: Action
) -> float:
    if "holdout" not in raw:
        return 0.0
    value = raw["holdout"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise doc.error(path + ("holdout",), f"must be a share from 0 to below 1, not {value!r}")
    if not isinstance(action, FragmentAction | VariantsAction):
        raise doc.error(path + ("holdout",), "needs a fragment or variants action")
    return float(value)


def _int(
    doc: SourceDocument, raw: Mapping[str, Any], key: str, path: PathKey, *, default: int
) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise doc.error(path + (key,), f"must be an integer, not {value!r}")
    return value


def _max_exposures(doc: SourceDocument, raw: Mapping[str, Any], path: PathKey) -> int | None:
    if "max_exposures" not in raw:
        return None
    value = _int(doc, raw, "max_exposures", path, default=0)
    if value < 1:
        raise doc.error(path + ("max_exposures",), "must be at least 1")
    return value


def _bool(doc: SourceDocument, raw: Mapping[str, Any], key: str, path: PathKey) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise doc.error(path + (key,), f"must be true or false, not {value!r}")
    return value


def _optional_str(
    doc: SourceDocument, raw: Mapping[str, Any], key: str, path: PathKey
) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise doc.error(path + (key,), "must be a string")
    return value


def _bound(
    doc: SourceDocument, raw: Mapping[str, Any], key: str, path: PathKey, site: SiteConfig
) -> Any:
    if key not in raw:
        return None
    return parse_datetime(doc, raw[key], path + (key,), site.timezone)
