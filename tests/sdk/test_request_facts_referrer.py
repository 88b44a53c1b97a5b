"""The request's own host, and a referrer that is another site (what a visit records)."""

from __future__ import annotations

import pytest

from tests.sdk.test_request_facts import facts


@pytest.mark.parametrize(
    ("host", "expected"),
    [("Shop.Example:8000", "shop.example"), ("shop.example", "shop.example"), ("", None)],
)
def test_the_host_is_read_without_its_port(host, expected):
    headers = {"Host": host} if host else {}
    assert facts(headers=headers).host == expected


@pytest.mark.parametrize(
    ("referer", "host", "external"),
    [
        ("https://news.example/spring", "shop.example", "news.example"),
        ("https://shop.example/trips", "shop.example:8000", None),  # a link within the site
        ("https://SHOP.example/trips", "shop.example", None),
        ("https://news.example/", "", "news.example"),  # no Host: any referrer is another site
        ("", "shop.example", None),
    ],
)
def test_an_external_referrer_is_another_site(referer, host, external):
    headers = {"Host": host} if host else {}
    if referer:
        headers["Referer"] = referer
    assert facts(headers=headers).external_referrer == external
