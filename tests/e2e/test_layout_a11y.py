"""Layout and accessibility of every demo page (issue 12, point 7), in real Chromium.

Every page at 360, 390, 768 and 1280 px wide, with a phone's User-Agent (compact layout, tab
bar) and with a desktop browser's (the demo toolbar fixed at the bottom): no horizontal
overflow, and nothing the visitor can read left under a bar fixed at the bottom of the window.
Then axe-core on the main pages: no serious or critical violation.

One visitor per device browses the shop once (consent, views, a search, an order, a cart) and
then visits each page, so every page shows its personalized state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.support.servers import UvicornProcess

from .conftest import TIMEOUT_MS
from .shop import IPHONE_UA, accept, browse, end_of_page

TRIP_SEARCH = "/search?q=Dolomites+hut+trek&date=2027-03-14"
PAGES = {
    "home": "/",
    "hiking": "/category/hiking.html",
    "camping": "/category/camping.html",
    "climbing": "/category/climbing.html",
    "water": "/category/water.html",
    "product": "/product/cp-201.html",
    "search": "/search?q=tent",
    "trip-search": TRIP_SEARCH,
    "trips": "/trips.html",
    "about": "/about.html",
    "account": "/account.html",
    "cart": "/cart",
    "confirmation": "/checkout/done",
    "profile": "/_etalage/profile",
}
AXE_PAGES = ["home", "hiking", "product", "search", "account", "cart", "profile"]
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Device:
    """A browser set-up: its name in test ids and its `browser.new_context` options."""

    name: str
    options: dict[str, Any]


def _phone(width: int, height: int) -> Device:
    return Device(
        f"phone-{width}",
        {
            "user_agent": IPHONE_UA,
            "viewport": {"width": width, "height": height},
            "is_mobile": True,
            "has_touch": True,
        },
    )


def _desktop(width: int, height: int) -> Device:
    return Device(f"desktop-{width}", {"viewport": {"width": width, "height": height}})


DEVICES = [
    _phone(360, 780),
    _phone(390, 844),
    _desktop(360, 780),
    _desktop(390, 844),
    _desktop(768, 1024),
    _desktop(1280, 900),
]


@pytest.fixture(scope="module")
def visitor_on(
    browser: Browser, user_agent: str, shop: UvicornProcess
) -> Iterator[Callable[[Device], Page]]:
    """A page per device whose visitor has consented, browsed, searched, ordered and filled a
    cart (the same story for each device, set up once)."""
    pages: dict[str, Page] = {}
    contexts = []

    def visitor(device: Device) -> Page:
        if device.name not in pages:
            context = browser.new_context(
                base_url=shop.base_url, **{"user_agent": user_agent, **device.options}
            )
            context.set_default_timeout(TIMEOUT_MS)
            contexts.append(context)
            page = context.new_page()
            accept(page)
            browse(page, "/category/camping.html", "/product/cp-201.html", "/search?q=tent")
            buy(page, "hk-101")
            browse(page, TRIP_SEARCH)
            page.goto("/product/cp-203.html")
            page.get_by_role("button", name="Add to cart").click()
            expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
            pages[device.name] = page
        return pages[device.name]

    yield visitor
    for context in contexts:
        context.close()


def buy(page: Page, sku: str) -> None:
    """Order one product (ends on the confirmation)."""
    page.goto(f"/product/{sku}.html")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("button", name="Check out").click()
    expect(page).to_have_url(re.compile(r"/checkout/done$"))


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("device", DEVICES, ids=[d.name for d in DEVICES])
def test_the_page_fits_the_width_and_keeps_its_end_clear_of_the_bottom_bars(
    visitor_on: Callable[[Device], Page], device: Device, name: str
) -> None:
    page = visitor_on(device)
    response = page.goto(PAGES[name])
    assert response is not None and response.ok
    # The device's width, not innerWidth: a phone widens its layout viewport to the content.
    window = device.options["viewport"]["width"]
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= window, f"{PAGES[name]} is {width} px wide in a {window} px window"
    assert page.evaluate("innerWidth") == window
    end = end_of_page(page)
    assert end["bottom"] <= end["top"] + 0.5, (
        f"{PAGES[name]}: content down to {end['bottom']:.0f} px, a bar from {end['top']:.0f} px: "
        f"{end['what']}"
    )


def _blocking(page: Page) -> list[str]:
    """The serious and critical axe-core violations of the page, one line each."""
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


@pytest.mark.parametrize("device", [DEVICES[1], DEVICES[-1]], ids=["phone-390", "desktop-1280"])
@pytest.mark.parametrize("name", AXE_PAGES)
def test_axe_finds_no_serious_or_critical_violation(
    visitor_on: Callable[[Device], Page], device: Device, name: str
) -> None:
    page = visitor_on(device)
    page.goto(PAGES[name])
    assert _blocking(page) == []
