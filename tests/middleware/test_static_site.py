"""StaticSite: pages from memory, hidden folders answered 404, and what it remembers of URL
paths bounded, re-asked of the file system once the recheck interval is over."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from etalage.middleware import static_site
from etalage.middleware.static_site import StaticSite
from tests.support.asgi import http_get_scope


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A site folder with its rule file and fragments inside, as the README lays it out."""
    root = tmp_path / "site"
    (root / "rules").mkdir(parents=True)
    (root / "fragments").mkdir()
    (root / "static").mkdir()
    (root / "rules" / "site.yaml").write_text("version: 1\nrules: []\n")
    (root / "fragments" / "hero.html").write_text("<p>secret offer</p>")
    (root / "static" / "site.css").write_text("body { color: black }")
    (root / "index.html").write_text("<h1>home</h1>")
    return root


def serving(root: Path, clock: list[float]) -> StaticSite:
    hidden = [root / "rules" / "site.yaml", root / "rules", root / "fragments"]
    return StaticSite(root, hidden=hidden, monotonic=lambda: clock[0])


def raw_get(app: StaticSite, path: str) -> tuple[int, bytes]:
    """Status and body of ``GET path`` with the path as a client sent it (a test client would
    normalize ``/./`` away; a server passes it on)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = dict(http_get_scope("localhost", []), path=path, raw_path=path.encode())
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_pages_are_served_and_hidden_folders_are_not(site: Path) -> None:
    app = serving(site, [0.0])
    client = TestClient(app)
    assert client.get("/").text == "<h1>home</h1>"
    assert client.get("/static/site.css").text == "body { color: black }"
    for path in ("/rules/site.yaml", "/fragments/hero.html", "/rules/"):
        assert client.get(path).status_code == 404, path
    assert raw_get(app, "/./rules/site.yaml")[0] == 404


def test_a_symlink_into_a_hidden_folder_is_hidden_once_the_interval_is_over(site: Path) -> None:
    clock = [0.0]
    app = serving(site, clock)
    assert raw_get(app, "/offers/hero.html")[0] == 404  # nothing there yet, not hidden
    (site / "offers").symlink_to(site / "fragments")
    clock[0] = 1.5
    assert raw_get(app, "/offers/hero.html")[0] == 404
    assert raw_get(app, "/offers/../fragments/hero.html")[0] == 404
    assert raw_get(app, "/offers/")[0] == 404


def test_a_changed_page_is_read_again_once_the_interval_is_over(site: Path) -> None:
    clock = [0.0]
    client = TestClient(serving(site, clock))
    assert client.get("/").text == "<h1>home</h1>"
    (site / "index.html").write_text("<h1>new home, longer</h1>")
    assert client.get("/").text == "<h1>home</h1>"
    clock[0] = 1.0
    assert client.get("/").text == "<h1>new home, longer</h1>"


def test_the_url_paths_of_one_page_share_one_copy_and_memory_stays_bounded(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(static_site, "_PATHS_REMEMBERED", 8)
    app = serving(site, [0.0])
    for n in range(40):
        assert raw_get(app, "/" + "./" * n + "index.html") == (200, b"<h1>home</h1>")
        assert raw_get(app, "/" + "./" * n + "rules/site.yaml")[0] == 404
    assert len(app._pages) == 1
    assert len(app._page_files) == len(app._hidden_paths) == 8


def test_a_long_url_path_is_answered_and_not_remembered(site: Path) -> None:
    app = serving(site, [0.0])
    assert raw_get(app, "/" + "./" * 400 + "index.html") == (200, b"<h1>home</h1>")
    assert raw_get(app, "/" + "./" * 400 + "rules/site.yaml")[0] == 404
    assert (len(app._page_files), len(app._hidden_paths)) == (0, 0)
