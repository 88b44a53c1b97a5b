"""Recency as data: how long each kind of history stays relevant, and the attributes rules see.

Rules never look at raw history. `derive_attributes` turns a `Profile` into flat dotted
attributes that contain only what is still relevant at `now`: a search past its window or past
its own horizon (`valid_until`, e.g. the travel date searched for) is simply not there, and
interest in a topic decays exponentially with a half-life.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, TypeVar

from etalage.profile import COUNT_DAYS, DayCounts, Profile, SearchEntry, ViewEntry

MAX_COUNTED = 10  # with `HistoryPolicy.counted` None: day counts kept per kind
MIN_INTEREST = 0.1  # below this decayed score a topic no longer counts as an interest
MAX_DURATION = timedelta(days=100 * 366)
_DERIVED_INTEREST_KEYS = frozenset({"top", "topics"})  # `interest.top` is not a topic's score

#: The attribute families that count within a window, and the prefix of what they count in
#: `Profile.counts` (see `history.count_key`): ``views.topic.hiking.7d`` reads ``t:hiking``.
COUNT_FAMILIES: Mapping[str, str] = {
    "views.topic.": "t:",
    "views.path.": "p:",
    "searches.term.": "s:",
    "events.": "e:",
}
#: The windows counts are derived for when no rule set says which (explain, the profile page).
STANDARD_WINDOWS = (1, 7, 30)
_WINDOW = re.compile(r"\.([1-9][0-9]?)d$")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}

# section -> {key: (field name, kind)}
_SECTIONS: dict[str, dict[str, tuple[str, str]]] = {
    "search": {"keep": ("search_keep", "count"), "relevant_for": ("search_relevant_for", "span")},
    "view": {"keep": ("view_keep", "count"), "relevant_for": ("view_relevant_for", "span")},
    "event": {"keep": ("event_keep", "count"), "relevant_for": ("event_relevant_for", "span")},
    "interest": {
        "keep": ("interest_keep", "count"),
        "half_life": ("interest_half_life", "span"),
    },
    "visit": {"gap": ("visit_gap", "span"), "lapsed_after": ("lapsed_after", "span")},
}


def parse_duration(text: str | int | float) -> timedelta:
    """``"14d"``, ``"30m"``, ``"12h"``, ``"2w"``, ``"90s"`` (or plain seconds) as a timedelta.

    Raises `ValueError` naming the text when it is not a positive duration.
    """
    if isinstance(text, bool):
        raise ValueError(f"bad duration {text!r} (use e.g. 14d, 12h, 30m)")
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if not match:
            raise ValueError(f"bad duration {text!r} (use e.g. 14d, 12h, 30m)")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not seconds > 0:  # also rejects NaN
        raise ValueError(f"bad duration {text!r}: must be positive")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"bad duration {text!r}: longer than {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class HistoryPolicy:
    """Bounds (`*_keep`) and relevance windows of each history kind."""

    search_keep: int = 8
    search_relevant_for: timedelta = timedelta(days=14)
    view_keep: int = 20
    view_relevant_for: timedelta = timedelta(days=30)
    event_keep: int = 10
    event_relevant_for: timedelta = timedelta(days=7)
    interest_half_life: timedelta = timedelta(days=10)
    interest_keep: int = 12
    lapsed_after: timedelta = timedelta(days=60)
    visit_gap: timedelta = timedelta(minutes=30)
    #: What gets day counts (`Profile.counts` keys such as ``t:hiking``): what the rule set's
    #: window count attributes read (the loader sets it), nothing by default; None counts
    #: every topic, path, term and event type (the last `MAX_COUNTED` of each kind).
    counted: frozenset[str] | None = frozenset()

    def counts(self, key: str) -> bool:
        """Whether `key` (``t:hiking``) gets day counts under this policy."""
        return self.counted is None or key in self.counted

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> HistoryPolicy:
        """Build from a rule file's ``history:`` mapping.

        Raises `ValueError("<section>.<key>: <message>")` so the loader can point at the line.
        """
        values: dict[str, Any] = {}
        for section, settings in data.items():
            keys = _SECTIONS.get(section)
            if keys is None:
                allowed = ", ".join(sorted(_SECTIONS))
                raise ValueError(f"{section}: unknown history kind (allowed: {allowed})")
            if not isinstance(settings, Mapping):
                raise ValueError(f"{section}: must be a mapping")
            for key, raw in settings.items():
                if key not in keys:
                    allowed = ", ".join(sorted(keys))
                    raise ValueError(f"{section}.{key}: unknown key (allowed: {allowed})")
                name, kind = keys[key]
                try:
                    values[name] = _count(raw) if kind == "count" else parse_duration(raw)
                except ValueError as exc:
                    raise ValueError(f"{section}.{key}: {exc}") from None
        return cls(**values)


def _count(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 100:
        raise ValueError(f"must be a whole number from 1 to 100, got {raw!r}")
    return raw


def decayed_interest(score: float, at: int, now: datetime, half_life: timedelta) -> float:
    """`score` recorded at epoch `at`, halved for every `half_life` since."""
    elapsed = max(0.0, now.timestamp() - at)
    return float(score * 0.5 ** (elapsed / half_life.total_seconds()))


def is_relevant(at: int, valid_until: int | None, window: timedelta, now: datetime) -> bool:
    """Whether an entry made at `at` still counts at `now`: inside its window and horizon."""
    moment = now.timestamp()
    if valid_until is not None and moment > valid_until:
        return False
    return moment - at <= window.total_seconds()


def event_horizon(data: Mapping[str, Any]) -> int | None:
    """An event's own ``valid_until`` (epoch seconds) when its data holds one."""
    horizon = data.get("valid_until")
    return horizon if isinstance(horizon, int) and not isinstance(horizon, bool) else None


Entry = TypeVar("Entry", SearchEntry, ViewEntry)


def _relevant_entries(entries: list[Entry], window: timedelta, moment: float) -> list[Entry]:
    """The entries `is_relevant` keeps at epoch `moment`, its test written out once for the
    whole list: derive_attributes runs on every personalized page."""
    oldest = moment - window.total_seconds()
    return [
        e for e in entries if e.at >= oldest and (e.valid_until is None or moment <= e.valid_until)
    ]


def _starts_new_visit(profile: Profile, policy: HistoryPolicy, moment: float) -> bool:
    """Whether a request at `moment` would count as a new visit (the gap has passed)."""
    last = profile.last_seen
    return last is not None and moment - last > policy.visit_gap.total_seconds()


def _iso_date(epoch: int | None, timezone: tzinfo) -> str | None:
    if epoch is None:
        return None
    try:
        return datetime.fromtimestamp(epoch, timezone).date().isoformat()
    except (OverflowError, ValueError, OSError):  # a horizon beyond what datetime can show
        return None


def _days(seconds: float) -> float:
    return round(seconds / 86400, 3)


def _hours(seconds: float) -> float:
    return round(seconds / 3600, 3)


def interest_scores(profile: Profile, policy: HistoryPolicy, now: datetime) -> dict[str, float]:
    """Decayed interest per topic at `now`, highest first."""
    # `decayed_interest` written out for the whole dict: it runs on every personalized page.
    moment, half_life = now.timestamp(), policy.interest_half_life.total_seconds()
    ranked = [
        (-round(float(score * 0.5 ** (max(0.0, moment - at) / half_life)), 4), topic)
        for topic, (score, at) in profile.interest.items()
    ]
    ranked.sort()
    return {topic: -negative for negative, topic in ranked}


def lifecycle(profile: Profile, policy: HistoryPolicy, now: datetime) -> str:
    """``new``, ``returning``, ``customer`` or ``lapsed`` (back after more than `lapsed_after`)."""
    lapse = policy.lapsed_after.total_seconds()
    moment = now.timestamp()
    if profile.last_seen is not None and moment - profile.last_seen > lapse:
        return "lapsed"
    if (
        profile.prev_visit_seen is not None
        and profile.visit_started is not None
        and profile.visit_started - profile.prev_visit_seen > lapse
    ):
        return "lapsed"
    if profile.purchases > 0:
        return "customer"
    if profile.visits >= 2:
        return "returning"
    return "new"


@dataclass(frozen=True)
class CountPath:
    """A window count attribute taken apart: ``views.topic.hiking.7d`` counts key
    ``t:hiking`` (`Profile.counts`) over the last 7 days."""

    path: str
    family: str  # one of COUNT_FAMILIES
    name: str  # the topic, path, term or event type
    key: str
    days: int


@lru_cache(maxsize=4096)  # the paths of the rule set in force, read on every page
def parse_count_path(path: str) -> CountPath | None:
    """Read a window count attribute (``<family><name>.<N>d``, N from 1 to `COUNT_DAYS`), or
    None when `path` is not one."""
    for family, prefix in COUNT_FAMILIES.items():
        if path.startswith(family):
            window = _WINDOW.search(path, len(family))
            if window is None or window.start() == len(family):
                return None
            days = int(window.group(1))
            if days > COUNT_DAYS:
                return None
            name = path[len(family) : window.start()]
            if prefix == "s:":
                name = " ".join(name.split()).casefold()
            return CountPath(path, family, name, prefix + name, days)
    return None


def count_within(entry: DayCounts | None, days: int, today: int) -> int:
    """How many times `entry` counted on the `days` days ending with day number `today`."""
    if entry is None:
        return 0
    start = entry.day - today  # index of today in entry.counts (negative: a later newest day)
    return sum(entry.counts[max(start, 0) : max(start + days, 0)])


def window_counts(
    profile: Profile, now: datetime, paths: Collection[str] | None = None
) -> dict[str, int]:
    """The window count attributes at `now`: each of `paths` that is one (0 when nothing was
    counted), or with `paths` None each counted thing over `STANDARD_WINDOWS`."""
    today = int(now.timestamp()) // 86400
    counts = profile.counts
    out: dict[str, int] = {}
    for parsed in _count_paths(profile, paths):
        out[parsed.path] = count_within(counts.get(parsed.key), parsed.days, today)
    return out


def _count_paths(profile: Profile, paths: Collection[str] | None) -> Iterator[CountPath]:
    if paths is not None:
        for path in paths:
            parsed = parse_count_path(path)
            if parsed is not None:
                yield parsed
        return
    families = {prefix: family for family, prefix in COUNT_FAMILIES.items()}
    for key in profile.counts:
        family = families.get(key[:2])
        if family is None:
            continue
        for days in STANDARD_WINDOWS:
            path = f"{family}{key[2:]}.{days}d"
            yield CountPath(path, family, key[2:], key, days)


def visit_facts(profile: Profile, policy: HistoryPolicy, now: datetime) -> dict[str, Any]:
    """``visit.*``: the current visit's pages, entry path, referrer host and UTM source; none
    when `now` would start a new visit (or no visit was recorded)."""
    if profile.visit_started is None or _starts_new_visit(profile, policy, now.timestamp()):
        return {}
    facts: dict[str, Any] = {"visit.pages": profile.visit_pages}
    if profile.visit_entry is not None:
        facts["visit.entry"] = profile.visit_entry
    if profile.visit_referrer is not None:
        facts["visit.referrer"] = profile.visit_referrer
    if profile.visit_utm_source is not None:
        facts["visit.utm_source"] = profile.visit_utm_source
    return facts


def derive_attributes(
    profile: Profile,
    policy: HistoryPolicy,
    now: datetime,
    *,
    timezone: tzinfo = UTC,
    counts: Collection[str] | None = None,
) -> dict[str, Any]:
    """The stored-history attributes of `profile` at `now`, as flat dotted keys.

    Only relevant entries appear; an attribute whose source is empty is absent (a rule testing
    it with ``$exists: false`` matches). Window counts are derived for the attribute paths in
    `counts` that are ones (what a rule set reads; each is there, 0 when nothing was counted),
    or with `counts` None for everything counted over `STANDARD_WINDOWS`.
    """
    moment = now.timestamp()
    attrs: dict[str, Any] = {
        "visits.count": profile.visits,
        "lifecycle": lifecycle(profile, policy, now),
    }
    if profile.first_seen is not None:
        attrs["visits.first_seen_days"] = _days(moment - profile.first_seen)
    previous = profile.prev_visit_seen
    if _starts_new_visit(profile, policy, moment):
        previous = profile.last_seen  # `now` opens a visit that is not recorded yet
    if previous is not None:
        attrs["visits.last_seen_days"] = _days(moment - previous)

    searches = _relevant_entries(profile.searches, policy.search_relevant_for, moment)
    attrs["search.count"] = len(searches)
    attrs["search.recent"] = list(dict.fromkeys([s.term for s in searches]))
    if searches:
        last = searches[0]
        attrs["search.last"] = last.term
        attrs["search.last.age_days"] = _days(moment - last.at)
        attrs["search.last.age_hours"] = _hours(moment - last.at)
        until_date = _iso_date(last.valid_until, timezone)
        if until_date is not None:
            attrs["search.last.valid_until"] = until_date

    views = _relevant_entries(profile.views, policy.view_relevant_for, moment)
    attrs["view.count"] = len(views)
    attrs["view.recent"] = list(dict.fromkeys([v.path for v in views]))
    attrs["view.topics"] = list(dict.fromkeys([v.topic for v in views if v.topic]))
    if views:
        attrs["view.last"] = views[0].path
        attrs["view.last.age_days"] = _days(moment - views[0].at)
        if views[0].topic:
            attrs["view.last.topic"] = views[0].topic

    scores = interest_scores(profile, policy, now)
    for topic, score in scores.items():
        if topic not in _DERIVED_INTEREST_KEYS:
            attrs["interest." + topic] = score
    topics = [topic for topic, score in scores.items() if score >= MIN_INTEREST]
    attrs["interest.topics"] = topics
    if topics:
        attrs["interest.top"] = topics[0]

    cart = profile.cart
    attrs["cart.items"] = cart.items
    attrs["cart.value"] = cart.value
    if cart.items and cart.updated_at is not None:
        attrs["cart.age_hours"] = _hours(moment - cart.updated_at)
        attrs["cart.age_days"] = _days(moment - cart.updated_at)

    attrs["purchases.count"] = profile.purchases
    attrs["purchases.total"] = round(profile.purchase_total, 2)
    if profile.last_purchase is not None:
        attrs["purchases.last_days"] = _days(moment - profile.last_purchase)

    for key, value in profile.prefs.items():
        attrs["prefs." + key] = value

    for event in reversed(profile.events):  # oldest first, so the newest sets the age
        if not is_relevant(event.at, event_horizon(event.data), policy.event_relevant_for, now):
            continue
        count_key = "event." + event.type + ".count"
        attrs[count_key] = attrs.get(count_key, 0) + 1
        attrs["event." + event.type + ".age_hours"] = _hours(moment - event.at)

    attrs.update(visit_facts(profile, policy, now))
    if counts is None or counts:
        attrs.update(window_counts(profile, now, counts))
    return attrs
