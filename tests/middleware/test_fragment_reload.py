"""Fragments hot-reload like the rule file: an edit shows at most `reload_interval` later."""

from __future__ import annotations

import logging

from starlette.testclient import TestClient

from etalage.middleware import EtalageMiddleware
from etalage.middleware.fragment_cache import FragmentCache
from etalage.middleware.personalize import PagePersonalizer
from etalage.middleware.skeleton_cache import SkeletonCache
from tests.support.clocks import Monotonic

from .site_fixture import IPHONE, upstream_app, write_site


def app_with_reloading_fragments(tmp_path) -> tuple[TestClient, Monotonic]:
    rules = write_site(tmp_path)
    monotonic = Monotonic()
    app = EtalageMiddleware(upstream_app(), rules=rules, secret_keys=["k"])
    app.pages = PagePersonalizer(
        prefix="/_etalage/",
        skeletons=SkeletonCache(),
        fragment_cache=FragmentCache(),
        event_sink=None,
        fragment_globals={},
        reload_interval=1.0,
        monotonic=monotonic,
    )
    return TestClient(app, headers={"User-Agent": IPHONE}), monotonic


def test_an_edited_fragment_is_served_once_the_interval_passed(tmp_path, caplog):
    client, monotonic = app_with_reloading_fragments(tmp_path)
    assert "Compact hero" in client.get("/").text
    (tmp_path / "fragments" / "hero" / "mobile.html").write_text("<p>Edited hero</p>")
    assert "Compact hero" in client.get("/").text  # checked at most once per interval
    monotonic.now += 1.0
    with caplog.at_level(logging.INFO, logger="etalage"):
        assert "Edited hero" in client.get("/").text  # the cached output went too
    assert any("reloaded" in r.getMessage() for r in caplog.records)


def test_a_broken_edit_is_logged_and_the_slot_falls_back(tmp_path, caplog):
    client, monotonic = app_with_reloading_fragments(tmp_path)
    assert "Compact hero" in client.get("/").text
    (tmp_path / "fragments" / "hero" / "mobile.html").write_text("{% if %}")
    monotonic.now += 5
    with caplog.at_level(logging.ERROR, logger="etalage"):
        page = client.get("/")
    assert page.status_code == 200 and "Default hero" in page.text
    assert any("mobile.html:1" in r.getMessage() for r in caplog.records)
