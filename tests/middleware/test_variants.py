"""A `variants` rule through the middleware: a consenting visitor keeps one variant, and the
event sink hears which variant and bucket version they were shown."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware
from etalage.middleware.preview import PreviewCodec
from etalage.testing import EtalageClient, profile_with
from tests.support.clients import consent
from tests.support.clocks import Clock
from tests.support.sinks import ListSink

from .site_fixture import DESKTOP, upstream_app, write_site

KEYS = ["variant-secret"]

RULES = """\
version: 1
site: {name: test-site, timezone: Europe/Berlin}
rules:
  - id: hero-test
    slot: hero
    bucket_version: 3
    variants:
      - {fragment: hero/a.html, weight: 50}
      - {fragment: hero/b.html, weight: 50}
"""



def make_app(tmp_path, sink: ListSink, clock: Clock | None = None) -> EtalageMiddleware:
    rules = write_site(tmp_path)
    rules.write_text(RULES)
    for name in ("a", "b"):
        (tmp_path / "fragments" / "hero" / f"{name}.html").write_text(
            f"<p class=variant>hero {name}</p>"
        )
    return EtalageMiddleware(
        upstream_app(), rules=rules, secret_keys=KEYS, clock=clock or Clock(), event_sink=sink
    )


def shown(html: str) -> str:
    match = re.search(r"<p class=variant>hero (\w)</p>", html)
    assert match, html
    return match.group(1)


def test_a_consenting_visitor_keeps_one_variant_and_exposures_name_it(tmp_path):
    sink = ListSink()
    client = TestClient(make_app(tmp_path, sink), headers={"User-Agent": DESKTOP})
    consent(client)
    seen = {shown(client.get("/").text) for _ in range(4)}
    assert len(seen) == 1
    letter = seen.pop()
    exposures = [e for e in sink.events if e.get("type") == "exposure" and e["slot"] == "hero"]
    assert len(exposures) == 4
    assert {(e["rule"], e["variant"], e["bucket_version"], e["holdout"]) for e in exposures} == {
        ("hero-test", "ab".index(letter), 3, False)
    }


def test_visitors_are_split_between_the_variants_by_their_id(tmp_path):
    app = make_app(tmp_path, ListSink())
    letters = {}
    for number in range(20):  # fixed ids: the split is the same on every run
        client = EtalageClient(app, secret_keys=KEYS, clock=Clock())
        client.start(profile_with(Clock().now, visitor_id=f"variant-visitor-{number:04d}"))
        letters[number] = shown(client.get("/").text)
        assert shown(client.get("/").text) == letters[number]  # and sticky
    assert set(letters.values()) == {"a", "b"}


def test_without_consent_the_slot_keeps_its_default(tmp_path):
    client = TestClient(make_app(tmp_path, ListSink()), headers={"User-Agent": DESKTOP})
    html = client.get("/").text
    assert "Default hero" in html and "class=variant" not in html


def test_profile_page_names_the_variant_shown(tmp_path):
    client = TestClient(make_app(tmp_path, ListSink()), headers={"User-Agent": DESKTOP})
    consent(client)
    letter = shown(client.get("/").text)
    number = "ab".index(letter) + 1
    page = client.get("/_etalage/profile", headers={"Accept": "text/html"}).text
    assert f"variant {number} of 2 (hero/{letter}.html)" in page


@pytest.mark.parametrize(
    ("named", "letter"), [("hero-test", "a"), ("hero-test:1", "a"), ("hero-test:2", "b")]
)
def test_a_preview_link_shows_the_variant_it_names(tmp_path, named, letter):
    clock = Clock()
    app = make_app(tmp_path, ListSink(), clock=clock)
    token = PreviewCodec(KEYS, clock=clock).dumps(
        rules=[named], canonical=False, lifetime=timedelta(hours=1)
    )
    page = TestClient(app, headers={"User-Agent": DESKTOP, "Accept": "text/html"}).get(
        f"/?etalage_preview={token}"
    )
    assert shown(page.text) == letter


@pytest.mark.parametrize("named", ["hero-test:3", "hero-test:0", "hero-test:x"])
def test_a_preview_of_a_variant_that_does_not_exist_shows_the_default(tmp_path, named):
    clock = Clock()
    app = make_app(tmp_path, ListSink(), clock=clock)
    token = PreviewCodec(KEYS, clock=clock).dumps(
        rules=[named], canonical=False, lifetime=timedelta(hours=1)
    )
    page = TestClient(app, headers={"User-Agent": DESKTOP, "Accept": "text/html"}).get(
        f"/?etalage_preview={token}"
    )
    assert "Default hero" in page.text and "class=variant" not in page.text
