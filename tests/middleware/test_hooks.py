"""What a site configures or hooks into: request_time, page_footer, preference_choices,
conversions and forget_cookies (the demo shop uses nothing else)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from etalage.errors import ConfigError
from etalage.middleware import EtalageMiddleware, RequestState
from etalage.middleware.settings import Settings
from tests.support.clients import consent, set_cookies
from tests.support.clocks import Clock
from tests.support.sinks import ListSink

from .site_fixture import DESKTOP, HOME, IPHONE, upstream_app, write_site

KEYS = ["hook-secret"]



def make_client(tmp_path, **options) -> TestClient:
    app = EtalageMiddleware(
        upstream_app(), rules=write_site(tmp_path), secret_keys=KEYS, clock=Clock(), **options
    )
    return TestClient(app, headers={"User-Agent": DESKTOP})


def test_request_time_moves_the_moment_a_request_is_served_at(tmp_path):
    def fortnight_later(scope, now):
        later = dict(scope["headers"]).get(b"x-later") == b"1"
        return now + timedelta(days=15) if later else now

    client = make_client(tmp_path, request_time=fortnight_later)
    consent(client)
    client.get("/?q=tent")
    assert "'tent'" in client.get("/").text
    # relevant_for is 14 days: fifteen days on, the search no longer counts
    assert "'tent'" not in client.get("/", headers={"X-Later": "1"}).text


def test_page_footer_goes_before_body_end_and_into_the_etag(tmp_path):
    seen: list[RequestState] = []

    def footer(scope, state: RequestState) -> bytes:
        seen.append(state)
        return f"<p id=footer>{state.attributes['device.type']}</p>".encode()

    client = make_client(tmp_path, page_footer=footer)
    phone = client.get("/", headers={"User-Agent": IPHONE})
    assert phone.content.endswith(b"<p id=footer>mobile</p></body></html>\n")
    desktop = client.get("/")
    assert desktop.content == HOME.replace(b"</body>", b"<p id=footer>desktop</p></body>")
    assert desktop.headers["etag"] != phone.headers["etag"]
    plain = client.get("/plain")  # a page without slots gets it too
    assert b"<p id=footer>desktop</p></body>" in plain.content
    assert seen and all(isinstance(state, RequestState) for state in seen)


def test_without_preference_choices_only_free_text_preferences_are_kept(tmp_path):
    client = make_client(tmp_path)
    consent(client)
    answer = client.post("/_etalage/preferences", json={"name": "Ada", "channel": "pigeon"})
    assert answer.json()["prefs"] == {"name": "Ada"}


def test_preference_choices_are_configuration(tmp_path):
    client = make_client(tmp_path, preference_choices={"channel": ["pigeon", "semaphore"]})
    consent(client)
    answer = client.post("/_etalage/preferences", json={"channel": "pigeon"})
    assert answer.json()["prefs"] == {"channel": "pigeon"}
    refused = client.post("/_etalage/preferences", json={"channel": "email"})
    assert refused.status_code == 400
    assert "must be one of pigeon, semaphore" in refused.text


def test_configured_conversions_reach_the_event_sink(tmp_path):
    sink = ListSink()
    client = make_client(tmp_path, event_sink=sink, conversions=["subscribe"])
    consent(client)
    client.post("/_etalage/event", json={"type": "subscribe", "data": {"value": "4.5"}})
    client.post("/_etalage/event", json={"type": "add_to_cart", "data": {"price": 3}})
    conversions = [e for e in sink.events if e["type"] == "conversion"]
    assert [(e["event"], e["value"]) for e in conversions] == [("subscribe", 4.5)]


def test_a_conversion_worth_no_finite_amount_counts_zero(tmp_path):
    sink = ListSink()
    client = make_client(tmp_path, event_sink=sink, conversions=["subscribe"])
    consent(client)
    client.post("/_etalage/event", json={"type": "subscribe", "data": {"value": "nan"}})
    [conversion] = [e for e in sink.events if e["type"] == "conversion"]
    assert conversion["value"] == 0.0


def test_forget_me_deletes_the_sites_forget_cookies_too(tmp_path):
    client = make_client(tmp_path, forget_cookies=["site_recent", "site_theme"])
    consent(client)
    answer = client.post("/_etalage/forget", json={})
    deleted = {c.split("=", 1)[0] for c in set_cookies(answer) if "Max-Age=0" in c}
    assert deleted == {"etalage", "etalage_consent", "site_recent", "site_theme"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"prefix": "_etalage/"}, "prefix must start and end with '/'"),
        ({"cookie_name": "bad name"}, "not a valid cookie name"),
        ({"forget_cookies": ("a;b",)}, "not a valid cookie name"),
        ({"preference_choices": {"channel": ()}}, "preference_choices['channel']"),
        ({"preference_choices": {"name": ("a",)}}, "preference_choices['name']"),
        ({"max_html_bytes": -1}, "max_html_bytes"),
    ],
)
def test_settings_refuse_what_cannot_work(options, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Settings(**options)


def test_an_asset_request_reads_no_profile_unless_app_code_needs_it(tmp_path, monkeypatch):
    client = make_client(tmp_path)
    consent(client)
    client.get("/?q=tent", headers={"Accept": "text/html"})
    codec = client.app.visitors.profile_codec
    reads: list[str | None] = []
    real_decode = codec.decode
    monkeypatch.setattr(codec, "decode", lambda value: reads.append(value) or real_decode(value))
    assert client.get("/style.css", headers={"Accept": "text/css"}).status_code == 200
    assert client.get("/data", headers={"Accept": "application/json"}).status_code == 200
    assert reads == []
    bought = client.post("/buy", headers={"Accept": "application/json"})  # app code records
    assert bought.json() == {"recorded": True} and len(reads) == 1
    assert "'tent'" in client.get("/", headers={"Accept": "text/html"}).text
    assert len(reads) == 2
