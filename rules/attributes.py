"""The attribute paths rules can test, what each holds, and the typos `etalage check` names.

The catalogue follows what builds the attributes: `etalage.recency.derive_attributes` (stored
history), `RequestFacts.contextual_attributes` (the request), `Visitor.attributes` (consent,
holdout, page facts, the visitor id) and the rule file's own segments. A rule that tests a path
outside it still loads and runs: the path is simply never there, which is what a typo looks
like, so `etalage check` warns about it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from etalage.recency import COUNT_FAMILIES, parse_count_path
from etalage.rules.schema import closest

#: What may stand for a key of a condition besides an attribute path.
CONDITION_OPERATORS = ("$and", "$or", "$nor", "$not")

SubPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Attribute:
    """What an attribute holds: its `kind` (``text``, ``date``, ``number``, ``boolean`` or
    ``list``) and, when the set is closed, every value it can take."""

    kind: str
    values: tuple[Any, ...] | None = None
    #: For text of a fixed form: the pattern every value matches in full, and how to say it.
    form: tuple[re.Pattern[str], str] | None = None

    def describe(self) -> str:
        """The values in a few words: ``mobile, tablet, desktop``, ``0..23``, ``a number``."""
        values = self.values
        if self.form is not None:
            return self.form[1]
        if values is None:
            return _KIND_WORDS[self.kind]
        if all(type(v) is int for v in values) and list(values) == list(
            range(values[0], values[-1] + 1)
        ):
            return f"{values[0]}..{values[-1]}"
        return ", ".join(v if isinstance(v, str) else _show(v) for v in values)

    def never_equals(self, value: Any, *, element: bool = False) -> bool:
        """Whether an equality test against `value` can never hold (null tests absence).

        `element` is for the items of ``$in`` / ``$nin``, which a list attribute compares with
        its elements, not with the whole list.
        """
        if value is None:
            return False
        if self.kind == "list":
            return not element and not isinstance(value, list | tuple)
        if self.values is not None:
            return not any(
                value == v and isinstance(value, bool) == isinstance(v, bool) for v in self.values
            )
        if self.form is not None:
            return not isinstance(value, str) or not self.form[0].fullmatch(value)
        if self.kind == "number":
            return isinstance(value, bool) or not isinstance(value, int | float)
        if self.kind in ("text", "date"):
            return not isinstance(value, str)
        return False


TEXT = Attribute("text")
DATE = Attribute("date")
NUMBER = Attribute("number")
BOOLEAN = Attribute("boolean", (True, False))
LIST = Attribute("list")
COUNTRY = Attribute(
    "text", form=(re.compile("[A-Z]{2}"), "a two-letter country code in capitals, e.g. 'DE'")
)
REGION = Attribute(
    "text",
    form=(re.compile("[A-Z0-9]{1,3}"), "a region code in capitals, e.g. 'BY' (of DE-BY)"),
)

_KIND_WORDS = {
    "text": "text",
    "date": "an ISO date as text, e.g. '2026-12-24'",
    "number": "a number",
    "boolean": "true or false",
    "list": "a list: test its items with $in, $all or $elemMatch",
}

#: Every attribute with a fixed path.
ATTRIBUTES: Mapping[str, Attribute] = {
    # Stored history (with consent): etalage.recency.derive_attributes.
    "visits.count": NUMBER,
    "visits.first_seen_days": NUMBER,
    "visits.last_seen_days": NUMBER,
    "lifecycle": Attribute("text", ("new", "returning", "customer", "lapsed")),
    "search.recent": LIST,
    "search.count": NUMBER,
    "search.last": TEXT,
    "search.last.age_days": NUMBER,
    "search.last.age_hours": NUMBER,
    "search.last.valid_until": DATE,
    "view.recent": LIST,
    "view.count": NUMBER,
    "view.last": TEXT,
    "view.last.topic": TEXT,
    "view.last.age_days": NUMBER,
    "view.topics": LIST,
    "interest.top": TEXT,
    "interest.topics": LIST,
    "cart.items": NUMBER,
    "cart.value": NUMBER,
    "cart.age_hours": NUMBER,
    "cart.age_days": NUMBER,
    "purchases.count": NUMBER,
    "purchases.total": NUMBER,
    "purchases.last_days": NUMBER,
    "prefs.interests": LIST,
    "visit.pages": NUMBER,  # the current visit: pages viewed so far, this one included
    "visit.entry": TEXT,  # the path it entered on
    "visit.referrer": TEXT,  # the host of the other site that referred its first request
    "visit.utm_source": TEXT,  # its first request's utm_source
    "id": TEXT,
    # The consent choice and the holdout: etalage.visitor.Visitor.attributes.
    "consent.personalization": BOOLEAN,
    "consent.gpc": BOOLEAN,
    "experiment.holdout": BOOLEAN,
    # The request: etalage.request_facts.RequestFacts.contextual_attributes.
    "device.type": Attribute("text", ("mobile", "tablet", "desktop")),
    "device.os": TEXT,
    "device.browser": TEXT,
    "device.bot": BOOLEAN,
    "request.path": TEXT,
    "request.referrer_host": TEXT,
    "request.locale": TEXT,
    "request.country": COUNTRY,  # only behind a `trusted_edge`
    "request.region": REGION,
    "time.hour": Attribute("number", tuple(range(24))),
    "time.weekday": Attribute("number", tuple(range(7))),
    "time.date": DATE,
}

#: Families of attributes: a prefix and what follows it is the site's own (a topic, a
#: preference, a query parameter, a page fact).
PREFIXES: Mapping[str, Attribute] = {
    "interest.": NUMBER,  # interest.<topic>: the decayed score
    "prefs.": TEXT,  # prefs.<key>: name, email, channel, level, the site's preference choices
    "request.query.": TEXT,
    "request.utm.": TEXT,
    "page.": TEXT,  # page.<fact>, from <meta name="etalage:<fact>">
}

_EVENT = re.compile(r"^event\.(.+)\.(count|age_hours)$")  # event.<type>.count, .age_hours


def attribute(path: str, segments: Collection[str] = ()) -> Attribute | None:
    """What `path` holds, or None when no visitor ever has it (`segments`: the defined ones)."""
    known = ATTRIBUTES.get(path)
    if known is not None:
        return known
    if path.startswith("segment."):
        return BOOLEAN if path[len("segment.") :] in segments else None
    if _EVENT.match(path):
        return NUMBER
    if path.startswith(_COUNT_FAMILIES):
        # views.topic.<topic>.<N>d, views.path.<path>.<N>d, searches.term.<term>.<N>d,
        # events.<type>.<N>d: how often within the last N days (1 to 30)
        return NUMBER if parse_count_path(path) is not None else None
    for prefix, kind in PREFIXES.items():
        if path.startswith(prefix) and len(path) > len(prefix):
            return kind
    return None


def unknown_attribute(
    path: str, segments: Collection[str] = (), *, also: Collection[str] = ()
) -> str:
    """The message for a path no visitor has, with the closest known path (or name in `also`)
    if one is close."""
    if path.startswith(_COUNT_FAMILIES):
        return _count_message(path)
    close = closest(path, [*_candidates(path, segments), *also])
    return f"unknown attribute '{path}'" + (f" (did you mean '{close}'?)" if close else "")


def _candidates(path: str, segments: Collection[str]) -> list[str]:
    """Known paths to compare a typo with: the fixed ones, and each family completed with the
    typo's own tail (``intrest.hiking`` -> ``interest.hiking``)."""
    names = list(ATTRIBUTES)
    names.extend(f"segment.{name}" for name in segments)
    parts = path.split(".")
    for prefix in PREFIXES:
        depth = prefix.count(".")
        if len(parts) > depth:
            names.append(prefix + ".".join(parts[depth:]))
    if len(parts) > 1:
        names.extend(f"event.{parts[1]}.{what}" for what in ("count", "age_hours"))
    for family in COUNT_FAMILIES:  # veiws.topic.hiking.7d -> views.topic.hiking.7d
        depth = family.count(".")
        if len(parts) > depth + 1:
            names.append(family + ".".join(parts[depth:]))
    return names


_COUNT_FAMILIES = tuple(COUNT_FAMILIES)
_COUNT_WINDOW = re.compile(r"\.(\d+)([a-z]*)$")


def _count_message(path: str) -> str:
    """Why a path of a count family (``views.topic.hiking.45d``) counts nothing."""
    family = next(f for f in _COUNT_FAMILIES if path.startswith(f))
    window = _COUNT_WINDOW.search(path, len(family))
    name = path[len(family) : window.start()] if window else path[len(family) :]
    if not name:
        return f"unknown attribute '{path}' (a count names what it counts: '{family}<name>.7d')"
    example = f"{family}{name}.7d"
    if window is None:
        return f"unknown attribute '{path}' (a count needs a window: did you mean '{example}'?)"
    return (
        f"unknown attribute '{path}' (a count's window is 1d to 30d, "
        f"e.g. '{family}{name}.{min(max(int(window.group(1)), 1), 30)}d')"
    )


def clauses(condition: Any, prefix: SubPath = ()) -> Iterator[tuple[SubPath, str, Any]]:
    """``(where, path, test)`` for each attribute a condition tests, through ``$and``, ``$or``,
    ``$nor`` and ``$not``: the paths of `condition_paths`, with where each one is."""
    if not isinstance(condition, Mapping):
        return
    for key, test in condition.items():
        if key in ("$and", "$or", "$nor"):
            if isinstance(test, list | tuple):
                for index, item in enumerate(test):
                    yield from clauses(item, prefix + (key, index))
        elif key == "$not":
            yield from clauses(test, prefix + (key,))
        elif isinstance(key, str):
            yield prefix + (key,), key, test


def condition_warnings(condition: Any, segments: Collection[str] = ()) -> list[tuple[SubPath, str]]:
    """Tests that can never hold as meant: ``(where, message)`` for an unknown attribute path
    and for a value the attribute never has (``device.type: phone``)."""
    warnings: list[tuple[SubPath, str]] = []
    for where, path, test in clauses(condition):
        if path.startswith("$"):
            continue  # an unknown operator: the loader refuses it
        spec = attribute(path, segments)
        if spec is None:
            warnings.append((where, unknown_attribute(path, segments)))
            continue
        for value, element in _compared(test):
            if spec.never_equals(value, element=element):
                warnings.append((where, _never_message(path, spec, value)))
    return warnings


def _compared(test: Any) -> Iterator[tuple[Any, bool]]:
    """The values a test compares the attribute with for equality: a plain value, ``$eq``,
    ``$ne``, the items of ``$in`` / ``$nin`` (flagged), through ``$not``."""
    if isinstance(test, Mapping) and test and all(str(key).startswith("$") for key in test):
        for op, arg in test.items():
            if op in ("$eq", "$ne"):
                yield arg, False
            elif op in ("$in", "$nin") and isinstance(arg, list | tuple):
                for item in arg:
                    yield item, True
            elif op == "$not":
                yield from _compared(arg)
    else:
        yield test, False


def _never_message(path: str, spec: Attribute, value: Any) -> str:
    message = f"{_show(value)} is never a value of {path} ({spec.describe()})"
    if isinstance(value, str) and spec.values is not None:
        close = closest(value, [v for v in spec.values if isinstance(v, str)])
        if close:
            message += f"; did you mean '{close}'?"
    elif isinstance(value, date) and spec.kind in ("text", "date"):
        message += "; quote it, YAML reads it as a date"
    return message


def reorder_warning(by: str, segments: Collection[str] = ()) -> str | None:
    """Why ``reorder: {by: <by>}`` never reorders, or None: `by` must be ``interest`` or an
    attribute holding a list of item keys (or one key as text)."""
    if by == "interest":
        return None
    spec = attribute(by, segments)
    if spec is None:
        orderable = [path for path, kind in ATTRIBUTES.items() if kind.kind in ("list", "text")]
        close = closest(by, ["interest", *orderable])
        return f"unknown attribute '{by}'" + (f" (did you mean '{close}'?)" if close else "")
    if spec.kind in ("list", "text"):
        return None
    lists = ", ".join(path for path, kind in ATTRIBUTES.items() if kind is LIST)
    return (
        f"{by} holds {spec.describe()}, not item keys: reorder by 'interest' or by an "
        f"attribute holding a list ({lists})"
    )


def _show(value: Any) -> str:
    """A value as the rule file would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
