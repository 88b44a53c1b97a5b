"""Which Chromium the browser tests drive: Debian's when present, else Playwright's own."""

from __future__ import annotations

import os
import shutil
from typing import Any

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def system_chromium() -> str | None:
    """Debian's chromium binary, if installed (``ETALAGE_CHROMIUM`` overrides)."""
    override = os.environ.get("ETALAGE_CHROMIUM")
    if override:
        return override
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def chromium_launch_options() -> dict[str, Any]:
    """Keyword arguments for ``playwright.chromium.launch``."""
    options: dict[str, Any] = {"headless": True, "args": list(CHROMIUM_ARGS)}
    executable = system_chromium()
    if executable:
        options["executable_path"] = executable
    return options


def person_user_agent(browser: Any) -> str:
    """The browser's own User-Agent as a person's Chrome sends it.

    Headless Chromium says ``HeadlessChrome``, which the middleware rightly takes for a bot (the
    canonical page, no banner, no cookie); tests of what people see browse as plain ``Chrome``.
    """
    page = browser.new_page()
    try:
        user_agent: str = page.evaluate("navigator.userAgent")
    finally:
        page.close()
    return user_agent.replace("HeadlessChrome", "Chrome")
