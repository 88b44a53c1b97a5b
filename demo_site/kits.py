"""Trip kits, the shop's elastic product: the gear for a guided trip, configured from the
trip's date (the season) and the level the visitor stated, with a bundle price the server
computes (the page shows it, the cart and checkout compute it again)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from etalage.demo import catalog

#: Share taken off the sum of a kit's items.
BUNDLE_DISCOUNT = 0.15
#: The levels a kit is configured for; "standard" when the visitor stated none.
LEVELS = ("beginner", "standard", "expert")
_KEY_PREFIX = "kit:"
#: Months with cold nights in the mountains (a warm layer joins the kit).
_COLD_MONTHS = frozenset({1, 2, 3, 4, 10, 11, 12})


@dataclass(frozen=True)
class KitPart:
    """One line of a kit: a product and why it is in (for this trip, this level)."""

    product: catalog.Product
    why: str


@dataclass(frozen=True)
class _Choice:
    sku: str
    when: str  # "always", "cold" (trip month in _COLD_MONTHS) or "new" (not for experts)
    why: str


_CHOICES: dict[str, tuple[_Choice, ...]] = {
    "hiking": (
        _Choice("hk-102", "always", "Waterproof boots for days on the trail"),
        _Choice("hk-101", "always", "A daypack for water, lunch and a layer"),
        _Choice("hk-104", "cold", "A wind-proof layer: {month} is cold up there"),
        _Choice("hk-103", "new", "Poles spare your knees on your first long descents"),
    ),
    "camping": (
        _Choice("cp-202", "always", "A bag warm to -5 °C for the nights"),
        _Choice("cp-204", "always", "A mat between you and the cold ground"),
        _Choice("cp-203", "new", "A stove, so you can cook from the first evening"),
    ),
    "climbing": (
        _Choice("cl-303", "always", "Shoes for limestone edges"),
        _Choice("cl-301", "always", "A harness for long multi-pitch days"),
        _Choice("cl-304", "new", "A helmet: stones fall in the gorge"),
    ),
    "water": (
        _Choice("wa-404", "always", "Shoes for slippery river stones"),
        _Choice("wa-402", "always", "A dry bag for your clothes and phone"),
        _Choice("wa-403", "new", "A buoyancy aid fitted to you, not a rental one"),
        _Choice("hk-104", "cold", "A wind-proof layer for cold mornings on the water"),
    ),
}


@dataclass(frozen=True)
class TripKit:
    """The gear for one trip at one level; sold as one cart line (`sku` is its cart key).

    It has the fields of a `catalog.Product` the cart and checkout show (sku, name, price,
    url, color, category).
    """

    trip: catalog.Trip
    level: str
    parts: tuple[KitPart, ...]

    @property
    def sku(self) -> str:
        """The cart key: ``kit:<trip slug>:<level>``."""
        return f"{_KEY_PREFIX}{self.trip.slug}:{self.level}"

    @property
    def name(self) -> str:
        """The kit's name as the cart lists it."""
        return f"{self.trip.name} kit ({self.level})"

    @property
    def full_price(self) -> float:
        """The sum of the parts' normal prices."""
        return round(sum(part.product.price for part in self.parts), 2)

    @property
    def price(self) -> float:
        """The bundle price: `BUNDLE_DISCOUNT` off the parts, rounded to the cent."""
        return round(self.full_price * (1 - BUNDLE_DISCOUNT), 2)

    @property
    def url(self) -> str:
        """The trip's gear page (its dated search)."""
        return self.trip.search_url

    @property
    def color(self) -> str:
        """The colour of the kit's first part."""
        return self.parts[0].product.color

    @property
    def category(self) -> str:
        """The trip's activity."""
        return self.trip.category


def level_of(stated: Any) -> str:
    """The kit level for a stated ``prefs.level`` (anything else: ``standard``)."""
    return stated if stated in ("beginner", "expert") else "standard"


def trip_kit(trip: catalog.Trip | None, level: Any = None) -> TripKit | None:
    """The kit for `trip` at `level` (`level_of`), or None for no trip.

    The trip's month decides the warm layer; experts get the essentials only, beginners and the
    standard kit also the gear that makes a first trip easier.
    """
    if trip is None:
        return None
    chosen = level_of(level)
    cold = trip.start.month in _COLD_MONTHS
    month = catalog.long_date(trip.start).split()[1]
    parts = []
    for choice in _CHOICES.get(trip.category, ()):
        if (choice.when == "cold" and not cold) or (choice.when == "new" and chosen == "expert"):
            continue
        item = catalog.product(choice.sku)
        if item is not None:
            parts.append(KitPart(item, choice.why.format(month=month)))
    return TripKit(trip, chosen, tuple(parts)) if parts else None


def trip_by_slug(slug: Any) -> catalog.Trip | None:
    """The trip with this slug, or None."""
    return next((t for t in catalog.TRIPS if t.slug == slug), None)


def kit_from_key(key: Any) -> TripKit | None:
    """The kit a cart key (`TripKit.sku`) names, or None when it names none."""
    if not isinstance(key, str) or not key.startswith(_KEY_PREFIX):
        return None
    slug, _, level = key[len(_KEY_PREFIX) :].partition(":")
    if level not in LEVELS:
        return None
    return trip_kit(trip_by_slug(slug), level)
