"""A typed e-mail is not an identity: with profiles in a real Redis, a second browser that states
the first visitor's e-mail address learns nothing of them (issue 9, point 1).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.redis_server import RedisServer
from tests.support.servers import UvicornProcess

from .conftest import SECRET_KEY
from .shop import accept, browse, profile_json

VICTIM_EMAIL = "victoria@example.org"


@pytest.fixture(scope="module")
def shop(redis_server: RedisServer) -> Iterator[UvicornProcess]:
    """The demo shop keeping its profiles in Redis (the cookie holds a signed id)."""
    env = {
        "ETALAGE_SECRET_KEYS": SECRET_KEY,
        "ETALAGE_DEMO_SESSION_SECRET": "e2e-session-secret",
        "ETALAGE_PROFILE_STORE": redis_server.url,
    }
    with UvicornProcess("etalage.demo:create_demo_app", env=env) as server:
        yield server


def state_preferences(page: Any, **fields: str) -> None:
    """Post the preferences form's fields as the visitor's browser does (same origin)."""
    answer = page.request.post(
        "/_etalage/preferences", form=fields, headers={"Accept": "application/json"}
    )
    assert answer.ok, answer.status


def test_a_second_browser_typing_the_victims_email_learns_nothing(browser, user_agent, shop, page):
    victim = page
    accept(victim, redraw=True)
    browse(victim, "/search?q=avalanche+beacon", "/category/climbing.html")
    state_preferences(victim, name="Victoria", email=VICTIM_EMAIL)
    victim.goto("/")
    expect(victim.get_by_text("Welcome, Victoria!")).to_be_visible()
    victim_profile = profile_json(victim)["stored"]

    attacker_context = browser.new_context(base_url=shop.base_url, user_agent=user_agent)
    try:
        attacker = attacker_context.new_page()
        accept(attacker, redraw=True)
        state_preferences(attacker, email=VICTIM_EMAIL.upper())
        attacker.goto("/")
        content = attacker.content()
        assert "Victoria" not in content and "avalanche" not in content
        stored = profile_json(attacker)["stored"]
        assert stored["id"] != victim_profile["id"]
        assert "name" not in stored["prefs"] and stored["searches"] == []
        # The victim's later browsing does not reach the attacker, and the attacker's
        # "forget me" leaves the victim's profile alone.
        browse(victim, "/search?q=crampons")
        attacker.goto("/")
        assert "crampons" not in attacker.content()
        attacker.request.post("/_etalage/forget", form={})
    finally:
        attacker_context.close()
    victim.goto("/")
    expect(victim.get_by_text("Welcome, Victoria!")).to_be_visible()
    terms = [entry["term"] for entry in profile_json(victim)["stored"]["searches"]]
    assert terms[:2] == ["crampons", "avalanche beacon"]
