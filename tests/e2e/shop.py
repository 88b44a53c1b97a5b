"""What a visitor does in the demo shop, as small steps shared by the browser tests."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

PROFILE_COOKIE = "etalage"
CONSENT_COOKIE = "etalage_consent"

DEFAULT_HERO = "Quiet trails, bright snow, warm huts."
CATEGORY_TITLES = ["Hiking", "Camping", "Climbing", "Water"]

IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
MAX_DRAWS = 200
PHONE = {
    "user_agent": IPHONE_UA,
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def cookies(context: BrowserContext) -> dict[str, str]:
    """The context's cookies, name -> value."""
    return {c["name"]: c["value"] for c in context.cookies()}


def banner(page: Page) -> Any:
    """The consent banner (a fragment in the ``consent`` slot)."""
    return page.get_by_role("region", name="Personalization")


def accept(page: Page, path: str = "/", *, holdout: bool = False) -> None:
    """Open `path` and accept personalization in the consent banner; end up in the wanted group.

    The shop keeps a holdout share (10 %) of consenting visitors on the standard site, drawn
    from the visitor id the server picks at random when consent is given. A test must know which
    group its visitor is in, so while the draw is wrong this asks for consent again with fresh
    cookies (a new id, an independent draw). 200 wrong draws in a row have a probability of
    0.9**200 (< 1e-9) when a holdout visitor is wanted, far less otherwise.
    """
    page.goto(path)
    banner(page).get_by_role("button", name="Accept").click()
    expect(banner(page)).to_have_count(0)
    for _ in range(MAX_DRAWS):
        if profile_json(page)["holdout"] is holdout:
            break
        page.context.clear_cookies()
        granted = page.request.post(
            "/_etalage/consent",
            form={"personalization": "true"},
            headers={"Accept": "application/json"},
        )
        assert granted.ok, granted.status
    else:
        raise AssertionError(f"no visitor with holdout={holdout} in {MAX_DRAWS} draws")
    page.goto(path)
    expect(toolbar(page)).to_contain_text("consent: yes")
    expect(toolbar(page).locator('[data-demo="holdout"]')).to_have_count(1 if holdout else 0)


def browse(page: Page, *paths: str) -> None:
    """Visit each page in turn, as a visitor clicking around would."""
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.ok, path


def toolbar(page: Page) -> Any:
    """The demo toolbar (demo mode only)."""
    return page.locator("#etalage-toolbar")


def travel(page: Page, *shifts: str) -> None:
    """Move this visitor's clock forward with the demo toolbar (``+1d``, ``+7d``, ``+30d``)."""
    for shift in shifts:
        before = toolbar(page).locator('[data-demo="clock"]').inner_text()
        page.locator(f'#etalage-toolbar button[data-shift="{shift}"]').click()
        expect(toolbar(page).locator('[data-demo="clock"]')).not_to_have_text(before)


def hero(page: Page) -> Any:
    """The home page's hero (the ``hero`` slot)."""
    return page.locator('[data-slot="hero"]')


def category_order(page: Page) -> list[str]:
    """The activity titles of the category strip, in the order the visitor sees them."""
    return page.locator('[data-slot="categories"] li strong').all_inner_texts()


def why_links(page: Page) -> Any:
    """Every "Why this?" link on the page (one per personalized fragment)."""
    return page.get_by_role("link", name="Why this?")


def profile_json(page: Page) -> dict[str, Any]:
    """The visitor's own profile as JSON (same cookies as the page)."""
    response = page.request.get("/_etalage/profile", headers={"Accept": "application/json"})
    assert response.ok
    data: dict[str, Any] = response.json()
    return data
