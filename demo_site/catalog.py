"""The demo shop's catalog: products, guided trips and categories as typed, immutable data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

#: Share taken off the normal price for members (visitors who bought before).
LOYALTY_DISCOUNT = 0.10


@dataclass(frozen=True)
class Category:
    """A shop department: URL slug (also the page topic), title and one-line blurb."""

    slug: str
    title: str
    blurb: str


@dataclass(frozen=True)
class Product:
    """One product; `topic` equals `category` and is the page's `etalage:topic` fact."""

    sku: str
    name: str
    category: str
    price: float
    summary: str
    copy_beginner: str
    copy_expert: str
    color: str

    @property
    def topic(self) -> str:
        """The interest topic a view of this product counts towards (its category)."""
        return self.category

    @property
    def url(self) -> str:
        """The product page's path."""
        return f"/product/{self.sku}.html"


@dataclass(frozen=True)
class Trip:
    """A guided trip on a fixed date; searching for it records the date as `valid_until`."""

    slug: str
    name: str
    category: str
    start: date
    days: int
    price: float
    summary: str

    @property
    def search_url(self) -> str:
        """The search for this trip, carrying its date in the `date` parameter."""
        return "/search?" + urlencode({"q": self.name, "date": self.start.isoformat()})


CATEGORIES: tuple[Category, ...] = (
    Category("hiking", "Hiking", "Boots, packs and shells for long days on the trail."),
    Category("camping", "Camping", "Tents, bags and stoves for nights under the sky."),
    Category("climbing", "Climbing", "Ropes, harnesses and shoes for crag and wall."),
    Category("water", "Water", "Kayaks, dry bags and buoyancy for rivers and lakes."),
)

PRODUCTS: tuple[Product, ...] = (
    Product(
        "hk-101",
        "Sentier 28 Daypack",
        "hiking",
        89.0,
        "A 28-litre daypack with a ventilated back and a rain cover tucked in the lid.",
        "Big enough for lunch, a warm layer and a rain jacket. The mesh back keeps you cool "
        "on the climb, and the hidden rain cover pops out when the weather turns.",
        "28 L, 980 g. Tensioned 3D-mesh back panel, 6061 aluminium frame sheet, 210D recycled "
        "ripstop with C0 DWR, hip belt pockets, hydration sleeve up to 3 L, integrated cover.",
        "#3f7d58",
    ),
    Product(
        "hk-102",
        "Ridgeline GTX Mid Boots",
        "hiking",
        179.0,
        "Waterproof mid-cut boots with a grippy sole for rocky, wet trails.",
        "Comfortable from the first walk, with a waterproof lining so your feet stay dry in "
        "puddles and wet grass. The high collar supports your ankles on uneven ground.",
        "Nubuck upper, GORE-TEX lining, dual-density EVA midsole, TPU shank, 4.5 mm lugged "
        "rubber outsole, 12 mm drop, 560 g per boot (EU 42). Category B, crampon-ready: no.",
        "#8a5a3b",
    ),
    Product(
        "hk-103",
        "Carbon Trek Poles",
        "hiking",
        119.0,
        "Feather-light folding poles that save your knees on the way down.",
        "Poles take weight off your knees on descents and help your balance on streams. They "
        "fold into three parts and fit in your pack when you do not need them.",
        "100 % carbon shafts, 3-section Z-fold, 110-130 cm adjustable, 205 g per pole, EVA "
        "grips with extension, tungsten carbide tips, interchangeable trekking/snow baskets.",
        "#44546a",
    ),
    Product(
        "hk-104",
        "Alpine Softshell Jacket",
        "hiking",
        149.0,
        "A stretchy, breathable jacket that blocks wind and shrugs off light showers.",
        "The one jacket you can keep on all day: it stops the wind, breathes when you sweat "
        "and stretches with every move. Fine for drizzle; pack a rain shell for real rain.",
        "4-way stretch 90/10 nylon-elastane, 35 CFM air permeability, DWR finish, "
        "helmet-compatible hood, pit zips, 2 chest pockets, 420 g (M).",
        "#c2452d",
    ),
    Product(
        "cp-201",
        "Bivouac 2 Tent",
        "camping",
        329.0,
        "A two-person freestanding tent that pitches in five minutes and stands up to storms.",
        "Room for two people and their gear, two doors so nobody climbs over anybody, and a "
        "colour-coded frame that goes up in five minutes, even the first time.",
        "Freestanding, 2 doors / 2 vestibules, 1.9 kg packed, DAC NSL poles, 20D silnylon fly "
        "3000 mm HH, 40D floor 5000 mm HH, 29 ft² floor, 102 cm peak height.",
        "#d9822b",
    ),
    Product(
        "cp-202",
        "Duvet -5 Down Sleeping Bag",
        "camping",
        259.0,
        "A warm, packable down bag for three-season nights down to -5 °C.",
        "Keeps you warm on cold spring and autumn nights, then packs down to the size of a "
        "loaf of bread. The hood and collar hold the warmth in.",
        "650 g 750 cuin RDS duck down, comfort -5 °C / limit -11 °C (ISO 23537), box baffles, "
        "full-length 2-way zip, 20D ripstop shell, 1.05 kg, stuff sack 15 × 28 cm.",
        "#5b4b8a",
    ),
    Product(
        "cp-203",
        "Titan Pocket Stove",
        "camping",
        49.0,
        "A tiny gas stove that boils a litre of water in under four minutes.",
        "Screw it onto a gas canister, light it and you have hot coffee in minutes. It folds "
        "to the size of an egg and lives in your cooking pot.",
        "Titanium, 73 g, EN417 thread, 2.6 kW, 1 L boil in 3:40 (sea level, no wind), "
        "piezo ignition, serrated pot supports for 8-22 cm pots.",
        "#6b7380",
    ),
    Product(
        "cp-204",
        "AirRest Insulated Mat",
        "camping",
        99.0,
        "A thick, quiet inflatable mat that keeps the cold ground away.",
        "Seven centimetres of air between you and the ground and an insulating layer inside: "
        "comfortable for side sleepers and warm enough for frosty nights.",
        "R-value 4.2 (ASTM F3340), 7 cm, 183 × 55 cm, 480 g, 30D nylon, flat valve, pump "
        "sack included, low-crinkle synthetic insulation.",
        "#2e8a8a",
    ),
    Product(
        "cl-301",
        "Gritstone Harness",
        "climbing",
        69.0,
        "A comfortable all-round harness for the gym, the crag and long multi-pitches.",
        "Fits most bodies with adjustable leg loops, and the wide waist belt stays comfortable "
        "when you hang in it. Four gear loops hold everything you need.",
        "EN 12277 type C, 360 g (M), split-webbing waist belt, adjustable leg loops, 4 gear "
        "loops, haul loop 5 kN, wear-indicator tie-in points.",
        "#e0a526",
    ),
    Product(
        "cl-302",
        "Edge 9.5 Dynamic Rope 60 m",
        "climbing",
        169.0,
        "A versatile single rope for sport climbing, treated against water.",
        "A rope for most outdoor climbing: long enough for nearly every sport route, and "
        "treated so it stays light and supple when it gets wet.",
        "9.5 mm single, 60 m, 59 g/m, 7 UIAA falls, impact force 8.6 kN, dynamic elongation "
        "33 %, sheath 38 %, dry-treated core and sheath (UIAA water-repellent).",
        "#1f6fb2",
    ),
    Product(
        "cl-303",
        "Verdon Climbing Shoes",
        "climbing",
        129.0,
        "Moderately downturned shoes with sticky rubber for edges and smears.",
        "Snug but not painful, so you can wear them for a whole session. The sticky rubber "
        "holds on small footholds and gives you confidence on steep rock.",
        "Moderate downturn, asymmetric last, 4 mm Vibram XS Edge, 1.1 mm rand, microfibre "
        "upper, lace-up closure, rubber toe patch for hooking.",
        "#b0306a",
    ),
    Product(
        "cl-304",
        "Crag Helmet",
        "climbing",
        79.0,
        "A light, well-ventilated helmet for climbing and via ferrata.",
        "Protects your head from falling stones and bumps. It is light and airy enough that "
        "you forget you are wearing it, and adjusts with one wheel.",
        "EN 12492 / UIAA 106, 230 g, EPS foam with polycarbonate shell, 20 vents, wheel "
        "adjustment 52-62 cm, 4 headlamp clips.",
        "#4f8f3a",
    ),
    Product(
        "wa-401",
        "Lagoon Inflatable Kayak",
        "water",
        449.0,
        "A stable two-seat inflatable kayak that fits in a car boot.",
        "Inflate it in ten minutes at the lake shore and paddle off with a friend. Very "
        "stable, easy to steer, and it rolls up into a backpack afterwards.",
        "Drop-stitch floor, 1000D PVC hull, 3 chambers, 380 × 90 cm, 16 kg, max load 210 kg, "
        "removable skeg, 2 seats, pump and carry bag included. Class I-II rivers.",
        "#1b8bbf",
    ),
    Product(
        "wa-402",
        "Drift Dry Bag 20 L",
        "water",
        29.0,
        "A roll-top bag that keeps clothes and phone dry on the water.",
        "Roll the top three times, clip it and your things stay dry, even if the bag goes "
        "overboard. It floats too.",
        "20 L, 500D PVC tarpaulin, welded seams, roll-top with side-release buckle, IPX6, "
        "D-ring attachment, 290 g.",
        "#f0b429",
    ),
    Product(
        "wa-403",
        "Current Buoyancy Aid",
        "water",
        89.0,
        "A comfortable buoyancy aid for kayaking, canoeing and paddle-boarding.",
        "Keeps you afloat if you fall in, without getting in the way of paddling. Side "
        "straps let you adjust it snugly.",
        "ISO 12402-5, 50 N, for users 40-70 kg+, PVC-free foam, 6-point adjustment, "
        "front zip, reflective panels, large fleece-lined pocket.",
        "#e4572e",
    ),
    Product(
        "wa-404",
        "Rivière Neoprene Shoes",
        "water",
        45.0,
        "Quick-drying water shoes with a grippy sole for slippery rocks.",
        "Protect your feet from sharp stones in rivers and lakes, grip on wet rocks and dry "
        "quickly in the sun.",
        "3 mm neoprene upper, drainage ports, siped non-marking rubber outsole, heel pull, "
        "210 g per shoe (EU 42).",
        "#2f5d62",
    ),
)

TRIPS: tuple[Trip, ...] = (
    Trip(
        "dolomites-hut-trek",
        "Dolomites hut trek",
        "hiking",
        date(2027, 3, 14),
        6,
        1290.0,
        "Six days from hut to hut under the Sella and the Marmolada, snowshoes included.",
    ),
    Trip(
        "verdon-climbing-weekend",
        "Verdon climbing weekend",
        "climbing",
        date(2027, 5, 8),
        3,
        540.0,
        "Multi-pitch limestone above the turquoise gorge, with a certified guide.",
    ),
    Trip(
        "ardeche-canoe-descent",
        "Ardèche canoe descent",
        "water",
        date(2027, 6, 19),
        2,
        320.0,
        "Thirty kilometres of river through the gorges, a night in a riverside bivouac.",
    ),
    Trip(
        "lofoten-wild-camping",
        "Lofoten wild camping",
        "camping",
        date(2027, 7, 24),
        7,
        1680.0,
        "A week of beaches, ridges and midnight sun, camping where the view is best.",
    ),
    Trip(
        "mont-blanc-north-loop",
        "Tour du Mont Blanc north loop",
        "hiking",
        date(2027, 8, 28),
        5,
        990.0,
        "Five days on the classic trail between Chamonix, Champex and Courmayeur.",
    ),
)

#: The contact channels a visitor may prefer: (value stored in ``prefs.channel``, label).
CHANNELS: tuple[tuple[str, str], ...] = (
    ("email", "E-mail"),
    ("phone", "Phone call"),
    ("chat", "Live chat"),
    ("sms", "Text message"),
)

#: The levels of product copy a visitor may ask for: (value stored in ``prefs.level``, label).
LEVELS: tuple[tuple[str, str], ...] = (
    ("beginner", "Keep it simple"),
    ("expert", "Show me the technical specs"),
)

#: The products shown on the home page's default "Bestsellers" shelf.
BESTSELLERS: tuple[str, ...] = ("cp-201", "hk-102", "wa-401", "cl-302")

_BY_SKU = {p.sku: p for p in PRODUCTS}
_CATEGORY_BY_SLUG = {c.slug: c for c in CATEGORIES}


def product(sku: str) -> Product | None:
    """Return the product with this SKU, or None when there is none."""
    return _BY_SKU.get(sku)


def category(slug: str) -> Category | None:
    """Return the category with this slug, or None when there is none."""
    return _CATEGORY_BY_SLUG.get(slug)


def products_for(topic: Any, limit: int = 4) -> list[Product]:
    """Return up to `limit` products of the category `topic` (empty for an unknown topic)."""
    if not isinstance(topic, str):
        return []
    return [p for p in PRODUCTS if p.category == topic][: max(limit, 0)]


def bestsellers() -> list[Product]:
    """Return the products of the default "Bestsellers" shelf."""
    return [_BY_SKU[sku] for sku in BESTSELLERS]


def search(term: Any) -> list[Product]:
    """Products whose name, summary or category contains `term`, case-insensitively.

    A blank or non-string term matches nothing.
    """
    if not isinstance(term, str) or not term.strip():
        return []
    needle = term.strip().casefold()
    return [
        p
        for p in PRODUCTS
        if needle in p.name.casefold()
        or needle in p.summary.casefold()
        or needle in p.category.casefold()
    ]


def find_trip(term: Any) -> Trip | None:
    """Return the trip whose name equals `term` (case-insensitive), or None."""
    if not isinstance(term, str):
        return None
    needle = term.strip().casefold()
    return next((t for t in TRIPS if t.name.casefold() == needle), None)


def member_price(price: float) -> float:
    """The loyalty price of a normal price: 10 % off, rounded to the cent."""
    return round(price * (1 - LOYALTY_DISCOUNT), 2)


def eur(value: Any) -> str:
    """Format an amount as euros (``€1,290.00``); a value that is not a number is returned as text."""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return str(value)
    if amount != amount or amount in (float("inf"), float("-inf")):
        return str(value)
    return f"€{amount:,.2f}"


def long_date(day: date | str) -> str:
    """Format a date (or an ISO date text) as the shop writes it: ``14 March 2027``.

    Text that is not an ISO date is returned unchanged.
    """
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day[:10])
        except ValueError:
            return str(day)
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


_MONTHS = (
    "January February March April May June July August September October November December"
).split()


def fragment_globals() -> dict[str, Any]:
    """The names fragments and demo templates may use, besides their render context."""
    names: dict[str, Callable[..., Any] | tuple[Any, ...]] = {
        "products_for": products_for,
        "product": product,
        "search": search,
        "find_trip": find_trip,
        "member_price": member_price,
        "eur": eur,
        "long_date": long_date,
        "categories": CATEGORIES,
        "trips": TRIPS,
        "channels": CHANNELS,
        "levels": LEVELS,
    }
    return dict(names)
