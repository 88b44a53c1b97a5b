"""Recording what a consenting visitor does into their `Profile`, within the policy's bounds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from etalage.profile import (
    COUNT_DAYS,
    MAX_DECISION_PAGES,
    MAX_SAFE_INT,
    CartState,
    DayCounts,
    EventEntry,
    Profile,
    SearchEntry,
    ViewEntry,
)
from etalage.recency import MAX_COUNTED, HistoryPolicy, decayed_interest

MAX_TERM_LENGTH = 80
MAX_PATH_LENGTH = 200
MAX_TOPIC_LENGTH = 40
MAX_EVENT_FIELDS = 6
MAX_EVENT_VALUE_LENGTH = 60
MAX_HOST_LENGTH = 100
MAX_UTM_LENGTH = 60

#: What a day count is kept for, by the prefix of its key in `Profile.counts`.
COUNT_KINDS = {"topic": "t:", "path": "p:", "term": "s:", "event": "e:"}


def _epoch(now: datetime) -> int:
    return int(now.timestamp())


def record_request(
    profile: Profile,
    policy: HistoryPolicy,
    now: datetime,
    *,
    entry: str | None = None,
    referrer: str | None = None,
    utm_source: str | None = None,
) -> None:
    """Count a new visit when the gap since the last request exceeds the policy's visit gap.

    A request that starts a visit also sets the visit's facts: its `entry` path, the host that
    `referrer`-ed it (a host name only, from another site) and its `utm_source`; the page count
    starts again (`record_view` counts the pages).
    """
    moment = _epoch(now)
    last = profile.last_seen
    if profile.visits == 0 or last is None or moment - last > policy.visit_gap.total_seconds():
        if profile.visits > 0 and last is not None:
            profile.prev_visit_seen = last
        profile.visits += 1
        profile.visit_started = moment
        profile.visit_pages = 0
        profile.visit_entry = entry[:MAX_PATH_LENGTH] if entry else None
        profile.visit_referrer = referrer.lower()[:MAX_HOST_LENGTH] if referrer else None
        source = " ".join(utm_source.split())[:MAX_UTM_LENGTH] if utm_source else ""
        profile.visit_utm_source = _sendable(source) or None
    if profile.first_seen is None:
        profile.first_seen = moment
    profile.last_seen = max(moment, last or moment)


def record_view(
    profile: Profile,
    policy: HistoryPolicy,
    now: datetime,
    path: str,
    *,
    topic: str | None = None,
    valid_until: int | None = None,
) -> None:
    """Record a page view (newest first, one entry per path) and feed the topic's interest."""
    moment = _epoch(now)
    path = path[:MAX_PATH_LENGTH]
    topic = topic.strip()[:MAX_TOPIC_LENGTH] if topic else None
    profile.views = [v for v in profile.views if v.path != path]
    profile.views.insert(0, ViewEntry(path, moment, topic or None, valid_until))
    del profile.views[policy.view_keep :]
    profile.visit_pages = min(profile.visit_pages + 1, MAX_SAFE_INT)
    count(profile, policy, now, count_key("path", path))
    if topic:
        add_interest(profile, policy, now, topic, 1.0)
        count(profile, policy, now, count_key("topic", topic))


def count_key(kind: str, name: str) -> str:
    """The key of `name`'s day counts in `Profile.counts`: ``count_key("topic", "hiking")`` is
    ``t:hiking``. A search term is counted whatever its case and spacing."""
    if kind == "term":
        name = " ".join(name.split()).casefold()
    return COUNT_KINDS[kind] + name


def count(profile: Profile, policy: HistoryPolicy, now: datetime, key: str) -> None:
    """Add one to today's count of `key` (`count_key`) if the policy counts it, keeping
    `COUNT_DAYS` days.

    Counts older than that, and counts the policy no longer asks for, are dropped; a policy
    that counts everything keeps the `MAX_COUNTED` most recently counted keys of each kind.
    """
    counts = profile.counts
    today = _epoch(now) // 86400
    oldest = today - COUNT_DAYS
    for gone in [k for k, e in counts.items() if e.day <= oldest or not policy.counts(k)]:
        del counts[gone]
    if not policy.counts(key):
        return
    counts[key] = _plus_one(counts.pop(key, None), today)  # last: the most recently counted
    if policy.counted is None:
        same_kind = [k for k in counts if k.startswith(key[:2])]
        for dropped in same_kind[: max(0, len(same_kind) - MAX_COUNTED)]:
            del counts[dropped]


def _plus_one(entry: DayCounts | None, today: int) -> DayCounts:
    if entry is None:
        return DayCounts(today, (1,))
    days = list(entry.counts)
    if today >= entry.day:  # the usual case: shift the older days back
        days = [0] * (today - entry.day) + days
        newest = today
    else:  # a clock set back (time travel in a demo): count on that earlier day
        newest = entry.day
    index = newest - today
    if index < COUNT_DAYS:
        days += [0] * (index + 1 - len(days))
        days[index] = min(days[index] + 1, MAX_SAFE_INT)
    return DayCounts(newest, tuple(_trim_zeros(days[:COUNT_DAYS])))


def _trim_zeros(days: list[int]) -> list[int]:
    while days and days[-1] == 0:
        days.pop()
    return days


def add_interest(
    profile: Profile, policy: HistoryPolicy, now: datetime, topic: str, amount: float
) -> None:
    """Add `amount` to the decayed interest in `topic`; keep only the strongest topics."""
    moment = _epoch(now)
    score, at = profile.interest.get(topic, (0.0, moment))
    current = decayed_interest(score, at, now, policy.interest_half_life)
    profile.interest[topic] = (round(current + amount, 4), moment)
    if len(profile.interest) > policy.interest_keep:
        # The topic just fed stays: a fresh interest must not lose to older, stronger ones
        # before it had the chance to grow.
        others = sorted(
            (item for item in profile.interest.items() if item[0] != topic),
            key=lambda item: (
                -decayed_interest(item[1][0], item[1][1], now, policy.interest_half_life)
            ),
        )
        kept = dict(others[: policy.interest_keep - 1])
        profile.interest = {
            name: value for name, value in profile.interest.items() if name in kept or name == topic
        }


def record_search(
    profile: Profile,
    policy: HistoryPolicy,
    now: datetime,
    term: str,
    *,
    valid_until: int | None = None,
) -> None:
    """Record a search; repeating a term moves it to the front with the newer horizon."""
    term = " ".join(term.split())[:MAX_TERM_LENGTH].rstrip()
    if not term:
        return
    profile.searches = [s for s in profile.searches if s.term.casefold() != term.casefold()]
    profile.searches.insert(0, SearchEntry(term, _epoch(now), valid_until))
    del profile.searches[policy.search_keep :]
    count(profile, policy, now, count_key("term", term))


def record_event(
    profile: Profile,
    policy: HistoryPolicy,
    now: datetime,
    type: str,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Record an event. ``add_to_cart`` and ``purchase`` update the cart and purchase totals,
    ``cart_update`` (data ``{"items": n, "value": v}``) sets the cart as it now is,
    ``dismiss`` (data ``{"rule": id}``) hides a dismissible rule for good.

    Raises `ValueError` when `data` does not fit the event type.
    """
    moment = _epoch(now)
    data = dict(data or {})
    if type == "dismiss":
        rule = data.get("rule")
        if not isinstance(rule, str) or not rule or len(rule) > 64:
            raise ValueError("a dismiss event needs data.rule: the id of the rule to dismiss")
        profile.dismissed[rule] = moment
        return
    if type == "add_to_cart":
        price = _number(data.get("price", data.get("value", 0)), "price")
        quantity = int(_number(data.get("qty", 1), "qty"))
        profile.cart = CartState(
            items=profile.cart.items + max(quantity, 1),
            value=round(profile.cart.value + price * max(quantity, 1), 2),
            updated_at=moment,
        )
    elif type == "cart_update":  # the cart as it is now, after a change or a removal
        items = int(_number(data.get("items", 0), "items"))
        value = _number(data.get("value", 0), "value")
        profile.cart = CartState(items=items, value=round(value, 2), updated_at=moment)
        if not items:
            profile.cart = CartState()
    elif type == "purchase":
        value = _number(data.get("value", profile.cart.value), "value")
        profile.purchases += 1
        profile.purchase_total = round(profile.purchase_total + value, 2)
        profile.last_purchase = moment
        profile.cart = CartState()
    profile.events.insert(0, EventEntry(type, moment, _clean(data)))
    del profile.events[policy.event_keep :]
    count(profile, policy, now, count_key("event", type))


def _number(value: Any, name: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"data.{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9:
        raise ValueError(f"data.{name} must be a non-negative number, got {value!r}")
    return float(value)


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """Keep a few short scalar fields: event data ends up in a size-bounded cookie."""
    kept: dict[str, Any] = {}
    for key, value in list(data.items())[:MAX_EVENT_FIELDS]:
        if isinstance(value, str):
            kept[str(key)[:30]] = _sendable(value[:MAX_EVENT_VALUE_LENGTH])
        elif isinstance(value, bool) or value is None:
            kept[str(key)[:30]] = value
        elif isinstance(value, int) and abs(value) <= MAX_SAFE_INT:
            kept[str(key)[:30]] = value
        elif isinstance(value, float) and math.isfinite(value):
            kept[str(key)[:30]] = value
    return kept


def _sendable(text: str) -> str:
    """`text` with any lone surrogate (JSON can carry one) as ``?``: a profile holding one
    could not be shown or sent again, so it would not be read back."""
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


def record_exposure(profile: Profile, rule_id: str) -> None:
    """Count that the visitor was shown `rule_id` (for ``max_exposures``)."""
    profile.exposures[rule_id] = profile.exposures.get(rule_id, 0) + 1


def record_decisions(
    profile: Profile,
    now: datetime,
    path: str,
    slots: Mapping[str, tuple[str | None, str | None]],
) -> None:
    """Remember the last pages' decisions (rule and reason per slot) for "Why am I seeing this?"."""
    path = path[:MAX_PATH_LENGTH]
    profile.decisions = [d for d in profile.decisions if d.get("path") != path]
    entry = {
        "path": path,
        "at": _epoch(now),
        "slots": {slot: [rule, reason] for slot, (rule, reason) in slots.items()},
    }
    profile.decisions.insert(0, entry)
    del profile.decisions[MAX_DECISION_PAGES:]
