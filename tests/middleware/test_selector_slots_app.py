"""Selector slots through the whole middleware: a rule file's ``site.slot_selectors`` fill pages
nobody can add ``data-slot`` to, byte-exact outside the slot, compiled once per page version."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from etalage.middleware import EtalageMiddleware
from etalage.middleware import skeleton as skeleton_module
from etalage.middleware.skeleton import PageSkeleton
from etalage.middleware.skeleton_cache import SkeletonCache
from etalage.testing import EtalageClient, ManualClock, profile_with

from .test_selector_slots import pages

KEYS = ["selector-secret"]
RULES = """\
version: 1
site:
  name: cms
  slot_selectors:
    hero: "main > section.hero"
    promo: "#promo"
rules:
  - id: continue-search
    slot: hero
    fragment: continue.html
    when: {search.last: {$exists: true}}
  - id: sale
    slot: promo
    fragment: sale.html
"""
FRAGMENTS = {
    "continue.html": "<p class=continue>Back to “{{ visitor['search.last'] }}”</p>",
    "sale.html": "<b>Sale</b>",
}
# A CMS page: CRLF, a BOM, multibyte text before the slots, a script holding a fake slot.
CMS_PAGE = (
    "\ufeff<!doctype html>\r\n<html><head><title>Zelte – Übersicht</title></head>\r\n<body>\r\n"
    "<script>document.write('<section class=hero>fake</section>')</script>\r\n"
    "<main>\r\n  <section class=hero data-x='a>b'><h1>Größte Auswahl</h1>\r\n"
    "  <section><p>nested</p></section></section>\r\n"
    "  <aside id=promo>Newsletter</aside>\r\n</main>\r\n</body></html>\r\n"
).encode()
HERO_INNER = b"<h1>Gr\xc3\xb6\xc3\x9fte Auswahl</h1>\r\n  <section><p>nested</p></section>"
PAGES = {
    "/": CMS_PAGE,
    "/no-slots": b"<html><body><p>nothing to match</p></body></html>",
    "/marked": b"<main><section class=hero>by selector</section><div data-slot=promo>x</div></main>",
    "/unreadable": b"<title><aside id=promo>in a title</aside></title><p>text</p>",
}
GENERATED: dict[str, bytes] = {}  # the page the hypothesis test has the app send


class RuleFileSelectors(SkeletonCache):
    """Compiles with the rule set's selectors, as `PagePersonalizer.personalize` does with
    ``self.skeletons.compile(body, etag, ruleset.site.slot_selectors)``."""

    def __init__(self, middleware: EtalageMiddleware) -> None:
        super().__init__()
        self.middleware = middleware

    def compile(
        self,
        body: bytes,
        etag: str | None,
        selectors: Mapping[str, str] | None = None,
        *,
        page_key: str | None = None,
    ) -> PageSkeleton:
        selectors = self.middleware.ruleset.site.slot_selectors
        return super().compile(body, etag, selectors, page_key=page_key)


def cms_app() -> Starlette:
    async def page(request):
        body = PAGES.get(request.url.path, GENERATED.get("page", b""))
        return Response(body, media_type="text/html; charset=utf-8")

    return Starlette(routes=[Route(path, page) for path in [*PAGES, "/generated"]])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def client(tmp_path: Path, clock: ManualClock) -> EtalageClient:
    (tmp_path / "fragments").mkdir()
    for name, text in FRAGMENTS.items():
        (tmp_path / "fragments" / name).write_text(text, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    app = EtalageMiddleware(cms_app(), rules=tmp_path / "rules.yaml", secret_keys=KEYS, clock=clock)
    app.pages.skeletons = RuleFileSelectors(app)
    return EtalageClient(app, secret_keys=KEYS, clock=clock)


def test_a_fragment_is_spliced_into_the_element_a_selector_names(client, clock):
    client.start(profile_with(clock.now, searches=[("tent", "2d")]))
    page = client.get("/")
    fragment = "<p class=continue>Back to “tent”</p>".encode()
    expected = CMS_PAGE.replace(HERO_INNER, fragment).replace(b">Newsletter<", b"><b>Sale</b><")
    assert page.content == expected
    assert page.headers["cache-control"].startswith("private")


def test_a_visitor_no_rule_matches_gets_the_page_byte_for_byte_but_the_contextual_slot(client):
    page = client.get("/")
    assert page.content == CMS_PAGE.replace(b">Newsletter<", b"><b>Sale</b><")


def test_a_page_the_selectors_do_not_match_is_served_unchanged(client):
    assert client.get("/no-slots").content == PAGES["/no-slots"]


def test_a_data_slot_wins_over_a_selector_of_the_same_name(client):
    assert client.get("/marked").content == PAGES["/marked"].replace(b">x<", b"><b>Sale</b><")


def test_an_element_the_byte_reader_cannot_cut_leaves_the_page_unchanged_with_one_log_line(
    client, caplog
):
    with caplog.at_level(logging.WARNING, logger="etalage"):
        pages = [client.get("/unreadable") for _ in range(3)]
    assert [page.status_code for page in pages] == [200] * 3
    assert all(page.content == PAGES["/unreadable"] for page in pages)
    messages = [record.getMessage() for record in caplog.records if record.name == "etalage"]
    assert len(messages) == 1
    assert messages[0].startswith("page skeleton: selector '#promo' of slot 'promo' left out")


def test_the_selectors_run_once_per_page_version_not_per_request(client, clock, monkeypatch):
    runs: list[int] = []
    real = skeleton_module.find_selector_elements

    def counted(body: bytes, selectors: Mapping[str, str]):
        runs.append(len(body))
        return real(body, selectors)

    monkeypatch.setattr(skeleton_module, "find_selector_elements", counted)
    client.start(profile_with(clock.now, searches=[("tent", "2d")]))
    for _ in range(5):
        assert "Back to “tent”" in client.get("/").text
    assert runs == [len(CMS_PAGE)]


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(page=pages())
def test_whatever_page_the_app_sends_a_person_gets_it_with_only_the_slots_changed(client, page):
    GENERATED["page"] = page
    response = client.get("/generated")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    skeleton = PageSkeleton.compile(
        page, selectors={"hero": "main > section.hero", "promo": "#promo"}
    )
    assert response.content == skeleton.render({"promo": b"<b>Sale</b>"})
