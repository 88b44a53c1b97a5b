"""The visitor file `etalage explain` reads: its shapes, checked with the JSON path of each error.

Three shapes are read (docs/examples/visitor.json shows the first):

- attributes (flat dotted keys or nested objects) with an optional ``history`` in readable
  form (ISO date-times), or ``profile``, the compact form the cookie holds;
- the JSON the visitor's own page exports (``GET /_etalage/profile`` with
  ``Accept: application/json``), recognised by its ``stored`` key: ``stored`` is read as the
  history, ``consent`` and ``holdout`` as the attributes of those names.

Anything else is refused with `VisitorFileError` naming the JSON path
(``history.searches[2].at: not an ISO date-time: 'yesterday'``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from etalage.errors import EtalageError
from etalage.history import count, count_key
from etalage.profile import MAX_MOMENT, CartState, EventEntry, Profile, SearchEntry, ViewEntry
from etalage.recency import HistoryPolicy, derive_attributes
from etalage.rules import Ruleset


class VisitorFileError(EtalageError, ValueError):
    """A visitor file of the wrong shape; the message starts with the JSON path."""


@dataclass
class VisitorFile:
    """What a visitor file says: attributes, the stored history (if any) and its gates."""

    attributes: dict[str, Any]
    profile: Profile | None = None
    exposures: dict[str, int] = field(default_factory=dict)
    dismissed: list[str] = field(default_factory=list)
    exported_at: datetime | None = None  # the `now` of a profile export
    kind: str = "attributes"  # attributes, history, profile or export

    @property
    def described(self) -> str:
        """Where the visitor's history comes from, as `etalage explain` says it."""
        if self.kind == "export":
            return "a profile export" + (" with nothing stored" if self.profile is None else "")
        return {"history": "a history", "profile": "a compact profile"}.get(
            self.kind, "attributes only"
        )

    def attributes_at(self, ruleset: Ruleset, now: datetime) -> dict[str, Any]:
        """Every attribute at `now`: the time of day in the site's zone, what the history
        implies at `now`, then the file's own attributes (which win)."""
        zone = ruleset.site.timezone
        local = now.astimezone(zone)
        attrs: dict[str, Any] = {
            "time.hour": local.hour,
            "time.weekday": local.weekday(),
            "time.date": local.date().isoformat(),
        }
        if self.profile is not None:
            attrs.update(
                derive_attributes(
                    self.profile,
                    ruleset.history,
                    now,
                    timezone=zone,
                    counts=ruleset.referenced_attributes,
                )
            )
            attrs["id"] = self.profile.id
        attrs.update(self.attributes)
        return attrs


_HISTORY_LISTS = ("searches", "views", "events")
_HISTORY_KEYS = (
    "id",
    "visits",
    "first_seen",
    "last_seen",
    *_HISTORY_LISTS,
    "interest",
    "interests",
    "cart",
    "purchases",
    "prefs",
    "exposures",
    "dismissed",
    "visit",
)
_VISIT_KEYS = ("started", "pages", "entry", "referrer", "utm_source")
_EVERYTHING_COUNTED = HistoryPolicy(counted=None)
_ENTRY_KEYS = {
    "searches": ("term", "at", "valid_until", "relevant"),
    "views": ("path", "at", "topic", "valid_until", "relevant"),
    "events": ("type", "at", "data"),
}


def read_visitor(data: Any, zone: tzinfo) -> VisitorFile:
    """Read a parsed visitor file; naive date-times are in `zone` (the site's time zone).

    Raises `VisitorFileError` naming the JSON path of the first thing of the wrong shape.
    """
    if not isinstance(data, dict):
        raise VisitorFileError(f"must hold a JSON object, not {_kind(data)}")
    if "stored" in data:
        return _read_export(data, zone)
    forms = [key for key in ("history", "profile") if key in data]
    if len(forms) > 1:
        raise VisitorFileError("history, profile: give one of them, not both")
    plain = {k: v for k, v in data.items() if k not in ("history", "profile")}
    exposures = _exposures(plain.pop("exposures", None), "exposures")
    dismissed = _dismissed_list(plain.pop("dismissed", None), "dismissed")
    attributes = _attributes(plain, "")
    visitor = VisitorFile(attributes, exposures=exposures, dismissed=dismissed)
    if "history" in data:
        visitor.profile = profile_from_history(data["history"], zone, "history")
        visitor.kind = "history"
    elif "profile" in data:
        try:
            visitor.profile = Profile.from_compact(data["profile"])
        except ValueError as exc:
            raise VisitorFileError(f"profile: {exc}") from None
        visitor.kind = "profile"
    if visitor.profile is not None:
        visitor.exposures = {**visitor.profile.exposures, **exposures}
        visitor.dismissed = [*visitor.profile.dismissed, *dismissed]
    return visitor


def _read_export(data: dict[str, Any], zone: tzinfo) -> VisitorFile:
    """The profile page's JSON: `stored` is the history as it was at the export's `now`."""
    exported_at = _moment_time(data.get("now"), "now", zone)
    attributes: dict[str, Any] = {}
    consent = data.get("consent", {})
    _check_keys(_object(consent, "consent"), "consent", ("personalization", "gpc"))
    for key in ("personalization", "gpc"):
        value = consent.get(key)
        if value is not None and not isinstance(value, bool):
            raise VisitorFileError(f"consent.{key}: must be true, false or null")
        if value is not None:
            attributes[f"consent.{key}"] = value
    holdout = data.get("holdout")
    if not isinstance(holdout, bool):
        raise VisitorFileError("holdout: must be true or false")
    attributes["experiment.holdout"] = holdout
    visitor = VisitorFile(attributes, exported_at=exported_at, kind="export")
    if data["stored"] is not None:
        interest_at = int(exported_at.timestamp()) if exported_at else None
        profile = profile_from_history(data["stored"], zone, "stored", interest_at=interest_at)
        visitor.profile = profile
        visitor.exposures = dict(profile.exposures)
        visitor.dismissed = list(profile.dismissed)
    return visitor


def profile_from_history(
    history: Any, zone: tzinfo, where: str = "history", *, interest_at: int | None = None
) -> Profile:
    """A `Profile` from a readable history (a visitor file's ``history`` or an export's
    ``stored``): ISO date-times, naive ones in `zone`.

    Interests are ``interest: {topic: score or {score, at}}`` or, as the export writes them,
    ``interests: [{topic, score}]``, scores decayed up to `interest_at` (the export's time).
    Every listed view, search and event is counted on its day (a path may be listed more than
    once) for the window counts; ``visit: {started, pages, entry, referrer, utm_source}`` is
    the current visit.
    """
    history = _object(history, where)
    _check_keys(history, where, _HISTORY_KEYS)

    def moment(value: Any, path: str) -> int | None:
        return _moment(value, f"{where}.{path}", zone)

    lists = {key: _entries(history.get(key), f"{where}.{key}") for key in _HISTORY_LISTS}
    searches = [
        SearchEntry(
            _text(item.get("term"), f"{where}.searches[{n}].term"),
            _required(moment(item.get("at"), f"searches[{n}].at"), f"{where}.searches[{n}].at"),
            moment(item.get("valid_until"), f"searches[{n}].valid_until"),
        )
        for n, item in enumerate(lists["searches"])
    ]
    views = [
        ViewEntry(
            _text(item.get("path"), f"{where}.views[{n}].path"),
            _required(moment(item.get("at"), f"views[{n}].at"), f"{where}.views[{n}].at"),
            _optional_text(item.get("topic"), f"{where}.views[{n}].topic"),
            moment(item.get("valid_until"), f"views[{n}].valid_until"),
        )
        for n, item in enumerate(lists["views"])
    ]
    events = [
        EventEntry(
            _text(item.get("type"), f"{where}.events[{n}].type"),
            _required(moment(item.get("at"), f"events[{n}].at"), f"{where}.events[{n}].at"),
            _event_data(item.get("data"), f"{where}.events[{n}].data"),
        )
        for n, item in enumerate(lists["events"])
    ]
    searches.sort(key=lambda e: -e.at)
    views.sort(key=lambda e: -e.at)
    events.sort(key=lambda e: -e.at)
    times = [s.at for s in searches] + [v.at for v in views] + [e.at for e in events]
    last_seen = moment(history.get("last_seen"), "last_seen") or max(times, default=None)
    first_seen = moment(history.get("first_seen"), "first_seen") or min(times, default=None)
    interest = _interest(history, where, zone, interest_at or last_seen or 0)
    for view in views:
        if view.topic and view.topic not in interest:
            interest[view.topic] = (1.0, view.at)
    cart = _object(history.get("cart") or {}, f"{where}.cart")
    _check_keys(cart, f"{where}.cart", ("items", "value", "updated_at", "updated"))
    purchases = _object(history.get("purchases") or {}, f"{where}.purchases")
    _check_keys(purchases, f"{where}.purchases", ("count", "total", "last"))
    visitor_id = history.get("id", "visitor")
    profile = Profile(
        id=_text(visitor_id, f"{where}.id"),
        visits=_count(history.get("visits", 1), f"{where}.visits"),
        first_seen=first_seen,
        last_seen=last_seen,
        searches=searches,
        views=views,
        interest=interest,
        cart=CartState(
            _count(cart.get("items", 0), f"{where}.cart.items"),
            _number(cart.get("value", 0.0), f"{where}.cart.value"),
            moment(cart.get("updated_at", cart.get("updated")), "cart.updated_at"),
        ),
        purchases=_count(purchases.get("count", 0), f"{where}.purchases.count"),
        purchase_total=_number(purchases.get("total", 0.0), f"{where}.purchases.total"),
        last_purchase=moment(purchases.get("last"), "purchases.last"),
        prefs=_prefs(history.get("prefs"), f"{where}.prefs"),
        exposures=_exposures(history.get("exposures"), f"{where}.exposures"),
        dismissed={
            rule: _required(moment(at, f"dismissed.{rule}"), f"{where}.dismissed.{rule}")
            for rule, at in _object(history.get("dismissed") or {}, f"{where}.dismissed").items()
        },
        events=events,
    )
    _count_entries(profile, searches, views, events)
    _visit(profile, history.get("visit"), where, zone)
    return profile


def _count_entries(
    profile: Profile,
    searches: list[SearchEntry],
    views: list[ViewEntry],
    events: list[EventEntry],
) -> None:
    """Day counts of the listed entries, as the middleware would have counted them."""
    counted: list[tuple[int, str]] = [(s.at, count_key("term", s.term)) for s in searches]
    for view in views:
        counted.append((view.at, count_key("path", view.path)))
        if view.topic:
            counted.append((view.at, count_key("topic", view.topic)))
    counted.extend((e.at, count_key("event", e.type)) for e in events)
    for at, key in sorted(counted):
        count(profile, _EVERYTHING_COUNTED, datetime.fromtimestamp(at, UTC), key)


def _visit(profile: Profile, value: Any, where: str, zone: tzinfo) -> None:
    if value is None:
        return
    where = f"{where}.visit"
    visit = _object(value, where)
    _check_keys(visit, where, _VISIT_KEYS)
    started = _moment(visit.get("started"), f"{where}.started", zone)
    profile.visit_started = started if started is not None else profile.last_seen
    if profile.last_seen is None or (started is not None and started > profile.last_seen):
        profile.last_seen = profile.visit_started
    profile.visit_pages = _count(visit.get("pages", 1), f"{where}.pages")
    profile.visit_entry = _optional_text(visit.get("entry"), f"{where}.entry")
    profile.visit_referrer = _optional_text(visit.get("referrer"), f"{where}.referrer")
    profile.visit_utm_source = _optional_text(visit.get("utm_source"), f"{where}.utm_source")


def _interest(
    history: Mapping[str, Any], where: str, zone: tzinfo, default_at: int
) -> dict[str, tuple[float, int]]:
    interest: dict[str, tuple[float, int]] = {}
    readable = _object(history.get("interest") or {}, f"{where}.interest")
    for topic, value in readable.items():
        path = f"{where}.interest.{topic}"
        if isinstance(value, dict):
            _check_keys(value, path, ("score", "at"))
            at = _moment(value.get("at"), f"{path}.at", zone)
            interest[topic] = (_number(value.get("score", 1.0), f"{path}.score"), at or default_at)
        else:
            interest[topic] = (_number(value, path), default_at)
    for n, item in enumerate(_entries(history.get("interests"), f"{where}.interests")):
        path = f"{where}.interests[{n}]"
        _check_keys(item, path, ("topic", "score"))
        topic = _text(item.get("topic"), f"{path}.topic")
        interest[topic] = (_number(item.get("score"), f"{path}.score"), default_at)
    return interest


def _attributes(values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Plain attributes as flat dotted keys; a value is a scalar, a list of them or an object."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_attributes(value, f"{path}."))
        elif isinstance(value, list):
            for n, item in enumerate(value):
                if isinstance(item, dict | list):
                    hint = " (history entries belong under 'history')" if not prefix else ""
                    raise VisitorFileError(
                        f"{path}[{n}]: an attribute's list holds plain values, not "
                        f"{_kind(item)}{hint}"
                    )
            flat[path] = value
        else:
            flat[path] = value
    return flat


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise VisitorFileError(f"{where}: must be an object, not {_kind(value)}")
    return value


def _check_keys(values: Mapping[str, Any], where: str, allowed: tuple[str, ...]) -> None:
    for key in values:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f", did you mean {close[0]!r}?" if close else f" (allowed: {', '.join(allowed)})"
            raise VisitorFileError(f"{where}: unknown key {key!r}{hint}")


def _entries(value: Any, where: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise VisitorFileError(f"{where}: must be a list of objects, not {_kind(value)}")
    kind = where.rsplit(".", 1)[-1]
    for n, item in enumerate(value):
        _object(item, f"{where}[{n}]")
        if kind in _ENTRY_KEYS:
            _check_keys(item, f"{where}[{n}]", _ENTRY_KEYS[kind])
    return value


def _moment(value: Any, where: str, zone: tzinfo) -> int | None:
    moment = _moment_time(value, where, zone)
    return None if moment is None else int(moment.timestamp())


def _moment_time(value: Any, where: str, zone: tzinfo) -> datetime | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        parsed = datetime.fromisoformat(value)
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
        if not 0 <= parsed.timestamp() <= MAX_MOMENT:
            raise ValueError
    except (ValueError, OverflowError):
        raise VisitorFileError(f"{where}: not an ISO date-time: {value!r}") from None
    return parsed


def _required(value: int | None, where: str) -> int:
    if value is None:
        raise VisitorFileError(f"{where}: missing (an ISO date-time)")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise VisitorFileError(f"{where}: must be text, not {_kind(value)}")
    return value


def _optional_text(value: Any, where: str) -> str | None:
    return None if value is None else _text(value, where)


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise VisitorFileError(f"{where}: must be a whole number of 0 or more, not {value!r}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise VisitorFileError(f"{where}: must be a number of 0 or more, not {value!r}")
    return float(value)


def _exposures(value: Any, where: str) -> dict[str, int]:
    values = _object(value or {}, where)
    return {rule: _count(count, f"{where}.{rule}") for rule, count in values.items()}


def _dismissed_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(rule, str) for rule in value):
        raise VisitorFileError(f"{where}: must be a list of rule ids")
    return value


def _prefs(value: Any, where: str) -> dict[str, Any]:
    prefs = _object(value or {}, where)
    for key, item in prefs.items():
        items = item if isinstance(item, list) else [item]
        if not all(isinstance(part, str) for part in items):
            raise VisitorFileError(f"{where}.{key}: must be text or a list of text")
    return dict(prefs)


def _event_data(value: Any, where: str) -> dict[str, Any]:
    data = _object(value or {}, where)
    for key, item in data.items():
        if isinstance(item, dict | list):
            raise VisitorFileError(f"{where}.{key}: must be a plain value, not {_kind(item)}")
    return dict(data)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {value!r}"
    return f"a number {value!r}"
