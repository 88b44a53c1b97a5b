"""`Profile`: what etalage remembers about a consenting visitor, and its compact wire form.

All moments are integer epoch seconds (UTC) from 0 to `MAX_MOMENT`. The compact form is a
JSON-ready dict with short keys; `Profile.from_compact` rejects any shape or content it does not
recognise with `ValueError`, so a cookie that was signed by us but written by an older version,
or a foreign value in the profile store, never reaches the rules or the profile page half-read.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

MAX_DECISION_PAGES = 3
MAX_SAFE_INT = 2**53  # beyond this an integer loses precision as a float (and in JSON readers)
MAX_MOMENT = 253402300799  # 9999-12-31T23:59:59Z, the last second `datetime` can show
MAX_NAME_LENGTH = 256  # a topic, rule, slot, event type, preference or event data key
MAX_TEXT_LENGTH = 4096  # a search term, path, reason, preference or event data value

_TEXT_PREFS = frozenset({"name", "email", "channel", "level"})  # what the endpoint stores
_LIST_PREFS = frozenset({"interests"})
_DECISION_KEYS = frozenset({"path", "at", "slots"})  # as `history.record_decisions` writes


@dataclass(frozen=True, slots=True)
class SearchEntry:
    """One search: the term, when it was made, and until when it stays relevant (if known)."""

    term: str
    at: int
    valid_until: int | None = None


@dataclass(frozen=True, slots=True)
class ViewEntry:
    """One page view: the path, its topic (from the page's meta tag) and its horizon."""

    path: str
    at: int
    topic: str | None = None
    valid_until: int | None = None


@dataclass(frozen=True, slots=True)
class EventEntry:
    """A recorded event (``add_to_cart``, ``purchase``, ``dismiss`` or a custom type)."""

    type: str
    at: int
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CartState:
    """The cart as last reported: item count, value and when it changed."""

    items: int = 0
    value: float = 0.0
    updated_at: int | None = None


@dataclass
class Profile:
    """The stored history of one visitor (only ever kept with consent)."""

    id: str
    visits: int = 0
    first_seen: int | None = None
    last_seen: int | None = None
    visit_started: int | None = None
    prev_visit_seen: int | None = None
    searches: list[SearchEntry] = field(default_factory=list)  # newest first
    views: list[ViewEntry] = field(default_factory=list)  # newest first
    interest: dict[str, tuple[float, int]] = field(default_factory=dict)  # topic -> (score, at)
    cart: CartState = field(default_factory=CartState)
    purchases: int = 0
    purchase_total: float = 0.0
    last_purchase: int | None = None
    prefs: dict[str, Any] = field(default_factory=dict)
    exposures: dict[str, int] = field(default_factory=dict)
    dismissed: dict[str, int] = field(default_factory=dict)
    events: list[EventEntry] = field(default_factory=list)  # newest first
    decisions: list[dict[str, Any]] = field(default_factory=list)  # newest first

    @classmethod
    def new(cls, now: datetime) -> Profile:
        """A fresh profile with a random pseudonymous id, first seen `now`."""
        moment = int(now.timestamp())
        return cls(id=secrets.token_urlsafe(12), first_seen=moment, last_seen=moment)

    def to_compact(self) -> dict[str, Any]:
        """The JSON-ready compact form (short keys; empty parts left out)."""
        data: dict[str, Any] = {"i": self.id, "v": self.visits}
        moments = {
            "f": self.first_seen,
            "l": self.last_seen,
            "vs": self.visit_started,
            "pv": self.prev_visit_seen,
            "lp": self.last_purchase,
        }
        data.update({key: value for key, value in moments.items() if value is not None})
        if self.searches:
            data["s"] = [_trim([e.term, e.at, e.valid_until]) for e in self.searches]
        if self.views:
            data["w"] = [_trim([e.path, e.at, e.topic, e.valid_until]) for e in self.views]
        if self.interest:
            data["n"] = {topic: [score, at] for topic, (score, at) in self.interest.items()}
        if self.cart != CartState():
            data["c"] = _trim([self.cart.items, self.cart.value, self.cart.updated_at])
        if self.purchases or self.purchase_total:
            data["p"] = [self.purchases, self.purchase_total]
        if self.prefs:
            data["r"] = dict(self.prefs)
        if self.exposures:
            data["x"] = dict(self.exposures)
        if self.dismissed:
            data["d"] = dict(self.dismissed)
        if self.events:
            data["e"] = [[e.type, e.at, e.data] if e.data else [e.type, e.at] for e in self.events]
        if self.decisions:
            data["k"] = list(self.decisions)
        return data

    def copy(self) -> Profile:
        """An independent copy: recording into it leaves this profile as it was.

        Entries are frozen, so their lists are copied as they are; preferences and event data
        are copied all the way down. Recorded decisions are only ever replaced, never changed in
        place (`history.record_decisions`), so their list is copied and the pages shared: a
        deep copy of them per request cost the garbage collector more than anything else here.
        """
        return replace(
            self,
            searches=list(self.searches),
            views=list(self.views),
            interest=dict(self.interest),
            prefs=_copy_json(self.prefs),
            exposures=dict(self.exposures),
            dismissed=dict(self.dismissed),
            events=[
                EventEntry(e.type, e.at, _copy_json(e.data)) if e.data else e for e in self.events
            ],
            decisions=list(self.decisions),
        )

    @classmethod
    def from_compact(cls, data: Any) -> Profile:
        """Rebuild a profile from `to_compact` output; `ValueError` for anything else.

        Contents are checked as well as shape (types, ranges, string lengths), so whatever
        this returns can be shown and decided on without further checks: a value signed by
        us in an older format, or a foreign value in the store, is refused, never half-read.
        """
        try:
            return cls._from_compact(data)
        except (TypeError, KeyError, IndexError, AttributeError, ArithmeticError) as exc:
            raise ValueError(f"not a compact profile: {exc}") from None

    @classmethod
    def _from_compact(cls, data: Any) -> Profile:
        if not isinstance(data, dict):
            raise ValueError("not a compact profile: expected an object")
        visitor_id = data["i"]
        if not isinstance(visitor_id, str) or not 0 < len(visitor_id) <= 64:
            raise ValueError("not a compact profile: bad id")
        profile = cls(
            id=visitor_id,
            visits=_count(data.get("v", 0)),
            first_seen=_opt_moment(data.get("f")),
            last_seen=_opt_moment(data.get("l")),
            visit_started=_opt_moment(data.get("vs")),
            prev_visit_seen=_opt_moment(data.get("pv")),
            last_purchase=_opt_moment(data.get("lp")),
        )
        if "s" in data:
            profile.searches = [
                SearchEntry(_text(e[0]), _moment(e[1]), _opt_moment(_at(e, 2)))
                for e in _list(data["s"])
                if _list(e, 2, 3)
            ]
        if "w" in data:
            profile.views = [
                ViewEntry(_text(e[0]), _moment(e[1]), _opt_name(_at(e, 2)), _opt_moment(_at(e, 3)))
                for e in _list(data["w"])
                if _list(e, 2, 4)
            ]
        if "n" in data:
            profile.interest = {
                _name(topic): (_amount(pair[0]), _moment(pair[1]))
                for topic, pair in _dict(data["n"]).items()
                if _list(pair, 2, 2)
            }
        if "c" in data:
            cart = _list(data["c"], 2, 3)
            profile.cart = CartState(_count(cart[0]), _amount(cart[1]), _opt_moment(_at(cart, 2)))
        if "p" in data:
            purchases = _list(data["p"], 2, 2)
            profile.purchases = _count(purchases[0])
            profile.purchase_total = _amount(purchases[1])
        if "r" in data:
            profile.prefs = {_name(k): _pref(k, v) for k, v in _dict(data["r"]).items()}
        if "x" in data:
            profile.exposures = {_name(k): _count(v) for k, v in _dict(data["x"]).items()}
        if "d" in data:
            profile.dismissed = {_name(k): _moment(v) for k, v in _dict(data["d"]).items()}
        if "e" in data:
            profile.events = [
                EventEntry(_name(e[0]), _moment(e[1]), _event_data(e[2]) if len(e) > 2 else {})
                for e in _list(data["e"])
                if _list(e, 2, 3)
            ]
        if "k" in data:
            decisions = [_decision(page) for page in _list(data["k"])]
            profile.decisions = decisions[:MAX_DECISION_PAGES]
        return profile


def _copy_json(value: Any) -> Any:
    """A copy of JSON-like data: dicts and lists copied at every level, scalars shared."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value


def _trim(values: list[Any]) -> list[Any]:
    """Drop trailing Nones: optional tail fields cost no bytes when unset."""
    while values and values[-1] is None:
        values.pop()
    return values


def _at(values: list[Any], index: int) -> Any:
    return values[index] if len(values) > index else None


def _list(value: Any, min_len: int = 0, max_len: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"not a compact profile: expected a list, got {type(value).__name__}")
    if len(value) < min_len or (max_len is not None and len(value) > max_len):
        raise ValueError("not a compact profile: list of unexpected length")
    return value


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"not a compact profile: expected an object, got {type(value).__name__}")
    return value


# One flat check per value: these run for every field of every profile read. `type(...) is int`
# also refuses booleans.


def _int(value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"not a compact profile: expected an integer in {low}..{high}")
    return value


def _count(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= MAX_SAFE_INT:
        raise ValueError("not a compact profile: expected a count")
    return value


def _moment(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= MAX_MOMENT:
        raise ValueError("not a compact profile: expected a moment (epoch seconds)")
    return value


def _opt_moment(value: Any) -> int | None:
    return None if value is None else _moment(value)


def _amount(value: Any) -> float:
    """A score, price or total: a finite number, never negative."""
    if type(value) is float:
        if math.isfinite(value) and value >= 0:
            return value
    elif type(value) is int and 0 <= value <= MAX_SAFE_INT:
        return float(value)
    raise ValueError("not a compact profile: expected a finite amount of at least 0")


def _name(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME_LENGTH or not _unicode(value):
        raise ValueError(f"not a compact profile: expected a name of at most {MAX_NAME_LENGTH}")
    return value


def _opt_name(value: Any) -> str | None:
    return None if value is None else _name(value)


def _text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT_LENGTH or not _unicode(value):
        raise ValueError(f"not a compact profile: expected a text of at most {MAX_TEXT_LENGTH}")
    return value


def _unicode(text: str) -> bool:
    """Whether `text` can be sent as UTF-8: JSON may carry a lone surrogate (``"\\ud800"``),
    which no page, header or JSON answer can hold."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _opt_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _pref(key: str, value: Any) -> str | list[str]:
    """A stated preference: a string, or a list of strings (``interests`` is always a list)."""
    if isinstance(value, list):
        if key in _TEXT_PREFS:
            raise ValueError(f"not a compact profile: preference {key!r} must be a string")
        return [_text(item) for item in value]
    if key in _LIST_PREFS:
        raise ValueError(f"not a compact profile: preference {key!r} must be a list")
    return _text(value)


def _event_data(value: Any) -> dict[str, Any]:
    """An event's data as `history.record_event` keeps it: named JSON scalars, nothing nested."""
    data = _dict(value)
    for key, item in data.items():
        _name(key)
        if isinstance(item, str):
            _text(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError("not a compact profile: event data must be finite")
        elif item is not None and not isinstance(item, bool):
            _int(item, -MAX_SAFE_INT, MAX_SAFE_INT)
    return dict(data)


def _decision(value: Any) -> dict[str, Any]:
    """One page's decisions as `history.record_decisions` writes them:
    ``{"path": str, "at": moment, "slots": {slot: [rule id or None, reason or None]}}``."""
    page = _dict(value)
    if page.keys() != _DECISION_KEYS:
        raise ValueError("not a compact profile: a decision needs exactly path, at and slots")
    slots = {}
    for slot, pair in _dict(page["slots"]).items():
        rule, reason = _list(pair, 2, 2)
        slots[_name(slot)] = [_opt_name(rule), _opt_text(reason)]
    return {"path": _text(page["path"]), "at": _moment(page["at"]), "slots": slots}
