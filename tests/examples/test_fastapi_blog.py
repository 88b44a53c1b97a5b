"""examples/fastapi_blog: the FastAPI blog, driven as its visitors use it."""

from __future__ import annotations

import pytest

from etalage.cli import main
from etalage.testing import profile_with
from examples.fastapi_blog.app import RULES, create_app

KEYS = ["blog-test-secret"]
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
SAME_ORIGIN = {"Origin": "http://testserver"}  # the blog's own forms post from its pages


@pytest.fixture
def client(etalage_clock, etalage_client):
    """A person's browser on a blog whose clock the test holds."""
    return etalage_client(
        create_app(secret_keys=KEYS, clock=etalage_clock), secret_keys=KEYS, rules=RULES
    )


def test_a_first_visitor_is_asked_and_nothing_is_remembered(client):
    page = client.get("/search", params={"q": "sourdough"})
    assert "May we remember" in page.text
    assert "etalage" not in client.cookies  # no profile before a yes
    assert "Still thinking about" not in client.get("/").text


def test_saying_yes_on_the_banner_remembers_the_next_search(client):
    answer = client.post(
        "/_etalage/consent",
        data={"personalization": "true", "next": "/"},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    client.get("/search", params={"q": "sourdough"})
    home = client.get("/").text
    assert "May we remember" not in home
    assert "Still thinking about “sourdough”?" in home


def test_a_search_shows_back_in_the_home_hero(client):
    client.start()
    client.get("/search", params={"q": "kimchi"})
    home = client.get("/").text
    assert "Still thinking about “kimchi”?" in home
    assert '<a href="/search?q=kimchi">' in home
    assert "Bread, ferments and coffee" not in home  # the default hero, replaced


def test_the_recalled_search_is_gone_after_its_fourteen_days(client, etalage_clock):
    client.start(profile_with(etalage_clock.now, searches=[("cold brew", "2d")]))
    assert "Still thinking about “cold brew”?" in client.get("/").text
    etalage_clock.advance("13d")  # 15 days old: past relevant_for
    assert "Bread, ferments and coffee" in client.get("/").text


def test_a_stated_name_is_used_to_greet(client):
    client.start()
    assert 'class="greeting"></p>' in client.get("/").text
    client.post("/_etalage/preferences", data={"name": "Ada", "next": "/"}, headers=SAME_ORIGIN)
    assert "Hello, Ada!" in client.get("/posts/cold-brew").text


@pytest.mark.parametrize(
    ("user_agent", "banner"),
    [(IPHONE, True), (None, False)],
    ids=["phone", "desktop"],
)
def test_a_phone_gets_the_mobile_banner_without_consent(client, user_agent, banner):
    headers = {"User-Agent": user_agent} if user_agent else {}
    page = client.get("/", headers=headers).text
    assert ("Cooking from your phone?" in page) is banner


def test_topics_follow_what_the_visitor_reads(client):
    client.start()
    for _ in range(2):
        client.get("/posts/cold-brew")
    nav = client.get("/").text.split('data-slot="topics"', 1)[1]
    assert nav.index('data-item="coffee"') < nav.index('data-item="bread"')


def test_the_json_route_is_left_untouched(client):
    client.start()
    answer = client.get("/api/posts", headers={"Accept-Encoding": "identity"})
    assert answer.json()[0]["slug"] == "sourdough-starter"
    assert answer.headers["cache-control"] == "public, max-age=60"
    assert "set-cookie" not in answer.headers
    assert "cookie" not in answer.headers.get("vary", "").lower()


def test_gzip_compresses_the_personalized_page(client):
    client.start()
    client.get("/search", params={"q": "sourdough"})
    answer = client.get("/", headers={"Accept-Encoding": "gzip", "User-Agent": IPHONE})
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["cache-control"] == "private, no-cache"
    assert int(answer.headers["content-length"]) < len(answer.content)  # sent compressed
    assert "Still thinking about “sourdough”?" in answer.text
    assert "Cooking from your phone?" in answer.text


def test_the_stylesheet_is_served_as_a_plain_asset(client):
    answer = client.get("/static/blog.css", headers={"Accept-Encoding": "identity"})
    assert answer.headers["content-type"].startswith("text/css")
    assert "etag" in answer.headers
    assert "set-cookie" not in answer.headers


def test_etalage_check_passes_on_the_rules_and_the_rendered_pages(client, tmp_path, capsys):
    pages = tmp_path / "pages"
    pages.mkdir()
    for name, path in [("index", "/"), ("post", "/posts/cold-brew"), ("you", "/you")]:
        (pages / f"{name}.html").write_text(client.get(path).text)
    assert main(["check", str(RULES), "--site", str(pages)]) == 0
    out = capsys.readouterr().out
    assert "warning:" not in out
    assert out.strip().endswith("ok: 5 rules, 0 warnings")
