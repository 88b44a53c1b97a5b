"""What the current request alone says: device, prefetch, GPC, query, UTM, referrer, time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from etalage.request_facts import (
    MAX_QUERY_KEYS,
    MAX_QUERY_VALUE,
    RequestFacts,
    classify_user_agent,
)

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


def facts(**kwargs) -> RequestFacts:
    return RequestFacts.from_scope(scope(**kwargs), BERLIN, NOW)


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


def test_no_user_agent_is_a_desktop_person():
    result = facts()
    assert (result.device_type, result.device_os, result.device_browser) == (
        "desktop",
        "Other",
        "Other",
    )
    assert result.is_bot is False


def test_a_huge_user_agent_is_read_without_trouble():
    result = facts(headers={"User-Agent": IPHONE + " x" * 50_000})
    assert result.device_type == "mobile"


def test_user_agents_are_parsed_once():
    classify_user_agent.cache_clear()
    classify_user_agent(PIXEL)
    classify_user_agent(PIXEL)
    assert classify_user_agent.cache_info().hits == 1


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
