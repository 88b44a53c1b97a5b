"""examples/django_site: the Django ASGI site, driven as its visitors use it."""

from __future__ import annotations

import re

import pytest

from etalage.cli import main
from etalage.testing import profile_with
from examples.django_site.asgi import RULES, create_application

KEYS = ["django-test-secret"]
SAME_ORIGIN = {"Origin": "http://testserver"}  # the site's own forms post from its pages
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def client(etalage_clock, etalage_client):
    """A person's browser on the site, with a clock the test holds."""
    return etalage_client(
        create_application(secret_keys=KEYS, clock=etalage_clock), secret_keys=KEYS, rules=RULES
    )


def csrf_token(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found is not None, "the page has no CSRF token"
    return found.group(1)


def subscribe(client, email: str = "ada@example.org"):
    """Post the home page's newsletter form as the browser does (Django's CSRF token)."""
    token = csrf_token(client.get("/").text)
    return client.post(
        "/newsletter/",
        data={"csrfmiddlewaretoken": token, "email": email},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )


def test_a_first_visitor_gets_the_default_page_and_the_consent_question(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "May we remember" in page.text
    assert "<h1>Harbour Books</h1>" in page.text  # the default hero
    assert "A letter from the harbour" in page.text  # the newsletter form, as Django rendered it
    assert "etalage" not in client.cookies  # nothing is remembered before a yes


def test_saying_yes_remembers_the_next_search(client):
    answer = client.post(
        "/_etalage/consent",
        data={"personalization": "true", "next": "/"},
        headers=SAME_ORIGIN,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    client.get("/search/", params={"q": "puffin"})
    home = client.get("/").text
    assert "May we remember" not in home
    assert "Still looking for “puffin”?" in home


def test_a_consenting_visitor_with_a_recent_search_gets_it_back_in_the_hero(client, etalage_clock):
    client.start(profile_with(etalage_clock.now, searches=[("gulls", "3d")]))
    home = client.get("/").text
    assert "Still looking for “gulls”?" in home
    assert '<a href="/search/?q=gulls">' in home
    assert "<h1>Harbour Books</h1>" not in home  # the default hero, replaced
    etalage_clock.advance("12d")  # 15 days old: past relevant_for
    assert "<h1>Harbour Books</h1>" in client.get("/").text


def test_topics_follow_the_books_the_visitor_looks_at(client):
    client.start()
    for _ in range(2):
        client.get("/books/the-puffin-year/")
    nav = client.get("/").text.split('data-slot="topics"', 1)[1]
    assert nav.index('data-item="birds"') < nav.index('data-item="sea"')


def test_every_render_has_its_own_csrf_token_and_is_still_personalized(client, etalage_clock):
    client.start(profile_with(etalage_clock.now, searches=[("tides", "1d")]))
    first, second = client.get("/").text, client.get("/").text
    assert csrf_token(first) != csrf_token(second)
    assert "Still looking for “tides”?" in first
    assert "Still looking for “tides”?" in second


def test_the_newsletter_form_posts_through_the_middleware_with_its_csrf_token(client):
    client.start()
    answer = subscribe(client)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    home = client.get("/").text
    assert "You get our letter from the harbour" in home  # the `subscribe` event was kept
    assert 'name="csrfmiddlewaretoken"' not in home  # the form is not offered again


def test_a_visitor_who_said_no_can_subscribe_and_nothing_is_remembered(client):
    client.decline()
    assert subscribe(client).status_code == 303
    assert "A letter from the harbour" in client.get("/").text  # the event was not kept
    assert "etalage" not in client.cookies


def test_a_post_without_the_csrf_token_is_refused_by_django(client):
    client.start()
    client.get("/")  # the CSRF cookie
    answer = client.post("/newsletter/", data={"email": "ada@example.org"}, headers=SAME_ORIGIN)
    assert answer.status_code == 403
    assert "A letter from the harbour" in client.get("/").text  # nothing was recorded


def test_a_bad_address_shows_the_form_again_with_its_error(client):
    answer = subscribe(client, email="not an address")
    assert answer.status_code == 400
    assert "Enter a valid email address." in answer.text


def test_the_json_view_is_left_untouched(client):
    client.start()
    answer = client.get("/api/books/")
    assert answer.json()[0]["slug"] == "tide-and-time"
    assert answer.headers["cache-control"] == "public, max-age=60"
    assert "set-cookie" not in answer.headers
    assert "cookie" not in answer.headers.get("vary", "").lower()


def test_the_stylesheet_is_served_as_a_plain_asset(client):
    client.start()
    answer = client.get("/static/shop.css")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/css")
    assert answer.text.startswith("/* Harbour Books")
    assert "set-cookie" not in answer.headers


def test_an_unknown_book_is_a_404_page_not_an_error(client):
    answer = client.get("/books/no-such-book/")
    assert answer.status_code == 404
    assert "No such book" in answer.text


def test_etalage_check_passes_on_the_rules_and_the_rendered_pages(client, tmp_path, capsys):
    pages = tmp_path / "pages"
    pages.mkdir()
    for name, path in [("index", "/"), ("book", "/books/tide-and-time/"), ("search", "/search/")]:
        (pages / f"{name}.html").write_text(client.get(path).text)
    assert main(["check", str(RULES), "--site", str(pages)]) == 0
    out = capsys.readouterr().out
    assert "warning:" not in out
    assert out.strip().endswith("ok: 4 rules, 0 warnings")
