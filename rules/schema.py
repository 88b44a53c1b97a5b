"""Reading a rule file: YAML with the line of every key, and schema checks that name file and line."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from etalage.errors import RuleFileError

PathKey = tuple[str | int, ...]

TOP_LEVEL_KEYS = frozenset(
    {"version", "site", "history", "saved_groups", "segments", "holdout", "slots", "rules"}
)
SLOT_KEYS = frozenset({"label", "take"})
SITE_KEYS = frozenset(
    {"name", "search_param", "search_date_param", "timezone", "fragments", "slot_selectors"}
)
RULE_KEYS = frozenset(
    {
        "id",
        "slot",
        "fragment",
        "reorder",
        "hide",
        "when",
        "priority",
        "reason",
        "start",
        "end",
        "max_exposures",
        "dismissible",
        "variants",
        "bucket_version",
        "holdout",
    }
)
ACTION_KEYS = ("fragment", "reorder", "hide", "variants")
VARIANT_KEYS = frozenset({"fragment", "weight"})
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SLOT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:.-]*$")


def field_name(path: PathKey) -> str:
    """Render a key path as the field name used in messages: ``rules[2].when``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass
class SourceDocument:
    """A parsed rule file: its data and the line of every key and list item."""

    file: str
    data: Any
    lines: dict[PathKey, int]

    def line_of(self, path: PathKey) -> int | None:
        """Return the line of `path`, or of its closest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1

    def error(self, path: PathKey, message: str) -> RuleFileError:
        """Build the error for `path`, naming file, line and field."""
        return RuleFileError(self.file, self.line_of(path), field_name(path), message)


def parse_document(text: str, file: str) -> SourceDocument:
    """Parse YAML text (``safe_load``) and index the line of every key and list item."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise RuleFileError(file, line, "", f"invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise RuleFileError(file, None, "", f"invalid YAML: {exc}") from None
    lines: dict[PathKey, int] = {}
    if node is not None:
        for path, line in _walk(node, ()):
            if path in lines and not isinstance(path[-1], int):
                # YAML keeps the last of two equal keys silently: a rule would lose its
                # first `when` without a word.
                raise RuleFileError(file, line, field_name(path), "duplicate key")
            lines[path] = line
    return SourceDocument(file=file, data=data, lines=lines)


def _walk(node: yaml.Node, path: PathKey) -> Iterator[tuple[PathKey, int]]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            yield path + (key,), key_node.start_mark.line + 1
            yield from _walk(value_node, path + (key,))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield path + (index,), item.start_mark.line + 1
            yield from _walk(item, path + (index,))


def require_mapping(doc: SourceDocument, value: Any, path: PathKey) -> Mapping[str, Any]:
    """Return `value` if it is a mapping with string keys, else raise naming `path`."""
    if not isinstance(value, Mapping):
        raise doc.error(path, f"must be a mapping, not {_type_name(value)}")
    for key in value:
        if not isinstance(key, str):
            raise doc.error(path, f"keys must be strings, not {_type_name(key)} {key!r}")
    return value


def reject_unknown_keys(
    doc: SourceDocument, value: Mapping[str, Any], allowed: frozenset[str], path: PathKey
) -> None:
    """Raise for the first key of `value` that is not in `allowed`, naming the closest one."""
    for key in value:
        if key not in allowed:
            close = closest(key, allowed)
            hint = f", did you mean '{close}'?" if close else ""
            raise doc.error(
                path + (key,),
                f"unknown key '{key}'{hint} (allowed: {', '.join(sorted(allowed))})",
            )


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like `word` (a typo's likely intent), or None when none is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.75)
    return matches[0] if matches else None


def parse_timezone(doc: SourceDocument, value: Any, path: PathKey) -> tzinfo:
    """Resolve an IANA time zone name."""
    if not isinstance(value, str):
        raise doc.error(path, "must be an IANA time zone name such as 'Europe/Berlin'")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise doc.error(path, f"unknown time zone '{value}'") from None


def parse_datetime(doc: SourceDocument, value: Any, path: PathKey, zone: tzinfo) -> datetime:
    """Read a schedule bound: a YAML timestamp, a date or an ISO string; naive means `zone`."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise doc.error(path, f"not an ISO date-time: '{value}'") from None
    else:
        raise doc.error(path, f"must be a date-time, not {_type_name(value)}")
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def check_identifier(doc: SourceDocument, value: Any, path: PathKey, *, kind: str) -> str:
    """Check a rule id or slot name."""
    pattern = _ID if kind == "id" else _SLOT
    if not isinstance(value, str) or not pattern.match(value):
        raise doc.error(path, f"invalid {kind} {value!r} (expected {pattern.pattern})")
    return value


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
