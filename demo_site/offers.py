"""The next best offer: products a visitor has not seen yet, chosen by interest, with what goes
with the gear they looked at first, each with the reason it is there."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from etalage.demo import catalog

#: What goes with a product: SKU -> the SKUs of its companions, best first (a tent wants a
#: sleeping bag, a stove and a mat). Read as "X goes with the Y you looked at".
GOES_WITH: dict[str, tuple[str, ...]] = {
    "hk-101": ("hk-104", "hk-103"),
    "hk-102": ("hk-103", "hk-101"),
    "hk-103": ("hk-102", "hk-101"),
    "hk-104": ("hk-101", "hk-102"),
    "cp-201": ("cp-202", "cp-203", "cp-204"),
    "cp-202": ("cp-204", "cp-201"),
    "cp-203": ("cp-201",),
    "cp-204": ("cp-202", "cp-201"),
    "cl-301": ("cl-302", "cl-304"),
    "cl-302": ("cl-301", "cl-304"),
    "cl-303": ("cl-301",),
    "cl-304": ("cl-301",),
    "wa-401": ("wa-403", "wa-402"),
    "wa-402": ("wa-401",),
    "wa-403": ("wa-401", "wa-404"),
    "wa-404": ("wa-403",),
}

_PRODUCT_PATH = "/product/"


@dataclass(frozen=True)
class Offer:
    """One recommended product and why: `goes_with` is the viewed product it completes
    (None when it is there for the interest alone)."""

    product: catalog.Product
    goes_with: catalog.Product | None = None

    @property
    def reason(self) -> str:
        """The card's line saying why it is offered."""
        if self.goes_with is not None:
            return f"Goes with the {self.goes_with.name} you looked at"
        return f"New to you in {self.product.category.capitalize()}"


@dataclass(frozen=True)
class Shelf:
    """A "For you" shelf: the interest it is named after and its offers."""

    topic: str
    offers: tuple[Offer, ...]


def viewed_skus(paths: Any) -> list[str]:
    """The SKUs of the product pages among viewed `paths` (``view.recent``), newest first."""
    if not isinstance(paths, (list, tuple)):
        return []
    skus = []
    for path in paths:
        if isinstance(path, str) and path.startswith(_PRODUCT_PATH) and path.endswith(".html"):
            sku = path[len(_PRODUCT_PATH) : -len(".html")]
            if catalog.product(sku) is not None and sku not in skus:
                skus.append(sku)
    return skus


def next_best_offer(
    visitor: Mapping[str, Any], page: Mapping[str, Any], limit: int = 4
) -> Shelf | None:
    """The visitor's "For you" shelf, or None when nothing new fits their interests.

    Only products of the visitor's interests (``interest.topics``, else ``interest.top``) that
    they have not viewed (``view.recent``; a bought product was viewed to be added to the cart)
    and that are not of the page's own topic (its products are listed already). The first
    interest with such a product names the shelf and fills it first; within an interest, what
    goes with a viewed product comes before the rest. Other interests fill up to `limit`.
    """
    topics = visitor.get("interest.topics") or [visitor.get("interest.top")]
    if not isinstance(topics, (list, tuple)):
        return None
    seen = viewed_skus(visitor.get("view.recent"))
    page_sku = page.get("sku")
    if isinstance(page_sku, str):
        seen.append(page_sku)
    companions = _companions(seen)
    offers: list[Offer] = []
    shelf_topic = None
    for topic in topics:
        if not isinstance(topic, str) or topic == page.get("topic"):
            continue
        fresh = [
            p for p in catalog.products_for(topic, limit=len(catalog.PRODUCTS)) if p.sku not in seen
        ]
        if not fresh:
            continue
        shelf_topic = shelf_topic or topic
        ranked = sorted(
            fresh, key=lambda p: (p.sku not in companions, _position(companions, p.sku))
        )
        offers += [Offer(p, companions.get(p.sku)) for p in ranked]
        if len(offers) >= limit:
            break
    if shelf_topic is None:
        return None
    return Shelf(shelf_topic, tuple(offers[: max(limit, 0)]))


def _companions(seen: Sequence[str]) -> dict[str, catalog.Product]:
    """Unseen SKU -> the most recently viewed product it goes with (in order of discovery)."""
    found: dict[str, catalog.Product] = {}
    for sku in seen:
        viewed = catalog.product(sku)
        for other in GOES_WITH.get(sku, ()):
            if viewed is not None and other not in seen and other not in found:
                found[other] = viewed
    return found


def _position(companions: Mapping[str, catalog.Product], sku: str) -> int:
    keys = list(companions)
    return keys.index(sku) if sku in companions else len(keys)
