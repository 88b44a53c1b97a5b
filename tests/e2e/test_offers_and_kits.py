"""The next best offer and the trip kit (issue 12, points 4 and 5), as a visitor sees them."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from etalage.demo import catalog, kits

from .shop import accept, browse

DOLOMITES = next(t for t in catalog.TRIPS if t.slug == "dolomites-hut-trek")


def test_the_for_you_shelf_offers_what_goes_with_the_tent_not_the_tent_again(page: Page) -> None:
    accept(page)
    browse(page, "/category/hiking.html", "/product/cp-201.html")
    page.goto("/")
    shelf = page.locator('[data-slot="for-you"]')
    expect(shelf.get_by_role("heading", name="For you: Camping")).to_be_visible()
    expect(shelf.get_by_role("heading", name="Bivouac 2 Tent", exact=True)).to_have_count(0)
    first = shelf.locator(".card").first
    expect(first.get_by_role("heading")).to_have_text("Duvet -5 Down Sleeping Bag")
    expect(first.locator(".card-note")).to_have_text("Goes with the Bivouac 2 Tent you looked at")
    expect(shelf.locator(".card-note")).to_have_count(4)


def state_level(page: Page, label: str) -> None:
    """State a level of product descriptions on the account page."""
    page.goto("/account.html")
    page.get_by_label(label).check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_label(label)).to_be_checked()


def test_the_trip_kit_follows_the_stated_level_and_checkout_charges_its_server_price(
    page: Page,
) -> None:
    accept(page)
    state_level(page, "Keep it simple")
    page.goto("/trips.html")
    page.get_by_role("link", name="Find gear for this trip").first.click()
    kit = page.get_by_role("region", name="Trip kit")
    expect(kit.get_by_role("heading", name="Your Dolomites hut trek kit")).to_be_visible()
    beginner = kits.trip_kit(DOLOMITES, "beginner")
    assert beginner is not None
    expect(kit.locator(".kit-parts li")).to_have_count(len(beginner.parts))
    expect(kit.get_by_role("link", name="Carbon Trek Poles")).to_be_visible()
    expect(kit.locator(".member")).to_have_text(catalog.eur(beginner.price))

    state_level(page, "Show me the technical specs")
    page.goto("/trips.html")
    kit = page.get_by_role("region", name="Trip kit")
    expert = kits.trip_kit(DOLOMITES, "expert")
    assert expert is not None and expert.price < beginner.price
    expect(kit.get_by_role("link", name="Carbon Trek Poles")).to_have_count(0)
    expect(kit.locator(".member")).to_have_text(catalog.eur(expert.price))
    # The visitor edits the form in the developer tools: the server configures and prices it.
    kit.locator('input[name="trip"]').evaluate(
        "i => { i.form.insertAdjacentHTML('beforeend', "
        '\'<input name="level" value="beginner"><input name="price" value="1">\'); }'
    )
    kit.get_by_role("button", name="Add the kit to cart").click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    expect(
        page.get_by_role("link", name=re.compile(r"Dolomites hut trek kit \(expert\)"))
    ).to_be_visible()
    expect(page.locator(".total")).to_have_text(catalog.eur(expert.price))
    page.get_by_role("button", name="Check out").click()
    expect(page.locator(".total")).to_have_text(catalog.eur(expert.price))

    page.goto("/trips.html")
    page.get_by_role("region", name="Trip kit").get_by_role("link", name="Why this?").click()
    expect(page).to_have_url(re.compile(r"/_etalage/profile#rule-trip-kit$"))
