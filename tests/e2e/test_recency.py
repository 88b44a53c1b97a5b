"""Recency, watched through the demo toolbar's time travel: searches, trip dates, a left cart."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from etalage.demo.catalog import long_date

from .shop import DEFAULT_HERO, accept, browse, hero, toolbar, travel

SHOP_TIMEZONE = ZoneInfo("Europe/Berlin")  # site.timezone of demo_site/rules/shop.yaml


def shop_today() -> date:
    return datetime.now(SHOP_TIMEZONE).date()


def test_a_search_is_offered_on_the_home_page_until_it_is_15_days_old(page: Page) -> None:
    accept(page)
    page.get_by_role("searchbox", name="Search the shop").fill("tent")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Results for “tent”")

    page.get_by_role("link", name="Étalage Outdoor").click()
    expect(hero(page).get_by_role("heading", level=1)).to_have_text(
        "Continue your search for “tent”"
    )
    expect(hero(page).get_by_role("link", name="Bivouac 2 Tent · €329.00")).to_be_visible()
    expect(hero(page).get_by_role("link", name="Why this?")).to_be_visible()

    travel(page, "+7d")
    expect(toolbar(page)).to_contain_text("(+7 days)")
    expect(hero(page).get_by_role("heading", level=1)).to_have_text(
        "Continue your search for “tent”"
    )

    travel(page, "+7d", "+1d")
    expect(toolbar(page)).to_contain_text("(+15 days)")
    expect(hero(page).get_by_role("heading", level=1)).to_have_text(DEFAULT_HERO)
    expect(page.get_by_text("Continue your search")).to_have_count(0)
    expect(toolbar(page)).to_contain_text("last search: none")

    page.get_by_role("link", name="Your data").first.click()
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="tent", exact=True))
    expect(row).to_contain_text("No longer used")


def test_a_search_for_a_trip_date_is_offered_until_that_date_passes(page: Page) -> None:
    trip_day = shop_today() + timedelta(days=3)
    accept(page)
    browse(page, f"/search?q=hiking&date={trip_day.isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Results for “hiking”")
    expect(page.locator(".lead")).to_contain_text(f"for your trip on {long_date(trip_day)}")

    page.goto("/")
    expect(hero(page)).to_contain_text(f"Coming up on {long_date(trip_day)}")
    expect(hero(page).get_by_role("heading", level=1)).to_have_text("Ready for your hiking trip?")

    travel(page, "+1d")  # two days before the trip: still ahead
    expect(hero(page).get_by_role("heading", level=1)).to_have_text("Ready for your hiking trip?")

    travel(page, "+7d")  # the trip was yesterday or before; the search is only 8 days old
    expect(toolbar(page)).to_contain_text("(+8 days)")
    expect(hero(page).get_by_role("heading", level=1)).to_have_text(DEFAULT_HERO)
    # Neither the trip nor the plain "continue your search" offer: a passed date is never offered.
    expect(page.get_by_text("Continue your search")).to_have_count(0)
    expect(page.get_by_text("Coming up on")).to_have_count(0)

    page.goto("/_etalage/profile")
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="hiking", exact=True))
    # The trip's date in words, as the site's calendar says it (the year only if not this one's).
    trip_cell = row.get_by_role("cell").nth(2)
    expect(trip_cell).to_have_text(re.compile(rf"^{trip_day.day} {trip_day:%B}( \d{{4}})?$"))
    expect(row).to_contain_text("No longer used")


def test_a_cart_left_for_a_day_is_recalled_and_not_again_after_dismissal(page: Page) -> None:
    accept(page, "/product/hk-101.html")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    expect(page.locator(".cart-table")).to_contain_text("Sentier 28 Daypack")

    page.goto("/")
    recall = page.locator('[data-slot="recall"]')
    expect(recall).to_be_empty()  # a fresh cart is no reason to nag

    travel(page, "+1d", "+1d")
    expect(recall).to_contain_text("You left 1 item in your cart.")
    expect(recall.get_by_role("link", name="View cart")).to_have_attribute("href", "/cart")
    expect(recall.get_by_role("link", name="Why this?")).to_have_attribute(
        "href", "/_etalage/profile#rule-cart-recall"
    )

    recall.get_by_role("button", name="Dismiss").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(DEFAULT_HERO)
    expect(recall).to_be_empty()

    travel(page, "+1d")
    expect(toolbar(page)).to_contain_text("(+3 days)")
    expect(recall).to_be_empty()
    page.get_by_role("link", name="Cart").first.click()
    expect(page.locator(".cart-table")).to_contain_text("Sentier 28 Daypack")  # cart kept
    page.goto("/")
    expect(recall).to_be_empty()
