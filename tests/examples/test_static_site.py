"""examples/static_site: the folder `etalage serve examples/static_site` serves, through the
app it builds (`create_app`, configured from ``ETALAGE_*`` variables)."""

from __future__ import annotations

from pathlib import Path

import pytest

from etalage.cli import main
from etalage.cli.serve import create_app, find_rules
from etalage.testing import EtalageClient

SITE = Path(__file__).resolve().parents[2] / "examples" / "static_site"
KEYS = "static-test-secret"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def client(monkeypatch):
    """A person's browser on the site as `etalage serve examples/static_site` sets it up."""
    monkeypatch.setenv("ETALAGE_SITE_DIR", str(SITE))
    monkeypatch.setenv("ETALAGE_RULES", str(find_rules(SITE)))
    monkeypatch.setenv("ETALAGE_SECRET_KEYS", KEYS)
    for name in ("ETALAGE_PROFILE_STORE", "ETALAGE_EVENTS", "ETALAGE_FRAGMENT_GLOBALS"):
        monkeypatch.delenv(name, raising=False)
    with EtalageClient(create_app(freeze=False), secret_keys=KEYS) as client:
        yield client


def test_serve_finds_the_rule_file_in_the_rules_folder():
    assert find_rules(SITE) == SITE / "rules" / "site.yaml"


def test_a_first_visitor_gets_the_page_and_a_consent_banner(client):
    page = client.get("/")
    assert "Bikes by the day, routes by the sea" in page.text
    assert "May we remember the routes you look at" in page.text
    assert "etalage" not in client.cookies  # no profile before a yes


def test_a_phone_gets_the_mobile_banner(client):
    assert "On your phone at the harbour?" in client.get("/", headers={"User-Agent": IPHONE}).text
    assert "On your phone at the harbour?" not in client.get("/").text


def test_a_route_search_shows_back_on_the_home_page(client):
    client.start()
    client.get("/guides/", params={"q": "coast road"})
    home = client.get("/").text
    assert "Ready to ride “coast road”?" in home
    assert "May we remember" not in home


def test_the_route_read_most_leads_the_home_page(client):
    client.start()
    client.get("/guides/hills.html")
    home = client.get("/").text
    assert "Riding the hill loop again?" in home
    routes = home.split('data-slot="routes"', 1)[1]
    assert routes.index('data-item="hills"') < routes.index('data-item="coast"')


def test_the_stylesheet_is_served_untouched(client):
    client.start()
    css = client.get("/style.css")
    assert css.content == (SITE / "style.css").read_bytes()
    assert "set-cookie" not in css.headers


def test_etalage_check_passes_on_the_rules_and_the_pages(capsys):
    assert main(["check", str(find_rules(SITE)), "--site", str(SITE)]) == 0
    out = capsys.readouterr().out
    assert "warning:" not in out
    assert out.strip().endswith("ok: 5 rules, 0 warnings")


@pytest.mark.parametrize(
    "path", ["/rules/site.yaml", "/rules/", "/fragments/", "/fragments/consent.html", "/rules/../rules/site.yaml"]
)
def test_the_rules_and_fragments_are_not_served_as_files(client, path):
    assert client.get(path).status_code == 404


def test_a_rule_file_at_the_site_root_hides_itself_not_the_site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "fragments").mkdir(parents=True)
    (site / "index.html").write_text('<html><body><div data-slot="hero">Hi</div></body></html>')
    (site / "fragments" / "hero.html").write_text("<p>Hello phone</p>")
    (site / "rules.yaml").write_text(
        "version: 1\nrules:\n  - id: phone\n    slot: hero\n    fragment: hero.html\n"
        "    when: {device.type: mobile}\n"
    )
    monkeypatch.setenv("ETALAGE_SITE_DIR", str(site))
    monkeypatch.setenv("ETALAGE_RULES", str(find_rules(site)))
    monkeypatch.setenv("ETALAGE_SECRET_KEYS", KEYS)
    for name in ("ETALAGE_PROFILE_STORE", "ETALAGE_EVENTS", "ETALAGE_FRAGMENT_GLOBALS"):
        monkeypatch.delenv(name, raising=False)
    with EtalageClient(create_app(freeze=False), secret_keys=KEYS, user_agent=IPHONE) as client:
        assert "Hello phone" in client.get("/").text
        assert client.get("/rules.yaml").status_code == 404
        assert client.get("/fragments/hero.html").status_code == 404


@pytest.mark.parametrize("path", ["/no-such-page", "/no-such-page.html", "/guides/nothing.css"])
def test_a_missing_file_is_a_404_not_a_500(client, path):
    """`etalage serve` has no app around StaticFiles to turn its HTTPException into an answer."""
    answer = client.get(path, headers={"Accept": "text/html"})
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"


def test_a_post_to_a_file_is_a_405_not_a_500(client):
    answer = client.post("/style.css")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD"
