"""Loyalty pricing charged as shown (whatever the form says), and the holdout group."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .shop import (
    CATEGORY_TITLES,
    DEFAULT_HERO,
    accept,
    browse,
    category_order,
    hero,
    profile_json,
    toolbar,
)


def buy(page: Page, sku: str, qty: int = 1) -> None:
    """Put `qty` of a product in the cart from its page (ends on the cart page)."""
    page.goto(f"/product/{sku}.html")
    page.get_by_label("Qty").fill(str(qty))
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()


def test_after_a_purchase_the_loyalty_price_is_shown_and_charged_whatever_the_form_says(
    page: Page,
) -> None:
    accept(page, "/product/hk-101.html")
    price = page.locator('[data-slot="price"]')
    expect(price).to_have_text("€89.00")

    buy(page, "hk-101")
    expect(page.locator(".total")).to_have_text("€89.00")
    expect(page.get_by_text("Loyalty price applied")).to_have_count(0)
    page.get_by_role("button", name="Check out").click()
    expect(page.get_by_role("heading", name="Thank you, your order is on its way.")).to_be_visible()
    expect(page.locator(".total")).to_have_text("€89.00")

    # A customer now: the member price on the product page...
    page.goto("/product/hk-101.html")
    expect(price.locator("s")).to_have_text("€89.00")
    expect(price.locator(".member")).to_have_text("€80.10")
    expect(price).to_contain_text("Member price −10 %")
    expect(price.get_by_role("link", name="Why this?")).to_be_visible()
    expect(toolbar(page)).to_contain_text("customer")

    # ...is what the cart shows for two of them...
    buy(page, "hk-101", qty=2)
    expect(page.get_by_text("Loyalty price applied")).to_be_visible()
    expect(page.locator(".total-row.loyalty")).to_contain_text("−€17.80")
    expect(page.locator(".total")).to_have_text("€160.20")

    # ...and what checkout charges, even from a forged form asking for one euro.
    page.locator('form[action="/checkout"]').evaluate(
        """form => {
            form.elements.total.value = "1.00";
            for (const [name, value] of [["price", "0.01"], ["discount", "0.99"]]) {
                const input = document.createElement("input");
                Object.assign(input, {type: "hidden", name, value});
                form.append(input);
            }
        }"""
    )
    page.get_by_role("button", name="Check out").click()
    expect(page.get_by_role("heading", name="Thank you, your order is on its way.")).to_be_visible()
    expect(page.locator(".order-lines")).to_contain_text("2 × Sentier 28 Daypack")
    expect(page.locator(".total")).to_have_text("€160.20")
    purchases = profile_json(page)["stored"]["purchases"]
    assert purchases["count"] == 2 and purchases["total"] == 249.2


def test_a_holdout_visitor_sees_the_standard_site_and_the_profile_page_says_so(
    page: Page,
) -> None:
    # `accept` puts the visitor in the 10 % holdout (see there).
    accept(page, holdout=True)
    browse(page, "/category/hiking.html", "/product/hk-101.html", "/product/hk-102.html")
    page.get_by_role("searchbox", name="Search the shop").fill("tent")
    page.get_by_role("button", name="Search").click()
    buy(page, "cp-203")
    page.get_by_role("button", name="Check out").click()
    expect(page.locator(".total")).to_have_text("€49.00")

    page.goto("/")
    expect(hero(page).get_by_role("heading", level=1)).to_have_text(DEFAULT_HERO)
    expect(page.get_by_role("heading", name="Bestsellers")).to_be_visible()
    assert category_order(page) == CATEGORY_TITLES
    # The holdout keeps back personalization from history; the A/B test of the trips teaser
    # reads nothing stored (it has a control group of its own), so only it may explain itself.
    outside_the_test = page.locator('[data-slot]:not([data-slot="trips-teaser"])')
    expect(outside_the_test.get_by_role("link", name="Why this?")).to_have_count(0)
    expect(toolbar(page).locator('[data-demo="holdout"]')).to_have_text("holdout group")
    # What is stored still grows: holdout measures personalization, it does not forget.
    expect(toolbar(page)).to_contain_text("top interest: hiking")

    # A past purchase, but no member price shown, so none charged either.
    page.goto("/product/hk-101.html")
    expect(page.locator('[data-slot="price"]')).to_have_text("€89.00")
    buy(page, "hk-101")
    expect(page.get_by_text("Loyalty price applied")).to_have_count(0)
    expect(page.locator(".total")).to_have_text("€89.00")

    page.goto("/")
    page.get_by_role("link", name="Your data").first.click()
    notice = page.locator("#holdout")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("You are in the holdout group")
    # Each block held back says so in words; its technical details name the rule held back.
    for rule in ("for-you-shelf", "continue-search"):
        held = page.locator("article.held-out").filter(
            has_text=f"default content instead of rule '{rule}'"
        )
        expect(held.first).to_be_visible()
        expect(held.first).to_contain_text("you see what every visitor sees")
