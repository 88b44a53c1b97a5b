"""Screenshots of the demo shop's key scenarios, on a desktop and on a phone.

``python scripts/screenshots.py docs/screenshots`` (or ``make screenshots``) serves the
demo on a free port with uvicorn, drives a headless Chromium (Debian's ``/usr/bin/chromium``
when installed, ``ETALAGE_CHROMIUM`` to choose another, else Playwright's own) through each
scenario as a new visitor, and writes one PNG per scenario and device. Needs the ``test`` extra
(Playwright).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: A person's Chrome: headless Chromium's own User-Agent says ``HeadlessChrome``, which is a bot.
DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


@dataclass(frozen=True)
class Device:
    """A browser set-up: file name prefix and `browser.new_context` options."""

    name: str
    options: dict[str, Any]


DESKTOP = Device("desktop", {"viewport": {"width": 1280, "height": 860}, "user_agent": DESKTOP_UA})
PHONE = Device(
    "phone",
    {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 1.5,
        "is_mobile": True,
        "has_touch": True,
        "user_agent": IPHONE_UA,
    },
)
DEVICES = (DESKTOP, PHONE)
TIMEOUT_MS = 15_000
MAX_DRAWS = 200
TOOLBAR_IN_FLOW = (
    "#etalage-toolbar { position: static !important; } #etalage-toolbar-space { display: none; }"
)


@contextmanager
def serve_demo() -> Iterator[str]:
    """Serve the demo shop (demo mode) with uvicorn in a thread; yield its base URL."""
    import uvicorn

    from etalage.demo import create_app

    app = create_app(demo_mode=True, secret_keys=[secrets.token_urlsafe(32)])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the demo server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def chromium_options() -> dict[str, Any]:
    """Launch options: headless, Debian's Chromium when installed."""
    options: dict[str, Any] = {
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    }
    executable = os.environ.get("ETALAGE_CHROMIUM") or next(
        (
            path
            for path in ("/usr/bin/chromium", shutil.which("chromium"))
            if path and os.path.exists(path)
        ),
        None,
    )
    if executable:
        options["executable_path"] = executable
    return options


# -- what the visitor does -------------------------------------------------------------------


def accept(page: Any) -> None:
    """Accept personalization in the banner; stay out of the holdout group.

    The shop shows 10 % of consenting visitors the standard site (holdout, drawn from the random
    visitor id). A screenshot of personalization needs a visitor outside it, so consent is asked
    again with fresh cookies until the draw says so.
    """
    page.goto("/")
    page.get_by_role("button", name="Accept").click()
    page.wait_for_load_state()
    for _ in range(MAX_DRAWS):
        report = page.request.get("/_etalage/profile", headers={"Accept": "application/json"})
        if report.json()["holdout"] is False:
            return
        page.context.clear_cookies()
        page.request.post(
            "/_etalage/consent",
            form={"personalization": "true"},
            headers={"Accept": "application/json"},
        )
    raise RuntimeError("no visitor outside the holdout group")


def browse_hiking_and_search(page: Any) -> None:
    """A few hiking pages, a water product, and a search for a tent."""
    for path in (
        "/category/hiking.html",
        "/product/hk-102.html",
        "/product/hk-104.html",
        "/product/wa-402.html",
    ):
        page.goto(path)
    page.get_by_role("searchbox", name="Search the shop").fill("tent")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()


def buy(page: Any, sku: str) -> None:
    """Add a product to the cart and check out."""
    page.goto(f"/product/{sku}.html")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("button", name="Check out").click()
    page.get_by_role("heading", name="Thank you, your order is on its way.").wait_for()


def save_preferences(page: Any) -> None:
    """State a name, a preferred channel and a level on the account page."""
    page.goto("/account.html")
    page.get_by_label("Your first name").fill("Anna")
    page.get_by_label("Phone call").check()
    page.get_by_label("Show me the technical specs").check()
    page.get_by_role("button", name="Save preferences").click()
    page.wait_for_load_state()


# -- the scenarios ---------------------------------------------------------------------------


def first_visit(page: Any) -> None:
    """A new visitor: the consent banner and the page everybody gets."""
    page.goto("/")
    page.get_by_role("region", name="Personalization").wait_for()


def personalized_home(page: Any) -> bool:
    """After browsing hiking gear and searching: the search, hiking first, a hiking shelf."""
    accept(page)
    browse_hiking_and_search(page)
    page.goto("/")
    page.get_by_text("Continue your search for “tent”").wait_for()
    return True  # the whole page: hero, reordered activities and the "for you" shelf


def loyalty_price(page: Any) -> None:
    """A returning customer sees the member price."""
    accept(page)
    buy(page, "cp-203")
    page.goto("/product/hk-104.html")
    page.locator(".member").wait_for()


def greeting(page: Any) -> None:
    """Preferences stated: greeting by name, the copy at the stated level."""
    accept(page)
    save_preferences(page)
    page.goto("/category/hiking.html")
    page.get_by_text("Welcome, Anna!").wait_for()  # "Welcome back" from the next visit on


def expert_copy(page: Any) -> None:
    """The product copy at the stated level and the contact by the preferred channel."""
    accept(page)
    save_preferences(page)
    page.goto("/product/cp-201.html")
    page.get_by_text("Technical specs").first.wait_for()
    page.locator('[data-slot="copy"]').scroll_into_view_if_needed()


def why_this(page: Any) -> None:
    """ "Why this?" under the "for you" shelf opens the profile page at the reason."""
    accept(page)
    browse_hiking_and_search(page)
    page.goto("/")
    page.locator('[data-slot="for-you"]').get_by_role("link", name="Why this?").click()
    reason = page.locator("#rule-for-you-shelf")
    reason.wait_for()
    reason.evaluate("row => row.scrollIntoView({block: 'center'})")


def trip_countdown(page: Any) -> None:
    """A guided trip searched from the trips page: the home page gets ready for it."""
    accept(page)
    page.goto("/trips.html")
    page.get_by_role("link", name="Find gear for this trip").first.click()
    page.wait_for_load_state()
    page.goto("/")
    page.get_by_text("Coming up on").wait_for()


def next_best_offer(page: Any) -> None:
    """After a look at a tent: the "For you" shelf offers what goes with it, saying so."""
    accept(page)
    for path in ("/category/camping.html", "/product/cp-201.html"):
        page.goto(path)
    page.goto("/")
    shelf = page.locator('[data-slot="for-you"]')
    shelf.get_by_text("Goes with the Bivouac 2 Tent you looked at").first.wait_for()
    shelf.evaluate("shelf => shelf.scrollIntoView({block: 'start'})")


def trip_kit(page: Any) -> None:
    """A beginner's kit for the guided trip they searched, priced on the server."""
    accept(page)
    page.goto("/account.html")
    page.get_by_label("Keep it simple").check()
    page.get_by_role("button", name="Save preferences").click()
    page.wait_for_load_state()
    page.goto("/trips.html")
    page.get_by_role("link", name="Find gear for this trip").first.click()
    page.wait_for_load_state()
    page.goto("/trips.html")
    kit = page.get_by_role("region", name="Trip kit")
    kit.get_by_text("Your Dolomites hut trek kit").wait_for()
    kit.evaluate("kit => kit.scrollIntoView({block: 'start'})")


def ab_teaser(page: Any) -> None:
    """The guided-trips teaser of the A/B test, as this visitor's variant shows it."""
    accept(page)
    page.goto("/")
    teaser = page.locator('[data-slot="trips-teaser"]')
    teaser.wait_for()
    teaser.evaluate("teaser => teaser.scrollIntoView({block: 'center'})")


def cart_recall(page: Any) -> None:
    """A cart left for two days (the toolbar's time travel): the home page reminds of it."""
    accept(page)
    page.goto("/product/hk-103.html")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_load_state()
    page.goto("/")
    for _ in range(2):
        page.locator('#etalage-toolbar button[data-shift="+1d"]').click()
        page.wait_for_load_state()
    page.goto("/")
    page.get_by_text("You left 1 item in your cart.").wait_for()


def visitors_page(page: Any) -> None:
    """The visitor's own page, after browsing and a search: what the shop remembers and why."""
    accept(page)
    browse_hiking_and_search(page)
    page.goto("/_etalage/profile")
    page.wait_for_load_state()


SCENARIOS: tuple[tuple[str, Callable[[Any], bool | None]], ...] = (
    ("1-first-visit", first_visit),
    ("2-personalized-home", personalized_home),
    ("3-trip-countdown", trip_countdown),
    ("4-loyalty-price", loyalty_price),
    ("5-greeting", greeting),
    ("6-expert-copy", expert_copy),
    ("7-why-this", why_this),
    ("8-next-best-offer", next_best_offer),
    ("9-trip-kit", trip_kit),
    ("10-ab-teaser", ab_teaser),
    ("11-visitors-page", visitors_page),
    ("12-cart-recall", cart_recall),
)


def take_screenshots(
    folder: Path,
    *,
    base_url: str | None = None,
    scenarios: Sequence[tuple[str, Callable[[Any], bool | None]]] = SCENARIOS,
    devices: Sequence[Device] = DEVICES,
    browser: Any = None,
) -> list[Path]:
    """Run the scenarios on the devices and write ``<device>-<scenario>.png`` into `folder`.

    `browser` is a Playwright (sync API) browser to use; by default Chromium is launched.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with _server(base_url) as url, _browser(browser) as chromium:
        return [
            _screenshot(chromium, url, device, name, scenario, folder)
            for device in devices
            for name, scenario in scenarios
        ]


def _screenshot(
    browser: Any,
    url: str,
    device: Device,
    name: str,
    scenario: Callable[[Any], bool | None],
    folder: Path,
) -> Path:
    """One scenario on one device, as a new visitor: ``<device>-<name>.png``."""
    context = browser.new_context(base_url=url, **device.options)
    try:
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        full_page = bool(scenario(page)) and device is DESKTOP
        page.evaluate("document.fonts.ready")
        target = folder / f"{device.name}-{name}.png"
        page.screenshot(
            path=str(target),
            full_page=full_page,
            animations="disabled",
            # On a whole-page picture the fixed demo toolbar goes to the end.
            style=TOOLBAR_IN_FLOW if full_page else None,
        )
        return target
    finally:
        context.close()


@contextmanager
def _browser(browser: Any) -> Iterator[Any]:
    if browser is not None:
        yield browser
        return
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the environment
        raise SystemExit("Playwright is needed: pip install -e '.[test]'") from None
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**chromium_options())
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def _server(base_url: str | None) -> Iterator[str]:
    if base_url:
        yield base_url.rstrip("/")
    else:
        with serve_demo() as url:
            yield url


def main(argv: list[str] | None = None) -> int:
    """Console entry: ``python scripts/screenshots.py FOLDER [--url URL]``."""
    parser = argparse.ArgumentParser(prog="python scripts/screenshots.py")
    parser.add_argument("folder", type=Path, help="where to write the PNG files")
    parser.add_argument("--url", help="use a demo already running there instead of starting one")
    args = parser.parse_args(argv)
    for path in take_screenshots(args.folder, base_url=args.url):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
