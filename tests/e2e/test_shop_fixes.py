"""The shop's own behaviour a visitor would not accept (issue 12): the greeting on a first visit,
a menu that moves, a checkout a reload repeats, a cart that cannot be changed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .shop import CATEGORY_TITLES, accept, browse, category_order, profile_json, toolbar, travel

DEPARTMENTS = [*CATEGORY_TITLES, "Guided trips", "About"]


def state_name(page: Page, name: str) -> None:
    """Give a first name on the account page, as a visitor does."""
    page.goto("/account.html")
    page.get_by_label("Your first name").fill(name)
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_label("Your first name")).to_have_value(name)


def add_to_cart(page: Page, sku: str, qty: int = 1) -> None:
    """Put `qty` of a product in the cart from its page (ends on the cart page)."""
    page.goto(f"/product/{sku}.html")
    page.get_by_label("Qty").fill(str(qty))
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()


def cart_quantities(page: Page) -> dict[str, str]:
    """Product name -> the quantity its cart line shows."""
    page.goto("/cart")
    rows = page.locator(".cart-table tbody tr")
    return {
        rows.nth(i).locator(".line-product > span:last-child").evaluate("e => e.firstChild.data"): (
            rows.nth(i).get_by_role("spinbutton").input_value()
        )
        for i in range(rows.count())
    }


# --- 1. "Welcome" first, "Welcome back" on a return ------------------------------------------


def test_the_greeting_says_welcome_on_a_first_visit_and_welcome_back_on_a_return(
    page: Page,
) -> None:
    accept(page)
    state_name(page, "Anna")
    page.goto("/")
    greeting = page.locator(".greeting")
    expect(greeting).to_contain_text("Welcome, Anna!")
    expect(greeting).not_to_contain_text("back")
    expect(toolbar(page).locator('[data-demo="visits"]')).to_have_text("visits: 1")

    travel(page, "+1d")  # a day later: a second visit
    page.goto("/")
    expect(toolbar(page).locator('[data-demo="visits"]')).to_have_text("visits: 2")
    expect(greeting).to_contain_text("Welcome back, Anna!")
    greeting.get_by_role("link", name="Why this?").click()
    expect(page).to_have_url(re.compile(r"/_etalage/profile#rule-greeting-welcome-back$"))


# --- 2. A stable menu -------------------------------------------------------------------------


def test_the_department_menu_keeps_its_order_while_the_category_strip_follows_interest(
    page: Page,
) -> None:
    menu = page.get_by_role("navigation", name="Departments").get_by_role("link")
    page.goto("/")
    expect(menu).to_have_text(DEPARTMENTS)

    accept(page)
    browse(page, "/category/water.html", "/product/wa-401.html", "/product/wa-402.html")
    page.goto("/")
    assert category_order(page)[0] == "Water"  # the content area is personalized...
    expect(menu).to_have_text(DEPARTMENTS)  # ...the navigation is not
    page.goto("/cart")
    expect(menu).to_have_text(DEPARTMENTS)


# --- 3. Redirect after post -------------------------------------------------------------------


def test_checkout_redirects_to_a_confirmation_that_a_reload_does_not_buy_again(
    page: Page,
) -> None:
    accept(page)
    add_to_cart(page, "hk-101", qty=2)
    page.get_by_role("button", name="Check out").click()
    expect(page).to_have_url(re.compile(r"/checkout/done$"))
    thanks = page.get_by_role("heading", name="Thank you, your order is on its way.")
    expect(thanks).to_be_visible()
    expect(page.locator(".order-lines")).to_contain_text("2 × Sentier 28 Daypack")
    expect(page.locator(".total")).to_have_text("€178.00")
    expect(page.locator(".confirmation .eyebrow")).to_have_text(
        re.compile(r"^Order EO-[0-9A-F]{8}$")
    )
    expect(toolbar(page)).to_be_visible()  # a GET page: the demo toolbar is there too

    response = page.reload()
    assert response is not None and response.request.method == "GET"
    expect(thanks).to_be_visible()
    expect(page.locator(".total")).to_have_text("€178.00")
    purchases = profile_json(page)["stored"]["purchases"]
    assert purchases["count"] == 1 and purchases["total"] == 178.0


def test_the_confirmation_without_an_order_sends_to_the_cart(page: Page) -> None:
    page.goto("/checkout/done")
    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(page.get_by_text("Your cart is empty.")).to_be_visible()


# --- 4. Cart quantities and removal -----------------------------------------------------------


def test_the_cart_changes_a_quantity_and_removes_a_line(page: Page) -> None:
    add_to_cart(page, "hk-101")
    add_to_cart(page, "cp-203")
    expect(page.locator(".total")).to_have_text("€138.00")

    page.get_by_label("Quantity of Sentier 28 Daypack", exact=True).fill("3")
    page.get_by_role("button", name="Update the quantity of Sentier 28 Daypack").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(page.get_by_label("Quantity of Sentier 28 Daypack", exact=True)).to_have_value("3")
    expect(page.locator(".total")).to_have_text("€316.00")

    page.get_by_role("button", name=re.compile(r"^Remove Sentier 28 Daypack$")).click()
    expect(page.get_by_label("Quantity of Sentier 28 Daypack", exact=True)).to_have_count(0)
    expect(page.locator(".total")).to_have_text("€49.00")

    # A quantity of 0 removes the line too, down to an empty cart.
    only = page.get_by_role("spinbutton")
    only.fill("0")
    page.get_by_role("button", name=re.compile(r"^Update the quantity of ")).click()
    expect(page.get_by_text("Your cart is empty.")).to_be_visible()


@pytest.mark.parametrize(
    ("qty", "shown"),
    [
        ("5", "5"),
        ("25", "20"),  # at most MAX_QTY of one product
        ("²", "1"),  # a digit to str.isdigit, not to int()
        ("٣", "1"),  # an Arabic-Indic three: not ASCII
        ("-1", "1"),
        ("1e3", "1"),
        ("", "1"),
        ("9" * 5000, "1"),
    ],
    ids=[
        "five",
        "over-the-limit",
        "superscript",
        "arabic-indic",
        "negative",
        "exponent",
        "empty",
        "huge",
    ],
)
def test_a_posted_quantity_is_ascii_digits_and_bounded(page: Page, qty: str, shown: str) -> None:
    add_to_cart(page, "hk-101")
    origin = page.url.split("/cart")[0]
    answer = page.request.post(
        "/cart/update", form={"sku": "hk-101", "qty": qty}, headers={"Origin": origin}
    )
    assert answer.ok and answer.url.endswith("/cart")
    assert cart_quantities(page) == {"Sentier 28 Daypack": shown}


@pytest.mark.parametrize("path", ["/cart/update", "/cart/remove"])
def test_the_cart_refuses_a_change_from_another_site(page: Page, path: str) -> None:
    add_to_cart(page, "hk-101")
    answer = page.request.post(
        path,
        form={"sku": "hk-101", "qty": "0"},
        headers={"Origin": "https://evil.example"},
        max_redirects=0,
    )
    assert answer.status == 403
    assert cart_quantities(page) == {"Sentier 28 Daypack": "1"}


# --- 5. Typography ----------------------------------------------------------------------------


def test_the_hero_quotes_the_search_with_curly_quotes(page: Page) -> None:
    accept(page)
    browse(page, "/search?q=tent")
    page.goto("/")
    heading = page.locator('[data-slot="hero"]').get_by_role("heading", level=1)
    expect(heading).to_have_text("Continue your search for “tent”")
