"""Interest, preferences, devices, "Why this?" and escaping, as a visitor sees them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, expect

from .shop import (
    CATEGORY_TITLES,
    DEFAULT_HERO,
    PHONE,
    accept,
    browse,
    category_order,
    hero,
)

HIKING_PAGES = ("/category/hiking.html", "/product/hk-101.html", "/product/hk-103.html")


def test_browsing_hiking_puts_hiking_first_and_fills_a_hiking_shelf(page: Page) -> None:
    accept(page)
    assert category_order(page) == CATEGORY_TITLES
    expect(page.get_by_role("heading", name="Bestsellers")).to_be_visible()

    # Three hiking pages, then one water page: hiking leads, water moves up past the rest.
    browse(page, *HIKING_PAGES, "/product/wa-402.html")
    page.get_by_role("link", name="Étalage Outdoor").click()
    expect(page).to_have_url(re.compile(r"/$"))

    assert category_order(page) == ["Hiking", "Water", "Camping", "Climbing"]
    shelf = page.locator('[data-slot="for-you"]')
    expect(shelf.get_by_role("heading", name="For you: Hiking")).to_be_visible()
    expect(page.get_by_role("heading", name="Bestsellers")).to_have_count(0)
    expect(shelf.locator(".card")).to_have_count(4)
    # Hiking first, and only what the visitor has not seen yet (issue 12: no echo of the history).
    expect(shelf.locator(".card-cat")).to_have_text(["Hiking", "Hiking", "Water", "Water"])
    shown = shelf.locator(".card-link").evaluate_all("links => links.map(a => a.pathname)")
    assert not set(shown) & {"/product/hk-101.html", "/product/hk-103.html", "/product/wa-402.html"}
    expect(shelf.get_by_role("link", name="Why this?")).to_be_visible()


@pytest.mark.browser_context(java_script_enabled=False)
def test_no_flicker_the_personalized_fragment_is_in_the_html_the_server_sent(
    page: Page,
) -> None:
    accept(page)
    browse(page, *HIKING_PAGES)
    page.goto("/search?q=boots")

    response = page.goto("/")
    assert response is not None and response.ok
    sent = response.text()
    # The server's bytes already carry the visitor's page; nothing is swapped in later.
    assert "<script" not in sent.lower()
    assert "Continue your search for “boots”" in sent
    assert "For you: Hiking" in sent and "Bestsellers" not in sent
    assert DEFAULT_HERO not in sent
    assert sent.index('data-item="hiking"') < sent.index('data-item="camping"')
    assert 'href="/_etalage/profile#rule-for-you-shelf"' in sent
    # A second fetch with the same cookies (no browser involved) gets the same fragments.
    again = page.request.get("/").text()
    assert "For you: Hiking" in again and "Continue your search for “boots”" in again
    # And with JavaScript off, that is exactly what the visitor sees.
    expect(hero(page).get_by_role("heading", level=1)).to_have_text(
        "Continue your search for “boots”"
    )
    expect(page.get_by_role("heading", name="For you: Hiking")).to_be_visible()


def test_why_this_opens_the_profile_page_at_the_reason(page: Page) -> None:
    accept(page)
    browse(page, *HIKING_PAGES, "/")
    page.locator('[data-slot="for-you"]').get_by_role("link", name="Why this?").click()

    expect(page).to_have_url(re.compile(r"/_etalage/profile#rule-for-you-shelf$"))
    expect(page.get_by_role("heading", name="What this site remembers about you")).to_be_visible()
    reason = page.locator("#rule-for-you-shelf")
    expect(reason).to_be_in_viewport()
    expect(reason).to_contain_text("for-you-shelf")
    expect(reason).to_contain_text("You have been looking at this kind of gear lately.")
    assert reason.evaluate("el => el.matches(':target')")


def test_preferences_greet_by_name_use_the_channel_and_the_level(page: Page) -> None:
    accept(page)
    page.goto("/")
    expect(page.locator(".greeting")).to_have_count(0)
    expect(page.get_by_text("Dear customer")).to_have_count(0)

    page.get_by_role("link", name="Account").first.click()
    page.get_by_label("Your first name").fill("Anna")
    page.get_by_label("Phone call").check()
    page.get_by_label("Show me the technical specs").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page).to_have_url(re.compile(r"/account\.html$"))
    # Back on the form: it is filled in with what was just stated.
    expect(page.get_by_label("Your first name")).to_have_value("Anna")
    expect(page.get_by_label("Phone call")).to_be_checked()
    expect(page.get_by_label("Show me the technical specs")).to_be_checked()

    page.goto("/")
    expect(page.locator(".greeting")).to_contain_text("Welcome, Anna!")  # the first visit
    contact = page.locator('[data-slot="contact"]')
    expect(contact.get_by_role("link", name="Call +33 4 76 00 00 00")).to_have_attribute(
        "href", "tel:+33476000000"
    )
    expect(contact.get_by_role("link", name="Write an e-mail")).to_have_count(0)

    page.goto("/product/cp-201.html")
    copy = page.locator('[data-slot="copy"]')
    expect(copy).to_contain_text("Technical specs")
    expect(copy).to_contain_text("Freestanding, 2 doors / 2 vestibules")
    expect(copy).not_to_contain_text("Room for two people")
    expect(contact).to_contain_text("Questions about the Bivouac 2 Tent?")
    expect(contact.get_by_role("link", name=re.compile(r"^Call "))).to_be_visible()

    # Change of mind: simple words, by e-mail.
    page.goto("/account.html")
    page.get_by_label("E-mail").check()
    page.get_by_label("Keep it simple").check()
    page.get_by_role("button", name="Save preferences").click()
    page.goto("/product/cp-201.html")
    expect(copy).to_contain_text("In plain words")
    expect(copy).to_contain_text("Room for two people")
    expect(contact.get_by_role("link", name="Write an e-mail")).to_be_visible()
    # The form showed what was stored, so saving it again kept the name.
    page.goto("/category/camping.html")
    expect(page.locator(".greeting")).to_contain_text("Welcome, Anna!")


@pytest.mark.browser_context(**PHONE)
def test_a_phone_gets_the_compact_mobile_layout(page: Page) -> None:
    page.goto("/")
    expect(page.locator(".tabbar")).to_be_visible()
    expect(page.locator(".tabbar").get_by_role("link")).to_have_text(
        ["Home", "Shop", "Trips", "Cart", "You"]
    )
    expect(page.locator(".main-nav")).to_be_hidden()
    layout = page.locator('head style[data-slot="layout"]')
    expect(layout).to_have_count(1)
    assert ".tabbar" in (layout.text_content() or "")
    # The layout needs no consent and no script: it is chosen on the server from the device.
    assert page.locator("script").count() == 0
    page.locator(".tabbar").get_by_role("link", name="Trips").click()
    expect(page.get_by_role("heading", name="Guided trips 2027")).to_be_visible()
    expect(page.locator(".tabbar")).to_be_visible()


def test_a_desktop_keeps_the_full_layout(page: Page) -> None:
    page.goto("/")
    expect(page.locator(".main-nav")).to_be_visible()
    expect(page.locator(".tabbar")).to_be_hidden()
    expect(page.locator('head style[data-slot="layout"]')).to_have_text("")


def test_a_hostile_search_renders_as_text_and_runs_nothing(page: Page) -> None:
    dialogs: list[str] = []
    problems: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(request.url))
    attack = "<script>alert('xss')</script><img src=x onerror=alert('img')>"

    accept(page)
    page.get_by_role("searchbox", name="Search the shop").fill(attack)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Results for “{attack}”")
    expect(page.get_by_role("searchbox", name="Search the shop")).to_have_value(attack)
    expect(page.locator("main img")).to_have_count(0)

    page.goto("/")
    expect(hero(page).get_by_role("heading", level=1)).to_have_text(
        f"Continue your search for “{attack}”"
    )
    see_all = hero(page).get_by_role("link", name="See all results")
    see_all.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Results for “{attack}”")

    page.goto("/_etalage/profile")
    expect(page.get_by_role("cell", name=attack, exact=True)).to_be_visible()
    assert page.locator("script").count() == 0
    assert page.evaluate("document.images.length") == 0
    assert dialogs == [] and problems == []
