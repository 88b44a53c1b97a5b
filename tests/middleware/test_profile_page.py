"""The visitor's own page (middleware/profile_page.py): what the site remembers and why, as
HTML and as JSON."""

from __future__ import annotations

from tests.support.clients import consent, profile_json


def test_profile_page_lists_searches_and_the_reasons(client):
    consent(client)
    client.get("/?q=tent")
    client.get("/")
    page = client.get("/_etalage/profile")
    assert page.headers["content-type"].startswith("text/html")
    assert "tent" in page.text
    assert 'id="rule-continue-search"' in page.text
    assert "You searched for this recently." in page.text
    data = profile_json(client)
    slots = data["recent_decisions"][0]["slots"]
    [hero] = [s for s in slots if s["slot"] == "hero"]
    assert {"rule": "continue-search", "reason": "You searched for this recently."}.items() <= (
        hero.items()
    )
