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
