"""Browser tests of the demo shop: one real uvicorn process per test module, one Chromium.

The failure evidence (`page` saves a screenshot and the HTML under ``test-artifacts/``) comes from
``tests/conftest.py``; this file adds the shop server, one Chromium shared by every module of
this package, and a browser context pointed at the module's shop. The context browses as a
person's Chrome (headless Chromium's own User-Agent says ``HeadlessChrome``, a bot). A test that
needs another device (phone, bot, JavaScript off) says so with
``@pytest.mark.browser_context(**options)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import chromium_launch_options, person_user_agent
from tests.support.servers import UvicornProcess

#: The demo's signing key in these tests, so a test can forge or tamper with a cookie knowingly.
SECRET_KEY = "e2e-shared-secret"

#: How long Playwright waits for a page or an element before a test fails (ms).
TIMEOUT_MS = 10_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser_context(**options): keyword options for browser.new_context (user agent, "
        "viewport, JavaScript) of an e2e test",
    )


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for the browser tests, stopped when they are done.

    Package scope, not session scope: Playwright's sync API keeps an asyncio event loop running
    in this thread for as long as it is started, and every later test that calls
    ``asyncio.run`` (the simulation tests in ``tests/sdk``) would then fail.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch_options())
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def user_agent(browser: Any) -> str:
    """Chromium's User-Agent without the ``HeadlessChrome`` marker that makes it a bot."""
    return person_user_agent(browser)


@pytest.fixture(scope="module")
def shop() -> Iterator[UvicornProcess]:
    """The demo shop as `etalage demo` runs it (demo mode and time travel on), on a free port."""
    env = {
        "ETALAGE_SECRET_KEYS": SECRET_KEY,
        "ETALAGE_DEMO_SESSION_SECRET": "e2e-session-secret",
        "ETALAGE_DEMO_MODE": "1",
    }
    with UvicornProcess("etalage.demo:create_demo_app", env=env) as server:
        yield server


@pytest.fixture
def context(
    request: pytest.FixtureRequest, browser: Any, user_agent: str, shop: UvicornProcess
) -> Iterator[Any]:
    """A fresh browser context (no cookies) whose relative URLs go to this module's shop."""
    marker = request.node.get_closest_marker("browser_context")
    options: dict[str, Any] = {"user_agent": user_agent, **(marker.kwargs if marker else {})}
    context = browser.new_context(base_url=shop.base_url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    yield context
    context.close()
