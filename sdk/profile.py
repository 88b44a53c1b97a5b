"""`Profile`: what etalage remembers about a consenting visitor, and its compact wire form.

All moments are integer epoch seconds (UTC) from 0 to `MAX_MOMENT`. The compact form is a map
with short keys whose entries are positional arrays (``[term, at, valid_until?]``). Its schema is
the msgspec Structs below, constraints included, so reading MessagePack (the cookie,
`from_msgpack`) or JSON (the profile store, `from_json`) checks types, ranges, lengths and
UTF-8 in C while it decodes, and the history entries come out as they are kept. Anything else is
refused with `ValueError`, so a cookie that was signed by us but written by an older version, or
a foreign value in the profile store, never reaches the rules or the profile page half-read.
A key this version does not know is ignored: a newer worker may add one during a rolling deploy.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Annotated, Any, cast

import msgspec
from msgspec import UNSET, Meta, UnsetType

MAX_DECISION_PAGES = 3
MAX_SAFE_INT = 2**53  # beyond this an integer loses precision as a float (and in JSON readers)
MAX_MOMENT = 253402300799  # 9999-12-31T23:59:59Z, the last second `datetime` can show
MAX_NAME_LENGTH = 256  # a topic, rule, slot, event type, preference or event data key
MAX_TEXT_LENGTH = 4096  # a search term, path, reason, preference or event data value
COUNT_DAYS = 30  # how many days back a `DayCounts` reaches (today included)
MAX_DAY = MAX_MOMENT // 86400  # the last day number a moment can fall on

_TEXT_PREFS = frozenset({"name", "email", "channel", "level"})  # what the endpoint stores
_MAX_FLOAT = sys.float_info.max

# What each value of the compact form may be. `int` refuses booleans and floats; NaN fails
# every bound, infinity the outer ones, so a bounded `float` is a finite one.
_Name = Annotated[str, Meta(max_length=MAX_NAME_LENGTH)]
_Text = Annotated[str, Meta(max_length=MAX_TEXT_LENGTH)]
_Moment = Annotated[int, Meta(ge=0, le=MAX_MOMENT)]
_Count = Annotated[int, Meta(ge=0, le=MAX_SAFE_INT)]
_Amount = Annotated[float, Meta(ge=0, le=_MAX_FLOAT)]  # a score, price or total (ints read too)
_Scalar = (  # a value of event data, as `history.record_event` keeps it
    _Text
    | Annotated[int, Meta(ge=-MAX_SAFE_INT, le=MAX_SAFE_INT)]
    | Annotated[float, Meta(ge=-_MAX_FLOAT, le=_MAX_FLOAT)]
    | bool
    | None
)

# Entries are frozen positional arrays with their optional fields last. msgspec 0.23 writes
# trailing defaults even with `omit_defaults` on an array (jcrist/msgspec#720):
# ``[term, at, null]`` where `to_compact` (and the format before) write ``[term, at]``; every
# reader, this one and older ones, takes both. Entries of plain values are kept out of the
# garbage collector (`gc=False`): they cannot form a cycle.


class SearchEntry(
    msgspec.Struct,
    frozen=True,
    array_like=True,
    omit_defaults=True,
    forbid_unknown_fields=True,
    gc=False,
):
    """One search: the term, when it was made, and until when it stays relevant (if known)."""

    term: _Text
    at: _Moment
    valid_until: _Moment | None = None


class ViewEntry(
    msgspec.Struct,
    frozen=True,
    array_like=True,
    omit_defaults=True,
    forbid_unknown_fields=True,
    gc=False,
):
    """One page view: the path, its topic (from the page's meta tag) and its horizon."""

    path: _Text
    at: _Moment
    topic: _Name | None = None
    valid_until: _Moment | None = None


class EventEntry(
    msgspec.Struct, frozen=True, array_like=True, omit_defaults=True, forbid_unknown_fields=True
):
    """A recorded event (``add_to_cart``, ``purchase``, ``dismiss`` or a custom type)."""

    type: _Name
    at: _Moment
    data: dict[_Name, _Scalar] = msgspec.field(default_factory=dict)


class CartState(msgspec.Struct, frozen=True, array_like=True, omit_defaults=True, gc=False):
    """The cart as last reported: item count, value and when it changed."""

    items: _Count = 0
    value: _Amount = 0.0
    updated_at: _Moment | None = None


class _Cart(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True, gc=False):
    """`CartState` as it is read: an empty cart is never written, so items and value are due."""

    items: _Count
    value: _Amount
    updated_at: _Moment | None = None


class DayCounts(
    msgspec.Struct,
    frozen=True,
    array_like=True,
    forbid_unknown_fields=True,
    gc=False,
):
    """How often one thing happened per day, newest day first: ``counts[i]`` times on day
    number ``day - i`` (days since 1970-01-01, UTC), reaching back `COUNT_DAYS` days."""

    day: Annotated[int, Meta(ge=0, le=MAX_DAY)]
    counts: Annotated[tuple[_Count, ...], Meta(max_length=COUNT_DAYS)]


class _DecisionPage(msgspec.Struct, forbid_unknown_fields=True):
    """One page's decisions as `history.record_decisions` writes them (a dict in `Profile`)."""

    path: _Text
    at: _Moment
    # slot -> [rule id or None, reason or None]; read as the list it is kept as (a tuple would
    # cost a copy per slot), so the rule id's own bound is checked by `_decision`.
    slots: dict[_Name, Annotated[list[_Text | None], Meta(min_length=2, max_length=2)]]


class _Compact(msgspec.Struct, omit_defaults=True):
    """The compact form: short keys, empty parts left out, unknown keys ignored."""

    id: Annotated[str, Meta(min_length=1, max_length=64)] = msgspec.field(name="i")
    visits: _Count | UnsetType = msgspec.field(name="v", default=UNSET)  # always written
    first_seen: _Moment | None = msgspec.field(name="f", default=None)
    last_seen: _Moment | None = msgspec.field(name="l", default=None)
    visit_started: _Moment | None = msgspec.field(name="vs", default=None)
    prev_visit_seen: _Moment | None = msgspec.field(name="pv", default=None)
    last_purchase: _Moment | None = msgspec.field(name="lp", default=None)
    searches: list[SearchEntry] = msgspec.field(name="s", default_factory=list)
    views: list[ViewEntry] = msgspec.field(name="w", default_factory=list)
    interest: dict[_Name, tuple[_Amount, _Moment]] = msgspec.field(name="n", default_factory=dict)
    cart: _Cart | None = msgspec.field(name="c", default=None)  # written as the `CartState`
    purchases: tuple[_Count, _Amount] | None = msgspec.field(name="p", default=None)
    prefs: dict[_Name, _Text | list[_Text]] = msgspec.field(name="r", default_factory=dict)
    exposures: dict[_Name, _Count] = msgspec.field(name="x", default_factory=dict)
    dismissed: dict[_Name, _Moment] = msgspec.field(name="d", default_factory=dict)
    events: list[EventEntry] = msgspec.field(name="e", default_factory=list)
    decisions: list[_DecisionPage] = msgspec.field(name="k", default_factory=list)  # as dicts
    counts: dict[_Text, DayCounts] = msgspec.field(name="t", default_factory=dict)
    visit_pages: _Count | None = msgspec.field(name="vp", default=None)
    visit_entry: _Text | None = msgspec.field(name="ve", default=None)
    visit_referrer: _Name | None = msgspec.field(name="vr", default=None)
    visit_utm_source: _Text | None = msgspec.field(name="vu", default=None)


_EMPTY_CART = CartState()


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
    #: Day counts per counted thing (``t:<topic>``, ``p:<path>``, ``s:<term>``, ``e:<type>``;
    #: `history.count_key`), least recently counted first.
    counts: dict[str, DayCounts] = field(default_factory=dict)
    #: The current visit (the one `visit_started` opened): pages viewed so far, the path it
    #: entered on, the host that referred its first request and that request's ``utm_source``.
    visit_pages: int = 0
    visit_entry: str | None = None
    visit_referrer: str | None = None
    visit_utm_source: str | None = None

    @classmethod
    def new(cls, now: datetime) -> Profile:
        """A fresh profile with a random pseudonymous id, first seen `now`."""
        moment = int(now.timestamp())
        return cls(id=secrets.token_urlsafe(12), first_seen=moment, last_seen=moment)

    def to_msgpack(self) -> bytes:
        """The compact form as MessagePack (what the cookie seals).

        Raises `UnicodeEncodeError` for text UTF-8 cannot carry (a lone surrogate).
        """
        return _MSGPACK_ENCODER.encode(self._compact())

    def to_json(self) -> bytes:
        """The compact form as JSON (what the profile store keeps); raises like `to_msgpack`."""
        return _JSON_ENCODER.encode(self._compact())

    def to_compact(self) -> dict[str, Any]:
        """The compact form as JSON-ready data (short keys; empty parts and unset trailing
        entry fields left out)."""
        data: dict[str, Any] = msgspec.to_builtins(self._compact())  # keeps tuples as they are
        for key in ("s", "w", "e"):
            if key in data:
                data[key] = [_trim(entry) for entry in data[key]]
        if "c" in data:
            data["c"] = _trim(data["c"])
        if "t" in data:
            data["t"] = {key: [day, list(counts)] for key, (day, counts) in data["t"].items()}
        if "n" in data:
            data["n"] = {topic: list(pair) for topic, pair in data["n"].items()}
        if "p" in data:
            data["p"] = list(data["p"])
        return data

    def _compact(self) -> _Compact:
        # The encoder writes values as they are: a `CartState` is the same array as a `_Cart`,
        # a decision dict the same map as a `_DecisionPage`.
        return _Compact(
            id=self.id,
            visits=self.visits,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            visit_started=self.visit_started,
            prev_visit_seen=self.prev_visit_seen,
            last_purchase=self.last_purchase,
            searches=self.searches,
            views=self.views,
            interest=self.interest,
            cart=None if self.cart == _EMPTY_CART else cast(_Cart, self.cart),
            purchases=(
                (self.purchases, self.purchase_total)
                if self.purchases or self.purchase_total
                else None
            ),
            prefs=self.prefs,
            exposures=self.exposures,
            dismissed=self.dismissed,
            events=self.events,
            decisions=cast(list[_DecisionPage], self.decisions),
            counts=self.counts,
            visit_pages=self.visit_pages or None,
            visit_entry=self.visit_entry,
            visit_referrer=self.visit_referrer,
            visit_utm_source=self.visit_utm_source,
        )

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
            counts=dict(self.counts),
        )

    @classmethod
    def from_msgpack(cls, data: bytes | memoryview) -> Profile:
        """Read `to_msgpack` output; `ValueError` for anything else (see `from_compact`)."""
        try:
            compact = _MSGPACK_DECODER.decode(data)
        except msgspec.DecodeError as exc:  # `ValidationError` is one too
            raise ValueError(f"not a compact profile: {exc}") from None
        return cls._from(compact)

    @classmethod
    def from_json(cls, data: bytes | str) -> Profile:
        """Read `to_json` output (or `to_compact` as JSON); `ValueError` for anything else."""
        try:
            compact = _JSON_DECODER.decode(data)
        except msgspec.DecodeError as exc:
            raise ValueError(f"not a compact profile: {exc}") from None
        return cls._from(compact)

    @classmethod
    def from_compact(cls, data: Any) -> Profile:
        """Rebuild a profile from `to_compact` output; `ValueError` for anything else.

        Contents are checked as well as shape (types, ranges, string lengths, text UTF-8 can
        carry), so whatever this returns can be shown and decided on without further checks:
        a value signed by us in an older format, or a foreign value in the store, is refused,
        never half-read. (The data is checked as MessagePack, by the one schema.)
        """
        try:
            packed = _MSGPACK_ENCODER.encode(data)
        except (TypeError, OverflowError, UnicodeEncodeError, RecursionError) as exc:
            raise ValueError(f"not a compact profile: {exc}") from None
        return cls.from_msgpack(packed)

    @classmethod
    def _from(cls, compact: _Compact) -> Profile:
        prefs = compact.prefs
        if prefs:
            _check_prefs(prefs)
        read = compact.cart
        cart = _EMPTY_CART if read is None else CartState(read.items, read.value, read.updated_at)
        purchases, purchase_total = compact.purchases or (0, 0.0)
        return cls(
            id=compact.id,
            visits=0 if compact.visits is UNSET else compact.visits,
            first_seen=compact.first_seen,
            last_seen=compact.last_seen,
            visit_started=compact.visit_started,
            prev_visit_seen=compact.prev_visit_seen,
            searches=compact.searches,
            views=compact.views,
            interest=compact.interest,
            cart=cart,
            purchases=purchases,
            purchase_total=purchase_total,
            last_purchase=compact.last_purchase,
            prefs=prefs,
            exposures=compact.exposures,
            dismissed=compact.dismissed,
            events=compact.events,
            decisions=[_decision(page) for page in compact.decisions[:MAX_DECISION_PAGES]],
            counts=compact.counts,
            visit_pages=compact.visit_pages or 0,
            visit_entry=compact.visit_entry,
            visit_referrer=compact.visit_referrer,
            visit_utm_source=compact.visit_utm_source,
        )


_MSGPACK_ENCODER = msgspec.msgpack.Encoder()
_JSON_ENCODER = msgspec.json.Encoder()
_MSGPACK_DECODER = msgspec.msgpack.Decoder(_Compact)
_JSON_DECODER = msgspec.json.Decoder(_Compact)


def _check_prefs(prefs: dict[str, str | list[str]]) -> None:
    """Stated preferences as the endpoint stores them: `_TEXT_PREFS` are text, ``interests`` a
    list (the schema has checked the rest: text, or a list of text)."""
    for key in _TEXT_PREFS.intersection(prefs):
        if type(prefs[key]) is not str:
            raise ValueError(f"not a compact profile: preference {key!r} must be a string")
    if type(prefs.get("interests", [])) is not list:
        raise ValueError("not a compact profile: preference 'interests' must be a list")


def _decision(page: _DecisionPage) -> dict[str, Any]:
    for rule, _reason in page.slots.values():
        if rule is not None and len(rule) > MAX_NAME_LENGTH:
            raise ValueError(f"not a compact profile: a rule id of at most {MAX_NAME_LENGTH}")
    return {"path": page.path, "at": page.at, "slots": page.slots}


def _copy_json(value: Any) -> Any:
    """A copy of JSON-like data: dicts and lists copied at every level, scalars shared."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value


def _trim(values: list[Any]) -> list[Any]:
    """Drop unset trailing fields (None, or empty event data) of an entry's array."""
    while values and (values[-1] is None or values[-1] == {}):
        values.pop()
    return values
