"""Shared fixtures: a browser page that leaves evidence on failure, a real Redis server.

The browser and the browser context come from ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.support.redis_server import RedisServer

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

# This 2-core machine is noisy: hypothesis must not fail a test for being slow.
settings.register_profile("etalage", deadline=None)
settings.load_profile("etalage")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(request: pytest.FixtureRequest, context: Any) -> Iterator[Any]:
    """A page; on failure its screenshot and HTML are saved under ``test-artifacts/``."""
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        save_artifacts(page, request.node.nodeid)


def save_artifacts(page: Any, nodeid: str) -> None:
    """Write ``<test>.png`` and ``<test>.html`` for a failed browser test."""
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)[-150:]
    try:
        page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
        (ARTIFACTS / f"{stem}.html").write_text(page.content())
    except Exception as exc:  # noqa: BLE001 - evidence is best effort, the failure is the news
        (ARTIFACTS / f"{stem}.error.txt").write_text(f"could not save artifacts: {exc}\n")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free port for the session."""
    with RedisServer() as server:
        yield server
