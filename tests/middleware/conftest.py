"""Fixtures of the middleware tests: the test site wrapped in `EtalageMiddleware`, driven by
an injected clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware
from tests.support.clocks import Clock

from .site_fixture import DESKTOP, KEYS, upstream_app, write_site


@pytest.fixture
def clock() -> Clock:
    """The middleware's clock: move it with ``clock.now += timedelta(...)``."""
    return Clock()


@pytest.fixture
def rules_path(tmp_path: Path) -> Path:
    """The test site's rule file (fragments beside it)."""
    return write_site(tmp_path)


@pytest.fixture
def app(rules_path: Path, clock: Clock) -> EtalageMiddleware:
    """The test site's app wrapped in the middleware."""
    return EtalageMiddleware(upstream_app(), rules=rules_path, secret_keys=KEYS, clock=clock)


@pytest.fixture
def client(app: EtalageMiddleware) -> TestClient:
    """A desktop browser on the test site (no consent given yet)."""
    return TestClient(app, headers={"User-Agent": DESKTOP})
