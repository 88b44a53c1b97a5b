"""Consent, canonical pages for bots, a tampered cookie and forget-me, seen in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from etalage.demo import templating

from .shop import (
    CATEGORY_TITLES,
    CONSENT_COOKIE,
    DEFAULT_HERO,
    GOOGLEBOT_UA,
    PROFILE_COOKIE,
    accept,
    banner,
    browse,
    category_order,
    cookies,
    hero,
    profile_json,
    toolbar,
    why_links,
)

PAGES = templating.PAGES

TEN_PAGES = [
    "/category/hiking.html",
    "/product/hk-101.html",
    "/product/hk-102.html",
    "/category/water.html",
    "/product/wa-401.html",
    "/search?q=tent",
    "/trips.html",
    "/about.html",
    "/account.html",
    "/",
]


def test_first_visit_shows_the_banner_generic_content_and_sets_no_profile_cookie(
    page: Page,
) -> None:
    response = page.goto("/")
    assert response is not None and response.ok

    expect(banner(page)).to_be_visible()
    expect(banner(page)).to_contain_text("Make this shop yours?")
    for name in ("Accept", "Decline"):
        expect(banner(page).get_by_role("button", name=name)).to_be_visible()
    expect(banner(page).get_by_role("link", name="Choose")).to_have_attribute(
        "href", "/account.html"
    )
    expect(hero(page).get_by_role("heading", level=1)).to_have_text(DEFAULT_HERO)
    expect(page.get_by_role("heading", name="Bestsellers")).to_be_visible()
    assert category_order(page) == CATEGORY_TITLES
    expect(page.locator(".greeting")).to_have_count(0)
    expect(why_links(page)).to_have_count(0)
    expect(toolbar(page)).to_contain_text("consent: not given")

    page.goto("/product/hk-101.html")
    expect(banner(page)).to_be_visible()
    expect(page.locator('[data-slot="price"]')).to_have_text("€89.00")
    assert PROFILE_COOKIE not in cookies(page.context)
    assert CONSENT_COOKIE not in cookies(page.context)
    assert profile_json(page)["stored"] is None


def test_declining_stores_nothing_across_ten_pages_and_keeps_content_generic(
    page: Page,
) -> None:
    page.goto("/search?q=tent")
    banner(page).get_by_role("button", name="Decline").click()
    expect(banner(page)).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Results for “tent”")
    expect(toolbar(page)).to_contain_text("consent: no")

    for path in TEN_PAGES:
        browse(page, path)
        expect(banner(page)).to_have_count(0)
        expect(why_links(page)).to_have_count(0)
        expect(page.locator(".greeting")).to_have_count(0)
        expect(page.get_by_text("For you:")).to_have_count(0)
        assert PROFILE_COOKIE not in cookies(page.context), path

    # Back home after ten pages (a search among them): still the page everyone gets.
    expect(hero(page).get_by_role("heading", level=1)).to_have_text(DEFAULT_HERO)
    expect(page.get_by_role("heading", name="Bestsellers")).to_be_visible()
    assert category_order(page) == CATEGORY_TITLES
    assert set(cookies(page.context)) == {CONSENT_COOKIE}
    page.goto("/_etalage/profile")
    expect(page.locator("#consent-status")).to_contain_text("You declined personalization")
    expect(page.get_by_role("heading", name="Searches")).to_have_count(0)


@pytest.mark.browser_context(user_agent=GOOGLEBOT_UA)
def test_a_bot_gets_the_canonical_page_and_no_cookie(page: Page) -> None:
    for path, file in [
        ("/", "index.html"),
        ("/category/hiking.html", "category/hiking.html"),
        ("/product/hk-101.html", "product/hk-101.html"),
    ]:
        response = page.goto(path)
        assert response is not None and response.ok
        # Byte for byte the page on disk: no banner, no toolbar, nothing personal.
        assert response.body() == (PAGES / file).read_bytes(), path
        assert "set-cookie" not in response.headers
        expect(banner(page)).to_have_count(0)
        expect(toolbar(page)).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sentier 28 Daypack")
    assert cookies(page.context) == {}


def test_a_tampered_cookie_still_gets_a_working_page_and_a_fresh_cookie(page: Page) -> None:
    accept(page)
    browse(page, "/category/hiking.html", "/product/hk-101.html", "/product/hk-102.html", "/")
    expect(page.get_by_role("heading", name="For you: Hiking")).to_be_visible()
    old_id = profile_json(page)["stored"]["id"]
    good = cookies(page.context)[PROFILE_COOKIE]
    middle = len(good) // 2  # inside the sealed bytes: the authentication tag cannot match
    tampered = good[:middle] + ("A" if good[middle] != "A" else "B") + good[middle + 1 :]
    page.context.add_cookies(
        [{"name": PROFILE_COOKIE, "value": tampered, "url": page.url, "httpOnly": True}]
    )

    response = page.goto("/")
    assert response is not None and response.status == 200
    expect(hero(page).get_by_role("heading", level=1)).to_have_text(DEFAULT_HERO)
    expect(page.get_by_role("heading", name="Bestsellers")).to_be_visible()
    expect(toolbar(page)).to_contain_text("top interest: none")
    fresh = cookies(page.context)[PROFILE_COOKIE]
    assert fresh not in (tampered, good)
    stored = profile_json(page)["stored"]
    assert stored["id"] != old_id and stored["interests"] == []

    # The fresh cookie works like any other: it is kept, and the shop starts learning again.
    browse(page, "/category/water.html")
    stored_again = profile_json(page)["stored"]
    assert stored_again["id"] == stored["id"]
    assert [v["path"] for v in stored_again["views"]][:2] == ["/category/water.html", "/"]


def test_forget_me_wipes_everything(page: Page) -> None:
    accept(page)
    browse(page, "/category/hiking.html", "/search?q=tent", "/")
    expect(hero(page)).to_contain_text("Continue your search for “tent”")
    page.goto("/account.html")
    page.get_by_label("Your first name").fill("Anna")
    page.get_by_role("button", name="Save preferences").click()
    assert {PROFILE_COOKIE, CONSENT_COOKIE} <= set(cookies(page.context))

    page.get_by_role("button", name="Forget me").click()
    expect(page).to_have_url(re.compile(r"/account\.html$"))
    assert PROFILE_COOKIE not in cookies(page.context)
    assert CONSENT_COOKIE not in cookies(page.context)

    page.goto("/")
    expect(banner(page)).to_be_visible()
    expect(hero(page).get_by_role("heading", level=1)).to_have_text(DEFAULT_HERO)
    expect(page.locator(".greeting")).to_have_count(0)
    expect(why_links(page)).to_have_count(0)
    page.goto("/_etalage/profile")
    expect(page.locator("#consent-status")).to_contain_text("You have not decided yet")
    expect(page.get_by_text("tent")).to_have_count(0)
    expect(page.get_by_text("Anna")).to_have_count(0)
    assert profile_json(page)["stored"] is None
