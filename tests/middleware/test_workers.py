"""Many workers: one visitor's history continues whichever process answers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port, wait_for_port

from .site_fixture import CSS, DESKTOP, HOME, write_site

SECRET = "shared-worker-secret"
# redis-py reads timeouts from the URL: a loaded test machine must not look like an outage.
PATIENT = "?socket_timeout=5&socket_connect_timeout=5"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("workers")
    rules = write_site(root)
    folder = root / "site"
    folder.mkdir()
    (folder / "index.html").write_bytes(HOME)
    (folder / "style.css").write_bytes(CSS)
    return folder, rules


@contextmanager
def serve(site: tuple[Path, Path], *extra: str) -> Iterator[str]:
    """`etalage serve` in its own process; yields its base URL."""
    folder, rules = site
    port = free_port()
    log = folder.parent / f"serve-{port}.log"
    env = {**os.environ, "ETALAGE_SECRET_KEYS": SECRET}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "etalage.cli", "serve", str(folder), "--rules", str(rules),
             "--port", str(port), *extra],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for_port(port, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=15)


def continue_across(first: str, second: str) -> None:
    """Consent and search on `first`; `second` offers the search back (cookies are per host)."""
    with httpx.Client(headers={"User-Agent": DESKTOP}, timeout=10) as browser:
        granted = browser.post(
            first + "/_etalage/consent", json={"personalization": True}, headers={"Origin": first}
        )
        assert granted.status_code == 200
        browser.get(first + "/?q=tent")
        assert "Continue your search for 'tent'" in browser.get(second + "/").text
        browser.get(second + "/?q=stove")
        assert "Continue your search for 'stove'" in browser.get(first + "/").text


def test_two_processes_share_history_through_the_cookie(site):
    with ExitStack() as stack:
        a = stack.enter_context(serve(site))
        b = stack.enter_context(serve(site))
        continue_across(a, b)


def test_two_processes_share_history_through_redis(site, redis_server):
    with ExitStack() as stack:
        a = stack.enter_context(serve(site, "--profile-store", redis_server.url + PATIENT))
        b = stack.enter_context(serve(site, "--profile-store", redis_server.url + PATIENT))
        continue_across(a, b)


def test_serve_with_two_workers_keeps_one_visitors_history(site, redis_server):
    no_keep_alive = httpx.Limits(max_keepalive_connections=0)  # each request may hit either worker
    with serve(site, "--workers", "2", "--profile-store", redis_server.url + PATIENT) as base:
        with httpx.Client(
            headers={"User-Agent": DESKTOP}, timeout=10, limits=no_keep_alive
        ) as browser:
            browser.post(
                base + "/_etalage/consent", json={"personalization": True}, headers={"Origin": base}
            )
            for n in range(12):
                browser.get(f"{base}/?q=term{n}")
                assert f"Continue your search for 'term{n}'" in browser.get(base + "/").text
