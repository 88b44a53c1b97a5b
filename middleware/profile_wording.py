"""Words for the visitor's page: dates in the site's time zone, blocks named in words, and
sentences that say which of the visitor's own data a rule used and until when.

Everything here reads the profile report (`profile_page.profile_report`), so the page says
exactly what the JSON export holds. Text that came from the visitor is escaped: sentences are
`Markup` built with `Markup.format`, which escapes every argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from markupsafe import Markup

from etalage.recency import HistoryPolicy
from etalage.rules.conditions import condition_paths

_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_NUMBERS = ("no", "one")

# How `Ruleset.decide` words a variant drawn and a holdout, in the reason it records.
_VARIANT = re.compile(
    r"^(?P<reason>.*); variant (?P<number>\d+) of (?P<count>\d+) \((?P<what>.*)\)$"
)
_SITE_HOLDOUT = re.compile(r"^holdout group: default content instead of rule '(?P<rule>[^']*)'$")
_RULE_HOLDOUT = re.compile(r"^holdout of rule '(?P<rule>[^']*)': default content$")

_PREFERENCE_LABELS = {
    "name": "your name",
    "email": "your e-mail address",
    "channel": "how you like to be contacted",
    "level": "your level",
    "interests": "your interests",
}
# Attributes read from the request alone: what a contextual rule is chosen from.
_CONTEXT_SENTENCES = {
    "device": "Chosen from the kind of device you are using now.",
    "time": "Chosen from the time of day on this visit.",
    "request": "Chosen from the address of this page or the link that brought you here.",
    "page": "Chosen from the page you are on.",
}


@dataclass(frozen=True)
class Clock:
    """The moment the page describes and the site's time zone, to word dates with."""

    now: datetime
    zone: tzinfo

    def local(self, moment: datetime) -> datetime:
        """`moment` in the site's time zone."""
        return moment.astimezone(self.zone)

    def date(self, moment: datetime) -> str:
        """``15 December`` (with the year when it is not this year's)."""
        local = self.local(moment)
        text = f"{local.day} {_MONTHS[local.month - 1]}"
        return text if local.year == self.local(self.now).year else f"{text} {local.year}"

    def when(self, moment: datetime) -> str:
        """``today at 14:05``, ``yesterday at 09:12``, ``tomorrow at 18:00`` or ``on 15
        December``: a moment as a person says it, in the site's time zone."""
        local = self.local(moment)
        days = (local.date() - self.local(self.now).date()).days
        named = {0: "today", -1: "yesterday", 1: "tomorrow"}.get(days)
        if named is not None:
            return f"{named} at {local:%H:%M}"
        return f"on {self.date(moment)}"

    def ago(self, moment: datetime) -> str:
        """``just now``, ``5 minutes ago``, ``3 hours ago``, ``yesterday``, ``4 days ago`` or
        ``on 15 December``: how long ago `moment` was."""
        seconds = (self.now - moment).total_seconds()
        if seconds < 60:
            return "just now"
        if seconds < 3600:
            return f"{count(int(seconds // 60), 'minute')} ago"
        days = (self.local(self.now).date() - self.local(moment).date()).days
        if seconds < 6 * 3600 or days == 0:
            return f"{count(int(seconds // 3600), 'hour')} ago"
        if days == 1:
            return "yesterday"
        if days < 14:
            return f"{days} days ago"
        return f"on {self.date(moment)}"


def moment(value: Any) -> datetime | None:
    """A moment of the report (an ISO date-time), or None when there is none."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``one item``, ``3 items``, ``no items``: a number of things."""
    name = noun if number == 1 else (plural or noun + "s")
    word = _NUMBERS[number] if 0 <= number < len(_NUMBERS) else str(number)
    return f"{word} {name}"


def times(number: int) -> str:
    """``once``, ``twice``, ``3 times``."""
    return {1: "once", 2: "twice"}.get(number) or f"{count(number, 'time')}"


def duration(span: timedelta) -> str:
    """``14 days``, ``2 weeks`` or ``12 hours``: a policy window as words."""
    days = span.total_seconds() / 86400
    if days >= 1 and days == int(days):
        return count(int(days), "day")
    hours = span.total_seconds() / 3600
    return count(round(hours), "hour")


def humanize(name: str) -> str:
    """``main-nav`` → ``Main nav``: a name from a rule file read as words."""
    words = re.sub(r"[-_.]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name


def slot_label(slot: str, labels: Mapping[str, str]) -> str:
    """How the page names a block: the rule file's label, else the slot's name in words.

    A `take: N` slot records its later places as ``<slot>#2``, ``<slot>#3``...: they are
    named by the slot's label and their place (``Offers for you, block 2``).
    """
    name, _, place = slot.partition("#")
    label = labels.get(name) or humanize(name)
    return f"{label}, block {place}" if place.isdigit() else label


def page_name(path: Any) -> str:
    """``the home page`` for ``/``; any other path as it is."""
    return "the home page" if path == "/" else str(path or "a page")


@dataclass(frozen=True)
class Experiment:
    """What a recorded reason says about variants and holdouts, in words."""

    reason: str  # the rule's own reason, without the variant's technical suffix
    variant: str | None = None  # "You see version 1 of 2 of this block; …"
    held_out_from: str | None = None  # the rule whose content a holdout kept away


def experiment(reason: str) -> Experiment:
    """Split a decision's recorded reason into the rule's reason and the experiment, if any."""
    found = _VARIANT.match(reason)
    if found:
        number, total = int(found["number"]), int(found["count"])
        words = (
            f"We are comparing {count(total, 'version')} of this block: you see version "
            f"{number}, and you keep seeing it on every visit."
        )
        return Experiment(found["reason"], variant=words)
    found = _SITE_HOLDOUT.match(reason) or _RULE_HOLDOUT.match(reason)
    if found:
        return Experiment(reason, held_out_from=found["rule"])
    return Experiment(reason)


def strength(score: float) -> str:
    """A decayed interest score in words (one page view adds 1, halving over the half-life)."""
    if score >= 4:
        return "strong"
    if score >= 2:
        return "clear"
    if score >= 0.75:
        return "some"
    return "fading"


def evidence(
    condition: Mapping[str, Any] | None,
    stored: Mapping[str, Any] | None,
    consent: bool | None,
    clock: Clock,
    policy: HistoryPolicy,
) -> list[Markup]:
    """Sentences naming the visitor's own data a rule's condition read, and its expiry.

    ``You searched for “tent” 2 days ago; we stop suggesting it on 15 December.``
    """
    if not condition:
        return []
    try:
        paths = sorted(condition_paths(condition))
    except (TypeError, AttributeError):  # a condition of a shape this version cannot read
        return []
    sentences: list[Markup] = []
    seen: set[str] = set()
    for path in paths:
        family = path.split(".", 1)[0]
        key = path if family in ("prefs", "event", "segment", "interest") else family
        if key in seen:
            continue
        seen.add(key)
        sentence = _sentence(path, family, stored or {}, consent, clock, policy)
        if sentence is not None and sentence not in sentences:
            sentences.append(sentence)
    return sentences


def _sentence(
    path: str,
    family: str,
    stored: Mapping[str, Any],
    consent: bool | None,
    clock: Clock,
    policy: HistoryPolicy,
) -> Markup | None:
    if family in _CONTEXT_SENTENCES:
        return Markup(_CONTEXT_SENTENCES[family])
    if family == "consent":
        if consent:
            return Markup("You allowed us to remember your visits.")
        return Markup("You have not told us yet whether we may remember your visits.")
    if family == "search":
        return _search_sentence(stored, clock, policy)
    if family == "view":
        return _view_sentence(stored, clock, policy)
    if family == "interest":
        return _interest_sentence(path, stored, policy)
    if family == "cart":
        return cart_sentence(stored.get("cart"), clock)
    if family in ("purchases", "lifecycle"):
        return purchases_sentence(stored.get("purchases"), clock)
    if family == "visits":
        return visits_sentence(stored, clock)
    if family == "prefs":
        return _preference_sentence(path, stored.get("prefs"))
    if family == "event":
        return _event_sentence(path, stored.get("events"), clock)
    if family == "segment":
        name = path.split(".", 1)[1] if "." in path else path
        return Markup("You are among the visitors this site calls “{}”.").format(humanize(name))
    return None


def _entries(value: Any) -> list[Mapping[str, Any]]:
    return [e for e in value if isinstance(e, Mapping)] if isinstance(value, list) else []


def expiry(at: datetime | None, valid_until: datetime | None, window: timedelta) -> datetime | None:
    """When an entry made `at` stops counting: its window's end or its own horizon, the earlier."""
    ends = [end for end in (at + window if at else None, valid_until) if end is not None]
    return min(ends) if ends else None


def _search_sentence(
    stored: Mapping[str, Any], clock: Clock, policy: HistoryPolicy
) -> Markup | None:
    for search in _entries(stored.get("searches")):
        at = moment(search.get("at"))
        if not search.get("relevant") or at is None:
            continue
        ends = expiry(at, moment(search.get("valid_until")), policy.search_relevant_for)
        text = Markup("You searched for “{}” {}").format(search.get("term", ""), clock.ago(at))
        if ends is not None:
            text += Markup("; we stop suggesting it {}").format(clock.when(ends))
        return text + Markup(".")
    return None


def _view_sentence(stored: Mapping[str, Any], clock: Clock, policy: HistoryPolicy) -> Markup | None:
    views = [v for v in _entries(stored.get("views")) if v.get("relevant")]
    latest = moment(views[0].get("at")) if views else None
    if latest is None:
        return None
    text = Markup("You viewed {} here, the latest {} ({})").format(
        count(len(views), "page"), clock.ago(latest), views[0].get("path", "")
    )
    ends = expiry(latest, moment(views[0].get("valid_until")), policy.view_relevant_for)
    if ends is not None:
        text += Markup("; we stop using it {}").format(clock.when(ends))
    return text + Markup(".")


def _interest_sentence(
    path: str, stored: Mapping[str, Any], policy: HistoryPolicy
) -> Markup | None:
    interests = [
        i
        for i in _entries(stored.get("interests"))
        if isinstance(i.get("score"), int | float) and i.get("topic") is not None
    ]
    topic = path.split(".", 1)[1] if "." in path else "top"
    if topic in ("top", "topics"):
        chosen = interests[:1]
    else:
        chosen = [i for i in interests if i.get("topic") == topic]
    if not chosen:
        return None
    best = chosen[0]
    return Markup(
        "From the pages you viewed, your interest in {} is {}; it halves every {} unless you "
        "look at it again."
    ).format(best["topic"], strength(float(best["score"])), duration(policy.interest_half_life))


def cart_sentence(cart: Any, clock: Clock) -> Markup:
    """``Your cart holds 2 items worth 160.20, last changed yesterday.``"""
    items = cart.get("items") if isinstance(cart, Mapping) else None
    if not isinstance(items, int) or items <= 0:
        return Markup("Your cart is empty.")
    value = cart.get("value")
    text = Markup("Your cart holds {}").format(count(items, "item"))
    if isinstance(value, int | float) and value > 0:
        text += Markup(" worth {:.2f}").format(value)
    changed = moment(cart.get("updated"))
    if changed is not None:
        text += Markup(", last changed {}").format(clock.ago(changed))
    return text + Markup(".")


def purchases_sentence(purchases: Any, clock: Clock) -> Markup:
    """``You have ordered twice, 249.20 in all, most recently on 3 December.``"""
    number = purchases.get("count") if isinstance(purchases, Mapping) else None
    if not isinstance(number, int) or number <= 0:
        return Markup("You have not ordered anything yet.")
    text = Markup("You have ordered {}").format(times(number))
    total = purchases.get("total")
    if isinstance(total, int | float) and total > 0:
        text += Markup(", {:.2f} in all").format(total)
    last = moment(purchases.get("last"))
    if last is not None:
        text += Markup(", most recently {}").format(clock.ago(last))
    return text + Markup(".")


def visits_sentence(stored: Mapping[str, Any], clock: Clock) -> Markup:
    """``This is your third visit; the first was on 1 December.``"""
    visits = stored.get("visits")
    first = moment(stored.get("first_seen"))
    if not isinstance(visits, int) or visits <= 0:
        return Markup("No visit is counted yet.")
    if visits == 1:
        return Markup("This is your first visit.")
    text = Markup("You have visited {}").format(times(visits))
    if first is not None:
        text += Markup("; the first visit was {}").format(clock.ago(first))
    return text + Markup(".")


def preference_label(key: str) -> str:
    """How the page names a stated preference (``your name``)."""
    return _PREFERENCE_LABELS.get(key) or humanize(key).lower()


def preference_value(value: Any) -> str:
    """A stated preference's value as text (a list joined with commas)."""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _preference_sentence(path: str, prefs: Any) -> Markup | None:
    if not isinstance(prefs, Mapping):
        return None
    keys: Iterable[str] = [path.split(".", 1)[1]] if "." in path else sorted(prefs)
    told = [(key, prefs[key]) for key in keys if key in prefs]
    if not told:
        return None
    parts = [Markup("{} (“{}”)").format(preference_label(k), preference_value(v)) for k, v in told]
    return Markup("You told us {}.").format(Markup(", ").join(parts))


def _event_sentence(path: str, events: Any, clock: Clock) -> Markup | None:
    kind = path.split(".")[1] if path.count(".") >= 1 else ""
    for event in _entries(events):
        at = moment(event.get("at"))
        if event.get("type") == kind and at is not None:
            return Markup("“{}” was recorded {}.").format(humanize(kind), clock.ago(at))
    return None


def join_words(words: Sequence[str]) -> str:
    """``a, b and c``."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
