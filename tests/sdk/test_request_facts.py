"""What the current request alone says: device, prefetch, GPC, query, UTM, referrer, time."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware
from etalage.request_facts import (
    _UNRECOGNISED_BOTS,
    MAX_QUERY_KEYS,
    MAX_QUERY_VALUE,
    TRUSTED_EDGES,
    RequestFacts,
    classify_user_agent,
)
from tests.middleware.site_fixture import HOME, upstream_app, write_site

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 7, 5, 22, 30, tzinfo=UTC)

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
PIXEL = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0.0.0 Mobile Safari/537.36"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)
GALAXY_TAB = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0.0.0 Safari/537.36"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Safari/605.1.15"
)
LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLEBOT_SMARTPHONE = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/119.0.6045.199 Mobile Safari/537.36 "
    "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
CURL = "curl/8.5.0"

#: Real User-Agent strings of crawlers, assistants, automated browsers and HTTP libraries. Those
#: marked * are missed by user-agents and caught by `_UNRECOGNISED_BOTS`.
BOTS = {
    "GPTBot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.1; "
    "+https://openai.com/gptbot",
    "ChatGPT-User*": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; "
    "ChatGPT-User/1.0; +https://openai.com/bot",
    "ClaudeBot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; "
    "+claudebot@anthropic.com)",
    "Claude-User*": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; "
    "Claude-User/1.0; +Claude-User@anthropic.com)",
    "PerplexityBot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; "
    "PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)",
    "Perplexity-User*": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; "
    "Perplexity-User/1.0; +https://perplexity.ai/perplexity-user)",
    "Bytespider*": "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
    "Applebot*": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 "
    "(Applebot/0.1; +http://www.apple.com/go/applebot)",
    "Amazonbot*": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/600.2.5 "
    "(KHTML, like Gecko) Version/8.0.2 Safari/600.2.5 "
    "(Amazonbot/0.1; +https://developer.amazon.com/support/amazonbot)",
    "HeadlessChrome*": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.6099.28 Safari/537.36",
    "Lighthouse*": "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
    "PhantomJS*": "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
    "PhantomJS/2.1.1 Safari/538.1",
    "curl*": CURL,
    "Wget*": "Wget/1.21.4",
    "python-requests*": "python-requests/2.31.0",
    "python-httpx*": "python-httpx/0.28.1",
    "aiohttp*": "Python/3.12 aiohttp/3.9.1",
    "Go-http-client*": "Go-http-client/1.1",
    "okhttp*": "okhttp/4.12.0",
    "Java-http-client*": "Java-http-client/17.0.2",
    "Apache-HttpClient*": "Apache-HttpClient/4.5.14 (Java/17.0.8)",
    "libwww-perl*": "libwww-perl/6.72",
    "node-fetch*": "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "axios*": "axios/1.6.2",
    "HTTPie*": "HTTPie/3.2.2",
    "Python-urllib": "Python-urllib/3.12",
    "Java": "Java/17.0.2",
    "Scrapy": "Scrapy/2.11.0 (+https://scrapy.org)",
    "facebookexternalhit": "facebookexternalhit/1.1 "
    "(+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Discordbot": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
}

#: Real browsers, desktop and mobile, and the in-app browsers people read links in.
BROWSERS = {
    "Chrome desktop": WINDOWS_CHROME,
    "Chrome Android": PIXEL,
    "Chrome iOS": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
    "Firefox desktop": LINUX_FIREFOX,
    "Firefox Android": "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
    "Safari macOS": MAC_SAFARI,
    "Safari iPhone": IPHONE,
    "Safari iPad": IPAD,
    "Edge desktop": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    "Edge iOS": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 EdgiOS/120.0.2210.126 Mobile/15E148 Safari/605.1.15",
    "Samsung Internet": "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 "
    "(KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    "Android WebView": "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.43 "
    "Mobile Safari/537.36",
    "Facebook in-app": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) "
    "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/444.0.0.33.110;"
    "FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.1.2;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
    # Starlette's TestClient: a person, so tests that do not set a User-Agent see personalization.
    "Starlette TestClient": "testclient",
}


def scope(
    path: str = "/",
    query: bytes = b"",
    headers: dict[str, str] | None = None,
    scheme: str = "http",
) -> dict:
    return {
        "type": "http",
        "method": "GET",
        "scheme": scheme,
        "path": path,
        "query_string": query,
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in (headers or {}).items()
        ],
    }


def facts(trusted_edge: str | None = None, **kwargs) -> RequestFacts:
    return RequestFacts.from_scope(scope(**kwargs), BERLIN, NOW, trusted_edge=trusted_edge)


def attributes(**kwargs) -> dict:
    return facts(**kwargs).contextual_attributes()


# --- device -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "kind", "os", "browser"),
    [
        (IPHONE, "mobile", "iOS", "Mobile Safari"),
        (PIXEL, "mobile", "Android", "Chrome Mobile"),
        (IPAD, "tablet", "iOS", "Mobile Safari"),
        (GALAXY_TAB, "tablet", "Android", "Chrome"),
        (WINDOWS_CHROME, "desktop", "Windows", "Chrome"),
        (MAC_SAFARI, "desktop", "Mac OS X", "Safari"),
        (LINUX_FIREFOX, "desktop", "Linux", "Firefox"),
    ],
)
def test_people_are_classified_by_device(user_agent, kind, os, browser):
    attrs = attributes(headers={"User-Agent": user_agent})
    assert attrs["device.type"] == kind
    assert attrs["device.os"] == os
    assert attrs["device.browser"] == browser
    assert attrs["device.bot"] is False


@pytest.mark.parametrize(
    ("user_agent", "kind"),
    [(GOOGLEBOT, "desktop"), (GOOGLEBOT_SMARTPHONE, "mobile"), (BINGBOT, "desktop")],
)
def test_crawlers_are_bots(user_agent, kind):
    result = facts(headers={"User-Agent": user_agent})
    assert result.is_bot is True
    assert result.device_type == kind
    assert result.contextual_attributes()["device.bot"] is True


@pytest.mark.parametrize("user_agent", BOTS.values(), ids=BOTS.keys())
def test_crawlers_assistants_and_http_libraries_are_bots(user_agent):
    assert facts(headers={"User-Agent": user_agent}).is_bot is True


@pytest.mark.parametrize("user_agent", BROWSERS.values(), ids=BROWSERS.keys())
def test_browsers_are_people(user_agent):
    assert facts(headers={"User-Agent": user_agent}).is_bot is False


@pytest.mark.parametrize(
    "pattern",
    [
        alternative.strip()
        for line in _UNRECOGNISED_BOTS.pattern.splitlines()
        for alternative in line.split("#")[0].split("|")
        if alternative.strip()
    ],
)
def test_every_extra_bot_pattern_is_shown_by_a_real_user_agent(pattern):
    named = [name for name, agent in BOTS.items() if re.search(pattern, agent, re.IGNORECASE)]
    assert named and all(name.endswith("*") for name in named)


@pytest.mark.parametrize("headers", [{}, {"User-Agent": ""}, {"User-Agent": "  "}])
def test_no_user_agent_is_a_desktop_bot(headers):
    result = facts(headers=headers)
    assert (result.device_type, result.device_os, result.device_browser) == (
        "desktop",
        "Other",
        "Other",
    )
    assert result.is_bot is True


def test_a_huge_user_agent_is_read_without_trouble():
    result = facts(headers={"User-Agent": IPHONE + " x" * 50_000})
    assert result.device_type == "mobile"


def test_user_agents_are_parsed_once():
    classify_user_agent.cache_clear()
    classify_user_agent(PIXEL)
    classify_user_agent(PIXEL)
    assert classify_user_agent.cache_info().hits == 1


@pytest.mark.parametrize("user_agent", [CURL, "", None], ids=["curl", "empty", "none"])
def test_a_non_browser_gets_the_canonical_page_and_no_cookie_after_consent(tmp_path, user_agent):
    app = EtalageMiddleware(upstream_app(), rules=write_site(tmp_path), secret_keys=["key"])
    client = TestClient(app, headers={"User-Agent": WINDOWS_CHROME})
    granted = client.post(
        "/_etalage/consent", json={"personalization": True}, headers={"Accept": "application/json"}
    )
    assert granted.status_code == 200
    client.get("/?q=tent")
    assert "Continue your search" in client.get("/").text  # the person's own page
    if user_agent is None:
        del client.headers["User-Agent"]
    else:
        client.headers["User-Agent"] = user_agent
    response = client.get("/?q=boots")
    assert response.content == HOME
    assert "set-cookie" not in response.headers


# --- prefetch, GPC, scheme ----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Purpose": "prefetch"},
        {"Sec-Purpose": "prefetch;prerender"},
        {"Purpose": "prefetch"},
        {"Purpose": "Prefetch"},
        {"X-Moz": "prefetch"},
        {"X-Purpose": "preview, prefetch"},
    ],
)
def test_prefetches_are_recognised(headers):
    assert facts(headers=headers).is_prefetch is True


@pytest.mark.parametrize(
    "headers", [{}, {"Sec-Purpose": "preview"}, {"Sec-Fetch-Mode": "navigate"}]
)
def test_ordinary_requests_are_not_prefetches(headers):
    assert facts(headers=headers).is_prefetch is False


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), (" 1 ", True), ("0", False), ("", False)]
)
def test_sec_gpc(value, expected):
    assert facts(headers={"Sec-GPC": value}).gpc is expected


def test_gpc_is_off_without_the_header():
    assert facts().gpc is False


@pytest.mark.parametrize(("scheme", "expected"), [("https", True), ("http", False)])
def test_https_is_read_from_the_scope(scheme, expected):
    assert facts(scheme=scheme).is_https is expected


def test_a_scope_without_scheme_or_headers_is_plain_http():
    result = RequestFacts.from_scope({"type": "http", "path": "/x"}, BERLIN, NOW)
    assert (result.is_https, result.path, result.query) == (False, "/x", {})


# --- path, query, UTM ---------------------------------------------------------------------


def test_path_and_query_become_attributes():
    attrs = attributes(path="/search", query=b"q=red+tent&date=2026-03-14&empty=")
    assert attrs["request.path"] == "/search"
    assert attrs["request.query.q"] == "red tent"
    assert attrs["request.query.date"] == "2026-03-14"
    assert "request.query.empty" not in attrs


def test_the_first_value_of_a_repeated_parameter_wins():
    assert facts(query=b"q=first&q=second").query == {"q": "first"}


def test_percent_encoded_utf8_is_decoded():
    assert facts(query=b"q=Sch%C3%BChe").query["q"] == "Schühe"


def test_query_values_and_keys_are_cut():
    result = facts(query=b"q=" + b"x" * 1000 + b"&" + b"k" * 100 + b"=v")
    assert result.query["q"] == "x" * MAX_QUERY_VALUE
    assert result.query["k" * 40] == "v"


def test_only_the_first_query_keys_are_kept():
    query = "&".join(f"k{n}=v{n}" for n in range(100)).encode()
    result = facts(query=query)
    assert len(result.query) == MAX_QUERY_KEYS
    assert list(result.query) == [f"k{n}" for n in range(MAX_QUERY_KEYS)]


def test_a_malformed_query_is_read_as_far_as_it_goes():
    assert facts(query=b"&&=x&a=%zz&b=%E2%82&c").query == {"a": "%zz", "b": "\ufffd"}


def test_utm_parameters_become_utm_attributes():
    attrs = attributes(
        query=b"utm_source=newsletter&utm_medium=email&utm_campaign=spring%20sale&ref=x"
    )
    assert attrs["request.utm.source"] == "newsletter"
    assert attrs["request.utm.medium"] == "email"
    assert attrs["request.utm.campaign"] == "spring sale"
    assert attrs["request.query.utm_source"] == "newsletter"
    assert not any(key.startswith("request.utm.") and key.endswith("ref") for key in attrs)


# --- referrer and locale ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("referer", "host"),
    [
        ("https://www.Google.com/search?q=tent", "www.google.com"),
        ("http://shop.example:8080/a", "shop.example"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"),
        ("https://[::1]/x", "::1"),
    ],
)
def test_the_referrer_host_is_read(referer, host):
    assert attributes(headers={"Referer": referer})["request.referrer_host"] == host


@pytest.mark.parametrize("referer", ["", "not a url", "/relative/path", "https://[::1/x"])
def test_an_unusable_referrer_has_no_host(referer):
    assert "request.referrer_host" not in attributes(headers={"Referer": referer})


@pytest.mark.parametrize(
    ("accept_language", "locale"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de-DE"),
        ("fr", "fr"),
        ("en-US;q=0.5, nl;q=0.9", "nl"),
        ("*;q=0.5, pt-BR", "pt-BR"),
        ("de;q=0, en;q=0.1", "en"),
        ("es;q=x, it;q=0.4", "it"),
        (" sv-SE ; q=1 ", "sv-SE"),
    ],
)
def test_the_locale_is_the_most_preferred_language(accept_language, locale):
    assert attributes(headers={"Accept-Language": accept_language})["request.locale"] == locale


@pytest.mark.parametrize("accept_language", ["", "*", " , ;q=1", "de;q=0"])
def test_no_usable_language_means_no_locale(accept_language):
    assert "request.locale" not in attributes(headers={"Accept-Language": accept_language})


def test_a_long_language_tag_is_cut():
    assert attributes(headers={"Accept-Language": "x" * 100})["request.locale"] == "x" * 20


# --- time -----------------------------------------------------------------------------------


def test_time_attributes_are_in_the_site_time_zone():
    attrs = attributes()
    assert attrs["time.hour"] == 0
    assert attrs["time.weekday"] == 0
    assert attrs["time.date"] == "2026-07-06"


def test_time_attributes_in_utc_differ():
    attrs = RequestFacts.from_scope(scope(), UTC, NOW).contextual_attributes()
    assert (attrs["time.hour"], attrs["time.weekday"], attrs["time.date"]) == (22, 6, "2026-07-05")


def test_time_attributes_follow_daylight_saving_time():
    winter = datetime(2026, 1, 15, 22, 30, tzinfo=UTC)
    attrs = RequestFacts.from_scope(scope(), BERLIN, winter).contextual_attributes()
    assert (attrs["time.hour"], attrs["time.date"]) == (23, "2026-01-15")


# --- country and region from a trusted edge -----------------------------------------------

#: Per case: the trusted CDN, request headers it sends, and the ``(country, region)`` they mean.
EDGE_CASES = {
    "cloudflare": ("cloudflare", {"CF-IPCountry": "DE", "cf-region-code": "BY"}, ("DE", "BY")),
    "cloudflare-without-region": ("cloudflare", {"CF-IPCountry": "fr"}, ("FR", None)),
    "cloudfront": (
        "cloudfront",
        {"CloudFront-Viewer-Country": "US", "CloudFront-Viewer-Country-Region": "MI"},
        ("US", "MI"),
    ),
    "fastly": ("fastly", {"Fastly-Geo-Country": "JP", "Fastly-Geo-Region": "13"}, ("JP", "13")),
    "vercel": (
        "vercel",
        {"x-vercel-ip-country": "gb", "x-vercel-ip-country-region": "bnh"},
        ("GB", "BNH"),
    ),
}


@pytest.mark.parametrize(
    ("edge", "headers", "expected"), EDGE_CASES.values(), ids=EDGE_CASES.keys()
)
def test_a_trusted_edge_gives_country_and_region_in_capitals(edge, headers, expected):
    read = facts(headers=headers, trusted_edge=edge)
    assert (read.country, read.region) == expected
    attrs = read.contextual_attributes()
    assert (attrs["request.country"], attrs.get("request.region")) == expected


@pytest.mark.parametrize(
    ("edge", "headers", "expected"), EDGE_CASES.values(), ids=EDGE_CASES.keys()
)
def test_without_a_trusted_edge_geo_headers_are_ignored(edge, headers, expected):
    read = facts(headers=headers)
    assert (read.country, read.region) == (None, None)
    attrs = read.contextual_attributes()
    assert "request.country" not in attrs and "request.region" not in attrs


def test_only_the_trusted_edge_s_own_headers_are_read():
    headers = {"x-vercel-ip-country": "GB", "CloudFront-Viewer-Country": "US"}
    assert facts(headers=headers, trusted_edge="cloudflare").country is None
    assert facts(headers=headers, trusted_edge="cloudfront").country == "US"


@pytest.mark.parametrize(
    "country",
    [
        "XX",  # Cloudflare: no country known
        "xx",
        "T1",  # Cloudflare: Tor
        "**",  # Fastly's unknown, if a snippet copies it
        "",
        "D",
        "DEU",
        "D E",
        "DE,FR",
        "Ü1",
        "ÄÖ",
        "DE\x00",
        "<s>",
        "US; region=CA",
    ],
)
def test_a_country_that_is_not_two_letters_is_absent_and_so_is_its_region(country):
    read = facts(
        headers={"CF-IPCountry": country, "cf-region-code": "BY"}, trusted_edge="cloudflare"
    )
    assert (read.country, read.region) == (None, None)
    assert "request.country" not in read.contextual_attributes()


@pytest.mark.parametrize(
    "region", ["", "BAVA", "DE-BY", "NO REGION", "?", "B Y", "<b>", "BÜ", "1;2"]
)
def test_a_region_that_is_not_a_short_code_is_absent(region):
    read = facts(
        headers={"Fastly-Geo-Country": "DE", "Fastly-Geo-Region": region}, trusted_edge="fastly"
    )
    assert (read.country, read.region) == ("DE", None)
    assert "request.region" not in read.contextual_attributes()


@pytest.mark.parametrize("edge", TRUSTED_EDGES)
def test_no_ip_address_becomes_a_fact(edge):
    ip_headers = {
        "CF-Connecting-IP": "203.0.113.7",
        "True-Client-IP": "203.0.113.7",
        "X-Forwarded-For": "203.0.113.7, 198.51.100.1",
        "X-Real-IP": "203.0.113.7",
        "CloudFront-Viewer-Address": "203.0.113.7:443",
        "Fastly-Client-IP": "203.0.113.7",
    }
    read = facts(headers=ip_headers, trusted_edge=edge)
    assert "203.0.113" not in repr(read)
    assert "203.0.113" not in repr(read.contextual_attributes())
