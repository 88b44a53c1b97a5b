"""`EtalageMiddleware` as a whole (middleware/app.py): what passes through untouched, what app
code finds in the scope, conditional requests the app would answer itself, start-up errors."""

from __future__ import annotations

import pytest
from starlette.responses import Response
from starlette.testclient import TestClient

from etalage.errors import ConfigError
from etalage.middleware import EtalageMiddleware
from etalage.rules import load_ruleset
from tests.support.clients import consent

from .site_fixture import CSS, DESKTOP, HOME, IPHONE, KEYS, PLAIN, upstream_app, write_site

# -- pass-through -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [("/style.css", CSS), ("/plain", PLAIN), ("/data", b'{"ok":true}')],
)
def test_non_personalized_answers_pass_through_byte_identical(client, path, body):
    consent(client)
    response = client.get(path)
    assert response.status_code == 200
    assert response.content == body


def test_slot_less_html_keeps_upstream_headers(client):
    response = client.get("/plain")
    assert response.headers["etag"] == '"p1"'
    assert "vary" not in response.headers


# -- what app code sees -------------------------------------------------------------------


def test_request_state_is_exposed_to_app_code(rules_path, clock):
    seen = {}

    async def app(scope, receive, send):
        seen["state"] = scope["etalage"]
        await Response(HOME, media_type="text/html")(scope, receive, send)

    client = TestClient(EtalageMiddleware(app, rules=rules_path, secret_keys=KEYS, clock=clock))
    client.get("/", headers={"User-Agent": IPHONE})
    state = seen["state"]
    assert state.visitor.facts.device_type == "mobile"
    assert state.decisions["hero"].rule.id == "mobile-hero"


# -- conditional requests the app would answer itself --------------------------------------


def conditional_app(body: bytes, media_type: str = "text/html"):
    """An app that answers If-None-Match itself, as StaticFiles does."""

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        if headers.get(b"if-none-match") == b'"up"':
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", b'"up"')]})  # fmt: skip
            await send({"type": "http.response.body", "body": b""})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", media_type.encode()), (b"etag", b'"up"')],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


PAGE = {"Accept": "text/html,application/xhtml+xml", "User-Agent": DESKTOP}


def test_an_upstream_validator_never_keeps_a_visitor_on_an_unpersonalized_page(rules_path, clock):
    app = EtalageMiddleware(conditional_app(HOME), rules=rules_path, secret_keys=KEYS, clock=clock)
    client = TestClient(app, headers=PAGE)
    consent(client)
    client.get("/?q=tent")
    response = client.get("/", headers={"If-None-Match": '"up"'})
    assert response.status_code == 200
    assert "Continue your search for 'tent'" in response.text
    again = client.get("/", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304  # the variant ETag still revalidates


def test_a_page_without_slots_still_revalidates_with_the_apps_etag(rules_path, clock):
    app = EtalageMiddleware(conditional_app(PLAIN), rules=rules_path, secret_keys=KEYS, clock=clock)
    client = TestClient(app, headers=PAGE)
    response = client.get("/", headers={"If-None-Match": '"up"'})
    assert response.status_code == 304 and response.headers["etag"] == '"up"'


def test_assets_keep_the_apps_own_304(rules_path, clock):
    app = EtalageMiddleware(
        conditional_app(CSS, "text/css"), rules=rules_path, secret_keys=KEYS, clock=clock
    )
    client = TestClient(app, headers={"Accept": "text/css,*/*;q=0.1", "User-Agent": DESKTOP})
    assert client.get("/style.css", headers={"If-None-Match": '"up"'}).status_code == 304


# -- start-up ------------------------------------------------------------------------------


def test_ruleset_loads(rules_path):
    assert load_ruleset(rules_path).rule("greet") is not None


def test_missing_fragment_is_a_startup_error(tmp_path):
    rules = write_site(tmp_path)
    (tmp_path / "fragments" / "greeting.html").unlink()
    with pytest.raises(ConfigError, match="greeting.html"):
        EtalageMiddleware(upstream_app(), rules=rules, secret_keys=KEYS)


def test_missing_secret_keys_is_a_startup_error(rules_path):
    with pytest.raises(ConfigError, match="secret_keys"):
        EtalageMiddleware(upstream_app(), rules=rules_path, secret_keys=[])
