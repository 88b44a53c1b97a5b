"""The demo shop's content: catalog, generated pages, templates, fragments and rule file."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from markupsafe import Markup

from etalage.demo import catalog, shop_globals, templating
from scripts import build_demo_pages

DEMO = Path(templating.__file__).resolve().parent
PAGES = DEMO / "pages"
FRAGMENTS = DEMO / "fragments"
RULES = DEMO / "rules" / "shop.yaml"
WHY_LINK = '<a class="why" href="{{ why_url }}">Why this?</a>'
NOT_PERSONAL = {"consent/banner.html", "layout/mobile.html"}
BASE_SLOTS = {"layout", "consent"}


class _PageScan(HTMLParser):
    """Collects slots, items, meta facts, forms and unbalanced tags of one page."""

    _VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
        "use",
        "path",
        "circle",
        "rect",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.slots: list[str] = []
        self.items: dict[str, list[str]] = {}
        self.facts: dict[str, str] = {}
        self.forms: list[dict[str, Any]] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self._slot_depth: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and (a.get("name") or "").startswith("etalage:"):
            self.facts[a["name"].removeprefix("etalage:")] = a.get("content") or ""
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"), "fields": []})
        if tag in ("input", "button") and self.forms and a.get("name"):
            self.forms[-1]["fields"].append((a["name"], a.get("value"), a.get("type")))
        if "data-item" in a and self._slot_depth and self._slot_depth[-1][1] == len(self.stack):
            self.items[self._slot_depth[-1][0]].append(a["data-item"] or "")
        if tag in self._VOID:
            return
        self.stack.append(tag)
        if "data-slot" in a:
            name = a["data-slot"] or ""
            self.slots.append(name)
            self.items[name] = []
            self._slot_depth.append((name, len(self.stack)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self._VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        if self._slot_depth and self._slot_depth[-1][1] == len(self.stack):
            self._slot_depth.pop()
        self.stack.pop()


def scan(html: str) -> _PageScan:
    parser = _PageScan()
    parser.feed(html)
    parser.close()
    return parser


def page_text(rel: str) -> str:
    return (PAGES / rel).read_text(encoding="utf-8")


RENDERED = build_demo_pages.render_pages()
PRODUCT_PAGES = [f"product/{p.sku}.html" for p in catalog.PRODUCTS]
CATEGORY_PAGES = [f"category/{c.slug}.html" for c in catalog.CATEGORIES]


# --- catalog --------------------------------------------------------------------------


def test_catalog_has_four_products_in_each_of_four_categories() -> None:
    slugs = [c.slug for c in catalog.CATEGORIES]
    assert slugs == ["hiking", "camping", "climbing", "water"]
    assert {s: len(catalog.products_for(s, limit=99)) for s in slugs} == dict.fromkeys(slugs, 4)


def test_skus_are_unique_and_product_topic_is_its_category() -> None:
    skus = [p.sku for p in catalog.PRODUCTS]
    assert len(skus) == len(set(skus))
    assert all(p.topic == p.category for p in catalog.PRODUCTS)


def test_product_finds_a_sku_and_returns_none_for_an_unknown_one() -> None:
    assert catalog.product("cp-201").name == "Bivouac 2 Tent"
    assert catalog.product("nope") is None


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("tent", {"cp-201"}),
        ("TENT", {"cp-201"}),
        ("  kayak ", {"wa-401", "wa-403"}),
        ("Climbing", {"cl-301", "cl-302", "cl-303", "cl-304"}),
        ("ROPE", {"cl-302"}),
        ("no such thing", set()),
        ("", set()),
        ("   ", set()),
    ],
)
def test_search_matches_name_summary_or_category_case_insensitively(
    term: str, expected: set[str]
) -> None:
    assert {p.sku for p in catalog.search(term)} == expected


def test_search_reads_the_summary_too() -> None:
    assert [p.sku for p in catalog.search("car boot")] == ["wa-401"]


@pytest.mark.parametrize("term", [None, 3, ["tent"]])
def test_search_of_a_non_text_term_matches_nothing(term: Any) -> None:
    assert catalog.search(term) == []


def test_products_for_an_unknown_or_missing_topic_is_empty() -> None:
    assert catalog.products_for("skiing") == []
    assert catalog.products_for(None) == []
    assert len(catalog.products_for("water", limit=2)) == 2


def test_trips_are_dated_in_2027_and_searchable_by_date() -> None:
    assert catalog.TRIPS and all(t.start.year == 2027 for t in catalog.TRIPS)
    trip = catalog.find_trip("dolomites HUT trek")
    assert trip is not None
    assert trip.search_url == "/search?q=Dolomites+hut+trek&date=2027-03-14"


@pytest.mark.parametrize(
    ("value", "text"),
    [(89, "€89.00"), (1290.0, "€1,290.00"), ("80.1", "€80.10"), ("n/a", "n/a"), ("nan", "nan")],
)
def test_eur_formats_numbers_and_returns_other_values_as_text(value: Any, text: str) -> None:
    assert catalog.eur(value) == text


def test_member_price_is_ten_percent_off_rounded_to_the_cent() -> None:
    assert catalog.member_price(89.0) == 80.1
    assert catalog.member_price(329.0) == 296.1


@pytest.mark.parametrize(("value", "text"), [("2027-03-14", "14 March 2027"), ("soon", "soon")])
def test_long_date_formats_iso_dates(value: str, text: str) -> None:
    assert catalog.long_date(value) == text


def test_fragment_globals_offer_the_documented_names() -> None:
    names = catalog.fragment_globals()
    assert {"products_for", "product", "eur"} <= set(names)
    assert names["products_for"]("hiking", limit=1)[0].category == "hiking"
    shop = shop_globals.fragment_globals()
    assert set(names) | {"next_best_offer", "trip_kit"} <= set(shop)


# --- generated pages --------------------------------------------------------------------


def test_committed_pages_equal_the_generator_output() -> None:
    on_disk = {p.relative_to(PAGES).as_posix() for p in build_demo_pages.generated_files()}
    assert on_disk == set(RENDERED), "run: python scripts/build_demo_pages.py"
    drifted = [rel for rel, text in RENDERED.items() if page_text(rel) != text]
    assert drifted == [], "run: python scripts/build_demo_pages.py"


def test_write_pages_removes_pages_that_are_no_longer_generated(tmp_path: Path) -> None:
    (tmp_path / "product").mkdir()
    (tmp_path / "product" / "gone.html").write_text("old", encoding="utf-8")
    build_demo_pages.write_pages(tmp_path)
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html")}
    assert written == set(RENDERED)


@pytest.mark.parametrize("rel", sorted(RENDERED))
def test_every_page_is_balanced_html5_with_the_base_slots(rel: str) -> None:
    text = RENDERED[rel]
    assert text.startswith("<!doctype html>")
    page = scan(text)
    assert page.errors == []
    assert page.stack == []
    assert BASE_SLOTS <= set(page.slots)
    assert len(page.slots) == len(set(page.slots)), "a slot name appears twice"
    assert 'href="/_etalage/profile"' in text and 'href="/static/shop.css"' in text


@pytest.mark.parametrize("rel", sorted(RENDERED))
def test_pages_load_nothing_from_other_hosts(rel: str) -> None:
    assert not re.search(r'(?:src|href)="(?:https?:)?//', RENDERED[rel])


def test_home_page_has_its_slots_in_reading_order_and_stays_small() -> None:
    page = scan(RENDERED["index.html"])
    assert page.slots == [
        "layout",
        "consent",
        "recall",
        "greeting",
        "hero",
        "categories",
        "for-you",
        "trips-teaser",
        "contact",
    ]
    assert page.items["categories"] == ["hiking", "camping", "climbing", "water"]
    assert len(RENDERED["index.html"].encode()) < 30_000


def test_slots_that_start_empty_are_empty_on_the_home_page() -> None:
    text = RENDERED["index.html"]
    for slot in ("consent", "recall", "greeting"):
        assert re.search(rf'<div class="[\w-]+" data-slot="{slot}"></div>', text), slot
    assert '<style data-slot="layout"></style>' in text


def test_home_page_defaults_are_generic_bestsellers_and_contact() -> None:
    text = RENDERED["index.html"]
    assert "Bestsellers" in text and "Need advice?" in text
    assert all(catalog.product(sku).url in text for sku in catalog.BESTSELLERS)


@pytest.mark.parametrize("rel", CATEGORY_PAGES)
def test_category_pages_state_their_topic_and_carry_their_slots(rel: str) -> None:
    page = scan(RENDERED[rel])
    slug = Path(rel).stem
    assert page.facts == {"topic": slug}
    assert {"consent", "greeting", "categories", "for-you"} <= set(page.slots)
    assert sorted(page.items["categories"]) == sorted(c.slug for c in catalog.CATEGORIES)


@pytest.mark.parametrize("product", catalog.PRODUCTS, ids=lambda p: p.sku)
def test_product_pages_carry_facts_slots_and_an_add_to_cart_form(
    product: catalog.Product,
) -> None:
    page = scan(RENDERED[f"product/{product.sku}.html"])
    assert page.facts == {
        "topic": product.category,
        "sku": product.sku,
        "price": f"{product.price:.2f}",
        "copy_beginner": product.copy_beginner,
        "copy_expert": product.copy_expert,
    }
    assert {"consent", "price", "copy", "contact"} <= set(page.slots)
    cart = [f for f in page.forms if f["action"] == "/cart/add"]
    assert len(cart) == 1 and cart[0]["method"] == "post"
    assert {n for n, _, _ in cart[0]["fields"]} == {"sku", "qty"}
    assert ("sku", product.sku, "hidden") in cart[0]["fields"]


def test_trips_page_links_each_trip_to_a_dated_search() -> None:
    text = RENDERED["trips.html"]
    for trip in catalog.TRIPS:
        assert f'href="{trip.search_url.replace("&", "&amp;")}"' in text


def test_account_page_posts_preferences_consent_and_forget() -> None:
    forms = scan(RENDERED["account.html"]).forms
    by_action: dict[str, list[dict[str, Any]]] = {}
    for form in forms:
        if form["action"].startswith("/_etalage/"):
            assert form["method"] == "post"
            by_action.setdefault(form["action"], []).append(form)
    prefs = {(n, v) for n, v, _ in by_action["/_etalage/preferences"][0]["fields"]}
    assert {("channel", c) for c in ("email", "phone", "chat", "sms")} <= prefs
    assert {("level", "beginner"), ("level", "expert"), ("name", "")} <= prefs
    assert {("interests", c.slug) for c in catalog.CATEGORIES} <= prefs
    consent = {
        v
        for f in by_action["/_etalage/consent"]
        for n, v, _ in f["fields"]
        if n == "personalization"
    }
    assert consent == {"true", "false"}
    assert len(by_action["/_etalage/forget"]) == 1


# --- server-rendered templates ------------------------------------------------------------

LINES = [
    {"product": catalog.product("cp-201"), "qty": 1, "amount": 329.0},
    {"product": catalog.product("wa-402"), "qty": 2, "amount": 58.0},
]


def test_search_template_escapes_the_term_and_lists_results() -> None:
    html = (
        templating.environment()
        .get_template("search.html")
        .render(
            term='<script>alert(1)</script><img src=x onerror="alert(2)">',
            results=catalog.search("tent"),
        )
    )
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "/product/cp-201.html" in html
    assert {"layout", "consent"} <= set(scan(html).slots)


def test_search_template_for_a_trip_suggests_gear_for_it() -> None:
    html = (
        templating.environment()
        .get_template("search.html")
        .render(term="Dolomites hut trek", results=[])
    )
    assert "14 March 2027" in html and "/product/hk-101.html" in html


@pytest.mark.parametrize("loyal", [True, False])
def test_cart_template_shows_server_totals_and_posts_to_checkout(loyal: bool) -> None:
    html = (
        templating.environment()
        .get_template("cart.html")
        .render(lines=LINES, subtotal=387.0, total=348.3 if loyal else 387.0, loyal=loyal)
    )
    assert ("Loyalty price applied" in html) is loyal
    assert ("€348.30" in html) is loyal
    posted = [f["action"] for f in scan(html).forms if f["method"] == "post"]
    assert posted == ["/cart/update", "/cart/remove"] * len(LINES) + ["/checkout"]


def test_checkout_done_template_shows_the_charged_total_and_the_loyalty_note() -> None:
    html = (
        templating.environment()
        .get_template("checkout_done.html")
        .render(lines=LINES, subtotal=387.0, total=348.3, loyal=True)
    )
    assert "Charged" in html and "€348.30" in html and "Loyalty price applied" in html
    assert scan(html).errors == []


# --- fragments ------------------------------------------------------------------------------

FRAGMENT_FILES = sorted(
    p.relative_to(FRAGMENTS).as_posix()
    for p in FRAGMENTS.rglob("*.html")
    if not p.name.startswith("_")
)
PERSONAL = [f for f in FRAGMENT_FILES if f not in NOT_PERSONAL]


def fragment_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(FRAGMENTS),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(shop_globals.fragment_globals())
    return env


VISITOR = {
    "name": "Anna",
    "consent": True,
    "id": "v1",
    "prefs.name": "Anna",
    "search.last": "tent",
    "search.last.valid_until": "2027-03-14",
    "interest.top": "water",
    "interest.topics": ["water", "hiking"],
    "cart.items": 2,
}


def context(
    page: dict[str, str], rule_id: str = "r1", default: str = "<p>DEFAULT</p>"
) -> dict[str, Any]:
    return {
        "visitor": dict(VISITOR),
        "page": page,
        "rule": {"id": rule_id, "slot": "s", "reason": "because"},
        "why_url": f"/_etalage/profile#rule-{rule_id}",
        "default": Markup(default),
    }


#: What a fragment's sample visitor needs besides `VISITOR` to get the personalized content.
SAMPLE_VISITOR_FOR = {"kit/trip_kit.html": {"search.last": "Dolomites hut trek"}}

PRODUCT_FACTS = scan(RENDERED["product/cp-201.html"]).facts | {"path": "/product/cp-201.html"}


@pytest.mark.parametrize("name", FRAGMENT_FILES)
def test_every_fragment_renders_with_a_sample_context(name: str) -> None:
    html = fragment_env().get_template(name).render(context(PRODUCT_FACTS))
    assert html.strip()
    if name != "layout/mobile.html":
        assert scan(html).errors == []


@pytest.mark.parametrize("name", PERSONAL)
def test_every_personalized_fragment_links_to_why_this(name: str) -> None:
    assert WHY_LINK in (FRAGMENTS / name).read_text(encoding="utf-8")
    ctx = context(PRODUCT_FACTS, rule_id="x-1")
    ctx["visitor"].update(SAMPLE_VISITOR_FOR.get(name, {}))
    html = fragment_env().get_template(name).render(ctx)
    assert 'href="/_etalage/profile#rule-x-1">Why this?</a>' in html


@pytest.mark.parametrize("name", sorted(NOT_PERSONAL))
def test_consent_banner_and_layout_carry_no_why_link(name: str) -> None:
    assert "Why this?" not in (FRAGMENTS / name).read_text(encoding="utf-8")


def test_fragments_escape_what_the_visitor_typed() -> None:
    env = fragment_env()
    ctx = context({"path": "/"})
    ctx["visitor"].update({"search.last": "<script>x</script>", "name": '<img onerror="y">'})
    hero = env.get_template("hero/continue_search.html").render(ctx)
    greeting = env.get_template("greeting/by_name.html").render(ctx)
    assert "<script>x" not in hero and "&lt;script&gt;x&lt;/script&gt;" in hero
    assert "q=%3Cscript%3Ex%3C/script%3E" in hero
    assert "<img" not in greeting


def test_greeting_without_a_name_says_nothing() -> None:
    ctx = context({"path": "/"})
    ctx["visitor"]["name"] = None
    assert fragment_env().get_template("greeting/by_name.html").render(ctx).strip() == ""


def test_continue_search_names_the_term_and_links_to_its_search() -> None:
    html = fragment_env().get_template("hero/continue_search.html").render(context({"path": "/"}))
    assert "Continue your search for “tent”" in html
    assert 'href="/search?q=tent"' in html


def test_trip_search_shows_the_trip_and_its_date() -> None:
    ctx = context({"path": "/"})
    ctx["visitor"]["search.last"] = "Dolomites hut trek"
    html = fragment_env().get_template("hero/trip_search.html").render(ctx)
    assert "14 March 2027" in html and "Dolomites hut trek" in html
    assert "date=2027-03-14" in html


def test_loyalty_price_strikes_the_normal_price_and_shows_ten_percent_off() -> None:
    html = fragment_env().get_template("price/loyalty.html").render(context(PRODUCT_FACTS))
    assert "<s>€329.00</s>" in html and "€296.10" in html


def test_loyalty_price_with_a_broken_price_fact_serves_the_default() -> None:
    html = (
        fragment_env()
        .get_template("price/loyalty.html")
        .render(context({"price": "free!"}, default="<p>DEFAULT</p>"))
    )
    assert "<p>DEFAULT</p>" in html and "€" not in html


@pytest.mark.parametrize("level", ["beginner", "expert"])
def test_copy_fragments_show_the_copy_at_the_stated_level(level: str) -> None:
    html = fragment_env().get_template(f"copy/{level}.html").render(context(PRODUCT_FACTS))
    product = catalog.product("cp-201")
    expected = product.copy_beginner if level == "beginner" else product.copy_expert
    other = product.copy_expert if level == "beginner" else product.copy_beginner
    assert str(Markup.escape(expected)) in html and str(Markup.escape(other)) not in html


@pytest.mark.parametrize(
    ("channel", "href"),
    [("email", "mailto:"), ("phone", "tel:"), ("chat", "https://wa.me/"), ("sms", "sms:")],
)
def test_contact_fragments_use_the_preferred_channel(channel: str, href: str) -> None:
    html = fragment_env().get_template(f"contact/{channel}.html").render(context(PRODUCT_FACTS))
    assert f'href="{href}' in html and "Bivouac 2 Tent" in html


def test_for_you_shelf_shows_the_top_interest() -> None:
    html = fragment_env().get_template("for_you/shelf.html").render(context({"path": "/"}))
    assert "For you: Water" in html
    assert all(p.url in html for p in catalog.products_for("water"))


def test_for_you_shelf_leaves_out_what_was_viewed_and_says_what_goes_with_it() -> None:
    ctx = context({"path": "/"})
    ctx["visitor"].update(
        {
            "interest.top": "camping",
            "interest.topics": ["camping", "hiking"],
            "view.recent": ["/product/cp-201.html", "/category/camping.html"],
        }
    )
    html = fragment_env().get_template("for_you/shelf.html").render(ctx)
    assert "For you: Camping" in html
    assert "/product/cp-201.html" not in html  # the tent they looked at is not offered again
    cards = re.findall(r'href="(/product/[^"]+)"', html)
    assert cards == [
        "/product/cp-202.html",
        "/product/cp-203.html",
        "/product/cp-204.html",
        "/product/hk-101.html",
    ]
    assert html.count("Goes with the Bivouac 2 Tent you looked at") == 3
    assert "New to you in Hiking" in html


def test_for_you_shelf_when_everything_of_the_interests_was_viewed_serves_the_default() -> None:
    ctx = context({"path": "/"})
    viewed = [p.url for p in catalog.products_for("water")]
    ctx["visitor"].update({"interest.topics": ["water"], "view.recent": viewed})
    assert "<p>DEFAULT</p>" in fragment_env().get_template("for_you/shelf.html").render(ctx)


def test_trip_kit_is_configured_from_the_searched_trip_and_the_stated_level() -> None:
    ctx = context({"path": "/trips.html"}, rule_id="trip-kit")
    ctx["visitor"].update({"search.last": "Dolomites hut trek", "prefs.level": "beginner"})
    html = fragment_env().get_template("kit/trip_kit.html").render(ctx)
    assert "Your Dolomites hut trek kit" in html and "first trip in March" in html
    assert "Carbon Trek Poles" in html and "Alpine Softshell Jacket" in html
    (form,) = scan(html).forms
    assert form["action"] == "/cart/add-kit"
    assert form["fields"][0] == ("trip", "dolomites-hut-trek", "hidden")
    assert all(name != "price" for name, _, _ in form["fields"])  # the server prices it
    ctx["visitor"]["prefs.level"] = "expert"
    expert = fragment_env().get_template("kit/trip_kit.html").render(ctx)
    assert "Carbon Trek Poles" not in expert and "Alpine Softshell Jacket" in expert


def test_trip_kit_without_a_known_trip_serves_the_default() -> None:
    ctx = context({"path": "/trips.html"})
    ctx["visitor"]["search.last"] = "tent <b>"
    assert "<p>DEFAULT</p>" in fragment_env().get_template("kit/trip_kit.html").render(ctx)


def test_for_you_shelf_skips_the_topic_of_the_page_it_is_on() -> None:
    html = (
        fragment_env()
        .get_template("for_you/shelf.html")
        .render(context({"path": "/category/water.html", "topic": "water"}))
    )
    assert "For you: Hiking" in html


def test_for_you_shelf_without_products_for_the_interest_serves_the_default() -> None:
    ctx = context({"path": "/"})
    ctx["visitor"].update({"interest.top": "skiing", "interest.topics": ["skiing"]})
    assert "<p>DEFAULT</p>" in fragment_env().get_template("for_you/shelf.html").render(ctx)


def test_cart_recall_counts_items_and_posts_a_dismiss_for_its_rule() -> None:
    html = (
        fragment_env()
        .get_template("recall/cart.html")
        .render(context({"path": "/"}, rule_id="cart-recall"))
    )
    assert "You left 2 items in your cart" in html
    (form,) = scan(html).forms
    assert form["action"] == "/_etalage/event" and form["method"] == "post"
    fields = {n: v for n, v, _ in form["fields"]}
    assert fields["type"] == "dismiss" and fields["rule"] == "cart-recall"


def test_consent_banner_offers_accept_decline_and_choose() -> None:
    html = (
        fragment_env().get_template("consent/banner.html").render(context({"path": "/trips.html"}))
    )
    forms = scan(html).forms
    assert [f["action"] for f in forms] == ["/_etalage/consent"] * 2
    assert [dict((n, v) for n, v, _ in f["fields"])["personalization"] for f in forms] == [
        "true",
        "false",
    ]
    assert 'href="/account.html"' in html


def test_mobile_layout_is_css_only() -> None:
    text = (FRAGMENTS / "layout/mobile.html").read_text(encoding="utf-8")
    assert "<" not in text and ".tabbar" in text


# --- rule file ----------------------------------------------------------------------------


def rule_file() -> dict[str, Any]:
    return yaml.safe_load(RULES.read_text(encoding="utf-8"))


def test_rule_file_has_the_site_settings_the_shop_needs() -> None:
    data = rule_file()
    assert data["version"] == 1
    assert data["site"]["name"] == "demo-shop"
    assert data["site"]["search_date_param"] == "date"
    assert (RULES.parent / data["site"]["fragments"]).resolve() == FRAGMENTS
    assert data["history"]["search"]["relevant_for"] == "14d"
    assert data["holdout"] == 0.1


def test_every_fragment_the_rules_name_exists_and_every_rule_has_a_reason() -> None:
    rules = rule_file()["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    assert all(r.get("reason") for r in rules)
    missing = [name for name in fragments_named(rules) if name not in FRAGMENT_FILES]
    assert missing == []


def test_every_slot_the_rules_target_exists_on_some_page() -> None:
    slots = {s for text in RENDERED.values() for s in scan(text).slots}
    assert {r["slot"] for r in rule_file()["rules"]} <= slots


def fragments_named(rules: list[dict[str, Any]]) -> list[str]:
    """Every fragment the rules name: their own and their variants'."""
    named = [r["fragment"] for r in rules if "fragment" in r]
    named += [v["fragment"] for r in rules for v in r.get("variants", ())]
    return named


def test_every_fragment_is_used_by_a_rule() -> None:
    assert set(FRAGMENT_FILES) == set(fragments_named(rule_file()["rules"]))


def test_trip_search_outranks_continue_search() -> None:
    prio = {r["id"]: r.get("priority", 0) for r in rule_file()["rules"]}
    assert prio["trip-search"] > prio["continue-search"]


def test_rule_file_loads_with_the_rules_engine() -> None:
    rules_pkg = pytest.importorskip("etalage.rules")
    ruleset = rules_pkg.load_ruleset(RULES)
    by_id = {r.id: r for r in ruleset.rules}
    assert by_id["consent-banner"].needs_consent is False
    assert by_id["mobile-layout"].needs_consent is False
    assert by_id["greeting-by-name"].needs_consent is True
    assert by_id["cart-recall"].dismissible is True


def test_consent_banner_comes_back_to_the_search_it_was_shown_on() -> None:
    ctx = context({"path": "/search"})
    ctx["visitor"].update({"request.query.q": "tent & <b>", "request.query.date": "2027-03-14"})
    html = fragment_env().get_template("consent/banner.html").render(ctx)
    nexts = {v for f in scan(html).forms for n, v, _ in f["fields"] if n == "next"}
    assert nexts == {"/search?q=tent+%26+%3Cb%3E&date=2027-03-14"}
    plain = fragment_env().get_template("consent/banner.html").render(context({"path": "/"}))
    assert {v for f in scan(plain).forms for n, v, _ in f["fields"] if n == "next"} == {"/"}
