"""What a visitor does in the demo shop, as small steps shared by the browser tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, expect

from etalage.demo import RULES
from etalage.rules import load_ruleset
from etalage.testing import profile_cookies

from .conftest import SECRET_KEY

PROFILE_COOKIE = "etalage"
CONSENT_COOKIE = "etalage_consent"

DEFAULT_HERO = "Quiet trails, bright snow, warm huts."
CATEGORY_TITLES = ["Hiking", "Camping", "Climbing", "Water"]

#: The shop's rules: `accept` puts a visitor in their holdout or keeps them out of it.
SHOP_RULES = load_ruleset(RULES)

IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT_UA = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
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


def accept(page: Page, path: str = "/", *, holdout: bool = False, redraw: bool = False) -> None:
    """Open `path` and accept personalization in the consent banner; end up in the wanted group.

    The shop keeps a holdout share (10 %) of consenting visitors on the standard site, drawn
    from the visitor id the server picks at random when consent is given. A test must know which
    group its visitor is in, so when the draw is not the wanted one the visitor starts again as
    a consenting visitor whose id the shop's rules put in that group (`etalage.testing`): the
    cookies a browser would hold, signed with the shop's key, and a fresh profile.

    With `redraw` (a shop keeping profiles in a store: its cookie holds a signed id, not the
    profile, and every visitor must have an id of their own), the visitor starts again as a new
    one and accepts again, until the draw is the wanted one.
    """
    page.goto(path)
    banner(page).get_by_role("button", name="Accept").click()
    expect(banner(page)).to_have_count(0)
    if redraw:
        _draw_again_until(page, path, holdout)
    elif profile_json(page)["holdout"] is not holdout:
        page.context.clear_cookies()
        origin = urlsplit(page.url)._replace(path="/", query="", fragment="").geturl()
        cookies = profile_cookies(
            SECRET_KEY, now=datetime.now(UTC), ruleset=SHOP_RULES, holdout=holdout
        )
        page.context.add_cookies(
            [{"name": name, "value": value, "url": origin} for name, value in cookies.items()]
        )
    page.goto(path)
    expect(toolbar(page)).to_contain_text("consent: yes")
    expect(toolbar(page).locator('[data-demo="holdout"]')).to_have_count(1 if holdout else 0)
    assert profile_json(page)["holdout"] is holdout


#: New visitors drawn at most: all of them in the other group has a chance of 0.9 ** 200
#: (7e-10) for the holdout, far less for the rest.
_MOST_DRAWS = 200


def _draw_again_until(page: Page, path: str, holdout: bool) -> None:
    """Start again as a new visitor accepting personalization until the draw is `holdout`."""
    draws = 1
    while profile_json(page)["holdout"] is not holdout:
        if draws == _MOST_DRAWS:
            raise AssertionError(f"{draws} new visitors, none with holdout={holdout}")
        page.context.clear_cookies()
        page.goto(path)
        banner(page).get_by_role("button", name="Accept").click()
        expect(banner(page)).to_have_count(0)
        draws += 1


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


#: The lowest bottom edge of what a visitor can read, and the highest top edge of the bars
#: fixed at the bottom of the window, once the page is scrolled to its end.
_END_OF_PAGE = """() => {
  window.scrollTo(0, document.scrollingElement.scrollHeight);
  const shown = e => { const s = getComputedStyle(e); return s.display !== 'none' && s.visibility !== 'hidden'; };
  const fixed = [...document.body.querySelectorAll('*')].filter(
    e => getComputedStyle(e).position === 'fixed' && shown(e) && e.getBoundingClientRect().height > 0);
  const inFixed = e => fixed.some(f => f.contains(e));
  let bottom = 0, what = '';
  for (const e of document.body.querySelectorAll('*')) {
    if (inFixed(e) || !shown(e)) continue;
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.data.trim());
    if (!own && !e.matches('input, button, select, textarea, img, svg')) continue;
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.bottom > bottom) { bottom = r.bottom; what = e.outerHTML.slice(0, 80); }
  }
  const top = Math.min(innerHeight, ...fixed.map(f => f.getBoundingClientRect().top));
  return {bottom, top, what};
}"""


def end_of_page(page: Page) -> dict[str, Any]:
    """Scroll to the end of the page: ``bottom``, the lowest edge of what a visitor can read
    (``what``: its element), and ``top``, the highest edge of a bar fixed at the bottom of the
    window (the window's height when there is none)."""
    end: dict[str, Any] = page.evaluate(_END_OF_PAGE)
    return end
