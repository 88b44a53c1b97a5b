"""`Profile`: what etalage remembers about a consenting visitor, and its compact wire form.

All moments are integer epoch seconds (UTC). The compact form is a JSON-ready dict with short
keys; `Profile.from_compact` rejects any shape it does not recognise with `ValueError`, so a
cookie that was signed by us but written by an older version never reaches the rules half-read.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

MAX_DECISION_PAGES = 3
MAX_SAFE_INT = 2**53  # beyond this an integer loses precision as a float (and in JSON readers)


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
        """Rebuild a profile from `to_compact` output; `ValueError` on any unexpected shape."""
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
        cart = _list(data.get("c", []), 0, 3)
        purchases = _list(data.get("p", [0, 0.0]), 2, 2)
        return cls(
            id=visitor_id,
            visits=_int(data.get("v", 0)),
            first_seen=_opt_int(data.get("f")),
            last_seen=_opt_int(data.get("l")),
            visit_started=_opt_int(data.get("vs")),
            prev_visit_seen=_opt_int(data.get("pv")),
            last_purchase=_opt_int(data.get("lp")),
            searches=[
                SearchEntry(_str(e[0]), _int(e[1]), _opt_int(_at(e, 2)))
                for e in _list(data.get("s", []))
                if _list(e, 2, 3)
            ],
            views=[
                ViewEntry(_str(e[0]), _int(e[1]), _opt_str(_at(e, 2)), _opt_int(_at(e, 3)))
                for e in _list(data.get("w", []))
                if _list(e, 2, 4)
            ],
            interest={
                _str(topic): (_float(pair[0]), _int(pair[1]))
                for topic, pair in _dict(data.get("n", {})).items()
                if _list(pair, 2, 2)
            },
            cart=CartState(
                items=_int(_at(cart, 0) or 0),
                value=_float(_at(cart, 1) or 0.0),
                updated_at=_opt_int(_at(cart, 2)),
            ),
            purchases=_int(purchases[0]),
            purchase_total=_float(purchases[1]),
            prefs=dict(_dict(data.get("r", {}))),
            exposures={_str(k): _int(v) for k, v in _dict(data.get("x", {})).items()},
            dismissed={_str(k): _int(v) for k, v in _dict(data.get("d", {})).items()},
            events=[
                EventEntry(_str(e[0]), _int(e[1]), dict(_dict(_at(e, 2) or {})))
                for e in _list(data.get("e", []))
                if _list(e, 2, 3)
            ],
            decisions=[_dict(d) for d in _list(data.get("k", []))][:MAX_DECISION_PAGES],
        )


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


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_SAFE_INT:
        raise ValueError(f"not a compact profile: expected an integer, got {value!r}")
    return value


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a compact profile: expected a number, got {value!r}")
    if isinstance(value, int):
        value = _int(value)
    if not math.isfinite(value):
        raise ValueError(f"not a compact profile: expected a finite number, got {value!r}")
    return float(value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"not a compact profile: expected a string, got {value!r}")
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)
