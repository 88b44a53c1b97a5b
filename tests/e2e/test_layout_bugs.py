"""Bugs a visitor saw (issue 12): each with the browser test that would have caught it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .shop import PHONE, accept, banner, browse, end_of_page, toolbar, travel


@pytest.mark.browser_context(viewport={"width": 1280, "height": 900})
def test_the_desktop_search_page_fits_the_window_and_keeps_its_buttons_apart(page: Page) -> None:
    page.goto("/search?q=tent")
    expect(page.get_by_role("heading", name=re.compile("tent", re.I)).first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the page is {width} px wide in a 1280 px window"
    # The page's own class must not pick up the search form's rules.
    assert "search" not in page.evaluate("document.body.className").split()
    main = page.locator("main").bounding_box()
    assert main is not None and main["x"] < 200, f"results pushed right: {main}"
    buttons = banner(page).get_by_role("button")
    accept_bg, decline_bg = (
        buttons.nth(i).evaluate("b => getComputedStyle(b).backgroundColor") for i in (0, 1)
    )
    assert accept_bg != decline_bg


def test_the_profile_page_counts_the_cart_in_items(page: Page) -> None:
    accept(page)
    page.goto("/_etalage/profile")
    expect(page.get_by_text("Your cart is empty.")).to_be_visible()
    assert "built-in method" not in page.content()


# --- The toolbar: one line, covering nothing ---------------------------------------------------

ONE_LINE = """bar => {
  const box = bar.getBoundingClientRect();
  const parts = [...bar.children].map(c => c.getBoundingClientRect());
  return {height: box.height, fits: parts.every(r => r.top >= box.top && r.bottom <= box.bottom),
          overflows: bar.scrollHeight > bar.clientHeight};
}"""


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1280, "height": 900}, {"width": 768, "height": 1024}, {"width": 390, "height": 844}],
    ids=["1280", "768", "390"],
)
def test_the_toolbar_stays_on_one_line_and_covers_nothing_after_two_days(
    page: Page, viewport: dict[str, int]
) -> None:
    page.set_viewport_size(viewport)
    accept(page)
    browse(page, "/search?q=Dolomites+hut+trek&date=2027-03-14")
    travel(page, "+1d", "+1d")
    expect(toolbar(page).locator('[data-demo="clock"]')).to_contain_text("(+2 days)")
    line = toolbar(page).evaluate(ONE_LINE)
    assert line["height"] <= 41 and line["fits"] and not line["overflows"], line
    for path in ("/", "/product/cp-201.html", "/cart"):
        page.goto(path)
        end = end_of_page(page)
        assert end["bottom"] <= end["top"] + 0.5, (path, end)


# --- Phones: the search box and the product page ---------------------------------------------

PLACEHOLDER_ROOM = """input => {
  const style = getComputedStyle(input);
  const pen = document.createElement('canvas').getContext('2d');
  pen.font = style.font;
  return {text: pen.measureText(input.placeholder).width,
          room: input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)};
}"""


@pytest.mark.parametrize("width", [360, 390])
def test_the_phone_search_placeholder_is_not_cut_off(browser: Any, shop: Any, width: int) -> None:
    context = browser.new_context(
        base_url=shop.base_url, **{**PHONE, "viewport": {"width": width, "height": 800}}
    )
    try:
        page = context.new_page()
        page.goto("/")
        box = page.get_by_role("searchbox", name="Search the shop")
        expect(box).to_be_visible()
        fit = box.evaluate(PLACEHOLDER_ROOM)
        assert fit["text"] <= fit["room"], fit
    finally:
        context.close()


@pytest.mark.browser_context(**PHONE)  # an iPhone 13: 390 x 844
@pytest.mark.parametrize("consented", [False, True], ids=["first-visit", "consented"])
def test_on_a_phone_price_and_add_to_cart_are_above_the_fold(page: Page, consented: bool) -> None:
    if consented:
        accept(page)
    page.goto("/product/hk-102.html")
    if not consented:
        expect(banner(page)).to_be_visible()
    fold = page.evaluate(
        "Math.min(innerHeight, ...[...document.querySelectorAll('.tabbar')]"
        ".map(t => t.getBoundingClientRect().top).filter(top => top > 0))"
    )
    assert fold <= 844
    for name, element in (
        ("price", page.locator('[data-slot="price"] .price').first),
        ("Add to cart", page.get_by_role("button", name="Add to cart")),
    ):
        box = element.bounding_box()
        assert box is not None and box["y"] >= 0, name
        assert box["y"] + box["height"] <= fold, (
            f"{name} ends at {box['y'] + box['height']:.0f} px, the fold is at {fold:.0f} px"
        )
