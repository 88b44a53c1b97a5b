"""EtalageMiddleware end to end through Starlette's TestClient."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from starlette.responses import HTMLResponse
from starlette.testclient import TestClient

from etalage.cookie import ConsentCodec, ProfileCodec
from etalage.middleware import EtalageMiddleware
from etalage.profile import Profile
from etalage.rules import load_ruleset
from tests.support.asgi import http_get_scope

from .site_fixture import CSS, DESKTOP, GOOGLEBOT, HOME, IPHONE, PLAIN, upstream_app, write_site

KEYS = ["new-secret", "old-secret"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def rules_path(tmp_path):
    return write_site(tmp_path)


@pytest.fixture
def app(rules_path, clock):
    return EtalageMiddleware(upstream_app(), rules=rules_path, secret_keys=KEYS, clock=clock)


@pytest.fixture
def client(app):
    return TestClient(app, headers={"User-Agent": DESKTOP})


def consent(client, granted=True):
    response = client.post(
        "/_etalage/consent",
        json={"personalization": granted},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    return response


def set_cookies(response):
    return response.headers.get_list("set-cookie")


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


def test_streaming_answer_passes_through(client):
    assert client.get("/stream").text == "chunk 0\nchunk 1\nchunk 2\n"


@pytest.mark.parametrize(("path", "original"), [("/gz", b"compressed"), ("/missing", b"gone")])
def test_encoded_or_error_html_is_not_personalized(client, path, original):
    response = client.get(path, headers={"User-Agent": IPHONE})
    assert original in response.content
    assert b"Compact hero" not in response.content


# -- personalization and headers --------------------------------------------------------------


def test_contextual_rule_runs_without_consent(client):
    response = client.get("/", headers={"User-Agent": IPHONE})
    assert '<div data-slot="hero"><p class=mobile>Compact hero</p></div>' in response.text
    assert set_cookies(response) == []


def test_no_winning_rule_returns_the_upstream_bytes(client):
    response = client.get("/")
    assert response.content == HOME


def test_personalized_answer_headers(client):
    response = client.get("/", headers={"User-Agent": IPHONE})
    headers = response.headers
    assert headers["content-length"] == str(len(response.content))
    assert headers["cache-control"] == "private, no-cache"
    assert headers["vary"] == "Cookie"
    assert headers["etag"].startswith('W/"et-')
    assert headers["etag"] != '"upstream-1"'
    assert "last-modified" not in headers
    assert headers["server-timing"].startswith("etalage;dur=")


def test_etag_differs_per_variant(client):
    mobile = client.get("/", headers={"User-Agent": IPHONE}).headers["etag"]
    desktop = client.get("/").headers["etag"]
    assert mobile != desktop


def test_if_none_match_gives_304_only_for_the_same_personalized_result(client):
    etag = client.get("/", headers={"User-Agent": IPHONE}).headers["etag"]
    same = client.get("/", headers={"User-Agent": IPHONE, "If-None-Match": etag})
    assert same.status_code == 304
    assert same.content == b""
    other = client.get("/", headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_head_gets_the_personalized_headers_and_no_body(client):
    get = client.get("/", headers={"User-Agent": IPHONE})
    head = client.head("/", headers={"User-Agent": IPHONE})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["etag"] == get.headers["etag"]


def test_stricter_upstream_no_store_is_kept(rules_path, clock):
    from starlette.responses import Response

    async def page(scope, receive, send):
        await Response(HOME, media_type="text/html", headers={"Cache-Control": "no-store"})(
            scope, receive, send
        )

    client = TestClient(EtalageMiddleware(page, rules=rules_path, secret_keys=KEYS))
    response = client.get("/", headers={"User-Agent": IPHONE})
    assert response.headers["cache-control"] == "private, no-cache, no-store"


# -- consent, history and cookies -------------------------------------------------------------


def test_without_consent_nothing_is_stored(client):
    response = client.get("/?q=tent")
    assert set_cookies(response) == []
    assert "etalage" not in client.cookies


def test_consent_then_search_offers_it_back(client):
    consent(client)
    client.get("/?q=tent")
    response = client.get("/")
    assert "Continue your search for 'tent'" in response.text
    assert 'href="/_etalage/profile#rule-continue-search"' in response.text


def test_search_terms_are_escaped(client):
    consent(client)
    client.get("/", params={"q": "<script>alert(1)</script><img src=x onerror=alert(2)>"})
    text = client.get("/").text
    assert "<script>alert(1)" not in text
    assert "<img src=x" not in text
    assert "&lt;script&gt;" in text


def test_profile_cookie_is_httponly_lax_and_path_root(client):
    response = consent(client)
    cookies = set_cookies(response)
    profile_cookie = next(c for c in cookies if c.startswith("etalage="))
    assert "HttpOnly" in profile_cookie
    assert "SameSite=Lax" in profile_cookie
    assert "Path=/" in profile_cookie
    assert "Secure" not in profile_cookie


def test_cookie_is_secure_on_https(app):
    client = TestClient(app, base_url="https://testserver")
    response = consent(client)
    assert all("Secure" in c for c in set_cookies(response))


def test_asset_requests_do_not_reissue_the_cookie(client):
    consent(client)
    client.get("/")
    assert set_cookies(client.get("/style.css")) == []


def test_a_fresh_profile_waits_for_a_page_not_an_asset(client):
    consent(client)
    client.cookies.delete("etalage")  # consent given, profile cookie gone (expired, say)
    assert set_cookies(client.get("/asset.css")) == []
    assert [c for c in set_cookies(client.get("/")) if c.startswith("etalage=")]


def test_a_cookie_on_a_publicly_cacheable_page_makes_the_answer_private(client):
    consent(client)
    client.cookies.delete("etalage")
    response = client.get("/about")
    assert [c for c in set_cookies(response) if c.startswith("etalage=")]
    directives = [d.strip() for d in response.headers["cache-control"].split(",")]
    assert "private" in directives and "public" not in directives and "max-age=600" in directives


def test_an_event_recorded_by_app_code_sets_the_cookie_on_a_private_answer(client):
    consent(client)
    response = client.post("/buy")
    assert response.json() == {"recorded": True}
    assert [c for c in set_cookies(response) if c.startswith("etalage=")]
    assert "private" in response.headers["cache-control"]


def test_a_profile_cookie_without_consent_is_deleted_even_on_an_asset(client):
    client.cookies.set("etalage", "left-over-value")
    response = client.get("/asset.css")
    (deleted,) = [c for c in set_cookies(response) if c.startswith("etalage=")]
    assert "Max-Age=0" in deleted
    assert response.headers["cache-control"] == "private, max-age=31536000"


def test_deny_deletes_the_profile_cookie(client):
    consent(client)
    client.get("/?q=tent")
    response = consent(client, granted=False)
    deleted = [c for c in set_cookies(response) if c.startswith("etalage=")]
    assert deleted and "Max-Age=0" in deleted[0]
    assert "Continue your search" not in client.get("/").text


def test_gpc_counts_as_no_until_explicit_consent(client):
    response = client.get("/?q=tent", headers={"Sec-GPC": "1"})
    assert set_cookies(response) == []
    profile = client.get(
        "/_etalage/profile", headers={"Accept": "application/json", "Sec-GPC": "1"}
    ).json()
    assert profile["consent"] == {"personalization": None, "gpc": True}
    assert profile["stored"] is None
    consent(client)
    client.get("/?q=tent", headers={"Sec-GPC": "1"})
    assert "Continue your search" in client.get("/", headers={"Sec-GPC": "1"}).text


@pytest.mark.parametrize("value", ["garbage", "a.b.c", ".eJyrVspUslIK.awVp5Q.bad", "x" * 9000])
def test_tampered_cookie_gets_a_fresh_visitor_and_a_normal_page(client, value):
    consent(client)
    client.cookies.set("etalage", value)
    response = client.get("/")
    assert response.status_code == 200
    assert "Default hero" in response.text
    assert any(c.startswith("etalage=") for c in set_cookies(response))


def test_cookie_signed_with_an_old_key_is_accepted_and_reissued(app, clock):
    old = ProfileCodec(["old-secret"], clock=clock)
    ruleset = app.ruleset
    profile = Profile.new(clock.now)
    from etalage.history import record_search

    record_search(profile, ruleset.history, clock.now, "tent")
    client = TestClient(app)
    client.cookies.set("etalage", old.encode(profile, ruleset.history, clock.now))
    client.cookies.set("etalage_consent", ConsentCodec(["old-secret"]).encode(True))
    response = client.get("/")
    assert "Continue your search for 'tent'" in response.text
    [cookie] = [c for c in set_cookies(response) if c.startswith("etalage=")]
    reissued = ProfileCodec(["new-secret"]).decode(cookie.split(";")[0].split("=", 1)[1])
    assert reissued.profile is not None and not reissued.reissue
    [choice] = [c for c in set_cookies(response) if c.startswith("etalage_consent=")]
    value = choice.split(";")[0].split("=", 1)[1]
    assert ConsentCodec(["new-secret"]).read(value) == (True, False)
    assert "HttpOnly" in choice and "SameSite=Lax" in choice


def test_cookie_in_the_format_before_sealing_is_accepted_and_reissued_sealed(app, clock):
    from etalage.history import record_search

    profile = Profile.new(clock.now)
    record_search(profile, app.ruleset.history, clock.now, "tent")

    class SignedThen(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock.now.timestamp())

    signer = URLSafeTimedSerializer("old-secret", salt="etalage.profile", signer=SignedThen)
    client = TestClient(app)
    client.cookies.set("etalage", signer.dumps(profile.to_compact()))
    client.cookies.set("etalage_consent", ConsentCodec(KEYS).encode(True))
    response = client.get("/")
    assert "Continue your search for 'tent'" in response.text
    [cookie] = [c for c in set_cookies(response) if c.startswith("etalage=")]
    value = cookie.split(";")[0].split("=", 1)[1]
    assert "." not in value and "tent" not in value  # sealed now
    reissued = ProfileCodec(["new-secret"]).decode(value)
    assert reissued.profile is not None and not reissued.reissue
    assert (reissued.profile.id, reissued.profile.searches) == (profile.id, profile.searches)


def test_foreign_key_cookie_is_ignored(app, clock):
    foreign = URLSafeTimedSerializer("someone-else", salt="etalage.profile")
    client = TestClient(app)
    consent(client)
    client.cookies.set("etalage", foreign.dumps({"id": "x"}))
    assert client.get("/").status_code == 200


def test_recent_search_expires_after_its_relevance_window(client, clock):
    consent(client)
    client.get("/?q=tent")
    clock.now += timedelta(days=13)
    assert "Continue your search" in client.get("/").text
    clock.now += timedelta(days=2)
    assert "Continue your search" not in client.get("/").text


def test_reorder_by_interest(client):
    consent(client)
    response = client.get("/")  # the page's topic is hiking
    assert '<a data-item="hiking">Hiking</a> <a data-item="camping">Camping</a>' in response.text


# -- bots and prefetch ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{"User-Agent": GOOGLEBOT}, {"Sec-Purpose": "prefetch"}, {"Purpose": "prefetch"}],
)
def test_bots_and_prefetches_get_the_canonical_page_and_no_cookie(client, headers):
    consent(client)
    client.get("/?q=tent")
    response = client.get("/?q=boots", headers=headers)
    assert response.content == HOME
    assert set_cookies(response) == []


# -- app code and endpoints ---------------------------------------------------------------------


def test_app_code_records_events_through_the_scope(client):
    consent(client)
    assert client.post("/buy").json() == {"recorded": True}
    profile = client.get("/_etalage/profile", headers={"Accept": "application/json"}).json()
    assert profile["stored"]["cart"]["items"] == 2


def test_app_code_cannot_record_without_consent(client):
    assert client.post("/buy").json() == {"recorded": False}


def test_preferences_drive_the_greeting(client):
    consent(client)
    client.post("/_etalage/preferences", data={"name": "Ada", "channel": "chat"})
    assert "<p class=greet>Hello Ada</p>" in client.get("/").text


def test_preferences_need_consent(client):
    response = client.post("/_etalage/preferences", data={"name": "Ada"})
    assert response.status_code == 409


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},
        {"Origin": "null"},
    ],
)
def test_cross_site_posts_are_refused(client, headers):
    for path in ("consent", "preferences", "event", "forget"):
        response = client.post(
            f"/_etalage/{path}", data={"personalization": "true"}, headers=headers
        )
        assert response.status_code == 403


@pytest.mark.parametrize(
    "origin",
    [
        "http://testserver",
        # Behind a proxy that forwards under its own host name, the browser's Origin is the
        # public one: the browser-attested Sec-Fetch-Site still lets the site's own form in.
        "https://shop.example",
    ],
)
def test_same_origin_post_is_accepted(client, origin):
    response = client.post(
        "/_etalage/consent",
        data={"personalization": "true"},
        headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_form_post_redirects_back_to_a_local_page_only(client):
    response = client.post(
        "/_etalage/consent",
        data={"personalization": "true", "next": "https://evil.example/x"},
        headers={"Referer": "http://testserver/products/tent?x=1"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/products/tent?x=1"


def test_event_beacon_records_dismissal(client):
    consent(client)
    response = client.post(
        "/_etalage/event",
        json={"type": "dismiss", "data": {"rule": "greet"}},
        headers={"Accept": "application/json"},
    )
    assert response.json() == {"recorded": True}
    profile = client.get("/_etalage/profile", headers={"Accept": "application/json"}).json()
    assert "greet" in profile["stored"]["dismissed"]


def test_bad_event_is_a_400(client):
    consent(client)
    response = client.post("/_etalage/event", json={"type": "BAD TYPE"})
    assert response.status_code == 400


def test_profile_page_lists_searches_and_the_reasons(client):
    consent(client)
    client.get("/?q=tent")
    client.get("/")
    page = client.get("/_etalage/profile")
    assert page.headers["content-type"].startswith("text/html")
    assert "tent" in page.text
    assert 'id="rule-continue-search"' in page.text
    assert "You searched for this recently." in page.text
    data = client.get("/_etalage/profile", headers={"Accept": "application/json"}).json()
    slots = data["recent_decisions"][0]["slots"]
    assert {"slot": "hero", "rule": "continue-search"}.items() <= slots[1].items() or any(
        s["rule"] == "continue-search" for s in slots
    )


def test_forget_wipes_everything(client):
    consent(client)
    client.get("/?q=tent")
    response = client.post("/_etalage/forget", headers={"Accept": "application/json"})
    assert response.json() == {"forgotten": True}
    assert "etalage" not in client.cookies
    assert "etalage_consent" not in client.cookies
    assert "Continue your search" not in client.get("/").text


def test_unknown_endpoint_is_404_and_wrong_method_405(client):
    assert client.get("/_etalage/nothing").status_code == 404
    assert client.get("/_etalage/consent").status_code == 405


def test_request_state_is_exposed_to_app_code(rules_path, clock):
    seen = {}

    async def app(scope, receive, send):
        seen["state"] = scope["etalage"]
        from starlette.responses import Response

        await Response(HOME, media_type="text/html")(scope, receive, send)

    client = TestClient(EtalageMiddleware(app, rules=rules_path, secret_keys=KEYS, clock=clock))
    client.get("/", headers={"User-Agent": IPHONE})
    state = seen["state"]
    assert state.visitor.facts.device_type == "mobile"
    assert state.decisions["hero"].rule.id == "mobile-hero"


# -- failures degrade to defaults ------------------------------------------------------------


def test_fragment_error_serves_the_default_and_logs_once(client, caplog):
    with caplog.at_level(logging.ERROR, logger="etalage"):
        first = client.get("/")
        client.get("/")
    assert '<div data-slot="broken"><p>broken default</p></div>' in first.text
    errors = [r for r in caplog.records if "broken" in r.getMessage()]
    assert len(errors) == 1


def test_missing_fragment_is_a_startup_error(tmp_path):
    from etalage.errors import ConfigError

    rules = write_site(tmp_path)
    (tmp_path / "fragments" / "greeting.html").unlink()
    with pytest.raises(ConfigError, match="greeting.html"):
        EtalageMiddleware(upstream_app(), rules=rules, secret_keys=KEYS)


def test_missing_secret_keys_is_a_startup_error(rules_path):
    from etalage.errors import ConfigError

    with pytest.raises(ConfigError, match="secret_keys"):
        EtalageMiddleware(upstream_app(), rules=rules_path, secret_keys=[])


def test_ruleset_loads(rules_path):
    assert load_ruleset(rules_path).rule("greet") is not None


def test_answers_to_post_pass_through_unpersonalized(rules_path, clock):
    async def form_result(scope, receive, send):
        await HTMLResponse(HOME.decode())(scope, receive, send)

    client = TestClient(
        EtalageMiddleware(form_result, rules=rules_path, secret_keys=KEYS, clock=clock),
        headers={"User-Agent": IPHONE},
    )
    consent(client)
    posted = client.post("/checkout", data={"x": "1"})
    assert posted.content == HOME
    assert "Compact hero" in client.get("/").text
    profile = client.get("/_etalage/profile", headers={"Accept": "application/json"}).json()
    assert [v["path"] for v in profile["stored"]["views"]] == ["/"]


def test_lone_surrogates_in_json_are_refused_not_a_500(client):
    consent(client)
    response = client.post(
        "/_etalage/preferences",
        content=b'{"name": "\\ud800"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "surrogate" in response.text
    assert client.get("/_etalage/profile").status_code == 200


@pytest.mark.parametrize("rule", ["no-such-rule", "continue-search"])
def test_only_dismissible_rules_can_be_dismissed(client, rule):
    consent(client)
    response = client.post(
        "/_etalage/event",
        json={"type": "dismiss", "data": {"rule": rule}},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    profile = client.get("/_etalage/profile", headers={"Accept": "application/json"}).json()
    assert profile["stored"]["dismissed"] == {}


def test_head_records_nothing_about_the_visitor(client):
    consent(client)
    client.head("/?q=tent")
    profile = client.get("/_etalage/profile", headers={"Accept": "application/json"}).json()
    assert profile["stored"]["searches"] == [] and profile["stored"]["views"] == []


# -- streamed HTML -------------------------------------------------------------------------


def test_html_streamed_without_a_length_flows_through_unbuffered(rules_path, clock):
    import asyncio

    first_chunk_sent = asyncio.Event()
    downstream: list[dict] = []

    async def streaming_page(scope, receive, send):
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/html")],
            }
        )
        await send({"type": "http.response.body", "body": HOME[:40], "more_body": True})
        # A buffering middleware would still hold the first chunk: this wait would time out.
        await asyncio.wait_for(first_chunk_sent.wait(), timeout=2)
        await send({"type": "http.response.body", "body": HOME[40:], "more_body": False})

    app = EtalageMiddleware(streaming_page, rules=rules_path, secret_keys=["k"], clock=clock)

    async def send(message):
        downstream.append(message)
        if message["type"] == "http.response.body" and message.get("more_body"):
            first_chunk_sent.set()

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = http_get_scope("testserver", [(b"user-agent", DESKTOP.encode())])
    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in downstream if m["type"] == "http.response.body")
    assert body == HOME


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
