"""`etalage preview-link`: a signed link the middleware honours (issue 11, point 7)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from starlette.testclient import TestClient

from etalage.cli import main
from etalage.middleware import EtalageMiddleware
from tests.middleware.site_fixture import DESKTOP, HOME, KEYS, upstream_app, write_site

PAGE = {"Accept": "text/html", "User-Agent": DESKTOP}


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return write_site(tmp_path)


@pytest.fixture
def site(rules: Path) -> TestClient:
    """The test site under the real clock (the command signs with it too)."""
    return TestClient(EtalageMiddleware(upstream_app(), rules=rules, secret_keys=KEYS))


def link(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["preview-link", *args]) == 0
    return capsys.readouterr().out.strip()


def test_the_link_shows_the_rule_on_the_site(rules, site, capsys, monkeypatch):
    monkeypatch.setenv("ETALAGE_SECRET_KEYS", ",".join(KEYS))
    url = link(capsys, str(rules), "--rule", "greet", "--url", "/?page=2")
    parts = urlsplit(url)
    assert parts.path == "/"
    assert dict(parse_qsl(parts.query))["page"] == "2"
    response = site.get(url, headers=PAGE)
    assert "<p class=greet>Hello" in response.text
    assert response.headers["cache-control"] == "no-store, private"


def test_a_canonical_link_shows_the_upstream_page(rules, site, capsys):
    url = link(capsys, str(rules), "--canonical", "--secret-keys", KEYS[0], "--for", "10m")
    assert site.get(url, headers=PAGE).content == HOME


def test_a_link_signed_with_another_key_is_ignored(rules, site, capsys):
    url = link(capsys, str(rules), "--rule", "greet", "--secret-keys", "not-the-site-key")
    response = site.get(url, headers=PAGE)
    assert "<p class=greet>" not in response.text
    assert "no-store" not in response.headers["cache-control"]


def test_an_unknown_rule_is_an_error(rules, capsys):
    status = main(["preview-link", str(rules), "--rule", "nope", "--secret-keys", "k"])
    assert status == 1
    assert "no rule nope" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rule", "greet"], "ETALAGE_SECRET_KEYS"),
        (["--rule", "greet", "--secret-keys", "k", "--for", "30d"], "--for"),
    ],
)
def test_missing_keys_or_a_too_long_life_is_an_error(rules, capsys, monkeypatch, args, message):
    monkeypatch.delenv("ETALAGE_SECRET_KEYS", raising=False)
    assert main(["preview-link", str(rules), *args]) == 1
    assert message in capsys.readouterr().err


def test_a_variant_is_named_with_its_number(tmp_path, capsys, monkeypatch):
    from etalage.cli import main

    rules = tmp_path / "rules.yaml"
    (tmp_path / "fragments").mkdir()
    for name in ("a", "b"):
        (tmp_path / "fragments" / f"{name}.html").write_text(name)
    rules.write_text(
        "version: 1\nrules:\n  - id: hero-test\n    slot: hero\n    variants:\n"
        "      - {fragment: a.html, weight: 1}\n      - {fragment: b.html, weight: 1}\n"
    )
    monkeypatch.setenv("ETALAGE_SECRET_KEYS", "k")
    assert main(["preview-link", str(rules), "--rule", "hero-test:2"]) == 0
    assert "etalage_preview=" in capsys.readouterr().out
    assert main(["preview-link", str(rules), "--rule", "hero-test:3"]) == 1
    assert "no rule hero-test:3" in capsys.readouterr().err
