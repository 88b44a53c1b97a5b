"""Bugs a visitor saw (issue 12): each with the browser test that would have caught it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .shop import accept, banner


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
    expect(page.get_by_text(re.compile(r"Cart: 0 item\(s\), 0\.00"))).to_be_visible()
    assert "built-in method" not in page.content()
